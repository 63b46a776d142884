package seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
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

// Option configures OpenKMS and GenerateFingerprintKeyset.
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

// OpenKMS returns a Sealer that seals with KMS envelope encryption under the
// KMS key keyARN ("arn:aws:kms:<region>:<account>:key/<id>"; an "aws-kms://"
// prefix is accepted) and fingerprints with the PRF keyset in
// encryptedFingerprintKeyset: a Tink keyset encrypted by the same KMS key, as
// made by GenerateFingerprintKeyset. Lambda receives it base64 (standard
// encoding) in the FINGERPRINT_KEYSET parameter; the caller decodes it.
//
// OpenKMS does no network I/O, so it belongs in a function's init phase: it
// checks the ARN and the keyset's framing, and builds the KMS client (without
// WithKMSClient, from the default AWS configuration, whose credentials the SDK
// resolves lazily). The first Seal or Open calls KMS (once per call, to wrap or
// unwrap that ciphertext's data key); the first Fingerprint calls KMS once to
// unwrap the fingerprint keyset and keeps it for the life of the Sealer,
// retrying on the next call if KMS failed. ctx is used only for building the
// client.
func OpenKMS(ctx context.Context, keyARN string, encryptedFingerprintKeyset []byte, opts ...Option) (*Sealer, error) {
	kek, err := kmsAEAD(ctx, keyARN, opts)
	if err != nil {
		return nil, err
	}
	if len(encryptedFingerprintKeyset) == 0 {
		return nil, errors.New("seal: empty encrypted fingerprint keyset (FINGERPRINT_KEYSET)")
	}
	// Parse the envelope now, offline, so a truncated or mis-pasted parameter
	// fails the cold start instead of the first referral.
	blob := bytes.Clone(encryptedFingerprintKeyset)
	ek, err := keyset.NewBinaryReader(bytes.NewReader(blob)).ReadEncrypted()
	if err != nil {
		return nil, fmt.Errorf("seal: encrypted fingerprint keyset is not a Tink encrypted keyset: %w", err)
	}
	if len(ek.GetEncryptedKeyset()) == 0 {
		return nil, errors.New("seal: encrypted fingerprint keyset holds no ciphertext")
	}
	load := func() (*prf.Set, error) {
		h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(blob)), kek, fingerprintKeysetAD)
		if err != nil {
			return nil, fmt.Errorf("seal: unwrap fingerprint keyset with KMS: %w", err)
		}
		set, err := prf.NewPRFSet(h)
		if err != nil {
			return nil, fmt.Errorf("seal: fingerprint keyset: %w", err)
		}
		return set, nil
	}
	return &Sealer{
		// Each Encrypt makes a fresh AES256-GCM data key and has KMS wrap it;
		// the wrapped key travels in the ciphertext. Associated data binds the
		// field ciphertext (the data key is wrapped without it).
		aead:        aead.NewKMSEnvelopeAEAD2(aead.AES256GCMKeyTemplate(), kek),
		fingerprint: &lazyPRF{load: load},
	}, nil
}

// GenerateFingerprintKeyset makes a fresh HMAC-SHA256 PRF keyset and returns
// it encrypted by the KMS key keyARN, bound to its purpose, in Tink's binary
// encrypted-keyset format: base64 it (standard encoding) into the
// FINGERPRINT_KEYSET parameter. It calls KMS once. Run it once per
// environment: a new keyset changes every fingerprint.
func GenerateFingerprintKeyset(ctx context.Context, keyARN string, opts ...Option) ([]byte, error) {
	kek, err := kmsAEAD(ctx, keyARN, opts)
	if err != nil {
		return nil, err
	}
	h, err := keyset.NewHandle(prf.HMACSHA256PRFKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("seal: new fingerprint keyset: %w", err)
	}
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), kek, fingerprintKeysetAD); err != nil {
		return nil, fmt.Errorf("seal: wrap fingerprint keyset with KMS: %w", err)
	}
	return buf.Bytes(), nil
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
