package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
	"github.com/truora/minidyn/server"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
)

// lifecycle routes: dir → route key and path suffix.
var lcRoutes = map[string]struct{ method, route, suffix string }{
	"screen-referral":   {"POST", "POST /referrals/{id}/screening", "screening"},
	"allocate-referral": {"POST", "POST /referrals/{id}/allocation", "allocation"},
	"decide-referral":   {"POST", "POST /referrals/{id}/decision", "decision"},
	"record-arrival":    {"POST", "POST /referrals/{id}/arrival", "arrival"},
	"withdraw-referral": {"POST", "POST /referrals/{id}/withdrawal", "withdrawal"},
	"change-family":     {"PUT", "PUT /referrals/{id}/family", "family"},
	"revise-urgency":    {"POST", "POST /referrals/{id}/urgency", "urgency"},
}

// caller is who makes a request: role and partner.
type caller struct{ role, partner string }

var (
	officer = caller{"officer", ""}
	admin   = caller{"admin", ""}
	fld     = caller{"partner", "front-line-defenders"}
	unhcr   = caller{"partner", "unhcr"}
)

func (h *harness) step(dir, id string, c caller, body, key string) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	rt := lcRoutes[dir]
	hd := map[string]string{"content-type": "application/json"}
	if key != "" {
		hd["idempotency-key"] = key
	}
	return h.do(dir, req{method: rt.method, route: rt.route, path: "/referrals/" + id + "/" + rt.suffix,
		params: map[string]string{"id": id}, body: body, role: c.role, partner: c.partner, headers: hd})
}

// mustStep runs a step that must answer 200 and returns the referral's status.
func (h *harness) mustStep(dir, id string, c caller, body string) string {
	h.t.Helper()
	resp := h.step(dir, id, c, body, "")
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("%s %s: %d %s", dir, id, resp.StatusCode, resp.Body)
	}
	return decode(h.t, resp)["status"].(string)
}

// family is a family_members list of n children.
func family(n int) []any {
	out := []any{}
	for i := 0; i < n; i++ {
		out = append(out, map[string]any{"given_name": "An", "family_name": "Minh", "date_of_birth": "2015-06-01", "sex": "M", "relationship": "child"})
	}
	return out
}

func familyBody(n int) string {
	b, _ := json.Marshal(map[string]any{"family_members": family(n)})
	return string(b)
}

// newReferral creates a referral of 1 + members persons for fld and returns its id.
func (h *harness) newReferral(ref string, members int, urgency string) string {
	h.t.Helper()
	body := withField(h.t, referralBody(h.t), "partner_reference", ref)
	body = withField(h.t, body, "family_members", family(members))
	body = withField(h.t, body, "urgency", urgency)
	resp := h.create(body, fld.partner, "")
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("create %s: %d %s", ref, resp.StatusCode, resp.Body)
	}
	return decode(h.t, resp)["id"].(string)
}

func (h *harness) setCapacity(capacity int) {
	h.t.Helper()
	resp := h.do("put-period", req{method: "PUT", route: "PUT /streams/{stream}/periods/{year}", path: fmt.Sprintf("/streams/hrd/periods/%d", today.Year()),
		params: map[string]string{"stream": "hrd", "year": fmt.Sprint(today.Year())}, body: fmt.Sprintf(`{"capacity": %d}`, capacity),
		role: admin.role, headers: map[string]string{"content-type": "application/json"}})
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("set capacity: %d %s", resp.StatusCode, resp.Body)
	}
}

func (h *harness) periodView() map[string]any {
	h.t.Helper()
	resp := h.do("get-period", req{method: "GET", route: "GET /streams/{stream}/periods/{year}", path: fmt.Sprintf("/streams/hrd/periods/%d", today.Year()),
		params: map[string]string{"stream": "hrd", "year": fmt.Sprint(today.Year())}, role: officer.role})
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("get period: %d %s", resp.StatusCode, resp.Body)
	}
	return decode(h.t, resp)
}

type hline struct {
	Action, From, To string
	Delta            float64
	Role             string
}

func (h *harness) history(id string) []hline {
	h.t.Helper()
	resp := h.do("referral-history", req{method: "GET", route: "GET /referrals/{id}/history", path: "/referrals/" + id + "/history",
		params: map[string]string{"id": id}, role: officer.role})
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("history: %d %s", resp.StatusCode, resp.Body)
	}
	items := decode(h.t, resp)["items"].([]any)
	// Ordered by "at" here: the store's audit sort key (RFC 3339 with trimmed
	// fractions) misorders a time ending in zeros (reported with a fix).
	sort.SliceStable(items, func(i, j int) bool {
		return items[i].(map[string]any)["at"].(string) < items[j].(map[string]any)["at"].(string)
	})
	var out []hline
	for _, it := range items {
		m := it.(map[string]any)
		out = append(out, hline{m["action"].(string), m["from_status"].(string), m["to_status"].(string), m["persons_delta"].(float64), m["actor_role"].(string)})
	}
	return out
}

// TestLifecycleDoneWhenThroughAPI is the "done when": a period of 10,
// families of 6 and 4 allocated, a family of 3 waitlisted; withdrawing the
// family of 4 allocates the family of 3 at once; the period view and each
// referral's history show it.
func TestLifecycleDoneWhenThroughAPI(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.setCapacity(10)
	f6, f4, f3 := h.newReferral("F6", 5, "normal"), h.newReferral("F4", 3, "normal"), h.newReferral("F3", 2, "normal")
	for _, id := range []string{f6, f4, f3} {
		if got := h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`); got != "eligible" {
			t.Fatalf("screen: %s", got)
		}
	}
	year := fmt.Sprintf(`{"period": %d}`, today.Year())
	for _, c := range []struct{ id, want string }{{f6, "allocated"}, {f4, "allocated"}, {f3, "waitlisted"}} {
		if got := h.mustStep("allocate-referral", c.id, officer, year); got != c.want {
			t.Fatalf("allocate: %s, want %s", got, c.want)
		}
	}
	if got := h.mustStep("withdraw-referral", f4, fld, `{"reason": "resettled-elsewhere"}`); got != "withdrawn" {
		t.Fatalf("withdraw: %s", got)
	}
	want := map[string]any{"stream": "hrd", "period": float64(today.Year()), "capacity": 10.0, "reserved": 9.0, "arrived": 0.0,
		"remaining": 1.0, "waitlisted_persons": 0.0, "unallotted": 1.0,
		"partners": map[string]any{"front-line-defenders": map[string]any{"reserved": 9.0, "arrived": 0.0, "remaining": 1.0}}}
	if diff := cmp.Diff(h.periodView(), want); diff != "" {
		t.Errorf("period view (-got +want):\n%s", diff)
	}
	created := hline{"created", "", "submitted", 0, "partner"}
	screened := hline{"screened", "submitted", "eligible", 0, "officer"}
	for id, want := range map[string][]hline{
		f6: {created, screened, {"allocated", "eligible", "allocated", 6, "officer"}},
		f4: {created, screened, {"allocated", "eligible", "allocated", 4, "officer"}, {"withdrawn", "allocated", "withdrawn", -4, "partner"}},
		f3: {created, screened, {"waitlisted", "eligible", "waitlisted", 0, "officer"}, {"allocated", "waitlisted", "allocated", 3, "system"}},
	} {
		if diff := cmp.Diff(h.history(id), want); diff != "" {
			t.Errorf("history (-got +want):\n%s", diff)
		}
	}
}

// TestLifecycleRoles: officers may do every step; partners only withdraw and
// change the family of their own referrals (another partner's is 404);
// admins, being neither, are 403.
func TestLifecycleRoles(t *testing.T) {
	bodies := map[string]string{
		"screen-referral":   `{"outcome": "eligible"}`,
		"allocate-referral": `{}`,
		"decide-referral":   `{"outcome": "approved"}`,
		"record-arrival":    `{"arrived_on": "2026-11-20"}`,
		"withdraw-referral": `{"reason": "no-longer-at-risk"}`,
		"change-family":     familyBody(2),
		"revise-urgency":    `{"urgency": "emergency", "reason": "officer-assessment"}`,
	}
	// from is the status each step is valid from, reached by the officer path.
	path := map[string][]string{
		"screen-referral":   nil,
		"allocate-referral": {"screen-referral"},
		"decide-referral":   {"screen-referral", "allocate-referral"},
		"record-arrival":    {"screen-referral", "allocate-referral", "decide-referral"},
		"withdraw-referral": {"screen-referral"},
		"change-family":     {"screen-referral"},
		"revise-urgency":    {"screen-referral"},
	}
	tests := []struct {
		dir  string
		who  caller
		want int
	}{}
	for dir := range lcRoutes {
		own := http.StatusForbidden
		if dir == "withdraw-referral" || dir == "change-family" {
			own = http.StatusOK
		}
		tests = append(tests,
			struct {
				dir  string
				who  caller
				want int
			}{dir, officer, http.StatusOK},
			struct {
				dir  string
				who  caller
				want int
			}{dir, fld, own},
			struct {
				dir  string
				who  caller
				want int
			}{dir, admin, http.StatusForbidden},
		)
		if own == http.StatusOK {
			tests = append(tests, struct {
				dir  string
				who  caller
				want int
			}{dir, unhcr, http.StatusNotFound})
		}
	}
	h := newHarness(t, testenv.Options{})
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s-%s", tc.dir, tc.who.role, tc.who.partner), func(t *testing.T) {
			h.t = t
			id := h.newReferral(fmt.Sprint("ROLE-", i), 1, "urgent")
			for _, p := range path[tc.dir] {
				h.mustStep(p, id, officer, bodies[p])
			}
			resp := h.step(tc.dir, id, tc.who, bodies[tc.dir], "")
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tc.want)
			}
		})
	}
}

// TestLifecycleRefusals: strict bodies, media types, reason codes, dates,
// invalid transitions, a partner's family change after allocation, and
// growth that does not fit.
func TestLifecycleRefusals(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.setCapacity(3)
	sub := h.newReferral("REF-SUB", 0, "normal")
	alloc := h.newReferral("REF-ALLOC", 1, "normal")
	h.mustStep("screen-referral", alloc, officer, `{"outcome": "eligible"}`)
	h.mustStep("allocate-referral", alloc, officer, `{}`)
	elig := h.newReferral("REF-ELIG", 0, "normal")
	h.mustStep("screen-referral", elig, officer, `{"outcome": "eligible"}`)
	wait := h.newReferral("REF-WAIT", 2, "normal")
	h.mustStep("screen-referral", wait, officer, `{"outcome": "eligible"}`)
	if st := h.mustStep("allocate-referral", wait, officer, `{}`); st != "waitlisted" {
		t.Fatalf("REF-WAIT is %s, want waitlisted", st)
	}
	noPeriod := fmt.Sprintf(`{"period": %d}`, today.Year()+3)
	tests := []struct {
		name, dir, id string
		who           caller
		ctype, body   string
		status        int
		slug          string
	}{
		{"unknown field", "screen-referral", sub, officer, "application/json", `{"outcome": "eligible", "note": "x"}`, 400, "validation-failed"},
		{"not json", "screen-referral", sub, officer, "text/plain", `outcome=eligible`, 415, "unsupported-media-type"},
		{"outcome missing", "screen-referral", sub, officer, "application/json", `{}`, 400, "validation-failed"},
		{"outcome wrong", "screen-referral", sub, officer, "application/json", `{"outcome": "approved"}`, 400, "validation-failed"},
		{"reason free text", "screen-referral", sub, officer, "application/json", `{"outcome": "ineligible", "reasons": ["Lives at 12 Main St"]}`, 400, "validation-failed"},
		{"too many reasons", "screen-referral", sub, officer, "application/json", `{"outcome": "ineligible", "reasons": ["a","b","c","d","e","f","g","h","i","j","k"]}`, 400, "validation-failed"},
		{"trailing data", "screen-referral", sub, officer, "application/json", `{"outcome": "eligible"} {}`, 400, "validation-failed"},
		{"keys differ in case only", "screen-referral", sub, officer, "application/json", `{"OUTCOME":"eligible","outcome":"ineligible"}`, 400, "validation-failed"},
		{"repeated key", "screen-referral", sub, officer, "application/json", `{"outcome":"eligible","outcome":"ineligible"}`, 400, "validation-failed"},
		{"null reasons", "screen-referral", sub, officer, "application/json", `{"outcome":"eligible","reasons":null}`, 400, "validation-failed"},
		{"refusal reason at screening", "screen-referral", sub, officer, "application/json", `{"outcome":"ineligible","reasons":["inadmissible-security"]}`, 400, "validation-failed"},
		{"withdrawal reason free text", "withdraw-referral", sub, fld, "application/json", `{"reason":"safe now"}`, 400, "validation-failed"},
		{"period out of range", "allocate-referral", sub, officer, "application/json", `{"period": 1999}`, 400, "validation-failed"},
		{"future arrival", "record-arrival", alloc, officer, "application/json", `{"arrived_on": "2026-12-01"}`, 400, "validation-failed"},
		{"bad date", "record-arrival", alloc, officer, "application/json", `{"arrived_on": "2026-02-30"}`, 400, "validation-failed"},
		{"withdrawal without reason", "withdraw-referral", sub, fld, "application/json", `{}`, 400, "validation-failed"},
		{"decide a submitted referral", "decide-referral", sub, officer, "application/json", `{"outcome": "approved"}`, 409, "invalid-transition"},
		{"arrival before approval", "record-arrival", alloc, officer, "application/json", `{"arrived_on": "2026-11-20"}`, 409, "invalid-transition"},
		{"partner family after allocation", "change-family", alloc, fld, "application/json", familyBody(0), 403, "forbidden"},
		{"growth that does not fit", "change-family", alloc, officer, "application/json", familyBody(3), 409, "quota-exhausted"},
		{"family bad member", "change-family", sub, fld, "application/json", `{"family_members": [{"given_name": "A"}]}`, 400, "validation-failed"},
		{"unknown referral", "screen-referral", "NOPE", officer, "application/json", `{"outcome": "eligible"}`, 404, "not-found"},
		// A well-formed year the stream has no period for is no fault of the
		// body (it is 404, as the period's URL answers); a waitlisted
		// referral cannot change year (409): neither is a 400.
		{"year without a period", "allocate-referral", elig, officer, "application/json", noPeriod, 404, "not-found"},
		{"waitlisted moved to another year", "allocate-referral", wait, officer, "application/json", noPeriod, 409, "invalid-transition"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			rt := lcRoutes[tc.dir]
			resp := h.do(tc.dir, req{method: rt.method, route: rt.route, path: "/referrals/" + tc.id + "/" + rt.suffix,
				params: map[string]string{"id": tc.id}, body: tc.body, role: tc.who.role, partner: tc.who.partner,
				headers: map[string]string{"content-type": tc.ctype}})
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if got := decode(t, resp)["type"].(string); got[len(got)-len(tc.slug):] != tc.slug {
				t.Errorf("type %s, want …%s", got, tc.slug)
			}
		})
	} // Not one of the refusals changed the submitted referral.
	h.t = t
	if got := h.history(sub); len(got) != 1 || got[0].Action != "created" {
		t.Errorf("history of the refused referral: %+v", got)
	}
}

// TestLifecycleOutageAndRetry: during an outage the step is 503 with
// Retry-After and nothing changes; the retry with the same key completes
// once; a further retry replays the first answer byte for byte.
func TestLifecycleOutageAndRetry(t *testing.T) {
	h := newHarness(t, testenv.Options{MaxAttempts: 1})
	h.setCapacity(10)
	id := h.newReferral("OUT-1", 2, "normal")
	h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
	h.env.Dynamo.Server.EmulateFailure(server.FailureConditionInternalServerError)
	resp := h.step("allocate-referral", id, officer, `{}`, "alloc-1")
	h.env.Dynamo.Server.EmulateFailure(server.FailureConditionNone)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" {
		t.Fatalf("during outage: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if got := h.periodView()["reserved"]; got != 0.0 {
		t.Fatalf("reserved %v after the failed request", got)
	}
	first := h.step("allocate-referral", id, officer, `{}`, "alloc-1")
	if first.StatusCode != http.StatusOK || decode(t, first)["status"] != "allocated" {
		t.Fatalf("retry: %d %s", first.StatusCode, first.Body)
	}
	again := h.step("allocate-referral", id, officer, `{}`, "alloc-1")
	if again.StatusCode != http.StatusOK || again.Body != first.Body {
		t.Fatalf("replay: %d %s, want the first answer", again.StatusCode, again.Body)
	}
	if reused := h.step("allocate-referral", id, officer, `{"period": 2027}`, "alloc-1"); reused.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("same key, other body: %d", reused.StatusCode)
	}
	if got := h.periodView()["reserved"]; got != 3.0 {
		t.Errorf("reserved %v, want 3 (allocated once)", got)
	}
	if n := len(h.history(id)); n != 3 {
		t.Errorf("%d history events, want 3", n)
	}
}

// TestWaitlistSweep: a release whose immediate promotion never ran (the
// process died after the release) is repaired by the scheduled sweep.
func TestWaitlistSweep(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.setCapacity(4)
	big, small := h.newReferral("SW-BIG", 3, "normal"), h.newReferral("SW-SMALL", 1, "emergency")
	for _, id := range []string{big, small} {
		h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
	}
	h.mustStep("allocate-referral", big, officer, `{}`)
	if got := h.mustStep("allocate-referral", small, officer, `{}`); got != "waitlisted" {
		t.Fatalf("small: %s", got)
	}
	// The release runs without its promotion, as if the process died.
	withdraw := h.depsOf("withdraw-referral")
	promote := withdraw.Promote
	withdraw.Promote = func(context.Context, string, int) error { return nil }
	h.mustStep("withdraw-referral", big, officer, `{"reason": "defender-declined"}`)
	withdraw.Promote = promote
	if got := h.periodView()["waitlisted_persons"]; got != 2.0 {
		t.Fatalf("waitlisted %v before the sweep", got)
	}
	ev := events.EventBridgeEvent{Version: "0", ID: "sweep-1", DetailType: "Scheduled Event", Source: "aws.scheduler", Detail: json.RawMessage(`{}`)}
	payload, _ := json.Marshal(ev)
	out, err := lambda.NewHandler(api.WaitlistSweep(h.depsOf("waitlist-sweep"))).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if res["promoted"] != 1.0 || res["failed"] != 0.0 {
		t.Errorf("sweep result %v", res)
	}
	pv := h.periodView()
	if pv["reserved"] != 2.0 || pv["waitlisted_persons"] != 0.0 {
		t.Errorf("period after sweep: %v", pv)
	}
}

// TestUnchangedMoveIsBare: allocating a waitlisted referral that still does
// not fit changes nothing and answers the bare view: no names, no contact,
// so there is no read to audit.
func TestUnchangedMoveIsBare(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.setCapacity(2)
	id := h.newReferral("F3", 2, "normal")
	h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
	if got := h.mustStep("allocate-referral", id, officer, `{}`); got != "waitlisted" {
		t.Fatalf("allocate: %s, want waitlisted", got)
	}
	resp := h.step("allocate-referral", id, officer, `{}`, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("again: %d %s", resp.StatusCode, resp.Body)
	}
	got := decode(t, resp)
	if got["status"] != "waitlisted" || got["id"] != id {
		t.Errorf("again: %s", resp.Body)
	}
	for _, field := range []string{"principal", "family_members", "contact", "country_of_asylum", "defender_profile", "consent"} {
		if _, ok := got[field]; ok {
			t.Errorf("the unchanged answer carries %s", field)
		}
	}
	var in map[string]any
	json.Unmarshal([]byte(referralBody(t)), &in)
	principal, contact := in["principal"].(map[string]any), in["contact"].(map[string]any)
	for _, v := range []any{principal["given_name"], principal["family_name"], principal["date_of_birth"], contact["email"]} {
		if s, _ := v.(string); s == "" || strings.Contains(resp.Body, s) {
			t.Errorf("the unchanged answer shows %q: %s", s, resp.Body)
		}
	}
}
