package cursor_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/haven-hrd/haven/shared/cursor"
	"github.com/haven-hrd/haven/shared/problem"
)

var testKey = bytes.Repeat([]byte("k"), cursor.MinKeyLen)

const scope = "partner=front-line-defenders&status=submitted"

func TestRoundTrip(t *testing.T) {
	s := cursor.NewSigner(testKey)
	tests := []struct {
		name string
		key  map[string]string
	}{
		{"gsi key", map[string]string{
			"pk": "REFERRAL#01J9Z8", "sk": "REFERRAL#01J9Z8",
			"gsi1pk": "PARTNER#front-line-defenders", "gsi1sk": "2025-03-01T10:00:00Z#01J9Z8",
		}},
		{"one attribute", map[string]string{"pk": "x"}},
		{"empty values and names", map[string]string{"": "", "a": ""}},
		{"unicode and separators", map[string]string{"pk": "é|#\x00=&?", "sk": "日本"}},
		{"invalid UTF-8 kept exactly", map[string]string{"pk": "\xff\xfe"}},
		{"long value", map[string]string{"pk": strings.Repeat("p", 1024)}},
		{"empty", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := s.Encode(scope, tt.key)
			if strings.ContainsAny(token, "+/=") {
				t.Errorf("token %q is not unpadded base64url", token)
			}
			if again := s.Encode(scope, tt.key); again != token {
				t.Errorf("Encode not deterministic: %q then %q", token, again)
			}
			got, err := s.Decode(scope, token)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.key, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Decode(Encode(key)) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	s := cursor.NewSigner(testKey)
	key := map[string]string{"pk": "REFERRAL#01J9Z8", "sk": "META"}
	token := s.Encode(scope, key)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	reencode := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return reencode(b)
	}
	otherKey := cursor.NewSigner(bytes.Repeat([]byte("o"), cursor.MinKeyLen))

	tests := []struct {
		name  string
		scope string
		token string
	}{
		{"flipped version byte", scope, flip(0)},
		{"flipped tag byte", scope, flip(5)},
		{"flipped payload byte", scope, flip(len(raw) - 1)},
		{"truncated", scope, reencode(raw[:len(raw)-1])},
		{"extended", scope, reencode(append(bytes.Clone(raw), 0))},
		{"other scope", "partner=unhcr&status=submitted", token},
		{"scope prefix", scope[:10], token},
		{"empty scope", "", token},
		{"made with another key", scope, otherKey.Encode(scope, key)},
		{"empty", scope, ""},
		{"garbage", scope, "not a cursor!"},
		{"standard base64 alphabet", scope, base64.RawStdEncoding.EncodeToString(raw) + "+/"},
		{"padded", scope, token + "=="},
		{"non-canonical trailing bits", scope, token[:len(token)-1] + nextChar(token[len(token)-1])},
		{"json", scope, `{"pk":"REFERRAL#01J9Z8"}`},
		{"too long", scope, strings.Repeat("A", 10000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Decode(tt.scope, tt.token)
			if err == nil {
				t.Fatalf("Decode succeeded with %v, want error", got)
			}
			checkMalformed(t, err)
		})
	}
}

// nextChar returns a base64url character differing from c only in its lowest
// bits, which an unpadded final character may not use.
func nextChar(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return string(alphabet[i^1])
}

func checkMalformed(t *testing.T, err error) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *problem.Error", err)
	}
	want := []problem.FieldError{{Field: "cursor", Code: problem.CodeMalformed}}
	if diff := cmp.Diff(want, pe.Fields); diff != "" {
		t.Errorf("Fields mismatch (-want +got):\n%s", diff)
	}
	if pe.Kind != problem.Validation {
		t.Errorf("Kind = %q, want %q", pe.Kind, problem.Validation)
	}
}

func TestNewSignerRejectsShortKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewSigner with a 16-byte key did not panic")
		}
	}()
	cursor.NewSigner(make([]byte, 16))
}

// The Signer must not share the caller's key slice: zeroing or reusing the
// buffer after NewSigner must not change the key.
func TestNewSignerCopiesKey(t *testing.T) {
	key := bytes.Clone(testKey)
	s := cursor.NewSigner(key)
	token := s.Encode(scope, map[string]string{"pk": "x"})
	clear(key)
	if _, err := s.Decode(scope, token); err != nil {
		t.Errorf("Decode after the caller cleared its key buffer: %v", err)
	}
}

// After a rotation a cursor of the key just retired is still accepted (a
// list being paged through goes on); one of a key retired before is
// refused as malformed, and new cursors are signed with the new key.
func TestRotatedKeys(t *testing.T) {
	k0, k1, k2 := testKey, bytes.Repeat([]byte("1"), cursor.MinKeyLen), bytes.Repeat([]byte("2"), cursor.MinKeyLen)
	key := map[string]string{"pk": "REF#01J9Z8", "sk": "A"}
	before, retired, now := cursor.NewSigner(k0), cursor.NewSigner(k1, k0), cursor.NewSigner(k2, k1)
	type result struct{ PreviousAccepted, TwoBackAccepted, NewByOldSigner bool }
	accepts := func(s *cursor.Signer, token string) bool { _, err := s.Decode(scope, token); return err == nil }
	got := result{
		PreviousAccepted: accepts(now, retired.Encode(scope, key)),
		TwoBackAccepted:  accepts(now, before.Encode(scope, key)),
		NewByOldSigner:   accepts(before, now.Encode(scope, key)),
	}
	if diff := cmp.Diff(result{PreviousAccepted: true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := now.Decode(scope, before.Encode(scope, key)); problem.KindOf(err) != problem.Validation {
		t.Errorf("cursor of a key two rotations back: %v, want a validation error", err)
	}
}
