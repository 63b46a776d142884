package webform

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/quota"
)

// TestFormSubmittedTwiceReplays: the same form posted twice (a double
// click, a retry after a lost answer) creates one referral and answers the
// second post with the first one's answer. A post that asks for JSON (a
// script) stores the referral's view, sealed under the new referral's own
// data key, which the web-form function reads back from the key table
// under its own IAM policy to replay it.
func TestFormSubmittedTwiceReplays(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, quota.YearOf(e.Now()), 500)
	d := e.FunctionDeps(t, "web-form", nil, nil)
	d.Web.SessionKey, d.Web.DevSignIn = []byte(strings.Repeat("k", 32)), true
	d.Log = slog.New(slog.DiscardHandler)
	h := Step(d).(lambdaHandler)
	accept := "text/html"
	call := func(method, path, body string, cookies ...string) (int, map[string]string, string) {
		t.Helper()
		ev := webEvent(method, path, body, cookies...)
		ev.Headers["accept"] = accept
		resp, err := h(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Headers, resp.Body
	}
	_, headers, _ := call(http.MethodPost, SignInPath, "partner=unhcr")
	cookie := pair(headers["Set-Cookie"])
	status, _, body := call(http.MethodGet, FormPath, "", cookie)
	m := csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET /: %d, csrf %v", status, m)
	}
	form := url.Values{
		"csrf_token": {html.UnescapeString(m[1])}, "idempotency_key": {"01JBX7Q2Z5K8M3N4P6R7S8T9VX"},
		"stream": {"hrd"}, "partner_reference": {"UNHCR-TWICE-1"}, "urgency": {"urgent"},
		"principal.given_name": {"Nurlan"}, "principal.family_name": {"Sadykov"}, "principal.date_of_birth": {"1985-03-14"},
		"principal.sex": {"M"}, "principal.nationality": {"KGZ"}, "country_of_asylum": {"TUR"},
		"defender_profile.rights_areas": {"journalism"}, "defender_profile.summary": {"Investigative journalist."},
		"contact.email": {"nurlan@example.org"}, "contact.preferred_channel": {"email"},
		"consent.given": {"true"}, "consent.date": {e.Now().Format("2006-01-02")}, "action": {"submit"},
	}
	for i, tc := range []struct {
		accept string
		status int
	}{{"text/html", http.StatusSeeOther}, {"application/json", http.StatusCreated}} {
		accept = tc.accept
		form.Set("idempotency_key", fmt.Sprintf("01JBX7Q2Z5K8M3N4P6R7S8T9V%d", i))
		form.Set("partner_reference", fmt.Sprintf("UNHCR-TWICE-%d", i))
		firstStatus, first, firstBody := call(http.MethodPost, PostPath, form.Encode(), cookie)
		if firstStatus != tc.status || first["Location"] == "" {
			t.Fatalf("%s: first post: %d %v\n%s", tc.accept, firstStatus, first, firstBody)
		}
		secondStatus, second, secondBody := call(http.MethodPost, PostPath, form.Encode(), cookie)
		if secondStatus != firstStatus || second["Location"] != first["Location"] || secondBody != firstBody {
			t.Errorf("%s: second post: %d %q, want the first answer %d %q\n%s", tc.accept, secondStatus, second["Location"], firstStatus, first["Location"], secondBody)
		}
	}
}
