package seal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KMS is the part of the AWS KMS client a Sealer uses; *kms.Client satisfies
// it, and tests pass a fake.
type KMS interface {
	Encrypt(ctx context.Context, params *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, params *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// contextKey names the KMS encryption-context entry that binds a wrapped
// keyset to its purpose. KMS requires the same context to unwrap, CloudTrail
// records it, and a key policy can require it (kms:EncryptionContext:haven:keyset).
const contextKey = "haven:keyset"

// keysetsVersion is the version of the SEALING_KEYSETS blob. Version 1 held
// Tink keysets; a blob of that version is refused with a message saying to
// make a new one.
const keysetsVersion = 2

// unwrapTimeout bounds one KMS unwrap, so a request that finds KMS hanging
// fails (and the next one retries) well inside the function's timeout.
const unwrapTimeout = 5 * time.Second

// keysets is the deployable form of a stack's keys: the data keyset and the
// fingerprint keyset, each encrypted by the stack's KMS key. It travels
// base64-encoded in the SEALING_KEYSETS parameter; GenerateKeysets makes it.
type keysets struct {
	Version     int    `json:"v"`
	Data        []byte `json:"data"`
	Fingerprint []byte `json:"fingerprint"`
}

// OpenKMS returns a Sealer whose keys are the keysets in blob (as made by
// GenerateKeysets), unwrapped by the KMS key keyARN
// ("arn:aws:kms:<region>:<account>:key/<id>") through client: an AES-256-GCM
// keyset that seals fields, and an HMAC-SHA256 key that fingerprints
// identities and derives other keys.
//
// Why keysets wrapped by KMS rather than KMS envelope encryption per field:
// an envelope per field costs one KMS request per field sealed or opened —
// four per referral read, seventy-five per page of a list — which adds
// latency to every step and spends the account's KMS request quota. Here KMS
// is called once per keyset per Lambda execution environment; the keys never
// leave memory, rotate by adding a primary key (RotateDataKeyset), and
// disabling the KMS key stops every new environment.
//
// OpenKMS does no network I/O, so it belongs in a function's init phase: it
// checks the ARN and the blob's framing. The first Seal/Open unwraps the data
// keyset and the first Fingerprint the fingerprint keyset, one KMS Decrypt
// each, kept for the life of the Sealer and retried on the next call if KMS
// failed.
func OpenKMS(keyARN string, blob []byte, client KMS) (*Sealer, error) {
	arn, ks, err := checkDeployed(keyARN, blob, client)
	if err != nil {
		return nil, err
	}
	loadData := func() (*dataAEAD, error) {
		k, err := unwrap(client, arn, ks.Data, purposeData)
		if err != nil {
			return nil, err
		}
		a, err := newDataAEAD(k)
		if err != nil {
			return nil, fmt.Errorf("seal: data keyset: %w", err)
		}
		return a, nil
	}
	loadFingerprint := func() (*fingerprintPRF, error) {
		k, err := unwrap(client, arn, ks.Fingerprint, purposeFingerprint)
		if err != nil {
			return nil, err
		}
		return newFingerprintPRF(k), nil
	}
	return &Sealer{data: &lazy[dataAEAD]{load: loadData}, fingerprint: &lazy[fingerprintPRF]{load: loadFingerprint}}, nil
}

// GenerateKeysets makes a fresh data keyset (one AES-256 key) and fingerprint
// keyset (one HMAC-SHA256 key) and returns them encrypted by the KMS key
// keyARN, each bound to its purpose: base64 it (standard encoding) into the
// SealingKeysets parameter. It calls KMS Encrypt twice. Run it once per
// environment: new keysets cannot open what the old ones sealed.
func GenerateKeysets(ctx context.Context, keyARN string, client KMS) ([]byte, error) {
	arn, err := checkARN(keyARN, client)
	if err != nil {
		return nil, err
	}
	data, err := newKeyset(purposeData)
	if err != nil {
		return nil, err
	}
	fp, err := newKeyset(purposeFingerprint)
	if err != nil {
		return nil, err
	}
	out := keysets{Version: keysetsVersion}
	if out.Data, err = wrap(ctx, client, arn, data); err != nil {
		return nil, err
	}
	if out.Fingerprint, err = wrap(ctx, client, arn, fp); err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// RotateDataKeyset returns blob with a fresh primary key added to its data
// keyset: new seals use the new key, everything sealed before still opens
// with the old ones, which stay. Deploy the result as SealingKeysets; running
// environments keep the old keyset until they are recycled, which is safe
// because the new keyset opens what they seal. The fingerprint keyset is kept
// as it is: a new fingerprint key would make every stored fingerprint
// unmatchable. It calls KMS Decrypt and Encrypt once each.
func RotateDataKeyset(ctx context.Context, keyARN string, blob []byte, client KMS) ([]byte, error) {
	arn, ks, err := checkDeployed(keyARN, blob, client)
	if err != nil {
		return nil, err
	}
	data, err := unwrap(client, arn, ks.Data, purposeData)
	if err != nil {
		return nil, err
	}
	if err := data.rotate(); err != nil {
		return nil, err
	}
	if ks.Data, err = wrap(ctx, client, arn, data); err != nil {
		return nil, err
	}
	return json.Marshal(ks)
}

func checkARN(keyARN string, client KMS) (string, error) {
	arn := strings.TrimPrefix(keyARN, "aws-kms://") // the form Tink-era docs used
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":kms:") || !strings.Contains(arn, ":key/") {
		return "", fmt.Errorf("seal: KMS key %q is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)", keyARN)
	}
	if client == nil {
		return "", errors.New("seal: no KMS client")
	}
	return arn, nil
}

// checkDeployed checks a deployed key ARN and keysets blob, offline.
func checkDeployed(keyARN string, blob []byte, client KMS) (string, *keysets, error) {
	arn, err := checkARN(keyARN, client)
	if err != nil {
		return "", nil, err
	}
	ks, err := parseKeysets(blob)
	return arn, ks, err
}

// parseKeysets checks the blob offline, so a truncated or mis-pasted
// parameter fails the cold start instead of the first referral.
func parseKeysets(blob []byte) (*keysets, error) {
	if len(blob) == 0 {
		return nil, errors.New("seal: empty keysets (SEALING_KEYSETS)")
	}
	var ks keysets
	if err := json.Unmarshal(blob, &ks); err != nil {
		return nil, errors.New("seal: SEALING_KEYSETS is not a keysets blob made by go run ./infra/keyset")
	}
	switch {
	case ks.Version == 1:
		return nil, errors.New("seal: SEALING_KEYSETS holds Tink keysets (version 1), which Haven no longer reads: make new ones with go run ./infra/keyset")
	case ks.Version != keysetsVersion:
		return nil, fmt.Errorf("seal: SEALING_KEYSETS version %d, want %d", ks.Version, keysetsVersion)
	case len(ks.Data) == 0 || len(ks.Fingerprint) == 0:
		return nil, errors.New("seal: SEALING_KEYSETS lacks the data or the fingerprint keyset")
	}
	return &ks, nil
}

func wrap(ctx context.Context, client KMS, arn string, ks *keyset) ([]byte, error) {
	plain, err := json.Marshal(ks)
	if err != nil {
		return nil, fmt.Errorf("seal: encode keyset: %w", err)
	}
	defer clear(plain)
	out, err := client.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(arn),
		Plaintext:         plain,
		EncryptionContext: map[string]string{contextKey: ks.Purpose},
	})
	if err != nil {
		return nil, fmt.Errorf("seal: wrap %s keyset with KMS: %w", ks.Purpose, err)
	}
	return out.CiphertextBlob, nil
}

func unwrap(client KMS, arn string, blob []byte, purpose string) (*keyset, error) {
	ctx, cancel := context.WithTimeout(context.Background(), unwrapTimeout)
	defer cancel()
	out, err := client.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(arn), // refuse a keyset wrapped by any other key
		CiphertextBlob:    blob,
		EncryptionContext: map[string]string{contextKey: purpose},
	})
	if err != nil {
		return nil, fmt.Errorf("seal: unwrap %s keyset with KMS: %w", purpose, err)
	}
	defer clear(out.Plaintext)
	ks, err := parseKeyset(out.Plaintext, purpose)
	if err != nil {
		return nil, fmt.Errorf("seal: %s keyset: %w", purpose, err)
	}
	return ks, nil
}
