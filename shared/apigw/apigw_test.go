package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/problem"
)

func rc(claims map[string]string) events.APIGatewayV2HTTPRequestContext {
	return events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
	}}
}

func TestCallerFrom(t *testing.T) {
	tests := []struct {
		name   string
		ctx    events.APIGatewayV2HTTPRequestContext
		want   Caller
		wantOK bool
	}{
		{"partner", rc(map[string]string{"sub": "s1", "custom:role": "partner", "custom:partner": "unhcr"}), Caller{Subject: "s1", Roles: []Role{Partner}, Partner: "unhcr"}, true},
		{"array as API Gateway flattens it", rc(map[string]string{"sub": "s2", "custom:role": "[admin officer]"}), Caller{Subject: "s2", Roles: []Role{Admin, Officer}}, true},
		{"JSON-ish array", rc(map[string]string{"sub": "s3", "custom:role": `["officer"]`}), Caller{Subject: "s3", Roles: []Role{Officer}}, true},
		{"unknown roles dropped", rc(map[string]string{"sub": "s4", "custom:role": "[root officer]"}), Caller{Subject: "s4", Roles: []Role{Officer}}, true},
		{"only unknown roles", rc(map[string]string{"sub": "s5", "custom:role": "root"}), Caller{}, false},
		{"partner without partner", rc(map[string]string{"sub": "s6", "custom:role": "partner"}), Caller{}, false},
		{"partner with bad partner id", rc(map[string]string{"sub": "s7", "custom:role": "partner", "custom:partner": "UNHCR#x"}), Caller{}, false},
		{"no subject", rc(map[string]string{"custom:role": "officer"}), Caller{}, false},
		{"no authorizer", events.APIGatewayV2HTTPRequestContext{}, Caller{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CallerFrom(tt.ctx, DefaultClaims)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("caller (-want +got):\n%s", diff)
			}
		})
	}
	c, _ := CallerFrom(rc(map[string]string{"sub": "s", "custom:role": "[partner officer]", "custom:partner": "unhcr"}), DefaultClaims)
	if c.PartnerScope() != "" || c.PrimaryRole() != Officer {
		t.Errorf("an officer who is also a partner is scoped to %q as %s", c.PartnerScope(), c.PrimaryRole())
	}
}

func FuzzCallerFrom(f *testing.F) {
	f.Add("s", "partner", "unhcr")
	f.Add("s", "[admin officer]", "")
	f.Add("", "[", "]")
	f.Fuzz(func(t *testing.T, sub, role, partner string) {
		c, ok := CallerFrom(rc(map[string]string{"sub": sub, "custom:role": role, "custom:partner": partner}), DefaultClaims)
		if !ok {
			return
		}
		if c.Subject == "" || len(c.Roles) == 0 {
			t.Fatalf("accepted an empty caller %+v", c)
		}
		if c.PartnerScope() != "" && !ValidPartner(c.PartnerScope()) {
			t.Fatalf("partner scope %q", c.PartnerScope())
		}
		if c.Has(Partner) && !c.Any(Officer, Admin) && c.PartnerScope() == "" {
			t.Fatalf("a partner-only caller has no partner scope")
		}
	})
}

func TestWrap(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	echo := func(ctx context.Context, r *Request) (Response, error) {
		switch string(r.Body) {
		case "fail":
			return Response{}, problem.Wrap(problem.Internal, errors.New("secret SDK text"))
		case "panic":
			panic("secret panic text")
		}
		return JSON(200, map[string]string{"body": string(r.Body), "lang": string(r.Lang)})
	}
	h := Wrap(Options{Log: log}, echo)
	base := func(body string) events.APIGatewayV2HTTPRequest {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: "POST /x", Body: body, Headers: map[string]string{"Accept-Language": "fr"}}
		ev.RequestContext = rc(map[string]string{"sub": "s", "custom:role": "officer"})
		ev.RequestContext.RequestID = "req-1"
		return ev
	}
	tests := []struct {
		name     string
		ev       events.APIGatewayV2HTTPRequest
		want     int
		contains string
	}{
		{"ok, language from header", base("hello"), 200, `"lang":"fr"`},
		{"base64 body decoded", func() events.APIGatewayV2HTTPRequest {
			ev := base(base64.StdEncoding.EncodeToString([]byte("bin")))
			ev.IsBase64Encoded = true
			return ev
		}(), 200, `"body":"bin"`},
		{"bad base64", func() events.APIGatewayV2HTTPRequest { ev := base("%%%"); ev.IsBase64Encoded = true; return ev }(), 400, "validation-failed"},
		{"too large", base(strings.Repeat("x", MaxBody+1)), 413, "payload-too-large"},
		{"internal error hides cause", base("fail"), 500, "Une erreur"},
		{"panic becomes 500", base("panic"), 500, "internal"},
		{"no caller", func() events.APIGatewayV2HTTPRequest { ev := base("x"); ev.RequestContext.Authorizer = nil; return ev }(), 401, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			resp, err := h(context.Background(), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want || !strings.Contains(resp.Body, tt.contains) {
				t.Errorf("got %d %s, want %d containing %q", resp.StatusCode, resp.Body, tt.want, tt.contains)
			}
			if strings.Contains(resp.Body, "secret") || strings.Contains(logs.String(), "secret") {
				t.Errorf("internal text leaked: body %s logs %s", resp.Body, logs.String())
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control %q", resp.Headers["Cache-Control"])
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(strings.Split(strings.TrimSpace(logs.String()), "\n")[len(strings.Split(strings.TrimSpace(logs.String()), "\n"))-1]), &line); err != nil {
				t.Fatalf("log line: %v", err)
			}
			if line["request_id"] != "req-1" || line["route"] != "POST /x" || line["status"] != float64(tt.want) {
				t.Errorf("log line %v", line)
			}
		})
	}
}

func TestProblemRetryAfter(t *testing.T) {
	r := Problem(&problem.Error{Kind: problem.Unavailable, RetryAfter: 3}, problem.English, "r")
	if r.Status != 503 || r.Headers["Retry-After"] != "3" {
		t.Errorf("%d %v", r.Status, r.Headers)
	}
	r = Problem(problem.New(problem.DuplicateReferral), problem.English, "r")
	if strings.Contains(string(r.Body), "existing_id") {
		t.Errorf("empty existing_id rendered: %s", r.Body)
	}
}

// TestHSTS: every answer, success, problem or panic, carries HSTS unless the
// request's Host is loopback (the local runner, over plain HTTP).
func TestHSTS(t *testing.T) {
	const want = "max-age=63072000; includeSubDomains"
	step := func(ctx context.Context, r *Request) (Response, error) {
		switch string(r.Body) {
		case "fail":
			return Response{}, problem.New(problem.NotFound)
		case "panic":
			panic("boom")
		}
		return Response{Status: 200, Headers: map[string]string{"Content-Type": "text/html"}}, nil
	}
	h := Wrap(Options{Log: slog.New(slog.DiscardHandler)}, step)
	for _, tt := range []struct {
		host, body string
		want       string
	}{
		{"haven.example.org", "", want},
		{"abc123.execute-api.ca-central-1.amazonaws.com", "fail", want},
		{"haven.example.org", "panic", want},
		{"localhost.example.org", "", want},
		{"127.0.0.1.nip.io", "", want},
		{"10.0.0.5:3000", "", want},
		{"", "", want},
		{"localhost:3000", "", ""},
		{"LOCALHOST", "", ""},
		{"127.0.0.1:3000", "", ""},
		{"127.8.9.10", "", ""},
		{"[::1]:3000", "", ""},
		{"::1", "", ""},
	} {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /x", Body: tt.body, Headers: map[string]string{"host": tt.host}}
		ev.RequestContext = rc(map[string]string{"sub": "s", "custom:role": "officer"})
		resp, err := h(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Headers["Strict-Transport-Security"]; got != tt.want {
			t.Errorf("host %q body %q: Strict-Transport-Security = %q, want %q", tt.host, tt.body, got, tt.want)
		}
	}
}

// A problem lists at most problem.MaxFieldErrors field errors, in order, and
// counts them all, so that no body, however wrong, makes a large answer.
func TestProblemCapsItsErrors(t *testing.T) {
	for _, n := range []int{1, problem.MaxFieldErrors, problem.MaxFieldErrors + 1, 10000} {
		fields := make([]problem.FieldError, n)
		for i := range fields {
			fields[i] = problem.FieldError{Field: "k" + strings.Repeat("x", i%7), Code: problem.CodeUnknownField}
		}
		resp := Problem(problem.Invalid(fields...), problem.French, "req")
		var body struct {
			Errors []struct {
				Field string `json:"field"`
			} `json:"errors"`
			ErrorCount int `json:"error_count"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			t.Fatal(err)
		}
		want := min(n, problem.MaxFieldErrors)
		if len(body.Errors) != want || body.ErrorCount != n {
			t.Errorf("%d field errors: %d listed, error_count %d; want %d and %d", n, len(body.Errors), body.ErrorCount, want, n)
		}
		if len(body.Errors) > 0 && body.Errors[len(body.Errors)-1].Field != fields[want-1].Field {
			t.Errorf("%d field errors: the last listed is %q, want the %dth", n, body.Errors[len(body.Errors)-1].Field, want)
		}
	}
}
