package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
)

func (h *harness) putPlan(body string) (int, map[string]any) {
	h.t.Helper()
	resp := h.do("put-period", req{method: "PUT", route: "PUT /streams/{stream}/periods/{year}", path: fmt.Sprintf("/streams/hrd/periods/%d", today.Year()),
		params: map[string]string{"stream": "hrd", "year": fmt.Sprint(today.Year())}, body: body,
		role: admin.role, headers: map[string]string{"content-type": "application/json"}})
	return resp.StatusCode, decode(h.t, resp)
}

// TestAllotmentsThroughAPI is the "Done when" for allotments, as a
// client sees it: capacity 10 with FLD 4 and UNHCR 6; FLD 3 allocated; FLD
// 2 waitlisted partner-allotment-full although 7 remain; UNHCR 6
// allocated; FLD withdraws its 3, its 2 is promoted.
func TestAllotmentsThroughAPI(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	if code, body := h.putPlan(`{"capacity": 10, "allotments": {"front-line-defenders": 4, "unhcr": 6}}`); code != http.StatusOK {
		t.Fatalf("put: %d %v", code, body)
	}
	for _, tt := range []struct {
		body, slug string
		code       int
	}{
		{`{"capacity": 10, "allotments": {"front-line-defenders": 5, "unhcr": 6}}`, "validation-failed", 400},
		{`{"capacity": 10, "allotments": {"Front Line": 5}}`, "validation-failed", 400},
		{`{"capacity": 10, "allotments": {"unhcr": "six"}}`, "validation-failed", 400},
	} {
		if code, body := h.putPlan(tt.body); code != tt.code || !hasSlug(body, tt.slug) {
			t.Errorf("%s: %d %v, want %d %s", tt.body, code, body, tt.code, tt.slug)
		}
	}
	year := fmt.Sprintf(`{"period": %d}`, today.Year())
	f3, f2 := h.newReferral("F3", 2, "normal"), h.newReferral("F2", 1, "normal")
	body := withField(t, referralBody(t), "partner_reference", "U6")
	body = withField(t, body, "family_members", family(5))
	resp := h.create(body, unhcr.partner, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create U6: %d %s", resp.StatusCode, resp.Body)
	}
	u6 := decode(t, resp)["id"].(string)
	for _, id := range []string{f3, f2, u6} {
		h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
	}
	if got := h.mustStep("allocate-referral", f3, officer, year); got != "allocated" {
		t.Fatalf("F3: %s", got)
	}
	resp = h.step("allocate-referral", f2, officer, year, "")
	if v := decode(t, resp); v["status"] != "waitlisted" || v["waitlist_reason"] != "partner-allotment-full" {
		t.Fatalf("F2: %v", v)
	}
	if got := h.periodView()["remaining"]; got != 7.0 {
		t.Fatalf("remaining %v, want 7", got)
	}
	if got := h.mustStep("allocate-referral", u6, officer, year); got != "allocated" {
		t.Fatalf("U6: %s", got)
	}
	if code, body := h.putPlan(`{"capacity": 10, "allotments": {"front-line-defenders": 2, "unhcr": 6}}`); code != 409 || !hasSlug(body, "capacity-below-committed") {
		t.Errorf("lowering below held: %d %v", code, body)
	}
	if got := h.mustStep("withdraw-referral", f3, fld, `{"reason": "resettled-elsewhere"}`); got != "withdrawn" {
		t.Fatalf("withdraw: %s", got)
	}
	want := map[string]any{"stream": "hrd", "period": float64(today.Year()), "capacity": 10.0, "reserved": 8.0, "arrived": 0.0,
		"remaining": 2.0, "waitlisted_persons": 0.0, "unallotted": 0.0,
		"partners": map[string]any{
			"front-line-defenders": map[string]any{"allotment": 4.0, "reserved": 2.0, "arrived": 0.0, "remaining": 2.0},
			"unhcr":                map[string]any{"allotment": 6.0, "reserved": 6.0, "arrived": 0.0, "remaining": 0.0},
		}}
	if diff := cmp.Diff(want, h.periodView()); diff != "" {
		t.Errorf("period view after promotion (-want +got):\n%s", diff)
	}
}

func hasSlug(body map[string]any, slug string) bool {
	typ, _ := body["type"].(string)
	return len(typ) >= len(slug) && typ[len(typ)-len(slug):] == slug
}

// TestClosureThroughAPI: closing this year with one waitlisted referral
// and carry_over_to next year moves it there; an allocation into this year
// is then 409 period-closed; the same Idempotency-Key replays the answer.
func TestClosureThroughAPI(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.setCapacity(1)
	next := today.Year() + 1
	resp := h.do("put-period", req{method: "PUT", route: "PUT /streams/{stream}/periods/{year}", path: fmt.Sprintf("/streams/hrd/periods/%d", next),
		params: map[string]string{"stream": "hrd", "year": fmt.Sprint(next)}, body: `{"capacity": 0}`,
		role: admin.role, headers: map[string]string{"content-type": "application/json"}})
	if resp.StatusCode != 200 {
		t.Fatalf("next period: %d %s", resp.StatusCode, resp.Body)
	}
	w, late := h.newReferral("W", 1, "urgent"), h.newReferral("LATE", 0, "normal")
	for _, id := range []string{w, late} {
		h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
	}
	if got := h.mustStep("allocate-referral", w, officer, fmt.Sprintf(`{"period": %d}`, today.Year())); got != "waitlisted" {
		t.Fatalf("W: %s", got)
	}
	close := func(body, key string) (int, map[string]any) {
		hd := map[string]string{"content-type": "application/json"}
		if key != "" {
			hd["idempotency-key"] = key
		}
		resp := h.do("close-period", req{method: "POST", route: "POST /streams/{stream}/periods/{year}/closure",
			path: fmt.Sprintf("/streams/hrd/periods/%d/closure", today.Year()), params: map[string]string{"stream": "hrd", "year": fmt.Sprint(today.Year())},
			body: body, role: admin.role, headers: hd})
		return resp.StatusCode, decode(t, resp)
	}
	if code, body := close(`{}`, ""); code != 409 || !hasSlug(body, "waitlist-not-empty") {
		t.Fatalf("closure without target: %d %v", code, body)
	}
	code, body := close(fmt.Sprintf(`{"carry_over_to": %d}`, next), "k1")
	if code != 200 || fmt.Sprint(body["carried_over"]) != fmt.Sprint([]any{w}) {
		t.Fatalf("closure: %d %v", code, body)
	}
	if code, again := close(fmt.Sprintf(`{"carry_over_to": %d}`, next), "k1"); code != 200 || fmt.Sprint(again) != fmt.Sprint(body) {
		t.Errorf("replay: %d %v", code, again)
	}
	resp = h.step("allocate-referral", late, officer, fmt.Sprintf(`{"period": %d}`, today.Year()), "")
	if resp.StatusCode != 409 || !hasSlug(decode(t, resp), "period-closed") {
		t.Errorf("allocation into a closed period: %d %s", resp.StatusCode, resp.Body)
	}
	if got := h.periodView()["closed"]; got != true {
		t.Errorf("period view closed = %v", got)
	}
}

// TestAdmissionsByArrivalYear is the scenario: allocated in 2026
// and arrived 2027-01-15, the family counts in 2026's quota (arrived) and
// in 2027's admissions, by quota year 2026; 2026's admissions stay empty.
func TestAdmissionsByArrivalYear(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := h.newReferral("ADM", 1, "normal")
	h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
	h.mustStep("allocate-referral", id, officer, fmt.Sprintf(`{"period": %d}`, today.Year()))
	h.mustStep("decide-referral", id, officer, `{"outcome": "approved"}`)
	h.mu.Lock()
	h.clock = time.Date(today.Year()+1, 1, 20, 15, 0, 0, 0, time.UTC)
	h.mu.Unlock()
	arrived := fmt.Sprintf("%d-01-15", today.Year()+1)
	if got := h.mustStep("record-arrival", id, officer, `{"arrived_on": "`+arrived+`"}`); got != "arrived" {
		t.Fatalf("arrival: %s", got)
	}
	if got := h.periodView()["arrived"]; got != 2.0 {
		t.Errorf("quota year %d: arrived %v, want 2", today.Year(), got)
	}
	admissions := func(year int, c caller) map[string]any {
		resp := h.do("get-admissions", req{method: "GET", route: "GET /streams/{stream}/admissions/{year}", path: fmt.Sprintf("/streams/hrd/admissions/%d", year),
			params: map[string]string{"stream": "hrd", "year": fmt.Sprint(year)}, role: c.role, partner: c.partner})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("admissions %d: %d %s", year, resp.StatusCode, resp.Body)
		}
		return decode(t, resp)
	}
	want := map[string]any{"stream": "hrd", "year": float64(today.Year() + 1), "persons": 2.0,
		"by_partner": map[string]any{"front-line-defenders": 2.0}, "by_quota_year": map[string]any{fmt.Sprint(today.Year()): 2.0}}
	if diff := cmp.Diff(want, admissions(today.Year()+1, officer)); diff != "" {
		t.Errorf("admissions of the arrival year (-want +got):\n%s", diff)
	}
	if got := admissions(today.Year(), officer)["persons"]; got != 0.0 {
		t.Errorf("admissions of the quota year: %v, want 0", got)
	}
	if got := admissions(today.Year()+1, unhcr)["by_partner"]; len(got.(map[string]any)) != 0 {
		t.Errorf("another partner sees %v", got)
	}
}

func TestReviseUrgencyThroughAPI(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := h.newReferral("URG", 0, "normal")
	for _, tt := range []struct {
		c    caller
		body string
		code int
	}{
		{officer, `{"urgency": "emergency", "reason": "because"}`, 400},
		{officer, `{"urgency": "soon", "reason": "new-threat"}`, 400},
		{fld, `{"urgency": "emergency", "reason": "new-threat"}`, 403},
		{officer, `{"urgency": "emergency", "reason": "new-threat"}`, 200},
	} {
		resp := h.step("revise-urgency", id, tt.c, tt.body, "")
		if resp.StatusCode != tt.code {
			t.Errorf("%s as %s: %d %s, want %d", tt.body, tt.c.role, resp.StatusCode, resp.Body, tt.code)
		}
		if tt.code == 200 && decode(t, resp)["urgency"] != "emergency" {
			t.Errorf("urgency not changed: %s", resp.Body)
		}
	}
	if h := h.history(id); h[len(h)-1].Action != "urgency-changed" {
		t.Errorf("history %+v", h)
	}
}
