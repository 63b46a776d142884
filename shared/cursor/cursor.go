package cursor

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/haven-hrd/haven/shared/problem"
)

const (
	// MinKeyLen is the shortest signing key NewSigner accepts: the HMAC-SHA256
	// output size, so the key is not the weak point.
	MinKeyLen = 32

	// version leads every token, so the format can change without old tokens
	// being misread.
	version byte = 1

	// maxTokenLen bounds the work an attacker can make Decode do. It is about
	// what fits in an API Gateway request line (10 KiB with headers); Haven's
	// keys (at most four attributes of short ids) make tokens of a few hundred
	// characters.
	maxTokenLen = 8192
)

// encoding is base64url without padding, strict, so that each byte string has
// exactly one token.
var encoding = base64.RawURLEncoding.Strict()

// Signer encodes cursors with one secret key and checks them with it or
// with the keys it replaced. It is safe for concurrent use.
type Signer struct {
	key   []byte
	older [][]byte
}

// NewSigner returns a Signer that signs with key and accepts cursors
// signed with key or any of older (the keys a rotation retired, so that a
// list being paged through when the key rotates goes on). Each key must hold
// at least MinKeyLen random bytes. It panics on a shorter key: that is a
// deployment mistake that would make cursors forgeable, better caught at
// cold start than ignored.
func NewSigner(key []byte, older ...[]byte) *Signer {
	s := &Signer{key: bytes.Clone(key)}
	for _, k := range append([][]byte{key}, older...) {
		if len(k) < MinKeyLen {
			panic(fmt.Sprintf("cursor: signing key of %d bytes, want at least %d", len(k), MinKeyLen))
		}
	}
	for _, k := range older {
		s.older = append(s.older, bytes.Clone(k))
	}
	return s
}

// Encode returns the token for key, DynamoDB's last evaluated key with each
// attribute as a string, valid only under scope: the caller and filters of
// the list, so a token cannot be replayed against another partner's list.
//
// Layout before base64url: version, HMAC-SHA256 tag (32 bytes), payload. The
// payload is uvarint(number of attributes) then, in ascending name order,
// uvarint(len name), name, uvarint(len value), value. It is built by hand
// rather than as JSON so any string, valid UTF-8 or not, round-trips exactly.
func (s *Signer) Encode(scope string, key map[string]string) string {
	names := make([]string, 0, len(key))
	for name := range key {
		names = append(names, name)
	}
	slices.Sort(names)
	payload := binary.AppendUvarint(nil, uint64(len(names)))
	for _, name := range names {
		payload = appendString(payload, name)
		payload = appendString(payload, key[name])
	}
	token := make([]byte, 0, 1+sha256.Size+len(payload))
	token = append(token, version)
	token = append(token, tag(s.key, scope, payload)...)
	token = append(token, payload...)
	return encoding.EncodeToString(token)
}

// Decode returns the key in token if token was made by Encode with this
// Signer's key and the same scope. Any other token, tampered, truncated,
// made with another key or for another scope, or not a token at all, gives
// a problem.Validation error on field "cursor" with code problem.CodeMalformed;
// the reason is kept as the error's Cause, for logs only.
func (s *Signer) Decode(scope, token string) (map[string]string, error) {
	if len(token) > maxTokenLen {
		return nil, malformed("token too long")
	}
	raw, err := encoding.DecodeString(token)
	if err != nil {
		return nil, malformed("not base64url")
	}
	if len(raw) < 1+sha256.Size {
		return nil, malformed("too short")
	}
	if raw[0] != version {
		return nil, malformed("unknown version")
	}
	got, payload := raw[1:1+sha256.Size], raw[1+sha256.Size:]
	// Check the tag before reading the payload: only bytes this server
	// signed are ever parsed. Scope is part of the signed message, so a token
	// of another scope fails here too.
	if !s.signed(got, scope, payload) {
		return nil, malformed("bad signature or other scope")
	}
	key, err := parsePayload(payload)
	if err != nil {
		return nil, malformed(err.Error())
	}
	return key, nil
}

// signed reports whether got is the tag of scope and payload under the
// signing key or one it replaced.
func (s *Signer) signed(got []byte, scope string, payload []byte) bool {
	if hmac.Equal(got, tag(s.key, scope, payload)) {
		return true
	}
	for _, k := range s.older {
		if hmac.Equal(got, tag(k, scope, payload)) {
			return true
		}
	}
	return false
}

// tag is the HMAC of the version, the length-prefixed scope and the payload.
// The length prefix keeps scope and payload from sliding into each other.
func tag(key []byte, scope string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte{version})
	m.Write(appendString(nil, scope))
	m.Write(payload)
	return m.Sum(nil)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// parsePayload reads a payload made by Encode. Encode's output is canonical
// (names ascending, no duplicates, nothing trailing), and anything else is
// refused, even though only signed payloads reach here.
func parsePayload(p []byte) (map[string]string, error) {
	n, p, err := readUvarint(p)
	if err != nil {
		return nil, err
	}
	// Every attribute takes at least two bytes, which bounds the allocation.
	if n > uint64(len(p)/2) {
		return nil, errors.New("attribute count exceeds payload")
	}
	key := make(map[string]string, n)
	prev := ""
	for i := range n {
		var name, value string
		if name, p, err = readString(p); err != nil {
			return nil, err
		}
		if value, p, err = readString(p); err != nil {
			return nil, err
		}
		if i > 0 && name <= prev {
			return nil, errors.New("attribute names not strictly ascending")
		}
		key[name], prev = value, name
	}
	if len(p) != 0 {
		return nil, errors.New("trailing bytes")
	}
	return key, nil
}

func readUvarint(p []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(p)
	if n <= 0 {
		return 0, nil, errors.New("bad length")
	}
	// A non-minimal encoding would give two tokens for one key.
	if n != len(binary.AppendUvarint(nil, v)) {
		return 0, nil, errors.New("non-minimal length")
	}
	return v, p[n:], nil
}

func readString(p []byte) (string, []byte, error) {
	l, p, err := readUvarint(p)
	if err != nil {
		return "", nil, err
	}
	if l > uint64(len(p)) {
		return "", nil, errors.New("length exceeds payload")
	}
	return string(p[:l]), p[l:], nil
}

// malformed is the one error Decode returns; reason is for logs only.
func malformed(reason string) error {
	return &problem.Error{
		Kind:   problem.Validation,
		Fields: []problem.FieldError{{Field: "cursor", Code: problem.CodeMalformed}},
		Cause:  errors.New("cursor: " + reason),
	}
}
