package webform

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
)

// linkTargets are the places a page sends the browser to.
var linkTargets = regexp.MustCompile(`\s(?:href|action)="([^"]*)"|content="0; url=([^"]*)"`)

// TestPagesEscapeHostileInput: what a user typed, a made-up field name, and
// query parameters come back as text, never as markup or script, and every
// link and form target stays on this origin.
func TestPagesEscapeHostileInput(t *testing.T) {
	const xss = `"><script>alert(1)</script>`
	var next error
	log := slog.New(slog.DiscardHandler)
	form, err := New(Config{
		SessionKey: []byte(strings.Repeat("k", 32)),
		DevSignIn:  true,
		Create: func(context.Context, *apigw.Request) (apigw.Response, error) {
			return apigw.Response{}, next
		},
		Log: log,
		Now: testenv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	down, err := New(Config{
		SessionSecrets: func() ([][]byte, error) { return nil, errors.New("kms down") },
		Create:         form.cfg.Create,
		Log:            log,
		Now:            testenv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	call := func(f *Form, ev events.APIGatewayV2HTTPRequest, query map[string]string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev.QueryStringParameters = query
		resp, err := apigw.Wrap(apigw.Options{Log: log, Public: true}, f.Step)(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	cookie := pair(call(form, webEvent(http.MethodPost, SignInPath, "partner=unhcr"), map[string]string{"lang": "en"}).Headers["Set-Cookie"])
	m := csrfField.FindStringSubmatch(call(form, webEvent(http.MethodGet, FormPath, "", cookie), map[string]string{"lang": "en"}).Body)
	if m == nil {
		t.Fatal("no CSRF token on the form")
	}
	typed := url.Values{
		"csrf_token":                  {m[1]},
		"partner_reference":           {xss},
		"principal.given_name":        {"O'Brien & Sons"},
		"principal.nationality":       {"javascript:alert(1)"},
		"defender_profile.summary":    {"</textarea><script>alert(1)</script>"},
		"family_members.0.given_name": {`"><img src=x onerror=alert(1)>`},
		"stream":                      {xss},
	}
	post := func(action string) events.APIGatewayV2HTTPResponse {
		v := cloneValues(typed)
		if action != "" {
			v.Set("action", action)
		}
		return call(form, webEvent(http.MethodPost, PostPath, v.Encode(), cookie), map[string]string{"lang": "en"})
	}

	type result struct {
		Status  int
		Scripts int      // <script elements: the form's two, nothing injected
		Missing []string // wanted text the page lacks
		Unsafe  []string // markup that must never come through
		Away    []string // link or form targets that could leave this origin
	}
	for _, c := range []struct {
		name    string
		do      func() events.APIGatewayV2HTTPResponse
		status  int
		scripts int
		want    []string
	}{{
		name: "typed values on the language switch", do: func() events.APIGatewayV2HTTPResponse { return post("lang-fr") },
		status: http.StatusOK, scripts: 2,
		want: []string{
			`name="partner_reference" type="text" value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`,
			`name="principal.given_name" type="text" value="O&#39;Brien &amp; Sons"`,
			`name="principal.nationality" type="text" value="javascript:alert(1)"`,
			`>&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>`,
			`name="family_members.0.given_name" type="text" value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"`,
		},
	}, {
		name: "a row added keeps the values", do: func() events.APIGatewayV2HTTPResponse { return post("add-member") },
		status: http.StatusOK, scripts: 2,
		want: []string{`value="O&#39;Brien &amp; Sons"`, `name="family_members.1.given_name" type="text" value=""`},
	}, {
		name: "errors on a made-up field",
		do: func() events.APIGatewayV2HTTPResponse {
			next = problem.Invalid(problem.FieldError{Field: xss, Code: problem.CodeUnknownField},
				problem.FieldError{Field: "principal.given_name", Code: problem.CodeInvalidCharacters})
			return post("")
		},
		status: http.StatusBadRequest, scripts: 2,
		want: []string{
			`<a href="#%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E">`,
			`<a href="#principal.given_name">`,
			`value="O&#39;Brien &amp; Sons" aria-describedby="principal.given_name-hint principal.given_name-error" aria-invalid="true"`,
		},
	}, {
		name: "duplicate referral names the existing id as text",
		do: func() events.APIGatewayV2HTTPResponse {
			next = &problem.Error{Kind: problem.DuplicateReferral, Extra: map[string]string{"existing_id": "<b>01J</b>"}}
			return post("")
		},
		status: http.StatusConflict, scripts: 2,
		want: []string{`(&lt;b&gt;01J&lt;/b&gt;).`},
	}, {
		name: "query parameters carried on the language link",
		do: func() events.APIGatewayV2HTTPResponse {
			return call(form, webEvent(http.MethodGet, SignInPath, ""), map[string]string{"lang": "en", "next": "javascript:alert(1)", "x": xss})
		},
		status: http.StatusOK,
		want:   []string{`href="/sign-in?lang=fr&amp;next=javascript%3Aalert%281%29&amp;x=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`},
	}, {
		name: "a confirmation id that is not a ULID is not shown",
		do: func() events.APIGatewayV2HTTPResponse {
			return call(form, webEvent(http.MethodGet, ConfirmationPath, "", cookie), map[string]string{"lang": "fr", "id": xss})
		},
		status: http.StatusOK,
		want:   []string{T(problem.French, "confirm.missing"), `href="/confirmation?id=%22%3E%3Cscript%3E`},
	}, {
		name: "a page answering before routing links to the form",
		do: func() events.APIGatewayV2HTTPResponse {
			return call(down, webEvent(http.MethodGet, "//evil.example/x", ""), map[string]string{"lang": "en"})
		},
		status: http.StatusServiceUnavailable,
		want:   []string{`href="/?lang=fr" lang="fr"`, `<p><a href="/?lang=en">`},
	}, {
		name: "a scheme as the path",
		do: func() events.APIGatewayV2HTTPResponse {
			return call(down, webEvent(http.MethodGet, "javascript:alert(1)", ""), map[string]string{"lang": "fr"})
		},
		status: http.StatusServiceUnavailable,
		want:   []string{`href="/?lang=en" lang="en"`},
	}} {
		t.Run(c.name, func(t *testing.T) {
			resp := c.do()
			body := resp.Body
			got := result{Status: resp.StatusCode, Scripts: strings.Count(body, "<script")}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					got.Missing = append(got.Missing, w)
				}
			}
			for _, u := range []string{"<script>alert", "<img", "</textarea><script", "<b>", "evil.example"} {
				if strings.Contains(body, u) {
					got.Unsafe = append(got.Unsafe, u)
				}
			}
			for _, m := range linkTargets.FindAllStringSubmatch(body, -1) {
				u := m[1] + m[2]
				if !(strings.HasPrefix(u, "#") || strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.HasPrefix(u, `/\`)) {
					got.Away = append(got.Away, u)
				}
			}
			want := result{Status: c.status, Scripts: c.scripts}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
