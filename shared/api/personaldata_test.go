package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/export"
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/reason"
	"github.com/haven-hrd/haven/shared/retention"
	"github.com/haven-hrd/haven/shared/s3store"
)

func (h *harness) personalData(id string, c caller) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	return h.do("personal-data", req{method: "GET", route: "GET /referrals/{id}/personal-data", path: "/referrals/" + id + "/personal-data",
		params: map[string]string{"id": id}, role: c.role, partner: c.partner})
}

// The personal-data document holds everything written for the referral:
// compared with the raw table (every event, every read, every list page that
// showed it), the referral as the API shows it, the partner's export
// manifests and the holds — labels in the person's language (French here).
// Fetching it opens an access request that holds disposition until an
// officer lifts that hold by name.
func TestPersonalData(t *testing.T) {
	h := newHarness(t, testenv.Options{S3: true})
	ctx := context.Background()
	body := withField(t, referralBody(t), "preferred_language", "fr")
	body = withField(t, body, "partner_reference", "PD-1")
	resp := h.create(body, fld.partner, "pd-create-key")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Body)
	}
	id := decode(t, resp)["id"].(string)
	h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
	h.mustStep("revise-urgency", id, officer, `{"urgency": "emergency", "reason": "new-threat"}`)
	h.mustStep("change-family", id, fld, familyBody(2))
	h.getReferral(id, fld)
	h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", role: "officer"})
	h.hold(id, officer, `{"hold": true, "reason": "legal-proceedings"}`, "")
	var exp jobs.ExportResult
	h.scheduled("partner-export", &exp)
	view := decode(t, h.getReferral(id, officer))
	delete(view, "possible_duplicates")

	if resp := h.personalData(id, fld); resp.StatusCode != http.StatusForbidden {
		t.Errorf("partner: %d, want 403", resp.StatusCode)
	}
	resp = h.personalData(id, officer)
	if resp.StatusCode != http.StatusOK || resp.Headers["Content-Language"] != "fr" {
		t.Fatalf("officer: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var doc struct {
		Language string         `json:"language"`
		Referral map[string]any `json:"referral"`
		Holds    []struct{ Code, Label string }
		History  []struct {
			Action string
			Reason *struct{ Code, Label string }
		}
		Reads   []struct{ What string }
		Exports []struct {
			Manifest string
			Files    []export.File
		}
	}
	if err := json.Unmarshal([]byte(resp.Body), &doc); err != nil {
		t.Fatal(err)
	}

	// Its fields: exactly the referral as the API shows it, every sealed
	// attribute opened.
	if diff := cmp.Diff(view, doc.Referral); diff != "" {
		t.Errorf("referral (-view +document):\n%s", diff)
	}
	// Its history and reads: what the raw table holds under its key, and
	// the list pages (by day) that showed it.
	var events, reads []string
	for k, item := range h.rawTable() {
		switch {
		case strings.HasPrefix(k, "REF#"+id+" EV#"):
			events = append(events, item["action"].(string))
		case strings.HasPrefix(k, "REF#"+id+" READ#"):
			reads = append(reads, "referral")
		case strings.HasPrefix(k, "READS#") && strings.Contains(strings.Join(toStrings(item["referral_ids"]), " "), id):
			reads = append(reads, "list")
		}
	}
	var gotEvents, gotReads []string
	for _, e := range doc.History {
		gotEvents = append(gotEvents, e.Action)
	}
	for _, r := range doc.Reads {
		gotReads = append(gotReads, r.What)
	}
	sorted := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	if diff := cmp.Diff(events, gotEvents, sorted); diff != "" || len(events) != 6 {
		t.Errorf("history (-table +document), %d events:\n%s", len(events), diff)
	}
	if diff := cmp.Diff(reads, gotReads, sorted); diff != "" || len(reads) != 4 {
		t.Errorf("reads (-table +document), %d reads:\n%s", len(reads), diff)
	}
	// Labels in French: the holds, the urgency's reason.
	fr := func(code string) string { lb, _ := reason.LabelOf(code); return lb.FR }
	wantHolds := []struct{ Code, Label string }{{"legal-proceedings", fr("legal-proceedings")}, {"access-request", fr("access-request")}}
	if diff := cmp.Diff(wantHolds, doc.Holds); diff != "" || doc.Language != "fr" {
		t.Errorf("holds (-want +got), language %s:\n%s", doc.Language, diff)
	}
	for _, e := range doc.History {
		if e.Action == "urgency-changed" && (e.Reason == nil || e.Reason.Label != fr("new-threat")) {
			t.Errorf("urgency reason %+v, want the French label", e.Reason)
		}
	}
	// The exports that included it: the partner's one manifest.
	b := s3store.New(jobs.S3Client(h.env.Deps(nil, nil)), h.depsOf("partner-export").ExportsBucket)
	raw, err := b.Get(ctx, export.Prefix(fld.partner, "2026-11-27")+export.ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	var m export.Manifest
	json.Unmarshal(raw, &m)
	if len(doc.Exports) != 1 || doc.Exports[0].Manifest != export.Prefix(fld.partner, "2026-11-27")+export.ManifestName || !cmp.Equal(doc.Exports[0].Files, m.Files) {
		t.Errorf("exports %+v, want the manifest %+v", doc.Exports, m)
	}

	// Asking again opens no second request.
	h.personalData(id, officer)
	n := 0
	for _, l := range h.history(id) {
		if l.Action == "hold-set" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d holds set, want legal-proceedings and one access request", n)
	}

	// The open access request holds disposition; answered (lifted by
	// name), the referral may go.
	if err := h.env.Store.PutStream(ctx, dynamostore.Stream{ID: "hrd", Name: "HRD", Open: true, Partners: testenv.Partners,
		RetentionEndedDays: retention.Days(0)}); err != nil {
		t.Fatal(err)
	}
	h.mustStep("withdraw-referral", id, fld, `{"reason": "defender-declined"}`)
	h.hold(id, officer, `{"hold": false}`, "")
	var res api.DispositionResult
	h.scheduled("disposition", &res)
	if res.Disposed != 0 || res.Held != 1 {
		t.Errorf("with the access request open: %+v, want held", res)
	}
	h.hold(id, officer, `{"hold": false, "reason": "access-request"}`, "")
	h.scheduled("disposition", &res)
	if res.Disposed != 1 {
		t.Errorf("once answered: %+v, want disposed", res)
	}
	if resp := h.personalData(id, officer); resp.StatusCode != http.StatusGone {
		t.Errorf("after disposal: %d, want 410", resp.StatusCode)
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
