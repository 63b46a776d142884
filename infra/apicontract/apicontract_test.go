package apicontract_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/apicontract"
	"github.com/haven-hrd/haven/infra/samtemplate"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// recorder is a testing.TB that keeps Errorf calls instead of failing, so
// tests can assert that Check reports a mismatch.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestDocumentValidates(t *testing.T) {
	doc, err := apicontract.Document()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
}

func TestLoadRejectsInvalidDocument(t *testing.T) {
	if _, err := apicontract.Load(filepath.Join("testdata", "invalid.yaml")); err == nil {
		t.Fatal("Load accepted a document whose response schema has an unknown type")
	}
	if _, err := apicontract.Load(filepath.Join("testdata", "missing.yaml")); err == nil {
		t.Fatal("Load accepted a missing file")
	}
}

// TestDocumentConventions checks what the contract says of every route.
func TestDocumentConventions(t *testing.T) {
	doc, err := apicontract.Document()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Components.SecuritySchemes["bearerAuth"]; !ok {
		t.Fatal("no bearerAuth security scheme")
	}
	for _, r := range apicontract.Routes(doc) {
		op := doc.Paths.Value(r.Path).GetOperation(r.Method)
		name := r.Method + " " + r.Path
		sec := doc.Security
		if op.Security != nil {
			sec = *op.Security
		}
		if len(sec) != 1 || sec[0]["bearerAuth"] == nil {
			t.Errorf("%s: security = %v, want bearerAuth", name, sec)
		}
		params := map[string]bool{}
		for _, p := range op.Parameters {
			params[p.Value.In+":"+p.Value.Name] = true
		}
		if !params["header:Accept-Language"] {
			t.Errorf("%s: no Accept-Language parameter", name)
		}
		want := []string{"200", "400", "401", "403", "413", "429", "500", "503"}
		if r.Method == "POST" || r.Method == "PUT" {
			if !params["header:Idempotency-Key"] {
				t.Errorf("%s: no Idempotency-Key parameter", name)
			}
			want = append(want, "409", "415", "422")
		}
		if r.Method == "POST" && r.Path == "/referrals" {
			want = append(want, "201", "303")
			want = want[1:] // no 200
		}
		for _, code := range want {
			if op.Responses.Value(code) == nil {
				t.Errorf("%s: response %s not documented", name, code)
			}
		}
		for code, ref := range op.Responses.Map() {
			if code >= "400" {
				if ref.Value.Content.Get("application/problem+json") == nil || len(ref.Value.Content) != 1 {
					t.Errorf("%s: %s is not only application/problem+json", name, code)
				}
			}
		}
	}
}

// TestRoutesMatchTemplate keeps openapi.yaml and template.yaml describing the
// same routes: none missing, none extra.
func TestRoutesMatchTemplate(t *testing.T) {
	doc, err := apicontract.Document()
	if err != nil {
		t.Fatal(err)
	}
	root, err := apicontract.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var inTemplate []string
	for _, f := range tpl.Functions() {
		for _, r := range f.Routes {
			// Public routes are the web form's HTML pages, outside the JSON
			// API that openapi.yaml describes.
			if !r.Public {
				inTemplate = append(inTemplate, r.Method+" "+r.Path)
			}
		}
	}
	sort.Strings(inTemplate)
	var inDocument []string
	for _, r := range apicontract.Routes(doc) {
		inDocument = append(inDocument, r.Method+" "+r.Path)
	}
	sort.Strings(inDocument)
	if len(inDocument) == 0 {
		t.Fatal("openapi.yaml has no routes")
	}
	if diff := cmp.Diff(inTemplate, inDocument); diff != "" {
		t.Errorf("routes differ (-template.yaml +openapi.yaml):\n%s", diff)
	}
}

const viewJSON = `{
  "stream": "hrd",
  "partner_reference": "FLD-2026-0042",
  "urgency": "normal",
  "principal": {"given_name": "Nguyễn Thị", "family_name": "Minh Khai", "date_of_birth": "1985-03-14", "sex": "F", "nationality": "VNM"},
  "family_members": [{"given_name": "An", "family_name": "Minh", "date_of_birth": "2015-06-01", "sex": "M", "relationship": "child"}],
  "country_of_asylum": "THA",
  "defender_profile": {"rights_areas": ["journalism", "land"], "summary": "free text"},
  "contact": {"email": "a@example.org", "phone": "+66 2 123 4567", "preferred_channel": "signal"},
  "preferred_language": "en",
  "consent": {"given": true, "date": "2026-11-01"},
  "id": "01JD2Z5W8V7Q6K3M1N0P9R8S7T",
  "partner": "front-line-defenders",
  "status": "submitted",
  "persons": 2,
  "created_at": "2026-11-27T12:00:00.001Z",
  "updated_at": "2026-11-27T12:00:00.001Z"
}`

// view returns the referral view with changes applied: a nil value deletes the
// key; keys are top-level or one level dotted ("contact.email").
func view(t *testing.T, changes map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(viewJSON), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		target, key := m, k
		if parent, child, ok := strings.Cut(k, "."); ok {
			target, key = m[parent].(map[string]any), child
		}
		if v == nil {
			delete(target, key)
		} else {
			target[key] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func listItem(t *testing.T, changes map[string]any) json.RawMessage {
	t.Helper()
	c := map[string]any{"contact": nil, "defender_profile.summary": ""}
	for k, v := range changes {
		c[k] = v
	}
	return view(t, c)
}

func list(t *testing.T, next any, items ...json.RawMessage) []byte {
	t.Helper()
	if items == nil {
		items = []json.RawMessage{}
	}
	b, err := json.Marshal(map[string]any{"items": items, "next_cursor": next})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const periodJSON = `{"stream":"hrd","period":2026,"capacity":500,"reserved":12,"arrived":3,"remaining":485,"waitlisted_persons":4,"partners":{"front-line-defenders":{"reserved":12,"arrived":3}}}`

const historyJSON = `{"items":[
  {"at":"2026-11-27T12:00:00.001Z","action":"created","from_status":"","to_status":"submitted","persons_delta":0,"actor_role":"partner"},
  {"at":"2026-11-28T09:00:00Z","action":"allocated","from_status":"eligible","to_status":"allocated","persons_delta":2,"actor_role":"officer"}]}`

func problemJSON(slug string, status int, extra string) []byte {
	return []byte(fmt.Sprintf(`{"type":"https://haven-hrd.github.io/haven/problems/%s","title":"T","status":%d,"detail":"D","instance":"urn:haven:request:abc"%s}`, slug, status, extra))
}

var (
	jsonCT    = map[string]string{"Content-Type": "application/json"}
	problemCT = map[string]string{"Content-Type": "application/problem+json", "Content-Language": "en"}
)

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestCheck(t *testing.T) {
	created := with(jsonCT, "Location", "/referrals/01JD2Z5W8V7Q6K3M1N0P9R8S7T")
	tests := []struct {
		name          string
		method, route string
		status        int
		headers       map[string]string
		body          []byte
		// wantErr lists substrings that the reported errors must contain,
		// all together; nil means the response must pass.
		wantErr []string
	}{
		{name: "created view", method: "POST", route: "/referrals", status: 201, headers: created, body: view(t, nil)},
		{name: "lower-case headers", method: "post", route: "/referrals", status: 201,
			headers: map[string]string{"content-type": "application/json; charset=utf-8", "location": "/referrals/x"}, body: view(t, nil)},
		{name: "officer view with duplicates and period", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"possible_duplicates": []string{"01JD2Z"}, "period": 2026, "status": "refused", "reasons": []string{"inadmissible-medical"}})},
		{name: "free-text reason", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"status": "withdrawn", "reasons": []string{"safe now"}}), wantErr: []string{"/reasons/0"}},
		{name: "view without family", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"family_members": []any{}, "persons": 1})},
		{name: "view with only a phone", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"contact": map[string]any{"phone": "+33 1 23 45 67 89"}})},
		{name: "names in any script", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"principal.given_name": "محمد", "principal.family_name": "O’Brien-Smith Jr."})},
		{name: "lower-case country", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"country_of_asylum": "tha"}), wantErr: []string{"/country_of_asylum"}},
		{name: "unknown field in view", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"fingerprint": "abc"}), wantErr: []string{"fingerprint"}},
		{name: "unknown field in principal", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"principal.relationship": "child"}), wantErr: []string{"/principal", "relationship"}},
		{name: "null family", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"family_members": json.RawMessage(`null`), "persons": 1}), wantErr: []string{"/family_members"}},
		{name: "missing id", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"id": nil}), wantErr: []string{"id"}},
		{name: "unknown status value", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"status": "Allocated"}), wantErr: []string{"/status"}},
		{name: "bad date", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"consent.date": "01/11/2026"}), wantErr: []string{"/consent/date"}},
		{name: "bad time", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"created_at": "yesterday"}), wantErr: []string{"/created_at"}},
		{name: "undocumented status", method: "GET", route: "/referrals/{id}", status: 418, headers: problemCT,
			body: problemJSON("teapot", 418, ""), wantErr: []string{"status 418 is not documented"}},
		{name: "created status on a read", method: "GET", route: "/referrals/{id}", status: 201, headers: jsonCT,
			body: view(t, nil), wantErr: []string{"status 201 is not documented"}},
		{name: "create without Location", method: "POST", route: "/referrals", status: 201, headers: jsonCT,
			body: view(t, nil), wantErr: []string{"Location"}},
		{name: "browser redirect", method: "POST", route: "/referrals", status: 303,
			headers: map[string]string{"Location": "/confirmation?id=01JD2Z"}},
		{name: "redirect with a body", method: "POST", route: "/referrals", status: 303,
			headers: map[string]string{"Location": "/confirmation?id=01JD2Z", "Content-Type": "application/json"}, body: []byte(`{}`),
			wantErr: []string{"declares none"}},
		{name: "redirect without Location", method: "POST", route: "/referrals", status: 303, headers: map[string]string{},
			wantErr: []string{"Location"}},
		{name: "view as text", method: "GET", route: "/referrals/{id}", status: 200,
			headers: map[string]string{"Content-Type": "text/plain"}, body: view(t, nil), wantErr: []string{`Content-Type "text/plain"`}},
		{name: "validation problem", method: "POST", route: "/referrals", status: 400, headers: problemCT,
			body: problemJSON("validation-failed", 400, `,"errors":[{"field":"family_members.1.date_of_birth","code":"future-date","message":"m"},{"field":"","code":"malformed","message":"m"}],"error_count":2}`)},
		{name: "validation problem without its count", method: "POST", route: "/referrals", status: 400, headers: problemCT,
			body: problemJSON("validation-failed", 400, `,"errors":[{"field":"","code":"malformed","message":"m"}]`), wantErr: []string{"error_count"}},
		{name: "validation problem without errors", method: "POST", route: "/referrals", status: 400, headers: problemCT,
			body: problemJSON("validation-failed", 400, ""), wantErr: []string{"errors"}},
		{name: "problem as application/json", method: "GET", route: "/referrals/{id}", status: 404, headers: jsonCT,
			body: problemJSON("not-found", 404, ""), wantErr: []string{`Content-Type "application/json"`}},
		{name: "problem with wrong slug", method: "GET", route: "/referrals/{id}", status: 404, headers: problemCT,
			body: problemJSON("forbidden", 404, ""), wantErr: []string{"/type"}},
		{name: "problem with wrong status", method: "GET", route: "/referrals/{id}", status: 404, headers: problemCT,
			body: problemJSON("not-found", 403, ""), wantErr: []string{"/status"}},
		{name: "problem with a stack trace", method: "GET", route: "/referrals/{id}", status: 500, headers: problemCT,
			body: problemJSON("internal", 500, `,"stack":"goroutine 1"`), wantErr: []string{"stack"}},
		{name: "duplicate referral", method: "POST", route: "/referrals", status: 409, headers: problemCT,
			body: problemJSON("duplicate-referral", 409, `,"existing_id":"01JD2Z"`)},
		{name: "unavailable with Retry-After", method: "GET", route: "/referrals", status: 503,
			headers: with(problemCT, "Retry-After", "2"), body: problemJSON("unavailable", 503, "")},
		{name: "unavailable without Retry-After", method: "GET", route: "/referrals", status: 503,
			headers: problemCT, body: problemJSON("unavailable", 503, ""), wantErr: []string{"Retry-After"}},
		{name: "list", method: "GET", route: "/referrals", status: 200, headers: jsonCT,
			body: list(t, "opaque", listItem(t, nil), listItem(t, map[string]any{"defender_profile.summary": nil}))},
		{name: "last empty page", method: "GET", route: "/referrals", status: 200, headers: jsonCT, body: list(t, nil)},
		{name: "list item with contact", method: "GET", route: "/referrals", status: 200, headers: jsonCT,
			body: list(t, nil, view(t, map[string]any{"defender_profile.summary": ""})), wantErr: []string{"contact"}},
		{name: "list item with summary", method: "GET", route: "/referrals", status: 200, headers: jsonCT,
			body: list(t, nil, listItem(t, map[string]any{"defender_profile.summary": "secret"})), wantErr: []string{"summary"}},
		{name: "list without next_cursor", method: "GET", route: "/referrals", status: 200, headers: jsonCT,
			body: []byte(`{"items":[]}`), wantErr: []string{"next_cursor"}},
		{name: "history", method: "GET", route: "/referrals/{id}/history", status: 200, headers: jsonCT, body: []byte(historyJSON)},
		{name: "history with the actor", method: "GET", route: "/referrals/{id}/history", status: 200, headers: jsonCT,
			body: []byte(strings.Replace(historyJSON, `"actor_role":"partner"`, `"actor_role":"partner","actor":"sub"`, 1)), wantErr: []string{"actor"}},
		{name: "period", method: "GET", route: "/streams/{stream}/periods/{year}", status: 200, headers: jsonCT, body: []byte(periodJSON)},
		{name: "period set", method: "PUT", route: "/streams/{stream}/periods/{year}", status: 200, headers: jsonCT, body: []byte(periodJSON)},
		{name: "period overcommitted", method: "GET", route: "/streams/{stream}/periods/{year}", status: 200, headers: jsonCT,
			body: []byte(strings.Replace(periodJSON, `"remaining":485`, `"remaining":-1`, 1)), wantErr: []string{"/remaining"}},
		{name: "capacity below committed", method: "PUT", route: "/streams/{stream}/periods/{year}", status: 409, headers: problemCT,
			body: problemJSON("capacity-below-committed", 409, "")},
		{name: "lifecycle step answers the view", method: "POST", route: "/referrals/{id}/allocation", status: 200, headers: jsonCT,
			body: view(t, map[string]any{"status": "waitlisted", "period": 2026})},
		{name: "family quota exhausted", method: "PUT", route: "/referrals/{id}/family", status: 409, headers: problemCT,
			body: problemJSON("quota-exhausted", 409, "")},
		{name: "unknown route", method: "GET", route: "/referrals/{id}/notes", status: 200, headers: jsonCT, body: []byte(`{}`),
			wantErr: []string{`"/referrals/{id}/notes" is not in openapi.yaml`}},
		{name: "unknown method", method: "DELETE", route: "/referrals/{id}", status: 200, headers: jsonCT, body: []byte(`{}`),
			wantErr: []string{"DELETE is not documented"}},
		{name: "body is not JSON", method: "GET", route: "/referrals/{id}", status: 200, headers: jsonCT, body: []byte(`<html>`),
			wantErr: []string{"decode"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			apicontract.Check(rec, tc.method, tc.route, tc.status, tc.headers, tc.body)
			if tc.wantErr == nil {
				if len(rec.errs) > 0 {
					t.Errorf("Check reported errors for a valid response:\n%s", strings.Join(rec.errs, "\n"))
				}
				return
			}
			if len(rec.errs) == 0 {
				t.Fatalf("Check accepted an invalid response; want an error mentioning %q", tc.wantErr)
			}
			all := strings.Join(rec.errs, "\n")
			for _, w := range tc.wantErr {
				if !strings.Contains(all, w) {
					t.Errorf("errors do not mention %q:\n%s", w, all)
				}
			}
		})
	}
}

// TestCheckConcurrently runs Check from parallel goroutines (go test -race).
func TestCheckConcurrently(t *testing.T) {
	body := view(t, map[string]any{"possible_duplicates": []string{"01JD2Z"}})
	for i := 0; i < 8; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			for j := 0; j < 20; j++ {
				apicontract.Check(t, "GET", "/referrals/{id}", 200, jsonCT, body)
				apicontract.Check(t, "GET", "/referrals", 503, with(problemCT, "Retry-After", "1"), problemJSON("unavailable", 503, ""))
			}
		})
	}
}

// TestProblemsRenderedByAPIGateway checks the real problem renderer, for every
// kind in both languages, against a route that documents the kind's status.
func TestProblemsRenderedByAPIGateway(t *testing.T) {
	routeFor := map[int][2]string{
		400: {"POST", "/referrals"}, 401: {"POST", "/referrals"}, 403: {"POST", "/referrals"},
		404: {"GET", "/referrals/{id}"}, 410: {"GET", "/referrals/{id}"}, 409: {"POST", "/referrals/{id}/decision"}, 413: {"POST", "/referrals"},
		415: {"POST", "/referrals"}, 422: {"POST", "/referrals"}, 429: {"GET", "/referrals"},
		500: {"GET", "/referrals"}, 503: {"GET", "/referrals"},
	}
	for _, kind := range problem.Kinds() {
		for _, lang := range []problem.Lang{problem.English, problem.French} {
			t.Run(string(kind)+"/"+string(lang), func(t *testing.T) {
				err := problem.New(kind)
				switch kind {
				case problem.Validation:
					err = problem.Invalid(problem.FieldError{Field: "family_members.1.date_of_birth", Code: problem.CodeFutureDate})
				case problem.DuplicateReferral:
					err.Extra = map[string]string{"existing_id": "01JD2Z"}
				case problem.Disposed:
					at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
					err.Tombstone = referral.Tombstone{ID: "01JD2Z", Partner: "unhcr", Stream: "hrd", Status: referral.Withdrawn,
						Urgency: referral.Normal, Persons: 2, Reasons: []string{"resettled-elsewhere"}, CreatedAt: at, UpdatedAt: at, DisposedAt: at}
				}
				resp := apigw.Problem(err, lang, "req-1")
				route, ok := routeFor[resp.Status]
				if !ok {
					t.Fatalf("status %d of %s has no route in this test", resp.Status, kind)
				}
				apicontract.Check(t, route[0], route[1], resp.Status, resp.Headers, resp.Body)
			})
		}
	}
}
