package webform

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
	"time"

	"github.com/haven-hrd/haven/shared/apigw"
)

// MinSessionKeyBytes is the shortest SESSION_KEY accepted.
const MinSessionKeyBytes = 32

// session is everything the cookie holds: no name, no token, no role list.
type session struct {
	Partner string `json:"p"`
	Subject string `json:"s"`
	Expires int64  `json:"e"` // Unix seconds
}

// sessionKeys seals cookies and derives CSRF tokens. Both keys come from one
// secret through HKDF with distinct labels, so neither can stand in for the
// other. older are the keys of the secrets a rotation retired (the session
// keyset keeps one): cookies and tokens they made are still accepted until
// they expire, new ones are made with the current keys only.
type sessionKeys struct {
	aead  cipher.AEAD
	csrf  []byte
	older []*sessionKeys
}

func newSessionKeys(secret []byte, older ...[]byte) (*sessionKeys, error) {
	k, err := sessionKeysOf(secret)
	if err != nil {
		return nil, err
	}
	for _, o := range older {
		ok, err := sessionKeysOf(o)
		if err != nil {
			return nil, err
		}
		k.older = append(k.older, ok)
	}
	return k, nil
}

func sessionKeysOf(secret []byte) (*sessionKeys, error) {
	if len(secret) < MinSessionKeyBytes {
		return nil, errors.New("webform: SESSION_KEY must be at least 32 bytes")
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
	return &sessionKeys{aead: aead, csrf: csrfKey}, nil
}

// lazyKeys holds the form's session keys. With SESSION_KEY (the local runner,
// tests) New fills it at once; in AWS there is no such variable and the keys
// are derived on first use from the secrets that secret returns (the
// sealer's session keyset, which KMS unwraps: a network call, so never
// during Lambda init), the current one first. Loads
// are serialised so that concurrent first requests derive once, and a failed
// load is not cached: the next request tries again.
type lazyKeys struct {
	keys   atomic.Pointer[sessionKeys]
	mu     sync.Mutex
	secret func() ([][]byte, error)
}

// get returns the keys, deriving them if they are not yet.
func (l *lazyKeys) get() (*sessionKeys, error) {
	if k := l.keys.Load(); k != nil {
		return k, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if k := l.keys.Load(); k != nil {
		return k, nil
	}
	if l.secret == nil {
		return nil, errors.New("webform: no session key")
	}
	secrets, err := l.secret()
	if err != nil {
		return nil, err
	}
	if len(secrets) == 0 {
		return nil, errors.New("webform: no session key")
	}
	k, err := newSessionKeys(secrets[0], secrets[1:]...)
	if err != nil {
		return nil, err
	}
	l.keys.Store(k)
	return k, nil
}

// seal encrypts v for the cookie named name (the name is bound as additional
// data, so a value cannot be moved from one cookie to another).
func (k *sessionKeys) seal(name string, v any) (string, error) {
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

func (k *sessionKeys) open(name, value string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < k.aead.NonceSize() {
		return errors.New("bad cookie")
	}
	n := k.aead.NonceSize()
	for _, keys := range append([]*sessionKeys{k}, k.older...) {
		if plain, err := keys.aead.Open(nil, raw[:n], raw[n:], []byte(name)); err == nil {
			return json.Unmarshal(plain, v)
		}
	}
	return errors.New("bad cookie")
}

// csrfToken ties a token to one session cookie value: a new sign-in gives a
// new token, and a token is worthless without the cookie it was made for.
func (k *sessionKeys) csrfToken(cookieValue string) string {
	m := hmac.New(sha256.New, k.csrf)
	m.Write([]byte("csrf|" + cookieValue))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (k *sessionKeys) checkCSRF(cookieValue, token string) bool {
	if cookieValue == "" || token == "" {
		return false
	}
	for _, keys := range append([]*sessionKeys{k}, k.older...) {
		if hmac.Equal([]byte(keys.csrfToken(cookieValue)), []byte(token)) {
			return true
		}
	}
	return false
}

// cookieSpec says how cookies are written for one request's host.
type cookieSpec struct{ secure bool }

// specFor: Secure everywhere except loopback, where browsers are served over
// plain http by the local runner.
func specFor(host string) cookieSpec {
	return cookieSpec{secure: !apigw.LoopbackHost(host)}
}

// sessionCookie is the session cookie's name: with Secure it takes the
// __Host- prefix (no Domain, Path=/, Secure enforced by the browser).
func (c cookieSpec) sessionCookie() string {
	if c.secure {
		return "__Host-haven_session"
	}
	return "haven_session"
}

func (c cookieSpec) oidcCookie() string {
	if c.secure {
		return "__Host-haven_oidc"
	}
	return "haven_oidc"
}

// set renders a Set-Cookie value. maxAge < 0 deletes the cookie.
func (c cookieSpec) set(name, value string, maxAge int, sameSite string) string {
	var b strings.Builder
	b.WriteString(name + "=" + value + "; Path=/; HttpOnly; SameSite=" + sameSite)
	if c.secure {
		b.WriteString("; Secure")
	}
	if maxAge < 0 {
		b.WriteString("; Max-Age=0")
	} else {
		b.WriteString("; Max-Age=" + strconv.Itoa(maxAge))
	}
	return b.String()
}

func cookieValue(cookies []string, name string) string {
	for _, c := range cookies {
		k, v, ok := strings.Cut(strings.TrimSpace(c), "=")
		if ok && k == name {
			return v
		}
	}
	return ""
}

func (s session) valid(now time.Time) bool {
	return s.Partner != "" && s.Subject != "" && now.Unix() < s.Expires
}
