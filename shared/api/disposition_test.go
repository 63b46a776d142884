package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/retention"
	"github.com/haven-hrd/haven/shared/s3store"
	"github.com/haven-hrd/haven/shared/steps"
)

// scheduled runs a scheduled function of dir and decodes its result into v.
func (h *harness) scheduled(dir string, v any) {
	h.t.Helper()
	out, err := lambda.NewHandler(steps.ByDir[dir](h.depsOf(dir))).Invoke(context.Background(), []byte(`{"source":"aws.scheduler"}`))
	if err != nil {
		h.t.Fatalf("%s: %v", dir, err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		h.t.Fatalf("%s: %v: %s", dir, err, out)
	}
}

// rawTable is every item of the table as stored, by pk and sk.
func (h *harness) rawTable() map[string]map[string]any {
	h.t.Helper()
	out := map[string]map[string]any{}
	p := dynamodb.NewScanPaginator(h.env.DB, &dynamodb.ScanInput{TableName: aws.String(h.env.Table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		for _, raw := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(raw, &m); err != nil {
				h.t.Fatal(err)
			}
			out[fmt.Sprint(m["pk"], " ", m["sk"])] = m
		}
	}
	return out
}

// reportSummaries are the daily report's summary.json objects, without
// their generation time.
func (h *harness) reportSummaries() map[string]any {
	h.t.Helper()
	var res jobs.ReportResult
	h.scheduled("daily-report", &res)
	// Read back as the test, not as the function (which may only write).
	b := s3store.New(jobs.S3Client(h.env.Deps(nil, nil)), h.depsOf("daily-report").ReportsBucket)
	out := map[string]any{}
	for _, k := range res.Keys {
		if !strings.HasSuffix(k, "summary.json") {
			continue
		}
		body, err := b.Get(context.Background(), k)
		if err != nil {
			h.t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		delete(m, "generated_at")
		out[k] = m
	}
	return out
}

func (h *harness) getReferral(id string, c caller) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	return h.do("get-referral", req{method: "GET", route: "GET /referrals/{id}", path: "/referrals/" + id,
		params: map[string]string{"id": id}, role: c.role, partner: c.partner})
}

// The done-when, without the per-referral key: with
// retention_days 0 after a referral ended, one run of the disposition
// disposes a withdrawn referral — its sealed attributes, fingerprint,
// reads, stored answers and reference claim gone from the raw table, a
// tombstone and its history kept, GET 410 — while counters and the daily
// report do not move; held referrals (a legal hold, an open access
// request) and running ones are kept; a second run changes nothing.
func TestDisposition(t *testing.T) {
	h := newHarness(t, testenv.Options{S3: true})
	ctx := context.Background()
	if err := h.env.Store.PutStream(ctx, dynamostore.Stream{ID: "hrd", Name: "HRD", Open: true, Partners: testenv.Partners,
		RetentionEndedDays: retention.Days(0)}); err != nil {
		t.Fatal(err)
	}
	h.setCapacity(10)
	withdraw := func(ref, key string) string {
		id := h.newReferral(ref, 1, "urgent")
		h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
		h.mustStep("allocate-referral", id, officer, `{}`)
		if resp := h.step("withdraw-referral", id, fld, `{"reason": "resettled-elsewhere"}`, key); resp.StatusCode != 200 {
			t.Fatalf("withdraw %s: %d %s", ref, resp.StatusCode, resp.Body)
		}
		return id
	}
	gone := withdraw("DISP-GONE", "disp-withdraw-key")
	for _, c := range []caller{officer, fld} {
		if resp := h.getReferral(gone, c); resp.StatusCode != 200 {
			t.Fatalf("read: %d", resp.StatusCode)
		}
	}
	held := withdraw("DISP-HELD", "")
	h.hold(held, officer, `{"hold": true, "reason": "legal-proceedings"}`, "")
	asked := withdraw("DISP-ASKED", "")
	h.hold(asked, officer, `{"hold": true, "reason": "access-request"}`, "")
	running := h.newReferral("DISP-RUNNING", 2, "normal")
	h.mustStep("screen-referral", running, officer, `{"outcome": "eligible"}`)
	h.mustStep("allocate-referral", running, officer, `{}`)

	period, report, before := h.periodView(), h.reportSummaries(), h.rawTable()
	// A copy of the referral table from before the run, as a backup or a
	// point-in-time restore would hold it, read with the current keys.
	backup := dynamostore.New(h.env.DB, h.env.CopyTable(t, h.env.Table+"-before-disposition"), h.env.Sealer).WithKeyTable(h.env.KeyTable)
	if _, err := backup.Get(ctx, gone, "", dynamostore.Whole); err != nil {
		t.Fatalf("the copy, before the run: %v", err)
	}
	var res api.DispositionResult
	h.scheduled("disposition", &res)
	if diff := cmp.Diff(api.DispositionResult{Scanned: 4, Disposed: 1, Held: 2}, res); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}
	after := h.rawTable()

	// What is left of the disposed referral, raw.
	tomb := after["REF#"+gone+" A"]
	for _, a := range []string{"pii_people", "pii_asylum", "pii_profile", "pii_contact", "partner_reference", "fingerprint", "preferred_language", "consent_date"} {
		if _, ok := tomb[a]; ok {
			t.Errorf("tombstone keeps %s", a)
		}
	}
	for _, a := range []string{"stream", "partner", "status", "persons", "period", "reasons", "created_at", "disposed_at"} {
		if _, ok := tomb[a]; !ok {
			t.Errorf("tombstone lacks %s", a)
		}
	}
	var removed, changed []string
	for k, v := range before {
		switch w, ok := after[k]; {
		case !ok:
			removed = append(removed, strings.SplitN(k, "#", 2)[0])
		case !cmp.Equal(v, w) && k != "REF#"+gone+" A":
			changed = append(changed, k)
		}
	}
	if len(changed) > 0 {
		t.Errorf("items changed beside the tombstone: %v", changed)
	}
	// Its fingerprint, claim, two reads, the stored answer of its
	// withdrawal and the link to it; nothing of another referral.
	if diff := cmp.Diff([]string{"FP", "IDEM", "PREF", "REF", "REF", "REF"}, removed, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	for k := range after {
		if strings.HasPrefix(k, "REF#"+gone+" ") && !strings.HasPrefix(k, "REF#"+gone+" EV#") && k != "REF#"+gone+" A" {
			t.Errorf("left in its partition: %s", k)
		}
	}

	// Its data key is gone from the key table, so the copy no longer opens
	// it; the other referrals of the same copy still open.
	keyItem := func(id string) map[string]ddb.AttributeValue {
		out, err := h.env.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(h.env.KeyTable),
			Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "KEY#" + id}}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	if keyItem(gone) != nil || keyItem(held) == nil {
		t.Errorf("key table: disposed referral's key %v, held referral's key present %v", keyItem(gone) != nil, keyItem(held) != nil)
	}
	if _, err := backup.Get(ctx, gone, "", dynamostore.Whole); err == nil {
		t.Errorf("the copy still opens the disposed referral")
	}
	for _, id := range []string{held, asked, running} {
		if r, err := backup.Get(ctx, id, "", dynamostore.Whole); err != nil || r.Principal.FamilyName == "" {
			t.Errorf("the copy no longer opens %s: %v", id, err)
		}
	}

	// Counters and the daily report do not move.
	if diff := cmp.Diff(period, h.periodView()); diff != "" {
		t.Errorf("period changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(report, h.reportSummaries()); diff != "" {
		t.Errorf("daily report changed (-before +after):\n%s", diff)
	}

	// 410 with the tombstone, to staff and to its own partner; another
	// partner still learns nothing. Its history stays, disposal last.
	for _, c := range []caller{officer, fld} {
		resp := h.getReferral(gone, c)
		body := decode(t, resp)
		tb, _ := body["tombstone"].(map[string]any)
		if resp.StatusCode != http.StatusGone || tb["id"] != gone || tb["status"] != "withdrawn" || tb["persons"] != 2.0 {
			t.Errorf("GET as %s: %d %s, want 410 with the tombstone", c.role, resp.StatusCode, resp.Body)
		}
	}
	if resp := h.getReferral(gone, unhcr); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another partner: %d", resp.StatusCode)
	}
	if hist := h.history(gone); hist[len(hist)-1] != (hline{referral.ActionDisposed, "withdrawn", "withdrawn", 0, "disposition"}) {
		t.Errorf("history ends %v, want disposed", hist[len(hist)-1])
	}
	if resp := h.holdStep(gone, officer, `{"hold": true, "reason": "investigation"}`, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("hold on a tombstone: %d, want 410", resp.StatusCode)
	}

	// A second run changes nothing.
	settled := h.rawTable()
	h.scheduled("disposition", &res)
	if diff := cmp.Diff(api.DispositionResult{Scanned: 4, Held: 2}, res); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(settled, h.rawTable()); diff != "" {
		t.Errorf("second run changed the table:\n%s", diff)
	}

	// Lifting every legal hold frees the first; the open access request
	// keeps the second until it is answered.
	h.hold(held, officer, `{"hold": false}`, "")
	h.hold(asked, officer, `{"hold": false}`, "")
	h.scheduled("disposition", &res)
	if diff := cmp.Diff(api.DispositionResult{Scanned: 4, Disposed: 1, Held: 1}, res); diff != "" {
		t.Errorf("after lifting (-want +got):\n%s", diff)
	}
	h.hold(asked, officer, `{"hold": false, "reason": "access-request"}`, "")
	h.scheduled("disposition", &res)
	if res.Disposed != 1 {
		t.Errorf("after answering the access request: %+v", res)
	}
	if resp := h.getReferral(running, officer); resp.StatusCode != 200 {
		t.Errorf("running referral: %d", resp.StatusCode)
	}
}

// A referral read more often than one transaction can clear is disposed in
// several transactions, each conditioned on the version read.
func TestDispositionOfAMuchReadReferral(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	ctx := context.Background()
	if err := h.env.Store.PutStream(ctx, dynamostore.Stream{ID: "hrd", Name: "HRD", Open: true, Partners: testenv.Partners,
		RetentionEndedDays: retention.Days(0)}); err != nil {
		t.Fatal(err)
	}
	id := h.newReferral("DISP-READ", 0, "normal")
	h.mustStep("screen-referral", id, officer, `{"outcome": "ineligible", "reasons": ["no-protection-risk"]}`)
	for i := 0; i < 230; i++ {
		if err := h.env.Store.RecordRead(ctx, id, referral.Event{At: h.now(), ActorRole: "officer", Actor: "sub"}, fmt.Sprint("n", i)); err != nil {
			t.Fatal(err)
		}
	}
	var res api.DispositionResult
	h.scheduled("disposition", &res)
	if res.Disposed != 1 {
		t.Fatalf("%+v, want disposed", res)
	}
	for k := range h.rawTable() {
		if strings.HasPrefix(k, "REF#"+id+" READ#") {
			t.Fatalf("a read is left: %s", k)
		}
	}
}

// A schedule set by hand on a stream's item (AWS) and out of range keeps
// that stream's referrals: disposition does not guess what was meant.
func TestDispositionSkipsABadSchedule(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := h.newReferral("DISP-BAD", 0, "normal")
	h.mustStep("withdraw-referral", id, fld, `{"reason": "defender-declined"}`)
	for _, days := range []string{"-1", "0"} {
		if _, err := h.env.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName:                 aws.String(h.env.Table),
			Key:                       map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "STREAM#hrd"}, "sk": &ddb.AttributeValueMemberS{Value: "A"}},
			UpdateExpression:          aws.String("SET retention_ended_days = :d"),
			ExpressionAttributeValues: map[string]ddb.AttributeValue{":d": &ddb.AttributeValueMemberN{Value: days}},
		}); err != nil {
			t.Fatal(err)
		}
		var res api.DispositionResult
		h.scheduled("disposition", &res)
		if want := days == "0"; (res.Disposed == 1) != want {
			t.Errorf("retention_ended_days %s: %+v, disposed %v", days, res, want)
		}
	}
}
