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

// keysets is the deployable form of a stack's keys: one keyset per purpose,
// each encrypted by the stack's SealingKey with its purpose as encryption
// context. It travels base64-encoded in the SEALING_KEYSETS parameter;
// GenerateKeysets makes it. Session, Cursor and Caller came later: a blob
// without them still opens (its data and fingerprints are unchanged), and
// RotateKeysets adds them.
type keysets struct {
	Version     int    `json:"v"`
	Data        []byte `json:"data"`
	Fingerprint []byte `json:"fingerprint"`
	Session     []byte `json:"session,omitempty"`
	Cursor      []byte `json:"cursor,omitempty"`
	Caller      []byte `json:"caller,omitempty"`
}

// slot is the wrapped keyset of purpose in ks.
func (ks *keysets) slot(purpose string) *[]byte {
	return slotOf(purpose, &ks.Data, &ks.Fingerprint, &ks.Session, &ks.Cursor, &ks.Caller)
}

// OpenKMS returns a Sealer whose keys are the keysets in blob (as made by
// GenerateKeysets), unwrapped by the KMS key keyARN
// ("arn:aws:kms:<region>:<account>:key/<id>") through client: an AES-256-GCM
// keyset that seals fields, an HMAC-SHA256 key that fingerprints
// identities, and the session, cursor and caller-hash keysets.
//
// Why keysets wrapped by KMS rather than KMS envelope encryption per field:
// an envelope per field costs one KMS request per field sealed or opened —
// four per referral read, seventy-five per page of a list — which adds
// latency to every step and spends the account's KMS request quota. Here KMS
// is called once per keyset per Lambda execution environment; the keys never
// leave memory, rotate by adding a primary key (RotateKeysets), and
// disabling the KMS key stops every new environment.
//
// OpenKMS does no network I/O, so it belongs in a function's init phase: it
// checks the ARN and the blob's framing. The first use of each keyset
// unwraps it, one KMS Decrypt with that keyset's encryption context, kept
// for the life of the Sealer and retried on the next call if KMS failed; a
// function unwraps only the keysets it uses, which are the only ones its
// IAM policy grants.
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
	loadSecrets := func(purpose string) *lazy[secrets] {
		wrapped := *ks.slot(purpose)
		if len(wrapped) == 0 {
			return nil
		}
		return &lazy[secrets]{load: func() (*secrets, error) {
			k, err := unwrap(client, arn, wrapped, purpose)
			if err != nil {
				return nil, err
			}
			return k.secrets(), nil
		}}
	}
	return &Sealer{
		data: &lazy[dataAEAD]{load: loadData}, fingerprint: &lazy[fingerprintPRF]{load: loadFingerprint},
		session: loadSecrets(PurposeSession), cursor: loadSecrets(PurposeCursor), caller: loadSecrets(PurposeCaller),
	}, nil
}

// GenerateKeysets makes a fresh keyset for every purpose (one key each) and
// returns them encrypted by the KMS key keyARN, each bound to its purpose:
// base64 it (standard encoding) into the SealingKeysets parameter. It calls
// KMS Encrypt once per keyset and never Decrypt, so anyone who may encrypt
// with the SealingKey can run it. Run it once per environment: new keysets
// cannot open what the old ones sealed.
func GenerateKeysets(ctx context.Context, keyARN string, client KMS) ([]byte, error) {
	arn, err := checkARN(keyARN, client)
	if err != nil {
		return nil, err
	}
	out := keysets{Version: keysetsVersion}
	for _, p := range Purposes {
		ks, err := newKeyset(p)
		if err != nil {
			return nil, err
		}
		if *out.slot(p), err = wrap(ctx, client, arn, ks); err != nil {
			return nil, err
		}
	}
	return json.Marshal(out)
}

// RotateKeysets returns blob with a fresh primary key in its data, session
// and cursor keysets, and with any keyset it lacks added. New seals,
// cookies and cursors use the new keys; everything sealed before still
// opens (the data keyset keeps every key), and cookies and cursors of the
// previous key are still accepted (the session and cursor keysets keep it,
// and drop the ones before). Deploy the result as SealingKeysets; running
// environments keep the old keysets until they are recycled, which is safe
// because the new keysets open what they seal. The fingerprint and caller
// keysets are kept as they are: a new key would make every stored
// fingerprint, or the caller hashes already logged, unmatchable.
//
// It calls KMS Decrypt (three keysets) and Encrypt; the SealingKey's policy
// allows Decrypt only to the sealing functions and the break-glass role, so
// run it as that role.
func RotateKeysets(ctx context.Context, keyARN string, blob []byte, client KMS) ([]byte, error) {
	arn, ks, err := checkDeployed(keyARN, blob, client)
	if err != nil {
		return nil, err
	}
	for _, p := range Purposes {
		slot := ks.slot(p)
		var k *keyset
		switch {
		case len(*slot) == 0:
			if k, err = newKeyset(p); err != nil {
				return nil, err
			}
		case p == PurposeData || keepsPrevious[p]:
			if k, err = unwrap(client, arn, *slot, p); err != nil {
				return nil, err
			}
			rotate := k.rotate
			if keepsPrevious[p] {
				rotate = k.rotateKeepingPrevious
			}
			if err := rotate(); err != nil {
				return nil, err
			}
		default:
			continue
		}
		if *slot, err = wrap(ctx, client, arn, k); err != nil {
			return nil, err
		}
	}
	return json.Marshal(ks)
}

// RewrapKeysets returns blob with every keyset unwrapped by the KMS key
// fromARN and wrapped again by toARN, keys unchanged: the move of the
// keysets from the stack's DataKey to its SealingKey. It calls KMS Decrypt
// under fromARN and Encrypt under toARN once per keyset.
func RewrapKeysets(ctx context.Context, fromARN, toARN string, blob []byte, client KMS) ([]byte, error) {
	from, ks, err := checkDeployed(fromARN, blob, client)
	if err != nil {
		return nil, err
	}
	to, err := checkARN(toARN, client)
	if err != nil {
		return nil, err
	}
	for _, p := range Purposes {
		slot := ks.slot(p)
		if len(*slot) == 0 {
			continue
		}
		k, err := unwrap(client, from, *slot, p)
		if err != nil {
			return nil, err
		}
		if *slot, err = wrap(ctx, client, to, k); err != nil {
			return nil, err
		}
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
