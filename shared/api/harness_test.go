package api_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/steps"
)

// today is the fixed clock of handler tests.
var today = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// harness replays API Gateway events through the registered steps against a
// fresh embedded DynamoDB.
type harness struct {
	t    *testing.T
	env  *testenv.Env
	deps map[string]*api.Deps // by function directory
	logs *testenv.LogBuffer
	// tick advances the clock on every call so records are ordered.
	mu    sync.Mutex
	clock time.Time
}

func newHarness(t *testing.T, opts testenv.Options) *harness {
	t.Helper()
	h := &harness{t: t, logs: &testenv.LogBuffer{}, clock: today, deps: map[string]*api.Deps{}}
	if opts.Now == nil {
		opts.Now = h.now
	}
	h.env = testenv.New(t, opts)
	h.env.Seed(t, today.Year(), 500)
	return h
}

// depsOf are the dependencies of the function of dir: its clients carry
// the function's IAM policy, so a call its role may not make fails here as
// in AWS.
func (h *harness) depsOf(dir string) *api.Deps {
	h.mu.Lock()
	d, ok := h.deps[dir]
	h.mu.Unlock()
	if !ok {
		d = h.env.FunctionDeps(h.t, dir, h.logs, h.now)
		h.mu.Lock()
		if prev, raced := h.deps[dir]; raced {
			d = prev
		} else {
			h.deps[dir] = d
		}
		h.mu.Unlock()
	}
	return d
}

func (h *harness) now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clock = h.clock.Add(time.Millisecond)
	return h.clock
}

// event loads a testdata event.
func event(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// req is a request to build from the create-referral event.
type req struct {
	method, route, path string
	params              map[string]string
	query               map[string]string
	headers             map[string]string
	body                string
	role, partner, sub  string
	noAuth              bool
}

func (h *harness) build(r req) events.APIGatewayV2HTTPRequest {
	ev := event(h.t, "create-referral.json")
	ev.RouteKey, ev.RequestContext.RouteKey = r.route, r.route
	ev.RawPath, ev.RequestContext.HTTP.Path = r.path, r.path
	ev.RequestContext.HTTP.Method = r.method
	ev.PathParameters = r.params
	ev.QueryStringParameters = r.query
	ev.Body = r.body
	delete(ev.Headers, "idempotency-key")
	for k, v := range r.headers {
		ev.Headers[strings.ToLower(k)] = v
	}
	claims := ev.RequestContext.Authorizer.JWT.Claims
	if r.role != "" {
		claims["custom:role"] = r.role
	}
	if r.role != "" && r.role != "partner" {
		delete(claims, "custom:partner")
	}
	if r.partner != "" {
		claims["custom:partner"] = r.partner
	}
	if r.sub != "" {
		claims["sub"] = r.sub
	}
	if r.noAuth {
		ev.RequestContext.Authorizer = nil
	}
	return ev
}

// call runs the step of dir with ev, as Lambda would (JSON in, JSON out).
func (h *harness) call(dir string, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	step, ok := steps.ByDir[dir]
	if !ok {
		h.t.Fatalf("no step %q", dir)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := lambda.NewHandler(step(h.depsOf(dir))).Invoke(context.Background(), payload)
	if err != nil {
		h.t.Fatalf("invoke %s: %v", dir, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		h.t.Fatal(err)
	}
	checkContract(h.t, ev, resp)
	return resp
}

func (h *harness) do(dir string, r req) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	return h.call(dir, h.build(r))
}

func decode(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return m
}

// referralBody is the contract's example referral.
func referralBody(t *testing.T) string {
	t.Helper()
	return event(t, "create-referral.json").Body
}

// withField returns body with a top-level field replaced.
func withField(t *testing.T, body, field string, v any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	m[field] = v
	b, _ := json.Marshal(m)
	return string(b)
}

func (h *harness) create(body, partner, key string) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	hd := map[string]string{"content-type": "application/json"}
	if key != "" {
		hd["idempotency-key"] = key
	}
	return h.do("create-referral", req{method: "POST", route: "POST /referrals", path: "/referrals", body: body, role: "partner", partner: partner, headers: hd})
}
