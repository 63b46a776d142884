package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
)

func TestCreateReferralJSON(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	resp := h.create(referralBody(t), "front-line-defenders", "key-1")
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	got := decode(t, resp)
	id, _ := got["id"].(string)
	if id == "" || resp.Headers["Location"] != "/referrals/"+id {
		t.Fatalf("id %q, Location %q", id, resp.Headers["Location"])
	}
	want := map[string]any{"status": "submitted", "persons": float64(2), "partner": "front-line-defenders", "stream": "hrd"}
	for k, v := range want {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	// The stored referral reads back whole and unchanged.
	get := h.do("get-referral", req{method: "GET", route: "GET /referrals/{id}", path: "/referrals/" + id, params: map[string]string{"id": id}, role: "partner", partner: "front-line-defenders"})
	if get.StatusCode != 200 {
		t.Fatalf("get: %d %s", get.StatusCode, get.Body)
	}
	if diff := cmp.Diff(got, decode(t, get)); diff != "" {
		t.Errorf("read back (-created +read):\n%s", diff)
	}
}

func TestCreateReferralForm(t *testing.T) {
	form, err := os.ReadFile("../referral/testdata/referral.form")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimSpace(string(form))
	tests := []struct {
		name       string
		accept     string
		wantStatus int
	}{
		{"api client gets JSON", "application/json", 201},
		{"browser gets redirect", "text/html,application/xhtml+xml,*/*;q=0.8", 303},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testenv.Options{})
			b := strings.Replace(body, "idempotency_key=", fmt.Sprintf("idempotency_key=form-%d-", i), 1)
			resp := h.do("create-referral", req{method: "POST", route: "POST /referrals", path: "/referrals", body: b, role: "partner", partner: "unhcr",
				headers: map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": tt.accept}})
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantStatus == 303 && !strings.HasPrefix(resp.Headers["Location"], "/confirmation?id=") {
				t.Errorf("Location %q", resp.Headers["Location"])
			}
		})
	}
}

func TestFormAndJSONStoreTheSameReferral(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	form, err := os.ReadFile("../referral/testdata/referral.form")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := url.ParseQuery(strings.TrimSpace(string(form)))
	if err != nil {
		t.Fatal(err)
	}
	vals.Set("partner_reference", "FORM-1")
	vals.Del("idempotency_key")
	vals.Del("csrf_token")
	fresp := h.do("create-referral", req{method: "POST", route: "POST /referrals", path: "/referrals", body: vals.Encode(), role: "partner", partner: "unhcr",
		headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}})
	jresp := h.create(withField(t, string(mustRead(t, "../referral/testdata/referral.json")), "partner_reference", "JSON-1"), "unhcr", "")
	if fresp.StatusCode != 201 || jresp.StatusCode != 201 {
		t.Fatalf("form %d %s, json %d %s", fresp.StatusCode, fresp.Body, jresp.StatusCode, jresp.Body)
	}
	strip := func(m map[string]any) map[string]any {
		for _, k := range []string{"id", "partner_reference", "created_at", "updated_at"} {
			delete(m, k)
		}
		return m
	}
	if diff := cmp.Diff(strip(decode(t, jresp)), strip(decode(t, fresp))); diff != "" {
		t.Errorf("form vs JSON (-json +form):\n%s", diff)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreateReferralRefusals(t *testing.T) {
	valid := func(t *testing.T) string { return referralBody(t) }
	tests := []struct {
		name      string
		body      func(t *testing.T) string
		ctype     string
		role      string
		wantCode  int
		wantType  string
		wantField string
	}{
		{"unknown field", func(t *testing.T) string { return withField(t, valid(t), "status", "approved") }, "application/json", "partner", 400, "validation-failed", "status"},
		{"unknown stream", func(t *testing.T) string { return withField(t, valid(t), "stream", "nope") }, "application/json", "partner", 400, "validation-failed", "stream"},
		{"closed stream", func(t *testing.T) string { return withField(t, valid(t), "stream", "closed-stream") }, "application/json", "partner", 400, "validation-failed", "stream"},
		{"no consent", func(t *testing.T) string {
			return withField(t, valid(t), "consent", map[string]any{"given": false, "date": "2026-11-01"})
		}, "application/json", "partner", 400, "validation-failed", "consent.given"},
		{"malformed json", func(t *testing.T) string { return `{"stream":` }, "application/json", "partner", 400, "validation-failed", ""},
		{"text body", valid, "text/plain", "partner", 415, "unsupported-media-type", ""},
		{"too large", func(t *testing.T) string { return withField(t, valid(t), "pad", strings.Repeat("x", 70<<10)) }, "application/json", "partner", 413, "payload-too-large", ""},
		{"officer cannot refer", valid, "application/json", "officer", 403, "forbidden", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testenv.Options{})
			resp := h.do("create-referral", req{method: "POST", route: "POST /referrals", path: "/referrals", body: tt.body(t), role: tt.role,
				headers: map[string]string{"content-type": tt.ctype}})
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantCode, resp.Body)
			}
			got := decode(t, resp)
			if !strings.HasSuffix(got["type"].(string), "/"+tt.wantType) {
				t.Errorf("type %v, want slug %s", got["type"], tt.wantType)
			}
			if resp.Headers["Content-Type"] != "application/problem+json" {
				t.Errorf("content type %q", resp.Headers["Content-Type"])
			}
			if tt.wantField != "" {
				errs, _ := got["errors"].([]any)
				found := false
				for _, e := range errs {
					if e.(map[string]any)["field"] == tt.wantField {
						found = true
					}
				}
				if !found {
					t.Errorf("no error at %s: %s", tt.wantField, resp.Body)
				}
			}
			// Nothing was stored.
			list := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: "officer"})
			if n := len(decode(t, list)["items"].([]any)); n != 0 {
				t.Errorf("%d referrals stored after a refusal", n)
			}
		})
	}
}

func TestIdempotentCreate(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	first := h.create(referralBody(t), "unhcr", "same-key")
	if first.StatusCode != 201 {
		t.Fatalf("first: %d %s", first.StatusCode, first.Body)
	}
	replay := h.create(referralBody(t), "unhcr", "same-key")
	if diff := cmp.Diff(first, replay); diff != "" {
		t.Errorf("replay differs (-first +replay):\n%s", diff)
	}
	other := h.create(withField(t, referralBody(t), "partner_reference", "OTHER-1"), "unhcr", "same-key")
	if other.StatusCode != 422 || !strings.Contains(other.Body, "idempotency-key-reused") {
		t.Errorf("reused key with other body: %d %s", other.StatusCode, other.Body)
	}
	// An invalid body is 400 whatever its key, the stream (which only the
	// table can check, after the key) as much as any other field.
	bad := h.create(withField(t, referralBody(t), "stream", "nope"), "unhcr", "same-key")
	if bad.StatusCode != 400 || !strings.Contains(bad.Body, "unknown-stream") {
		t.Errorf("reused key with an unknown stream: %d %s", bad.StatusCode, bad.Body)
	}
	// Another caller may use the same key: keys are per caller.
	mine := h.create(referralBody(t), "front-line-defenders", "same-key")
	if mine.StatusCode != 201 {
		t.Errorf("same key, other caller: %d %s", mine.StatusCode, mine.Body)
	}
	// Without a key, a second identical post is a duplicate referral.
	dup := h.create(referralBody(t), "unhcr", "")
	if dup.StatusCode != 409 || decode(t, dup)["existing_id"] != decode(t, first)["id"] {
		t.Errorf("duplicate: %d %s", dup.StatusCode, dup.Body)
	}
	list := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: "partner", partner: "unhcr"})
	if n := len(decode(t, list)["items"].([]any)); n != 1 {
		t.Errorf("unhcr has %d referrals, want 1", n)
	}
}

// TestBadIdempotencyKey: a key that is not 1–255 visible ASCII — sent empty
// too — is 400 naming the header or form field it came in, with the message
// for a value rather than the body's, and is reported even when the body has
// errors of its own. Nothing is stored.
func TestBadIdempotencyKey(t *testing.T) {
	form, err := os.ReadFile("../referral/testdata/referral.form")
	if err != nil {
		t.Fatal(err)
	}
	withFormKey := func(key string) string {
		return strings.Replace(strings.TrimSpace(string(form)), "idempotency_key=form-2026-0042", "idempotency_key="+key, 1)
	}
	jsonType := map[string]string{"content-type": "application/json"}
	formType := map[string]string{"content-type": "application/x-www-form-urlencoded"}
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for hk, hv := range h {
			out[hk] = hv
		}
		return out
	}
	tests := []struct {
		name    string
		body    func(t *testing.T) string
		headers map[string]string
		field   string
	}{
		{"header with a space", referralBody, with(jsonType, "idempotency-key", "has space"), "Idempotency-Key"},
		{"header sent empty", referralBody, with(jsonType, "idempotency-key", ""), "Idempotency-Key"},
		{"header too long", referralBody, with(jsonType, "idempotency-key", strings.Repeat("k", 256)), "Idempotency-Key"},
		{"header bad, body bad too", func(t *testing.T) string { return withField(t, referralBody(t), "stream", "NOT A SLUG") },
			with(jsonType, "idempotency-key", ""), "Idempotency-Key"},
		{"form field sent empty", func(*testing.T) string { return withFormKey("") }, formType, "idempotency_key"},
		{"form field bad beside a good header", func(*testing.T) string { return withFormKey("has%20space") },
			with(formType, "idempotency-key", "good-key"), "idempotency_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testenv.Options{})
			resp := h.do("create-referral", req{method: "POST", route: "POST /referrals", path: "/referrals", body: tt.body(t), role: "partner", partner: "unhcr", headers: tt.headers})
			if resp.StatusCode != 400 {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, resp.Body)
			}
			var got struct {
				Errors []struct{ Field, Code, Message string }
			}
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range got.Errors {
				if e.Field == tt.field {
					found = true
					if e.Code != problem.CodeMalformed || strings.Contains(e.Message, "body") {
						t.Errorf("error at %s: %s %q, want malformed with a value's message", e.Field, e.Code, e.Message)
					}
				}
			}
			if !found {
				t.Errorf("no error at %s: %s", tt.field, resp.Body)
			}
			list := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: "officer"})
			if n := len(decode(t, list)["items"].([]any)); n != 0 {
				t.Errorf("%d referrals stored after a refusal", n)
			}
		})
	}
}

func TestPartnerIsolation(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	created := h.create(referralBody(t), "unhcr", "")
	id := decode(t, created)["id"].(string)
	tests := []struct {
		name, role, partner string
		want                int
	}{
		{"own partner", "partner", "unhcr", 200},
		{"other partner", "partner", "front-line-defenders", 404},
		{"officer", "officer", "", 200},
		{"admin", "admin", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []struct{ dir, route, path string }{
				{"get-referral", "GET /referrals/{id}", "/referrals/" + id},
				{"referral-history", "GET /referrals/{id}/history", "/referrals/" + id + "/history"},
			} {
				resp := h.do(r.dir, req{method: "GET", route: r.route, path: r.path, params: map[string]string{"id": id}, role: tt.role, partner: tt.partner})
				if resp.StatusCode != tt.want {
					t.Errorf("%s: status %d, want %d", r.dir, resp.StatusCode, tt.want)
				}
			}
			list := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: tt.role, partner: tt.partner})
			n := len(decode(t, list)["items"].([]any))
			if want := map[int]int{200: 1, 404: 0}[tt.want]; n != want {
				t.Errorf("list: %d items, want %d", n, want)
			}
		})
	}
	// A partner cannot list another partner's referrals by asking.
	resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: map[string]string{"partner": "unhcr"}, role: "partner", partner: "front-line-defenders"})
	if resp.StatusCode != 403 {
		t.Errorf("cross-partner list filter: %d", resp.StatusCode)
	}
	// An unauthenticated event (no authorizer claims) is refused.
	resp = h.do("get-referral", req{method: "GET", route: "GET /referrals/{id}", path: "/referrals/" + id, params: map[string]string{"id": id}, noAuth: true})
	if resp.StatusCode != 401 {
		t.Errorf("no claims: %d", resp.StatusCode)
	}
}

func TestListPagination(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	var ids []string
	for i := 0; i < 7; i++ {
		resp := h.create(withField(t, referralBody(t), "partner_reference", fmt.Sprintf("P-%d", i)), "unhcr", "")
		ids = append([]string{decode(t, resp)["id"].(string)}, ids...) // newest first
	}
	h.create(withField(t, referralBody(t), "partner_reference", "OTHER"), "front-line-defenders", "")
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		q := map[string]string{"limit": "3"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: q, role: "partner", partner: "unhcr"})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, resp.Body)
		}
		m := decode(t, resp)
		for _, it := range m["items"].([]any) {
			item := it.(map[string]any)
			if _, ok := item["contact"]; ok {
				t.Errorf("list item carries contact details")
			}
			if s, _ := item["defender_profile"].(map[string]any)["summary"].(string); s != "" {
				t.Errorf("list item carries the summary")
			}
			got = append(got, item["id"].(string))
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}

	bad := []struct {
		name  string
		query map[string]string
	}{
		{"tampered cursor", map[string]string{"cursor": cursor + "x"}},
		{"garbage cursor", map[string]string{"cursor": "not-a-cursor"}},
		{"limit zero", map[string]string{"limit": "0"}},
		{"limit too big", map[string]string{"limit": "101"}},
		{"limit text", map[string]string{"limit": "ten"}},
		{"bad status", map[string]string{"status": "lost"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: tt.query, role: "partner", partner: "unhcr"})
			if resp.StatusCode != 400 {
				t.Errorf("status %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
	// A cursor from one partner's list does not work in another's.
	first := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: map[string]string{"limit": "1"}, role: "partner", partner: "unhcr"})
	c := decode(t, first)["next_cursor"].(string)
	resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: map[string]string{"cursor": c}, role: "partner", partner: "front-line-defenders"})
	if resp.StatusCode != 400 {
		t.Errorf("foreign cursor: %d", resp.StatusCode)
	}
}

func TestListFilters(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.create(withField(t, referralBody(t), "partner_reference", "A"), "unhcr", "")
	h.create(withField(t, referralBody(t), "partner_reference", "B"), "front-line-defenders", "")
	tests := []struct {
		query map[string]string
		want  int
	}{
		{map[string]string{}, 2},
		{map[string]string{"partner": "unhcr"}, 1},
		{map[string]string{"status": "submitted"}, 2},
		{map[string]string{"status": "allocated"}, 0},
		{map[string]string{"stream": "hrd"}, 2},
		{map[string]string{"stream": "hrd-temporary"}, 0},
	}
	for _, tt := range tests {
		resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: tt.query, role: "officer"})
		if n := len(decode(t, resp)["items"].([]any)); n != tt.want {
			t.Errorf("%v: %d items, want %d", tt.query, n, tt.want)
		}
	}
	// A parameter sent empty is a mistake, not "no filter": listing everyone's
	// referrals instead would answer another question.
	for _, q := range []map[string]string{
		{"partner": ""}, {"cursor": ""}, {"status": ""}, {"stream": ""}, {"limit": ""},
		{"stream": "NOT_A_SLUG"}, {"stream": strings.Repeat("s", 41)},
	} {
		resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: q, role: "officer"})
		if resp.StatusCode != 400 {
			t.Errorf("%v: status %d, want 400: %s", q, resp.StatusCode, resp.Body)
			continue
		}
		for name := range q {
			if !strings.Contains(resp.Body, `"field":"`+name+`"`) {
				t.Errorf("%v: no error names %s: %s", q, name, resp.Body)
			}
		}
	}
}

func TestHistoryAndReadAudit(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := decode(t, h.create(referralBody(t), "unhcr", ""))["id"].(string)
	h.do("get-referral", req{method: "GET", route: "GET /referrals/{id}", path: "/referrals/" + id, params: map[string]string{"id": id}, role: "officer"})
	resp := h.do("referral-history", req{method: "GET", route: "GET /referrals/{id}/history", path: "/referrals/" + id + "/history", params: map[string]string{"id": id}, role: "partner", partner: "unhcr"})
	var got struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 1 {
		t.Fatalf("history %s", resp.Body)
	}
	delete(got.Items[0], "at")
	want := map[string]any{"action": "created", "from_status": "", "to_status": "submitted", "persons_delta": float64(0), "actor_role": "partner"}
	if diff := cmp.Diff(want, got.Items[0]); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	reads, err := h.env.Store.Reads(t.Context(), id)
	if err != nil || len(reads) != 1 || reads[0].ActorRole != "officer" {
		t.Errorf("reads %+v, %v", reads, err)
	}
	// Officers list reads in the history; partners may not.
	withReads := func(role, partner string) (int, []string) {
		resp := h.do("referral-history", req{method: "GET", route: "GET /referrals/{id}/history", path: "/referrals/" + id + "/history", params: map[string]string{"id": id}, query: map[string]string{"include": "reads"}, role: role, partner: partner})
		var out struct {
			Items []struct{ Action string } `json:"items"`
		}
		json.Unmarshal([]byte(resp.Body), &out)
		var actions []string
		for _, it := range out.Items {
			actions = append(actions, it.Action)
		}
		return resp.StatusCode, actions
	}
	if status, actions := withReads("officer", ""); status != 200 || !cmp.Equal(actions, []string{"created", "read"}) {
		t.Errorf("officer with reads: %d %v", status, actions)
	}
	if status, _ := withReads("partner", "unhcr"); status != 403 {
		t.Errorf("partner with reads: %d", status)
	}
	// ?include= sent empty is not "no include": it is no allowed value.
	empty := h.do("referral-history", req{method: "GET", route: "GET /referrals/{id}/history", path: "/referrals/" + id + "/history", params: map[string]string{"id": id}, query: map[string]string{"include": ""}, role: "officer"})
	if empty.StatusCode != 400 || !strings.Contains(empty.Body, `"allowed":["reads"]`) {
		t.Errorf("include sent empty: %d %s", empty.StatusCode, empty.Body)
	}
}

// The list pages that showed a referral appear in its history with reads,
// for the days the window names (by default the last seven); the response
// says which days it searched.
func TestHistoryListsPageReads(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := decode(t, h.create(referralBody(t), "unhcr", ""))["id"].(string)
	list := func(days int, role, partner string) {
		h.mu.Lock()
		h.clock = today.AddDate(0, 0, days).Add(time.Hour)
		h.mu.Unlock()
		resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: role, partner: partner})
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
		}
	}
	list(0, "partner", "unhcr")
	list(5, "officer", "")
	list(9, "partner", "unhcr")
	type entry struct{ Action, ActorRole string }
	history := func(q map[string]string) (int, []entry, map[string]string, string) {
		q["include"] = "reads"
		resp := h.do("referral-history", req{method: "GET", route: "GET /referrals/{id}/history", path: "/referrals/" + id + "/history", params: map[string]string{"id": id}, query: q, role: "officer"})
		var out struct {
			Items []struct {
				Action    string `json:"action"`
				ActorRole string `json:"actor_role"`
			} `json:"items"`
			Window map[string]string `json:"listed_window"`
		}
		json.Unmarshal([]byte(resp.Body), &out)
		var got []entry
		for _, it := range out.Items {
			got = append(got, entry{it.Action, it.ActorRole})
		}
		return resp.StatusCode, got, out.Window, resp.Body
	}
	day := func(days int) string { return today.AddDate(0, 0, days).Format(time.DateOnly) }
	for _, tc := range []struct {
		name       string
		q          map[string]string
		want       []entry
		wantWindow map[string]string
	}{
		{"the last seven days by default", map[string]string{},
			[]entry{{"created", "partner"}, {"listed", "officer"}, {"listed", "partner"}},
			map[string]string{"from": day(3), "to": day(9)}},
		{"from the day of creation", map[string]string{"listed_days": "10"},
			[]entry{{"created", "partner"}, {"listed", "partner"}, {"listed", "officer"}, {"listed", "partner"}},
			map[string]string{"from": day(0), "to": day(9)}},
		{"one day", map[string]string{"listed_days": "1", "listed_to": day(5)},
			[]entry{{"created", "partner"}, {"listed", "officer"}},
			map[string]string{"from": day(5), "to": day(5)}},
		{"before the referral existed", map[string]string{"listed_days": "20", "listed_to": day(-1)},
			[]entry{{"created", "partner"}},
			map[string]string{"from": day(-20), "to": day(-1)}},
	} {
		status, got, window, body := history(tc.q)
		if status != 200 {
			t.Errorf("%s: %d %s", tc.name, status, body)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: history (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.wantWindow, window); diff != "" {
			t.Errorf("%s: listed_window (-want +got):\n%s", tc.name, diff)
		}
	}
	for _, tc := range []struct {
		q     map[string]string
		field string
		code  string
	}{
		{map[string]string{"listed_to": "2026-13-01"}, "listed_to", "invalid-date"},
		{map[string]string{"listed_to": day(10)}, "listed_to", "future-date"},
		{map[string]string{"listed_days": "0"}, "listed_days", "out-of-range"},
		{map[string]string{"listed_days": "32"}, "listed_days", "out-of-range"},
		{map[string]string{"listed_days": "seven"}, "listed_days", "out-of-range"},
	} {
		status, _, _, body := history(tc.q)
		if status != 400 || !strings.Contains(body, `"field":"`+tc.field+`"`) || !strings.Contains(body, `"code":"`+tc.code+`"`) {
			t.Errorf("%v: %d %s, want 400 %s on %s", tc.q, status, body, tc.code, tc.field)
		}
	}
	// A bad window is refused even when reads are not asked for.
	resp := h.do("referral-history", req{method: "GET", route: "GET /referrals/{id}/history", path: "/referrals/" + id + "/history", params: map[string]string{"id": id}, query: map[string]string{"listed_days": "40"}, role: "partner", partner: "unhcr"})
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, `"field":"listed_days"`) {
		t.Errorf("listed_days without include=reads: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestPossibleDuplicatesAcrossPartners(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	a := decode(t, h.create(referralBody(t), "unhcr", ""))["id"].(string)
	// The same defender, spelled differently, referred by another partner.
	body := withField(t, referralBody(t), "principal", map[string]any{"given_name": "NGUYEN THI", "family_name": "Minh  Khai", "date_of_birth": "1985-03-14", "sex": "F", "nationality": "VNM"})
	b := decode(t, h.create(body, "front-line-defenders", ""))["id"].(string)
	officer := h.do("get-referral", req{method: "GET", route: "GET /referrals/{id}", path: "/referrals/" + b, params: map[string]string{"id": b}, role: "officer"})
	if diff := cmp.Diff([]any{a}, decode(t, officer)["possible_duplicates"]); diff != "" {
		t.Errorf("officer's possible_duplicates (-want +got):\n%s", diff)
	}
	partner := h.do("get-referral", req{method: "GET", route: "GET /referrals/{id}", path: "/referrals/" + b, params: map[string]string{"id": b}, role: "partner", partner: "front-line-defenders"})
	if _, ok := decode(t, partner)["possible_duplicates"]; ok {
		t.Errorf("a partner sees possible_duplicates")
	}
}

// TestPossibleDuplicateWithConfusableLetter: a Cyrillic М (U+041C) typed
// for a Latin M in a family name still flags the first referral.
func TestPossibleDuplicateWithConfusableLetter(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	principal := func(family string) map[string]any {
		return map[string]any{"given_name": "Anna", "family_name": family, "date_of_birth": "1985-03-14", "sex": "F", "nationality": "RUS"}
	}
	a := decode(t, h.create(withField(t, referralBody(t), "principal", principal("Mironova")), "unhcr", ""))["id"].(string)
	b := decode(t, h.create(withField(t, referralBody(t), "principal", principal("\u041cironova")), "front-line-defenders", ""))["id"].(string)
	officer := h.do("get-referral", req{method: "GET", route: "GET /referrals/{id}", path: "/referrals/" + b, params: map[string]string{"id": b}, role: "officer"})
	if diff := cmp.Diff([]any{a}, decode(t, officer)["possible_duplicates"]); diff != "" {
		t.Errorf("officer's possible_duplicates (-want +got):\n%s", diff)
	}
}

func TestFrenchProblems(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	resp := h.do("create-referral", req{method: "POST", route: "POST /referrals", path: "/referrals", body: withField(t, referralBody(t), "consent", map[string]any{"given": false, "date": "2026-11-01"}), role: "partner", partner: "unhcr",
		headers: map[string]string{"content-type": "application/json", "accept-language": "fr-CA,fr;q=0.9,en;q=0.5"}})
	got := decode(t, resp)
	if got["title"] != "Certains champs sont à corriger" || resp.Headers["Content-Language"] != "fr" {
		t.Errorf("title %q, language %q", got["title"], resp.Headers["Content-Language"])
	}
}

// TestHiddenCharactersRefused: a summary with a right-to-left override is
// refused with the hidden-characters code and its message in each language,
// and nothing is stored.
func TestHiddenCharactersRefused(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	for lang, want := range map[string]string{
		"en": "Remove invisible or direction-changing characters",
		"fr": "Supprimez les caractères invisibles",
	} {
		body := withField(t, referralBody(t), "defender_profile", map[string]any{"rights_areas": []string{"land"}, "summary": "paid \u202egnp.exe"})
		resp := h.do("create-referral", req{method: "POST", route: "POST /referrals", path: "/referrals", body: body, role: "partner", partner: "unhcr",
			headers: map[string]string{"content-type": "application/json", "accept-language": lang}})
		if resp.StatusCode != 400 {
			t.Fatalf("%s: %d %s", lang, resp.StatusCode, resp.Body)
		}
		errs, _ := decode(t, resp)["errors"].([]any)
		if len(errs) != 1 {
			t.Fatalf("%s: errors %v", lang, errs)
		}
		e := errs[0].(map[string]any)
		if e["field"] != "defender_profile.summary" || e["code"] != "hidden-characters" || !strings.HasPrefix(fmt.Sprint(e["message"]), want) {
			t.Errorf("%s: error %v", lang, e)
		}
	}
	list := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: "officer"})
	if items, _ := decode(t, list)["items"].([]any); len(items) != 0 {
		t.Errorf("stored after a refusal: %v", items)
	}
}

func TestPeriods(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	year := fmt.Sprint(today.Year())
	path := "/streams/hrd/periods/" + year
	params := map[string]string{"stream": "hrd", "year": year}
	get := func(role, partner string) map[string]any {
		resp := h.do("get-period", req{method: "GET", route: "GET /streams/{stream}/periods/{year}", path: path, params: params, role: role, partner: partner})
		if resp.StatusCode != 200 {
			t.Fatalf("get period: %d %s", resp.StatusCode, resp.Body)
		}
		return decode(t, resp)
	}
	want := map[string]any{"stream": "hrd", "period": float64(today.Year()), "capacity": float64(500), "reserved": float64(0), "arrived": float64(0),
		"remaining": float64(500), "waitlisted_persons": float64(0), "unallotted": float64(500),
		// A partner sees its own share (what it may still take), never another's.
		"partners": map[string]any{"unhcr": map[string]any{"arrived": float64(0), "remaining": float64(500), "reserved": float64(0)}}}
	if diff := cmp.Diff(want, get("partner", "unhcr")); diff != "" {
		t.Errorf("period (-want +got):\n%s", diff)
	}
	put := func(role, body, key string) (int, map[string]any) {
		hd := map[string]string{"content-type": "application/json"}
		if key != "" {
			hd["idempotency-key"] = key
		}
		resp := h.do("put-period", req{method: "PUT", route: "PUT /streams/{stream}/periods/{year}", path: path, params: params, role: role, body: body, headers: hd})
		return resp.StatusCode, decode(t, resp)
	}
	tests := []struct {
		name, role, body string
		wantStatus       int
		wantCapacity     float64
	}{
		{"partner may not", "partner", `{"capacity": 250}`, 403, 500},
		{"officer may not", "officer", `{"capacity": 250}`, 403, 500},
		{"admin lowers", "admin", `{"capacity": 250}`, 200, 250},
		{"admin raises mid-year", "admin", `{"capacity": 500}`, 200, 500},
		{"negative", "admin", `{"capacity": -1}`, 400, 500},
		{"unknown field", "admin", `{"capacity": 5, "reserved": 0}`, 400, 500},
		{"missing", "admin", `{}`, 400, 500},
		{"not a number", "admin", `{"capacity": "many"}`, 400, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _ := put(tt.role, tt.body, "")
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d", status, tt.wantStatus)
			}
			if got := get("officer", "")["capacity"]; got != tt.wantCapacity {
				t.Errorf("capacity %v, want %v", got, tt.wantCapacity)
			}
		})
	}
	// A new period is created by PUT.
	next := fmt.Sprint(today.Year() + 1)
	resp := h.do("put-period", req{method: "PUT", route: "PUT /streams/{stream}/periods/{year}", path: "/streams/hrd/periods/" + next, params: map[string]string{"stream": "hrd", "year": next}, role: "admin", body: `{"capacity": 500}`, headers: map[string]string{"content-type": "application/json"}})
	if resp.StatusCode != 200 {
		t.Errorf("create period: %d %s", resp.StatusCode, resp.Body)
	}
	// Replay of a capacity change answers the same, byte for byte.
	s1, b1 := put("admin", `{"capacity": 400}`, "cap-1")
	put("admin", `{"capacity": 300}`, "")
	s2, b2 := put("admin", `{"capacity": 400}`, "cap-1")
	if s1 != 200 || s2 != 200 || !cmp.Equal(b1, b2) {
		t.Errorf("replay: %d %v vs %d %v", s1, b1, s2, b2)
	}
	if got := get("admin", "")["capacity"]; got != float64(300) {
		t.Errorf("replayed change applied again: capacity %v", got)
	}
	// Unknown stream and bad year.
	for _, p := range []map[string]string{{"stream": "nope", "year": year}, {"stream": "hrd", "year": "1850"}, {"stream": "HRD!", "year": year}} {
		resp := h.do("get-period", req{method: "GET", route: "GET /streams/{stream}/periods/{year}", path: "/streams/" + p["stream"] + "/periods/" + p["year"], params: p, role: "officer"})
		if resp.StatusCode != 404 && resp.StatusCode != 400 {
			t.Errorf("%v: %d", p, resp.StatusCode)
		}
	}
}

func TestUnavailableIsRetryable(t *testing.T) {
	h := newHarness(t, testenv.Options{MaxAttempts: 1})
	h.env.Dynamo.Server.EmulateFailure("internal_server")
	resp := h.create(referralBody(t), "unhcr", "retry-key")
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("outage: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if strings.Contains(resp.Body, "emulated") {
		t.Errorf("internal error text reached the client: %s", resp.Body)
	}
	h.env.Dynamo.Server.EmulateFailure("none")
	if resp := h.create(referralBody(t), "unhcr", "retry-key"); resp.StatusCode != 201 {
		t.Fatalf("retry: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := h.create(referralBody(t), "unhcr", "retry-key"); resp.StatusCode != 201 {
		t.Fatalf("replay: %d %s", resp.StatusCode, resp.Body)
	}
	list := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: "officer"})
	if n := len(decode(t, list)["items"].([]any)); n != 1 {
		t.Errorf("%d referrals after outage and retries, want 1", n)
	}
}

// A list page is audited in one item: who asked, under which scope, in
// which request, and which referrals it showed. An empty page shows no one.
func TestListPageReadAudit(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	var ids []string
	for i := 0; i < 3; i++ {
		resp := h.create(withField(t, referralBody(t), "partner_reference", fmt.Sprintf("P-%d", i)), "unhcr", "")
		ids = append([]string{decode(t, resp)["id"].(string)}, ids...) // newest first
	}
	list := func(q map[string]string, role, partner string) map[string]any {
		resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: q, role: role, partner: partner, sub: "subject-" + role})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, resp.Body)
		}
		return decode(t, resp)
	}
	first := list(map[string]string{"limit": "2"}, "partner", "unhcr")
	list(map[string]string{"limit": "2", "cursor": first["next_cursor"].(string)}, "partner", "unhcr")
	list(map[string]string{"status": "arrived"}, "officer", "")
	reqID := event(t, "create-referral.json").RequestContext.RequestID
	got, err := h.env.Store.PageReads(t.Context(), today, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].At = time.Time{}
	}
	want := []dynamostore.PageRead{
		{Actor: "subject-partner", ActorRole: "partner", Partner: "unhcr", RequestID: reqID, ReferralIDs: ids[:2]},
		{Actor: "subject-partner", ActorRole: "partner", Partner: "unhcr", RequestID: reqID, ReferralIDs: ids[2:]},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page reads (-want +got):\n%s", diff)
	}
	oldest, err := h.env.Store.PageReads(t.Context(), today, ids[2])
	if err != nil || len(oldest) != 1 || !cmp.Equal(oldest[0].ReferralIDs, ids[2:]) {
		t.Errorf("page reads of %s: %+v, %v", ids[2], oldest, err)
	}
}

// Every request line of a function says who asked, as the keyed hash of the
// subject; no line holds the subject.
func TestRequestLogCallerHash(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	const subject = "b41c07e2-subject-of-a-partner"
	resp := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: "partner", partner: "unhcr", sub: subject})
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	logs := h.logs.String()
	if strings.Contains(logs, subject) {
		t.Errorf("the log holds the subject: %s", logs)
	}
	want := apigw.CallerHash([]byte(testenv.TestCallerKey))(subject)
	found := false
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(l), &line) == nil && line["msg"] == "request" && line["route"] == "GET /referrals" {
			found = line["caller"] == want
		}
	}
	if !found {
		t.Errorf("no request line with caller %q: %s", want, logs)
	}
}
