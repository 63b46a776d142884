package cursor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/shared/problem"
)

// FuzzDecode checks that Decode never panics and fails only with the one
// malformed-cursor error, whatever the token and scope. Forged tokens almost
// never pass the HMAC, so it also signs the fuzzed bytes as a payload to
// reach the payload parser, and checks that whatever decodes re-encodes to
// the same token (one token per key).
func FuzzDecode(f *testing.F) {
	s := NewSigner(bytes.Repeat([]byte("f"), MinKeyLen))
	f.Add("partner=unhcr", s.Encode("partner=unhcr", map[string]string{"pk": "REFERRAL#01J", "sk": "META"}))
	f.Add("", "")
	f.Add("partner=unhcr", "AQ")
	f.Fuzz(func(t *testing.T, scope, token string) {
		check := func(token string) {
			key, err := s.Decode(scope, token)
			if err != nil {
				var pe *problem.Error
				if !errors.As(err, &pe) || pe.Kind != problem.Validation ||
					!cmp.Equal(pe.Fields, []problem.FieldError{{Field: "cursor", Code: problem.CodeMalformed}}) {
					t.Fatalf("Decode error %v is not a malformed-cursor validation error", err)
				}
				return
			}
			if again := s.Encode(scope, key); again != token {
				t.Fatalf("Decode(%q) = %v, which encodes to %q", token, key, again)
			}
		}
		check(token)
		payload := []byte(token)
		signed := append(append([]byte{version}, tag(s.key, scope, payload)...), payload...)
		if len(signed) != 1+sha256.Size+len(payload) {
			t.Fatal("bad signed length")
		}
		check(encoding.EncodeToString(signed))
	})
}
