package api_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
)

// holdStep is POST /referrals/{id}/hold.
func (h *harness) holdStep(id string, c caller, body, key string) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	hd := map[string]string{"content-type": "application/json"}
	if key != "" {
		hd["idempotency-key"] = key
	}
	return h.do("hold-referral", req{method: "POST", route: "POST /referrals/{id}/hold", path: "/referrals/" + id + "/hold",
		params: map[string]string{"id": id}, body: body, role: c.role, partner: c.partner, headers: hd})
}

// hold answers a hold request's holds, failing on anything but 200.
func (h *harness) hold(id string, c caller, body, key string) []any {
	h.t.Helper()
	resp := h.holdStep(id, c, body, key)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("hold %s: %d %s", body, resp.StatusCode, resp.Body)
	}
	return decode(h.t, resp)["holds"].([]any)
}

// Holds are set and lifted by staff, each change audited once; a lift
// without a reason leaves an open access request, which only a lift naming
// it ends; a request that changes nothing writes nothing.
func TestHoldReferral(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := h.newReferral("HOLD-1", 0, "normal")
	steps := []struct {
		c    caller
		body string
		want []any
	}{
		{officer, `{"hold": true, "reason": "legal-proceedings"}`, []any{"legal-proceedings"}},
		{admin, `{"hold": true, "reason": "access-request"}`, []any{"legal-proceedings", "access-request"}},
		{officer, `{"hold": true, "reason": "legal-proceedings"}`, []any{"legal-proceedings", "access-request"}}, // nothing
		{officer, `{"hold": false}`, []any{"access-request"}},
		{officer, `{"hold": false}`, []any{"access-request"}}, // nothing
		{officer, `{"hold": false, "reason": "access-request"}`, []any{}},
	}
	for i, s := range steps {
		if got := h.hold(id, s.c, s.body, ""); !cmp.Equal(got, s.want) {
			t.Errorf("step %d %s: holds %v, want %v", i, s.body, got, s.want)
		}
	}
	var got []hline
	for _, l := range h.history(id) {
		if l.Action != "created" {
			got = append(got, l)
		}
	}
	want := []hline{{"hold-set", "", "", 0, "officer"}, {"hold-set", "", "", 0, "admin"}, {"hold-lifted", "", "", 0, "officer"}, {"hold-lifted", "", "", 0, "officer"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	// Partners see their referral's history, not the holds on it.
	resp := h.do("referral-history", req{method: "GET", route: "GET /referrals/{id}/history", path: "/referrals/" + id + "/history",
		params: map[string]string{"id": id}, role: fld.role, partner: fld.partner})
	if items := decode(t, resp)["items"].([]any); resp.StatusCode != 200 || len(items) != 1 {
		t.Errorf("partner's history: %d %s, want the creation only", resp.StatusCode, resp.Body)
	}
}

func TestHoldReferralRefusals(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := h.newReferral("HOLD-2", 0, "normal")
	for _, tc := range []struct {
		name   string
		c      caller
		id     string
		body   string
		status int
		field  string
	}{
		{"partner", fld, id, `{"hold": true, "reason": "legal-proceedings"}`, 403, ""},
		{"no hold", officer, id, `{"reason": "legal-proceedings"}`, 400, "hold"},
		{"hold without reason", officer, id, `{"hold": true}`, 400, "reason"},
		{"unknown reason", officer, id, `{"hold": true, "reason": "because"}`, 400, "reason"},
		{"urgency reason", officer, id, `{"hold": false, "reason": "new-threat"}`, 400, "reason"},
		{"not a boolean", officer, id, `{"hold": "yes", "reason": "investigation"}`, 400, "hold"},
		{"unknown field", officer, id, `{"hold": true, "reason": "investigation", "until": "2030-01-01"}`, 400, "until"},
		{"repeated key", officer, id, `{"hold": true, "hold": false, "reason": "investigation"}`, 400, "hold"},
		{"null", officer, id, `{"hold": null}`, 400, "hold"},
		{"missing referral", officer, "01JDOESNOTEXIST0000000000", `{"hold": true, "reason": "investigation"}`, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.holdStep(tc.id, tc.c, tc.body, "")
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if tc.field != "" {
				errs := decode(t, resp)["errors"].([]any)
				if f := errs[0].(map[string]any)["field"]; f != tc.field {
					t.Errorf("error on %v, want %s: %s", f, tc.field, resp.Body)
				}
			}
		})
	}
	if got := h.history(id); len(got) != 1 {
		t.Errorf("refused requests wrote history: %v", got)
	}
	if got := h.hold(id, officer, `{"hold": false}`, ""); len(got) != 0 {
		t.Errorf("refused requests set holds: %v", got)
	}
}

// A retry with the same Idempotency-Key answers the first answer, though
// the hold is now set and the retry itself would change nothing; another
// body with the key is 422.
func TestHoldReferralIdempotent(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := h.newReferral("HOLD-3", 0, "normal")
	body := `{"hold": true, "reason": "investigation"}`
	first := h.holdStep(id, officer, body, "hold-key-1")
	h.hold(id, officer, `{"hold": true, "reason": "legal-proceedings"}`, "")
	again := h.holdStep(id, officer, body, "hold-key-1")
	if again.StatusCode != 200 || again.Body != first.Body {
		t.Errorf("retry: %d %s, want the first answer %s", again.StatusCode, again.Body, first.Body)
	}
	if other := h.holdStep(id, officer, `{"hold": false}`, "hold-key-1"); other.StatusCode != 422 {
		t.Errorf("another body with the key: %d %s, want 422", other.StatusCode, other.Body)
	}
	if n := len(h.history(id)); n != 3 {
		t.Errorf("%d history entries, want created and two holds", n)
	}
}
