package seal

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// fingerprintLen is the fingerprint length in bytes: the full HMAC-SHA256
// output, so accidental collisions between different defenders are negligible.
const fingerprintLen = 32

// Sealer seals and opens personal-data fields and fingerprints identities.
// It is safe for concurrent use.
type Sealer struct {
	data        *lazy[dataAEAD]
	fingerprint *lazy[fingerprintPRF]
}

// errNotOpened guards the zero Sealer, so a wiring mistake fails loudly
// instead of panicking deep in a handler.
var errNotOpened = errors.New("seal: sealer not opened (use OpenLocal or OpenKMS)")

// Seal encrypts plaintext bound to associatedData. Haven binds every field to
// "referral/<id>/<field>" so a ciphertext cannot be moved to another record or
// field. Two seals of the same plaintext differ (random nonce), so equal values
// are not visible as equal ciphertexts.
func (s *Sealer) Seal(plaintext, associatedData []byte) ([]byte, error) {
	if s == nil || s.data == nil {
		return nil, errNotOpened
	}
	a, err := s.data.get()
	if err != nil {
		return nil, err
	}
	return a.encrypt(plaintext, associatedData), nil
}

// Open decrypts a ciphertext made by Seal with the same associatedData. It
// fails if the ciphertext was altered, made with another key, or bound to
// other associated data.
func (s *Sealer) Open(ciphertext, associatedData []byte) ([]byte, error) {
	if s == nil || s.data == nil {
		return nil, errNotOpened
	}
	a, err := s.data.get()
	if err != nil {
		return nil, err
	}
	pt, err := a.decrypt(ciphertext, associatedData)
	if err != nil {
		return nil, fmt.Errorf("seal: decrypt: %w", err)
	}
	return pt, nil
}

// Fingerprint returns the keyed hash (HMAC-SHA256 under the fingerprint key)
// of an already-normalised identity string (see identity.Normalise), base64url
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
	p, err := s.fingerprint.get()
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(p.compute([]byte(normalised))[:fingerprintLen]), nil
}

// lazy holds a key loaded on first use. Under KMS loading is a network call,
// which must not happen during Lambda init; a failed load is retried by the
// next call rather than cached, so one KMS hiccup does not poison a warm
// container.
type lazy[T any] struct {
	v    atomic.Pointer[T]
	mu   sync.Mutex // serialises loads so concurrent first callers make one KMS call
	load func() (*T, error)
}

func loaded[T any](v *T) *lazy[T] {
	l := &lazy[T]{}
	l.v.Store(v)
	return l
}

func (l *lazy[T]) get() (*T, error) {
	if v := l.v.Load(); v != nil {
		return v, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if v := l.v.Load(); v != nil {
		return v, nil
	}
	v, err := l.load()
	if err != nil {
		return nil, err
	}
	l.v.Store(v)
	return v, nil
}
