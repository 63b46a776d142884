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
	// session, cursor and caller hold the keysets of the keys other packages
	// derive from Haven's secrets; nil when the keysets at hand lack them.
	session, cursor, caller *lazy[secrets]
	// guard, when set, is asked before each use of a keyset (by purpose):
	// a local run enforces each function's IAM grant of the keyset's KMS
	// encryption context with it (Guarded), as KMS would at the unwrap.
	guard func(purpose string) error
}

// Guarded returns a Sealer with s's keys that asks check(purpose) before
// every use of a keyset and fails with its error. The local runner and the
// tests give each function one whose check is the function's IAM policy for
// kms:Decrypt of that keyset (infra/iam), so a step that uses a keyset its
// function is not granted fails locally as it would in AWS, where the unwrap
// is refused.
func (s *Sealer) Guarded(check func(purpose string) error) *Sealer {
	if s == nil {
		return nil
	}
	g := *s
	g.guard = check
	return &g
}

func (s *Sealer) use(purpose string) error {
	if s.guard == nil {
		return nil
	}
	return s.guard(purpose)
}

// errNotOpened guards the zero Sealer, so a wiring mistake fails loudly
// instead of panicking deep in a handler.
var errNotOpened = errors.New("seal: sealer not opened (use OpenLocal or OpenKMS)")

// Seal encrypts plaintext bound to associatedData. Haven binds every field to
// "referral/<id>/<field>" so a ciphertext cannot be moved to another record or
// field. Two seals of the same plaintext differ (random nonce), so equal values
// are not visible as equal ciphertexts.
func (s *Sealer) Seal(plaintext, associatedData []byte) ([]byte, error) {
	a, err := s.dataAEAD()
	if err != nil {
		return nil, err
	}
	return a.encrypt(plaintext, associatedData), nil
}

// Open decrypts a ciphertext made by Seal with the same associatedData. It
// fails if the ciphertext was altered, made with another key, or bound to
// other associated data.
func (s *Sealer) Open(ciphertext, associatedData []byte) ([]byte, error) {
	a, err := s.dataAEAD()
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
	if err := s.use(PurposeFingerprint); err != nil {
		return "", err
	}
	p, err := s.fingerprint.get()
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(p.compute([]byte(normalised))[:fingerprintLen]), nil
}

func (s *Sealer) dataAEAD() (*dataAEAD, error) {
	if s == nil || s.data == nil {
		return nil, errNotOpened
	}
	if err := s.use(PurposeData); err != nil {
		return nil, err
	}
	return s.data.get()
}

// SessionKeys returns the web form's session keys, the primary first: new
// cookies are sealed with it, a cookie sealed with the previous key (kept
// by one rotation, go run ./infra/keyset -rotate) still opens until it
// expires.
func (s *Sealer) SessionKeys() ([][]byte, error) { return s.secrets(PurposeSession, s.sessionKeys()) }

// CursorKeys returns the list-cursor signing keys, the primary first: new
// cursors are signed with it, a cursor signed with the previous key is still
// accepted, one signed before that is refused as malformed (400, the client
// starts the list again).
func (s *Sealer) CursorKeys() ([][]byte, error) { return s.secrets(PurposeCursor, s.cursorKeys()) }

// CallerKey returns the key of the request log's caller hash. Its keyset is
// never rotated: a new key would make a caller's requests before and after
// unlinkable in the logs.
func (s *Sealer) CallerKey() ([]byte, error) {
	k, err := s.secrets(PurposeCaller, s.callerKeys())
	if err != nil {
		return nil, err
	}
	return k[0], nil
}

func (s *Sealer) sessionKeys() *lazy[secrets] {
	if s == nil {
		return nil
	}
	return s.session
}

func (s *Sealer) cursorKeys() *lazy[secrets] {
	if s == nil {
		return nil
	}
	return s.cursor
}

func (s *Sealer) callerKeys() *lazy[secrets] {
	if s == nil {
		return nil
	}
	return s.caller
}

func (s *Sealer) secrets(purpose string, l *lazy[secrets]) ([][]byte, error) {
	if s == nil || s.data == nil {
		return nil, errNotOpened
	}
	if l == nil {
		return nil, fmt.Errorf("seal: the keysets hold no %s keyset (add it with go run ./infra/keyset -rotate, or delete the local keyset file)", purpose)
	}
	if err := s.use(purpose); err != nil {
		return nil, err
	}
	v, err := l.get()
	if err != nil {
		return nil, err
	}
	return v.keys, nil
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
