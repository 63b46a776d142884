package webform

import (
	"github.com/haven-hrd/haven/shared/websession"

	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/seal"
)

// countingSealer is a local sealer's session keyset that counts its calls,
// can be made to fail (as KMS may), and is slow enough for concurrent first
// requests to overlap.
type countingSealer struct {
	inner interface{ SessionKeys() ([][]byte, error) }
	calls atomic.Int32
	fail  atomic.Bool
}

var errKMSDown = errors.New("kms: Decrypt: connection reset")

func (c *countingSealer) SessionKeys() ([][]byte, error) {
	c.calls.Add(1)
	time.Sleep(20 * time.Millisecond)
	if c.fail.Load() {
		return nil, errKMSDown
	}
	return c.inner.SessionKeys()
}

type lambdaHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

func webEvent(method, path, body string, cookies ...string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + path, RawPath: path, Body: body, Cookies: cookies,
		Headers: map[string]string{"host": "127.0.0.1:3000", "accept": "text/html"},
	}
	if method == http.MethodPost {
		ev.Headers["content-type"] = "application/x-www-form-urlencoded"
		ev.Headers["origin"] = "http://127.0.0.1:3000"
	}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.RequestID = "req-" + randomToken()[:8]
	return ev
}

// TestSessionSecretFromSealer: with no SESSION_KEY (as in AWS) the form
// derives its session keys from the sealer's session keyset on the first request, not
// when it is built (that is Lambda init, which must call no KMS); concurrent
// first requests derive once; a failure answers 503, is logged without a
// secret and is retried by the next request; and two forms on one keyset (two
// execution environments) accept each other's cookies.
func TestSessionSecretFromSealer(t *testing.T) {
	local, err := seal.OpenLocal(filepath.Join(t.TempDir(), "keyset.json"))
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := local.SessionKeys()
	if err != nil {
		t.Fatal(err)
	}
	secret := string(secrets[0])
	sealer := &countingSealer{inner: local}
	logs := &testenv.LogBuffer{}
	d := (&api.Deps{
		Log: slog.New(slog.NewJSONHandler(logs, nil)),
		Web: api.WebConfig{DevSignIn: true, SessionKeys: sealer.SessionKeys},
	}).WithDefaults()
	h, ok := Step(d).(lambdaHandler)
	if !ok {
		t.Fatalf("Step returned %T", Step(d))
	}
	if n := sealer.calls.Load(); n != 0 {
		t.Fatalf("building the form called the sealer %d times; want none until a request", n)
	}

	// KMS fails: the page says so with 503, the log names the cause only.
	sealer.fail.Store(true)
	resp, err := h(context.Background(), webEvent(http.MethodGet, SignInPath, ""))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("while the sealer fails: status %d, want 503", resp.StatusCode)
	}
	if !strings.Contains(resp.Body, T(problem.English, "error.unavailable")) {
		t.Errorf("503 page lacks its message:\n%s", resp.Body)
	}
	if got := logs.String(); !strings.Contains(got, "web session keys unavailable") || !strings.Contains(got, errKMSDown.Error()) {
		t.Errorf("log does not name the failure:\n%s", got)
	}
	if sealer.calls.Load() != 1 {
		t.Fatalf("sealer calls after one failed request = %d, want 1", sealer.calls.Load())
	}

	// KMS is back: many concurrent requests derive once between them.
	sealer.fail.Store(false)
	var wg sync.WaitGroup
	statuses := make([]int, 16)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := h(context.Background(), webEvent(http.MethodGet, SignInPath, ""))
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d after recovery: status %d, want 200", i, s)
		}
	}
	if n := sealer.calls.Load(); n != 2 {
		t.Errorf("sealer calls = %d, want 2 (the failure, then one derivation for all)", n)
	}

	// The session cookie is sealed with keys from the session keyset.
	resp, err = h(context.Background(), webEvent(http.MethodPost, SignInPath, "partner=unhcr"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSeeOther || len(resp.Headers["Set-Cookie"]) == 0 {
		t.Fatalf("sign-in: status %d, headers %v", resp.StatusCode, resp.Headers)
	}
	cookie := pair(resp.Headers["Set-Cookie"])
	name, value, _ := strings.Cut(cookie, "=")
	want, err := websession.NewKeys([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	var s session
	if err := want.Open(name, value, &s); err != nil || s.Partner != "unhcr" {
		t.Errorf("cookie does not open with keys from the session keyset: %+v, %v", s, err)
	}
	if n := sealer.calls.Load(); n != 2 {
		t.Errorf("sealer calls after sign-in = %d, want still 2", n)
	}

	// Another execution environment on the same keyset reads the cookie.
	other := Step((&api.Deps{Log: d.Log, Web: api.WebConfig{DevSignIn: true, SessionKeys: local.SessionKeys}}).WithDefaults()).(lambdaHandler)
	resp, err = other(context.Background(), webEvent(http.MethodGet, FormPath, "", cookie))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("form on another instance with the cookie: status %d, want 200 (Location %q)", resp.StatusCode, resp.Headers["Location"])
	}

	if strings.Contains(logs.String(), secret) {
		t.Error("the log holds the session secret")
	}
}

// TestSessionKeyWins: SESSION_KEY (the local runner, tests) is used as it
// is, and the sealer is never asked.
func TestSessionKeyWins(t *testing.T) {
	sealer := &countingSealer{inner: nil}
	d := (&api.Deps{
		Log: slog.New(slog.DiscardHandler),
		Web: api.WebConfig{DevSignIn: true, SessionKey: []byte(strings.Repeat("k", 32)), SessionKeys: sealer.SessionKeys},
	}).WithDefaults()
	h := Step(d).(lambdaHandler)
	resp, err := h(context.Background(), webEvent(http.MethodPost, SignInPath, "partner=unhcr"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := websession.NewKeys([]byte(strings.Repeat("k", 32)))
	name, value, _ := strings.Cut(pair(resp.Headers["Set-Cookie"]), "=")
	var s session
	if err := want.Open(name, value, &s); err != nil {
		t.Errorf("cookie not sealed with SESSION_KEY: %v", err)
	}
	if sealer.calls.Load() != 0 {
		t.Errorf("sealer called %d times with SESSION_KEY set", sealer.calls.Load())
	}
}

// TestNoSessionKeyNoSealer: neither SESSION_KEY nor a sealer is a
// configuration error (500 on every page, logged), as before.
func TestNoSessionKeyNoSealer(t *testing.T) {
	logs := &testenv.LogBuffer{}
	d := (&api.Deps{Log: slog.New(slog.NewJSONHandler(logs, nil))}).WithDefaults()
	h := Step(d).(lambdaHandler)
	resp, err := h(context.Background(), webEvent(http.MethodGet, SignInPath, ""))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(logs.String(), "web form misconfigured") {
		t.Errorf("status %d, log %s", resp.StatusCode, logs.String())
	}
}
