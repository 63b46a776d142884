// Package apicontract checks HTTP responses against the project's openapi.yaml,
// the machine-readable form of the HTTP contract. Handler tests call Check on
// every response they see, so that the code and the document cannot drift
// apart unnoticed.
package apicontract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// FileName is the contract document, at the module root.
const FileName = "openapi.yaml"

var (
	loadOnce sync.Once
	loaded   *openapi3.T
	loadErr  error
)

// Document returns openapi.yaml, loaded and validated once per process. It is
// found by walking up from the working directory to the directory holding
// go.mod.
func Document() (*openapi3.T, error) {
	loadOnce.Do(func() {
		loaded, loadErr = load()
	})
	return loaded, loadErr
}

func load() (*openapi3.T, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	return Load(filepath.Join(root, FileName))
}

// Load reads and validates an OpenAPI document.
func Load(path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("apicontract: load %s: %w", path, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("apicontract: %s is not a valid OpenAPI document: %w", path, err)
	}
	return doc, nil
}

// ModuleRoot is the nearest directory at or above the working directory that
// holds go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("apicontract: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("apicontract: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// Route is one operation of the document.
type Route struct {
	Method string // upper case
	Path   string // template, e.g. /referrals/{id}
}

// Routes lists the document's operations sorted by path, then method.
func Routes(doc *openapi3.T) []Route {
	var out []Route
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, Route{Method: strings.ToUpper(method), Path: path})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Check validates one response against openapi.yaml: the route must exist,
// the status must be documented for it, the Content-Type must match, headers
// declared required must be present, and the body must match the schema. It
// calls t.Errorf with a clear message on any mismatch.
//
// routePath is the API Gateway route path template, e.g. "/referrals/{id}";
// header names are matched case-insensitively.
func Check(t testing.TB, method, routePath string, status int, headers map[string]string, body []byte) {
	t.Helper()
	doc, err := Document()
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	for _, problem := range check(doc, method, routePath, status, headers, body) {
		t.Errorf("apicontract: %s %s → %d: %s\nbody: %s", strings.ToUpper(method), routePath, status, problem, excerpt(body))
	}
}

// Mismatches returns every way one response breaks openapi.yaml (nil when it
// conforms), for callers that report through something other than a
// testing.TB, such as a property-based test's own T.
func Mismatches(method, routePath string, status int, headers map[string]string, body []byte) ([]string, error) {
	doc, err := Document()
	if err != nil {
		return nil, err
	}
	return check(doc, method, routePath, status, headers, body), nil
}

// check returns every way the response breaks the document (nil when none).
func check(doc *openapi3.T, method, routePath string, status int, headers map[string]string, body []byte) []string {
	method = strings.ToUpper(method)
	item := doc.Paths.Value(routePath)
	if item == nil {
		return []string{fmt.Sprintf("route path %q is not in %s", routePath, FileName)}
	}
	op := item.GetOperation(method)
	if op == nil {
		return []string{fmt.Sprintf("method %s is not documented for %s in %s", method, routePath, FileName)}
	}
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return []string{fmt.Sprintf("status %d is not documented (documented: %s)", status, strings.Join(statuses(op), ", "))}
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}

	var problems []string
	resp := ref.Value
	ct := h.Get("Content-Type")
	if len(resp.Content) == 0 {
		// kin-openapi skips bodies of responses that declare no content.
		if len(body) > 0 {
			problems = append(problems, fmt.Sprintf("a body (Content-Type %q) where the document declares none", ct))
		}
	} else if mt, _, err := mime.ParseMediaType(ct); err != nil || resp.Content.Get(mt) == nil {
		// Content.Get falls back to wildcards and strips parameters itself;
		// the exact media type must be declared.
		problems = append(problems, fmt.Sprintf("Content-Type %q is not one of %s", ct, strings.Join(mediaTypes(resp), ", ")))
		return problems
	}

	req, err := http.NewRequest(method, "https://haven.invalid"+concretePath(routePath), nil)
	if err != nil {
		return append(problems, fmt.Sprintf("cannot build a request for the route: %v", err))
	}
	opts := &openapi3filter.Options{
		ExcludeRequestBody:    true,
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route: &routers.Route{
				Spec: doc, Path: routePath, PathItem: item, Method: method, Operation: op,
			},
			Options: opts,
		},
		Status:  status,
		Header:  h,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		problems = append(problems, describe(err)...)
	}
	return problems
}

// describe flattens kin-openapi's (multi-)errors into one line each.
func describe(err error) []string {
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) && re.Err != nil {
		var lines []string
		for _, e := range flatten(re.Err) {
			lines = append(lines, re.Reason+": "+e)
		}
		return lines
	}
	return []string{err.Error()}
}

func flatten(err error) []string {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var out []string
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		path := "/" + strings.Join(se.JSONPointer(), "/")
		return []string{fmt.Sprintf("at %s: %s", path, se.Reason)}
	}
	return []string{err.Error()}
}

var pathParam = regexp.MustCompile(`\{[^}/]+\}`)

// concretePath fills a route template's parameters with a placeholder.
func concretePath(template string) string {
	return pathParam.ReplaceAllString(template, "x")
}

func statuses(op *openapi3.Operation) []string {
	var out []string
	for code := range op.Responses.Map() {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

func mediaTypes(r *openapi3.Response) []string {
	var out []string
	for mt := range r.Content {
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
}

func excerpt(body []byte) string {
	const max = 600
	if len(body) == 0 {
		return "(empty)"
	}
	if len(body) > max {
		return string(body[:max]) + "…"
	}
	return string(body)
}
