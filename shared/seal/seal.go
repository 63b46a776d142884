package seal

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// fingerprintLen is the PRF output length in bytes: the full HMAC-SHA256
// output, so accidental collisions between different defenders are negligible.
const fingerprintLen = 32

// Sealer seals and opens personal-data fields and fingerprints identities.
// It is safe for concurrent use: Tink primitives are, and the lazily loaded
// fingerprint key is guarded.
type Sealer struct {
	aead        tink.AEAD
	fingerprint *lazyPRF
}

// errNotOpened guards the zero Sealer, so a wiring mistake fails loudly
// instead of panicking deep in a handler.
var errNotOpened = errors.New("seal: sealer not opened (use OpenLocal or OpenKMS)")

// Seal encrypts plaintext bound to associatedData. Haven binds every field to
// "referral/<id>/<field>" so a ciphertext cannot be moved to another record or
// field. Two seals of the same plaintext differ (random nonce, and under KMS a
// fresh data key), so equal values are not visible as equal ciphertexts.
func (s *Sealer) Seal(plaintext, associatedData []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, errNotOpened
	}
	ct, err := s.aead.Encrypt(plaintext, associatedData)
	if err != nil {
		// Tink's errors never contain the plaintext; wrapping adds only where.
		return nil, fmt.Errorf("seal: encrypt: %w", err)
	}
	return ct, nil
}

// Open decrypts a ciphertext made by Seal with the same associatedData. It
// fails if the ciphertext was altered, made with another key, or bound to
// other associated data.
func (s *Sealer) Open(ciphertext, associatedData []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, errNotOpened
	}
	pt, err := s.aead.Decrypt(ciphertext, associatedData)
	if err != nil {
		return nil, fmt.Errorf("seal: decrypt: %w", err)
	}
	return pt, nil
}

// Fingerprint returns the keyed hash (HMAC-SHA256 through a Tink PRF set) of
// an already-normalised identity string (see NormaliseIdentity), base64url
// encoded without padding (43 characters). The same input under the same key
// always gives the same fingerprint; without the key it reveals nothing.
func (s *Sealer) Fingerprint(normalised string) (string, error) {
	if s == nil || s.fingerprint == nil {
		return "", errNotOpened
	}
	if normalised == "" {
		// An empty identity would make every empty record "the same person".
		return "", errors.New("seal: fingerprint of an empty identity")
	}
	set, err := s.fingerprint.get()
	if err != nil {
		return "", err
	}
	out, err := set.ComputePrimaryPRF([]byte(normalised), fingerprintLen)
	if err != nil {
		return "", fmt.Errorf("seal: fingerprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// lazyPRF holds the fingerprint PRF set, loading it on first use. Under KMS
// loading is a network call, which must not happen during Lambda init; a
// failed load is retried by the next call rather than cached, so one KMS
// hiccup does not poison a warm container.
type lazyPRF struct {
	set  atomic.Pointer[prf.Set]
	mu   sync.Mutex // serialises loads so concurrent first callers make one KMS call
	load func() (*prf.Set, error)
}

func loadedPRF(set *prf.Set) *lazyPRF {
	l := &lazyPRF{}
	l.set.Store(set)
	return l
}

func (l *lazyPRF) get() (*prf.Set, error) {
	if set := l.set.Load(); set != nil {
		return set, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if set := l.set.Load(); set != nil {
		return set, nil
	}
	set, err := l.load()
	if err != nil {
		return nil, err
	}
	l.set.Store(set)
	return set, nil
}
