package websession

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
)

type testSession struct {
	Partner string `json:"p"`
	Subject string `json:"s"`
	Expires int64  `json:"e"`
}

func TestSessionCookie(t *testing.T) {
	k, err := NewKeys([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	in := testSession{Partner: "unhcr", Subject: "s", Expires: testenv.Now().Add(time.Hour).Unix()}
	v, err := k.Seal("haven_session", in)
	if err != nil {
		t.Fatal(err)
	}
	var out testSession
	if err := k.Open("haven_session", v, &out); err != nil || out != in {
		t.Fatalf("open = %+v, %v", out, err)
	}
	if k.Open("haven_oidc", v, &out) == nil {
		t.Error("a session value opened as another cookie")
	}
	tampered := v[:len(v)-2] + "AA"
	if k.Open("haven_session", tampered, &out) == nil {
		t.Error("tampered cookie accepted")
	}
	other, _ := NewKeys([]byte(strings.Repeat("x", 32)))
	if other.Open("haven_session", v, &out) == nil {
		t.Error("cookie opened with another key")
	}
	tok := k.CSRFToken(v)
	if !k.CheckCSRF(v, tok) || k.CheckCSRF(v, tok+"x") || k.CheckCSRF(tampered, tok) || k.CheckCSRF("", "") {
		t.Error("CSRF check wrong")
	}
	if _, err := NewKeys([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}

// After a rotation of the session keyset, a cookie and CSRF token made with
// the retired key are still accepted (a caseworker signed in before the
// rotation stays so until the session expires), new ones are made with the
// current key, and those of a key retired before are refused.
func TestSessionKeysRotated(t *testing.T) {
	k0, k1, k2 := []byte(strings.Repeat("0", 32)), []byte(strings.Repeat("1", 32)), []byte(strings.Repeat("2", 32))
	before, _ := NewKeys(k0)
	retired, _ := NewKeys(k1, k0)
	now, err := NewKeys(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	in := testSession{Partner: "unhcr", Subject: "s", Expires: testenv.Now().Add(time.Hour).Unix()}
	cookie := func(k *Keys) string {
		v, err := k.Seal("haven_session", in)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	opens := func(k *Keys, v string) bool {
		var out testSession
		return k.Open("haven_session", v, &out) == nil && out == in
	}
	prev, old, fresh := cookie(retired), cookie(before), cookie(now)
	type result struct{ PreviousOpens, PreviousCSRF, TwoBackOpens, TwoBackCSRF, NewOpensWithRetired bool }
	got := result{
		PreviousOpens: opens(now, prev), PreviousCSRF: now.CheckCSRF(prev, retired.CSRFToken(prev)),
		TwoBackOpens: opens(now, old), TwoBackCSRF: now.CheckCSRF(old, before.CSRFToken(old)),
		NewOpensWithRetired: opens(before, fresh),
	}
	if diff := cmp.Diff(result{PreviousOpens: true, PreviousCSRF: true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCookies(t *testing.T) {
	for host, secure := range map[string]bool{"127.0.0.1:3000": false, "localhost:3000": false, "[::1]:3000": false,
		"abc.execute-api.ca-central-1.amazonaws.com": true, "referrals.example.org": true} {
		s := For(host)
		if s.Secure != secure {
			t.Errorf("%s: secure %v", host, s.Secure)
		}
		if name := s.Name("haven_session"); (name == "__Host-haven_session") != secure {
			t.Errorf("%s: name %s", host, name)
		}
		c := s.Set(s.Name("haven_session"), "v", 60, "Strict")
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") || strings.Contains(c, "Secure") != secure {
			t.Errorf("%s: %s", host, c)
		}
	}
}

// Cookies come from the browser, so from anyone: a forged or mangled value
// must never open, whatever its shape, and CSRF checks must never pass for it.
func FuzzSessionCookie(f *testing.F) {
	keys, err := NewKeys([]byte("fuzz session key, 32 bytes or more"))
	if err != nil {
		f.Fatal(err)
	}
	sealed := testSession{Partner: "unhcr", Subject: "s", Expires: 1 << 40}
	good, err := keys.Seal("session", sealed)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, "", "x", strings.Repeat("A", 200), good[:len(good)-1] + "B", "%%%", "a.b.c"} {
		f.Add(s, "token")
	}
	f.Add(good, keys.CSRFToken(good))
	f.Fuzz(func(t *testing.T, value, token string) {
		var s testSession
		// Only what Seal made can open, so anything that opens holds exactly
		// the session sealed above (fuzz workers each seal their own copy, so
		// the bytes may differ; the content may not).
		if err := keys.Open("session", value, &s); err == nil && s != sealed {
			t.Fatalf("a value not made by Seal opened as %+v", s)
		}
		if keys.CheckCSRF(value, token) && token != keys.CSRFToken(value) {
			t.Fatalf("CSRF accepted a token not derived from the cookie")
		}
		if value != "" && keys.CheckCSRF(value, keys.CSRFToken(value+"x")) {
			t.Fatalf("a token for another cookie passed")
		}
	})
}
