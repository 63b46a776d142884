package apigw

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
)

// MaxBody is the largest request body any route accepts.
const MaxBody = 64 << 10

// Request is a decoded API Gateway request.
type Request struct {
	Event     events.APIGatewayV2HTTPRequest
	Body      []byte
	Lang      problem.Lang
	Caller    Caller
	RequestID string
	Log       *slog.Logger
}

// Header returns a request header, case-insensitively (API Gateway lower-cases
// them, but tests and other front ends may not).
func (r *Request) Header(name string) string {
	v, _ := r.lookupHeader(name)
	return v
}

// lookupHeader is Header, and whether the header was sent at all (an empty
// value is sent).
func (r *Request) lookupHeader(name string) (string, bool) {
	if v, ok := r.Event.Headers[strings.ToLower(name)]; ok {
		return v, true
	}
	for k, v := range r.Event.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// MediaType is the request's content type without parameters.
func (r *Request) MediaType() string {
	mt, _, err := mime.ParseMediaType(r.Header("Content-Type"))
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// WantsHTML reports whether the client is a browser that prefers a page to
// JSON (form posts redirect such clients).
func (r *Request) WantsHTML() bool {
	accept := strings.ToLower(r.Header("Accept"))
	html := strings.Index(accept, "text/html")
	if html < 0 {
		return false
	}
	js := strings.Index(accept, "application/json")
	return js < 0 || html < js
}

// Path is the request's raw path, for the idempotency hash.
func (r *Request) Path() string { return r.Event.RawPath }

// Method is the HTTP method.
func (r *Request) Method() string { return r.Event.RequestContext.HTTP.Method }

// IdempotencyKey returns the Idempotency-Key header ("" when absent) or a
// validation error when it is malformed. A header sent empty is malformed,
// not absent: a client that meant to send a key must not lose its
// protection against a retry silently.
func (r *Request) IdempotencyKey() (string, error) {
	k, sent := r.lookupHeader("Idempotency-Key")
	if !sent {
		return "", nil
	}
	if err := idempotency.CheckKey("Idempotency-Key", k); err != nil {
		return "", err
	}
	return k, nil
}

// Step is one route's handler.
type Step func(ctx context.Context, r *Request) (Response, error)

// Options configure every wrapped step.
type Options struct {
	Log    *slog.Logger
	Claims ClaimNames
	// Public steps (the form pages) run without an authenticated caller.
	Public bool
	// CallerHash, when set, gives the request line a "caller" field: a keyed
	// hash of the caller's subject (see CallerHash). An empty hash (no key
	// to be had) leaves the field out.
	CallerHash func(subject string) string
}

// Wrap turns a step into an aws-lambda-go handler: it authenticates, bounds
// and decodes the body, renders errors and logs one line per request.
func Wrap(o Options, step Step) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if o.Claims.Role == "" {
		o.Claims = DefaultClaims
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
		start := time.Now()
		reqID := ev.RequestContext.RequestID
		if reqID == "" {
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				reqID = lc.AwsRequestID
			}
		}
		route := ev.RouteKey
		log := o.Log.With("request_id", reqID, "route", route)
		r := &Request{Event: ev, RequestID: reqID, Log: log, Lang: problem.PickLang(headerCI(ev.Headers, "Accept-Language"))}
		var out Response
		var kind problem.Kind
		defer func() {
			if p := recover(); p != nil {
				// The panic value may hold request data: log only where.
				log.Error("panic", "stack", string(debug.Stack()))
				out = Problem(problem.New(problem.Internal), r.Lang, reqID)
				kind = problem.Internal
				resp, err = toEvent(out, r.Header("Host")), nil
			}
			attrs := []any{"status", out.Status, "latency_ms", time.Since(start).Milliseconds()}
			if kind != "" {
				attrs = append(attrs, "problem", string(kind))
			}
			if r.Caller.PrimaryRole() != "" {
				attrs = append(attrs, "role", string(r.Caller.PrimaryRole()))
			}
			if o.CallerHash != nil && r.Caller.Subject != "" {
				if h := o.CallerHash(r.Caller.Subject); h != "" {
					attrs = append(attrs, "caller", h)
				}
			}
			log.Info("request", attrs...)
		}()
		out, kind = run(ctx, o, step, r)
		return toEvent(out, r.Header("Host")), nil
	}
}

func run(ctx context.Context, o Options, step Step, r *Request) (Response, problem.Kind) {
	fail := func(err error) (Response, problem.Kind) {
		e := problem.As(err)
		if e.Kind == problem.Internal || e.Kind == problem.Unavailable {
			// Causes are SDK or crypto errors: they hold no request data, but
			// only their type and kind are logged all the same.
			r.Log.Error("step failed", "problem", string(e.Kind), "cause_type", fmt.Sprintf("%T", e.Cause))
		}
		return Problem(e, r.Lang, r.RequestID), e.Kind
	}
	if !o.Public {
		c, ok := CallerFrom(r.Event.RequestContext, o.Claims)
		if !ok {
			return fail(problem.New(problem.Unauthenticated))
		}
		r.Caller = c
	}
	body := []byte(r.Event.Body)
	if r.Event.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.Event.Body)
		if err != nil {
			return fail(problem.Invalid(problem.FieldError{Code: problem.CodeMalformed}))
		}
		body = b
	}
	if len(body) > MaxBody {
		return fail(problem.New(problem.PayloadTooLarge))
	}
	r.Body = body
	if m := r.Method(); m == http.MethodPost || m == http.MethodPut {
		// Checked before any step reads the body, so that a bad key is
		// reported even when the body has errors of its own.
		if _, err := r.IdempotencyKey(); err != nil {
			return fail(err)
		}
	}
	out, err := step(ctx, r)
	if err != nil {
		return fail(err)
	}
	if out.Status == 0 {
		out.Status = http.StatusOK
	}
	return out, ""
}

func headerCI(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Require refuses callers holding none of roles.
func Require(c Caller, roles ...Role) error {
	if !c.Any(roles...) {
		return problem.New(problem.Forbidden)
	}
	return nil
}
