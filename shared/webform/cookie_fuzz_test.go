package webform

import (
	"strings"
	"testing"
)

// Cookies come from the browser, so from anyone: a forged or mangled value
// must never open, whatever its shape, and CSRF checks must never pass for it.
func FuzzSessionCookie(f *testing.F) {
	keys, err := newSessionKeys([]byte("fuzz session key, 32 bytes or more"))
	if err != nil {
		f.Fatal(err)
	}
	sealed := session{Partner: "unhcr", Subject: "s", Expires: 1 << 40}
	good, err := keys.seal("session", sealed)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, "", "x", strings.Repeat("A", 200), good[:len(good)-1] + "B", "%%%", "a.b.c"} {
		f.Add(s, "token")
	}
	f.Add(good, keys.csrfToken(good))
	f.Fuzz(func(t *testing.T, value, token string) {
		var s session
		// Only what seal made can open, so anything that opens holds exactly
		// the session sealed above (fuzz workers each seal their own copy, so
		// the bytes may differ; the content may not).
		if err := keys.open("session", value, &s); err == nil && s != sealed {
			t.Fatalf("a value not made by seal opened as %+v", s)
		}
		if keys.checkCSRF(value, token) && token != keys.csrfToken(value) {
			t.Fatalf("CSRF accepted a token not derived from the cookie")
		}
		if value != "" && keys.checkCSRF(value, keys.csrfToken(value+"x")) {
			t.Fatalf("a token for another cookie passed")
		}
	})
}
