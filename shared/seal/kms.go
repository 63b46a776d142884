package seal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// fingerprintKeysetAD binds the encrypted fingerprint keyset to its purpose.
// KMS sees it as the encryption context {"associatedData": hex(...)}, which
// CloudTrail records and a key policy can require.
var fingerprintKeysetAD = []byte("haven/seal/fingerprint-keyset/v1")

const kmsURIPrefix = "aws-kms://"

// KMS is the part of the AWS KMS client a Sealer uses; *kms.Client satisfies
// it, and tests pass a fake.
type KMS interface {
	Encrypt(ctx context.Context, params *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, params *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Option configures OpenKMS and GenerateKeysets.
type Option func(*kmsOptions)

type kmsOptions struct {
	client KMS
}

// WithKMSClient makes the Sealer use client (for example the process's shared
// kms.NewFromConfig(cfg)) instead of building one from the default AWS
// configuration. The client's region must be the key's region.
func WithKMSClient(client KMS) Option {
	return func(o *kmsOptions) { o.client = client }
}

// dataKeysetAD binds the encrypted data keyset to its purpose, as
// fingerprintKeysetAD does for the fingerprint keyset.
var dataKeysetAD = []byte("haven/seal/data-keyset/v1")

// keysets is the deployable form of a stack's keys: two Tink keysets, each
// encrypted by the stack's KMS key. It travels base64-encoded in the
// SEALING_KEYSETS parameter; GenerateKeysets makes it.
type keysets struct {
	Version     int    `json:"v"`
	Data        []byte `json:"data"`
	Fingerprint []byte `json:"fingerprint"`
}

// OpenKMS returns a Sealer whose keys are the keysets in blob (as made by
// GenerateKeysets), unwrapped by the KMS key keyARN
// ("arn:aws:kms:<region>:<account>:key/<id>"; an "aws-kms://" prefix is
// accepted): an AES256-GCM keyset that seals fields, and an HMAC-SHA256 PRF
// keyset that fingerprints identities and derives other keys.
//
// Why keysets wrapped by KMS rather than KMS envelope encryption per field:
// an envelope per field costs one KMS request per field sealed or opened —
// four per referral read, seventy-five per page of a list — which adds
// latency to every step and spends the account's KMS request quota. Here KMS
// is called once per keyset per Lambda execution environment; the keys never
// leave memory, rotate as Tink keysets (new primary, old keys kept for
// decryption), and disabling the KMS key stops every new environment.
//
// OpenKMS does no network I/O, so it belongs in a function's init phase: it
// checks the ARN and the blob's framing, and builds the KMS client (without
// WithKMSClient, from the default AWS configuration, whose credentials the SDK
// resolves lazily). The first Seal/Open unwraps the data keyset and the first
// Fingerprint the fingerprint keyset, one KMS call each, kept for the life of
// the Sealer and retried on the next call if KMS failed.
func OpenKMS(ctx context.Context, keyARN string, blob []byte, opts ...Option) (*Sealer, error) {
	kek, err := kmsAEAD(ctx, keyARN, opts)
	if err != nil {
		return nil, err
	}
	if len(blob) == 0 {
		return nil, errors.New("seal: empty keysets (SEALING_KEYSETS)")
	}
	var ks keysets
	if err := json.Unmarshal(blob, &ks); err != nil || ks.Version != 1 {
		return nil, errors.New("seal: SEALING_KEYSETS is not a keysets blob made by GenerateKeysets")
	}
	// Parse both envelopes now, offline, so a truncated or mis-pasted
	// parameter fails the cold start instead of the first referral.
	for name, b := range map[string][]byte{"data": ks.Data, "fingerprint": ks.Fingerprint} {
		ek, err := keyset.NewBinaryReader(bytes.NewReader(b)).ReadEncrypted()
		if err != nil {
			return nil, fmt.Errorf("seal: %s keyset is not a Tink encrypted keyset: %w", name, err)
		}
		if len(ek.GetEncryptedKeyset()) == 0 {
			return nil, fmt.Errorf("seal: %s keyset holds no ciphertext", name)
		}
	}
	loadPRF := func() (*prf.Set, error) {
		h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(ks.Fingerprint)), kek, fingerprintKeysetAD)
		if err != nil {
			return nil, fmt.Errorf("seal: unwrap fingerprint keyset with KMS: %w", err)
		}
		set, err := prf.NewPRFSet(h)
		if err != nil {
			return nil, fmt.Errorf("seal: fingerprint keyset: %w", err)
		}
		return set, nil
	}
	loadAEAD := func() (tink.AEAD, error) {
		h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(ks.Data)), kek, dataKeysetAD)
		if err != nil {
			return nil, fmt.Errorf("seal: unwrap data keyset with KMS: %w", err)
		}
		a, err := aead.New(h)
		if err != nil {
			return nil, fmt.Errorf("seal: data keyset: %w", err)
		}
		return a, nil
	}
	return &Sealer{aead: &lazyAEAD{load: loadAEAD}, fingerprint: &lazyPRF{load: loadPRF}}, nil
}

// GenerateKeysets makes a fresh AES256-GCM data keyset and HMAC-SHA256 PRF
// keyset and returns them encrypted by the KMS key keyARN, each bound to its
// purpose: base64 it (standard encoding) into the SealingKeysets parameter. It
// calls KMS twice. Run it once per environment: new keysets cannot open what
// the old ones sealed.
func GenerateKeysets(ctx context.Context, keyARN string, opts ...Option) ([]byte, error) {
	kek, err := kmsAEAD(ctx, keyARN, opts)
	if err != nil {
		return nil, err
	}
	wrap := func(tpl *tinkpb.KeyTemplate, ad []byte) ([]byte, error) {
		h, err := keyset.NewHandle(tpl)
		if err != nil {
			return nil, fmt.Errorf("seal: new keyset: %w", err)
		}
		var buf bytes.Buffer
		if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), kek, ad); err != nil {
			return nil, fmt.Errorf("seal: wrap keyset with KMS: %w", err)
		}
		return buf.Bytes(), nil
	}
	ks := keysets{Version: 1}
	if ks.Data, err = wrap(aead.AES256GCMKeyTemplate(), dataKeysetAD); err != nil {
		return nil, err
	}
	if ks.Fingerprint, err = wrap(prf.HMACSHA256PRFKeyTemplate(), fingerprintKeysetAD); err != nil {
		return nil, err
	}
	return json.Marshal(ks)
}

// lazyAEAD unwraps the data keyset on first use (a KMS call, which must not
// happen during Lambda init); a failed unwrap is retried by the next call.
type lazyAEAD struct {
	a    atomic.Pointer[tink.AEAD]
	mu   sync.Mutex
	load func() (tink.AEAD, error)
}

func (l *lazyAEAD) get() (tink.AEAD, error) {
	if a := l.a.Load(); a != nil {
		return *a, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if a := l.a.Load(); a != nil {
		return *a, nil
	}
	a, err := l.load()
	if err != nil {
		return nil, err
	}
	l.a.Store(&a)
	return a, nil
}

func (l *lazyAEAD) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	a, err := l.get()
	if err != nil {
		return nil, err
	}
	return a.Encrypt(plaintext, associatedData)
}

func (l *lazyAEAD) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	a, err := l.get()
	if err != nil {
		return nil, err
	}
	return a.Decrypt(ciphertext, associatedData)
}

// kmsAEAD returns the remote AEAD of the KMS key: the key-encryption key.
func kmsAEAD(ctx context.Context, keyARN string, opts []Option) (tink.AEAD, error) {
	arn := strings.TrimPrefix(keyARN, kmsURIPrefix)
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":kms:") {
		return nil, fmt.Errorf("seal: KMS key %q is not a KMS key ARN", keyARN)
	}
	var o kmsOptions
	for _, opt := range opts {
		opt(&o)
	}
	uri := kmsURIPrefix + arn
	var clientOpts []awskms.ClientOption
	if o.client != nil {
		clientOpts = append(clientOpts, awskms.WithKMS(o.client))
	}
	// AssociatedData (the default of NewClientWithOptions) names the KMS
	// encryption-context key; the deprecated constructors use a legacy name.
	client, err := awskms.NewClientWithOptions(ctx, uri, clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("seal: KMS client: %w", err)
	}
	kek, err := client.GetAEAD(uri)
	if err != nil {
		return nil, fmt.Errorf("seal: KMS key: %w", err)
	}
	return kek, nil
}
