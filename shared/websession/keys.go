package websession

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/haven-hrd/haven/shared/apigw"
)

// MinKeyBytes is the shortest session secret accepted (SESSION_KEY).
const MinKeyBytes = 32

// Keys seal cookies and derive CSRF tokens. Both keys come from one secret
// through HKDF with distinct labels, so neither can stand in for the other.
// older are the keys of the secrets a rotation retired (the session keyset
// keeps one): cookies and tokens they made are still accepted until they
// expire, new ones are made with the current keys only.
type Keys struct {
	aead  cipher.AEAD
	csrf  []byte
	older []*Keys
}

// NewKeys derives the keys from secret and the retired secrets older (each
// at least MinKeyBytes).
func NewKeys(secret []byte, older ...[]byte) (*Keys, error) {
	k, err := keysOf(secret)
	if err != nil {
		return nil, err
	}
	for _, o := range older {
		ok, err := keysOf(o)
		if err != nil {
			return nil, err
		}
		k.older = append(k.older, ok)
	}
	return k, nil
}

func keysOf(secret []byte) (*Keys, error) {
	if len(secret) < MinKeyBytes {
		return nil, errors.New("websession: SESSION_KEY must be at least 32 bytes")
	}
	encKey, err := hkdf.Key(sha256.New, secret, nil, "haven web session v1", 32)
	if err != nil {
		return nil, err
	}
	csrfKey, err := hkdf.Key(sha256.New, secret, nil, "haven web csrf v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{aead: aead, csrf: csrfKey}, nil
}

// Lazy holds a page's session keys. With SESSION_KEY (the local runner,
// tests) they are set at once; in AWS there is no such variable and the
// keys are derived on first use from the secrets Secret returns, the
// current one first (the sealer's session keyset, which KMS unwraps: a
// network call, so never during Lambda init). Loads are serialised so that concurrent first requests derive
// once, and a failed load is not cached: the next request tries again.
type Lazy struct {
	keys   atomic.Pointer[Keys]
	mu     sync.Mutex
	Secret func() ([][]byte, error)
}

// Set stores keys already made.
func (l *Lazy) Set(k *Keys) { l.keys.Store(k) }

// Load returns the keys if they are there (nil otherwise).
func (l *Lazy) Load() *Keys { return l.keys.Load() }

// Get returns the keys, deriving them if they are not yet.
func (l *Lazy) Get() (*Keys, error) {
	if k := l.keys.Load(); k != nil {
		return k, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if k := l.keys.Load(); k != nil {
		return k, nil
	}
	if l.Secret == nil {
		return nil, errors.New("websession: no session key")
	}
	secrets, err := l.Secret()
	if err != nil {
		return nil, err
	}
	if len(secrets) == 0 {
		return nil, errors.New("websession: no session key")
	}
	k, err := NewKeys(secrets[0], secrets[1:]...)
	if err != nil {
		return nil, err
	}
	l.keys.Store(k)
	return k, nil
}

// Seal encrypts v for the cookie named name (the name is bound as
// additional data, so a value cannot be moved from one cookie to another).
func (k *Keys) Seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := k.aead.Seal(nonce, nonce, plain, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal made for the cookie named name into v.
func (k *Keys) Open(name, value string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < k.aead.NonceSize() {
		return errors.New("bad cookie")
	}
	n := k.aead.NonceSize()
	for _, keys := range append([]*Keys{k}, k.older...) {
		if plain, err := keys.aead.Open(nil, raw[:n], raw[n:], []byte(name)); err == nil {
			return json.Unmarshal(plain, v)
		}
	}
	return errors.New("bad cookie")
}

// CSRFToken ties a token to one session cookie value: a new sign-in gives a
// new token, and a token is worthless without the cookie it was made for.
func (k *Keys) CSRFToken(cookieValue string) string {
	m := hmac.New(sha256.New, k.csrf)
	m.Write([]byte("csrf|" + cookieValue))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether token is the CSRF token of cookieValue.
func (k *Keys) CheckCSRF(cookieValue, token string) bool {
	if cookieValue == "" || token == "" {
		return false
	}
	for _, keys := range append([]*Keys{k}, k.older...) {
		if hmac.Equal([]byte(keys.CSRFToken(cookieValue)), []byte(token)) {
			return true
		}
	}
	return false
}

// Cookies says how cookies are written for one request's host.
type Cookies struct{ Secure bool }

// For is Secure everywhere except loopback, where browsers are served over
// plain http by the local runner.
func For(host string) Cookies {
	return Cookies{Secure: !apigw.LoopbackHost(host)}
}

// Name is the cookie named base as written: with Secure it takes the
// __Host- prefix (no Domain, Path=/, Secure enforced by the browser).
func (c Cookies) Name(base string) string {
	if c.Secure {
		return "__Host-" + base
	}
	return base
}

// Set renders a Set-Cookie value. maxAge < 0 deletes the cookie.
func (c Cookies) Set(name, value string, maxAge int, sameSite string) string {
	var b strings.Builder
	b.WriteString(name + "=" + value + "; Path=/; HttpOnly; SameSite=" + sameSite)
	if c.Secure {
		b.WriteString("; Secure")
	}
	if maxAge < 0 {
		b.WriteString("; Max-Age=0")
	} else {
		b.WriteString("; Max-Age=" + strconv.Itoa(maxAge))
	}
	return b.String()
}

// Value is the value of the cookie named name among a request's cookies.
func Value(cookies []string, name string) string {
	for _, c := range cookies {
		k, v, ok := strings.Cut(strings.TrimSpace(c), "=")
		if ok && k == name {
			return v
		}
	}
	return ""
}
