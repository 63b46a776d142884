package webform

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/apigw"
)

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestLanguageSwitchKeepsValues: the form's language toggle is a submit
// button of the form; its post renders the same form in the other language
// with every value kept (blank family rows too), validates nothing, creates
// nothing, and still needs the session and the CSRF token.
func TestLanguageSwitchKeepsValues(t *testing.T) {
	var created atomic.Int32
	log := slog.New(slog.DiscardHandler)
	form, err := New(Config{
		SessionKey: []byte(strings.Repeat("k", 32)),
		DevSignIn:  true,
		Create: func(context.Context, *apigw.Request) (apigw.Response, error) {
			created.Add(1)
			return apigw.Response{Status: http.StatusSeeOther, Headers: map[string]string{"Location": "/confirmation?id=x"}}, nil
		},
		Log: log,
		Now: testenv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := apigw.Wrap(apigw.Options{Log: log, Public: true}, form.Step)
	call := func(ev events.APIGatewayV2HTTPRequest, lang string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev.QueryStringParameters = map[string]string{"lang": lang}
		resp, err := h(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	resp := call(webEvent(http.MethodPost, SignInPath, "partner=unhcr"), "en")
	cookie := pair(resp.Headers["Set-Cookie"])
	resp = call(webEvent(http.MethodGet, FormPath, "", cookie), "en")
	m := csrfField.FindStringSubmatch(resp.Body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET /: %d, csrf %v", resp.StatusCode, m)
	}
	csrf := html.UnescapeString(m[1])
	toggle := `id="lang-toggle" name="action" value="lang-fr" formnovalidate lang="fr">Français</button>`
	if !strings.Contains(resp.Body, toggle) || strings.Contains(resp.Body, `href="/?lang=fr"`) {
		t.Errorf("the form's language toggle is not a submit button:\n%s", resp.Body)
	}
	if d, tg := strings.Index(resp.Body, `form="referral-form" hidden`), strings.Index(resp.Body, `id="lang-toggle"`); d < 0 || d > tg {
		t.Errorf("no hidden default button ahead of the toggle (Enter in a field would switch language)")
	}

	typed := url.Values{
		"csrf_token":                    {csrf},
		"idempotency_key":               {"01JBX7Q2Z5K8M3N4P6R7S8T9VW"},
		"stream":                        {"hrd"},
		"partner_reference":             {"UNHCR <ref> & 1"},
		"urgency":                       {"urgent"},
		"principal.given_name":          {"Nguyễn Thị"},
		"principal.date_of_birth":       {"1985-02-30"}, // invalid, and not reported
		"principal.sex":                 {"F"},
		"defender_profile.rights_areas": {"land", "women"},
		"defender_profile.summary":      {"  Threatened after a court case.\n"},
		"consent.given":                 {"true"},
		"family_members.0.given_name":   {"An"},
		"family_members.0.relationship": {"child"},
		"family_members.1.given_name":   {""}, // a blank row stays
		"family_members.1.sex":          {""},
	}
	post := func(action, lang string, v url.Values) events.APIGatewayV2HTTPResponse {
		v = cloneValues(v)
		v.Set("action", action)
		return call(webEvent(http.MethodPost, PostPath, v.Encode(), cookie), lang)
	}

	resp = post("lang-fr", "en", typed)
	body := resp.Body
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("switch to French: status %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`<html lang="fr">`,
		"<title>" + T("fr", "title.form") + " – Haven</title>",
		`<label class="label" for="principal.given_name">Prénom ou prénoms</label>`,
		`action="/form/referrals?lang=fr"`,
		`value="lang-en" formnovalidate lang="en" autofocus>English</button>`,
		`data-focus="lang-toggle"`,
		`id="partner_reference" name="partner_reference" type="text" value="UNHCR &lt;ref&gt; &amp; 1"`,
		`name="principal.given_name" type="text" value="Nguyễn Thị"`,
		`name="principal.date_of_birth" type="text" value="1985-02-30"`,
		`id="urgency-urgent" name="urgency" value="urgent" checked`,
		`name="principal.sex" value="F" checked`,
		`value="land" checked`, `value="women" checked`,
		">  Threatened after a court case.\n</textarea>",
		`id="consent.given" name="consent.given" value="true" checked`,
		`name="family_members.0.given_name" type="text" value="An"`,
		`<option value="child" selected>Enfant</option>`,
		`name="family_members.1.given_name" type="text" value=""`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("French re-render lacks %q", want)
		}
	}
	if resp.Headers["Content-Language"] != "fr" {
		t.Errorf("Content-Language %q", resp.Headers["Content-Language"])
	}
	if strings.Contains(body, `id="error-summary"`) || strings.Contains(body, `aria-invalid="true"`) {
		t.Error("a language switch showed errors")
	}
	if n := created.Load(); n != 0 {
		t.Fatalf("a language switch created %d referrals", n)
	}

	// And back, from the French page: the re-rendered values again.
	back := url.Values{}
	for k, v := range typed {
		back[k] = v
	}
	resp = post("lang-en", "fr", back)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `<html lang="en">`) ||
		!strings.Contains(resp.Body, `value="lang-fr" formnovalidate lang="fr" autofocus>Français</button>`) ||
		!strings.Contains(resp.Body, `value="UNHCR &lt;ref&gt; &amp; 1"`) {
		t.Errorf("switch back to English: status %d", resp.StatusCode)
	}

	// CSRF still applies: a wrong token switches nothing.
	bad := cloneValues(typed)
	bad.Set("csrf_token", csrf+"x")
	if resp = post("lang-fr", "en", bad); resp.StatusCode != http.StatusForbidden || strings.Contains(resp.Body, "Nguyễn") {
		t.Errorf("bad CSRF token: status %d", resp.StatusCode)
	}
	// Cross-site: refused before anything.
	ev := webEvent(http.MethodPost, PostPath, typed.Encode()+"&action=lang-fr", cookie)
	ev.Headers["origin"] = "https://evil.example"
	if resp = call(ev, "en"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site switch: status %d", resp.StatusCode)
	}
	// No session: to sign-in, as any post.
	if resp = call(webEvent(http.MethodPost, PostPath, typed.Encode()+"&action=lang-fr"), "en"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("switch without a session: status %d", resp.StatusCode)
	}
	if n := created.Load(); n != 0 {
		t.Errorf("language switches created %d referrals", n)
	}

	// The same values sent with the submit button do reach Create.
	submit := cloneValues(typed)
	submit.Del("action")
	call(webEvent(http.MethodPost, PostPath, submit.Encode(), cookie), "en")
	if created.Load() != 1 {
		t.Errorf("submit: Create called %d times, want 1", created.Load())
	}
}
