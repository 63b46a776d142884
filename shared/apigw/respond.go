package apigw

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/haven-hrd/haven/shared/problem"
)

// ProblemBase is the URI prefix of problem types; the last path segment is
// the slug.
const ProblemBase = "https://haven-hrd.github.io/haven/problems/"

// Response is what a step answers, before it becomes an API Gateway response.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// JSON answers status with v as a JSON body.
func JSON(status int, v any) (Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Response{}, problem.Wrap(problem.Internal, err)
	}
	return Response{Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}, nil
}

type fieldProblem struct {
	Field   string   `json:"field"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Allowed []string `json:"allowed,omitempty"`
}

type problemBody struct {
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Status     int            `json:"status"`
	Detail     string         `json:"detail"`
	Instance   string         `json:"instance,omitempty"`
	Errors     []fieldProblem `json:"errors,omitempty"`
	ErrorCount int            `json:"error_count,omitempty"`
	ExistingID string         `json:"existing_id,omitempty"`
	Tombstone  any            `json:"tombstone,omitempty"`
}

// Problem renders err for a client in lang. Only the kind, field codes and
// whitelisted extras reach the body; the cause never does. At most
// problem.MaxFieldErrors field errors are listed, with error_count the total.
func Problem(err error, lang problem.Lang, requestID string) Response {
	e := problem.As(err)
	status := e.Kind.Status()
	body := problemBody{
		Type:     ProblemBase + string(e.Kind),
		Title:    problem.Title(e.Kind, lang),
		Status:   status,
		Detail:   problem.Detail(e.Kind, lang),
		Instance: requestIDURN(requestID),
	}
	for i, f := range e.Fields {
		if i == problem.MaxFieldErrors {
			break
		}
		body.Errors = append(body.Errors, fieldProblem{Field: f.Field, Code: f.Code, Message: f.Message(lang), Allowed: f.Allowed})
	}
	body.ErrorCount = len(e.Fields)
	switch e.Kind {
	case problem.DuplicateReferral:
		body.ExistingID = e.Extra["existing_id"]
	case problem.Disposed:
		body.Tombstone = e.Tombstone
	}
	b, _ := json.Marshal(body)
	h := map[string]string{"Content-Type": "application/problem+json", "Content-Language": string(lang)}
	if e.RetryAfter > 0 || e.Kind == problem.Unavailable || e.Kind == problem.RateLimited {
		ra := e.RetryAfter
		if ra <= 0 {
			ra = 1
		}
		h["Retry-After"] = strconv.Itoa(ra)
	}
	return Response{Status: status, Headers: h, Body: b}
}

func requestIDURN(id string) string {
	if id == "" {
		return ""
	}
	return "urn:haven:request:" + id
}

// hsts makes browsers use HTTPS only, for two years, on the API's host and
// its subdomains: a first visit over plain HTTP on a hostile network could
// otherwise be downgraded and read.
const hsts = "max-age=63072000; includeSubDomains"

// toEvent finishes a response: personal data must never be cached by a
// browser or a proxy, browsers must not sniff types, and must reach the
// service over HTTPS only. The local runner answers over plain HTTP on a
// loopback address, where an HSTS header would pin localhost to HTTPS for
// every other local server the developer runs, so it gets none.
func toEvent(r Response, host string) events.APIGatewayV2HTTPResponse {
	h := map[string]string{}
	for k, v := range r.Headers {
		h[k] = v
	}
	if _, ok := h["Cache-Control"]; !ok {
		h["Cache-Control"] = "no-store"
	}
	h["X-Content-Type-Options"] = "nosniff"
	if !LoopbackHost(host) {
		h["Strict-Transport-Security"] = hsts
	}
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: r.Status, Headers: h, Body: string(r.Body)}
}

// LoopbackHost reports whether host, a Host header's value (a name or
// address, with or without a port), names this machine only: localhost,
// 127.0.0.0/8 or [::1].
func LoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}
