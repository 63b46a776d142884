package webform

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
)

func TestSessionCookie(t *testing.T) {
	k, err := newSessionKeys([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	in := session{Partner: "unhcr", Subject: "s", Expires: testenv.Now().Add(time.Hour).Unix()}
	v, err := k.seal("haven_session", in)
	if err != nil {
		t.Fatal(err)
	}
	var out session
	if err := k.open("haven_session", v, &out); err != nil || out != in {
		t.Fatalf("open = %+v, %v", out, err)
	}
	if k.open("haven_oidc", v, &out) == nil {
		t.Error("a session value opened as another cookie")
	}
	tampered := v[:len(v)-2] + "AA"
	if k.open("haven_session", tampered, &out) == nil {
		t.Error("tampered cookie accepted")
	}
	other, _ := newSessionKeys([]byte(strings.Repeat("x", 32)))
	if other.open("haven_session", v, &out) == nil {
		t.Error("cookie opened with another key")
	}
	tok := k.csrfToken(v)
	if !k.checkCSRF(v, tok) || k.checkCSRF(v, tok+"x") || k.checkCSRF(tampered, tok) || k.checkCSRF("", "") {
		t.Error("CSRF check wrong")
	}
	if _, err := newSessionKeys([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}

// After a rotation of the session keyset, a cookie and CSRF token made with
// the retired key are still accepted (a caseworker signed in before the
// rotation stays so until the session expires), new ones are made with the
// current key, and those of a key retired before are refused.
func TestSessionKeysRotated(t *testing.T) {
	k0, k1, k2 := []byte(strings.Repeat("0", 32)), []byte(strings.Repeat("1", 32)), []byte(strings.Repeat("2", 32))
	before, _ := newSessionKeys(k0)
	retired, _ := newSessionKeys(k1, k0)
	now, err := newSessionKeys(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	in := session{Partner: "unhcr", Subject: "s", Expires: testenv.Now().Add(time.Hour).Unix()}
	cookie := func(k *sessionKeys) string {
		v, err := k.seal("haven_session", in)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	opens := func(k *sessionKeys, v string) bool {
		var out session
		return k.open("haven_session", v, &out) == nil && out == in
	}
	prev, old, fresh := cookie(retired), cookie(before), cookie(now)
	type result struct{ PreviousOpens, PreviousCSRF, TwoBackOpens, TwoBackCSRF, NewOpensWithRetired bool }
	got := result{
		PreviousOpens: opens(now, prev), PreviousCSRF: now.checkCSRF(prev, retired.csrfToken(prev)),
		TwoBackOpens: opens(now, old), TwoBackCSRF: now.checkCSRF(old, before.csrfToken(old)),
		NewOpensWithRetired: opens(before, fresh),
	}
	if diff := cmp.Diff(result{PreviousOpens: true, PreviousCSRF: true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCookieSpec(t *testing.T) {
	for host, secure := range map[string]bool{"127.0.0.1:3000": false, "localhost:3000": false, "[::1]:3000": false,
		"abc.execute-api.ca-central-1.amazonaws.com": true, "referrals.example.org": true} {
		s := specFor(host)
		if s.secure != secure {
			t.Errorf("%s: secure %v", host, s.secure)
		}
		c := s.set(s.sessionCookie(), "v", 60, "Strict")
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") || strings.Contains(c, "Secure") != secure {
			t.Errorf("%s: %s", host, c)
		}
	}
}

func TestCatalogFrench(t *testing.T) {
	for k, m := range catalog {
		if m.en == "" || m.fr == "" {
			t.Errorf("%s: missing a language", k)
		}
		for _, bad := range []string{" :", " ;", " ?", " !", "« ", " »"} {
			if strings.Contains(m.fr, bad) {
				t.Errorf("%s: French text has a breaking space in %q", k, bad)
			}
		}
	}
	if got := summaryText("fr", "family_members.1.date_of_birth", "x"); got != "Membre de la famille 2, date de naissance\u00a0: x" {
		t.Errorf("summaryText = %q", got)
	}
}
