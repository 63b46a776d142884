package dynamostore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// queueIDs reads a whole queue page by page (limit per page) and returns
// the ids in order with their persons.
func queueIDs(t testing.TB, s *dynamostore.Store, f dynamostore.QueueFilter, limit int) []string {
	t.Helper()
	var out []string
	var from map[string]string
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatalf("queue %+v does not end", f)
		}
		page, err := s.Queue(context.Background(), f, limit, from)
		if err != nil {
			t.Fatalf("queue %+v: %v", f, err)
		}
		if len(page.Items) > limit {
			t.Fatalf("queue %+v: %d items on a page of %d", f, len(page.Items), limit)
		}
		for _, it := range page.Items {
			out = append(out, fmt.Sprintf("%s/%d", it.ReferralID, it.Persons))
		}
		if page.Next == nil {
			return out
		}
		from = page.Next
	}
}

// checkQueues: every referral in a work state is in its queue (and its
// partner's) exactly once, and no queue holds anything else.
func checkQueues(t testing.TB, s *dynamostore.Store, ids []string, year int) {
	t.Helper()
	want := map[string][]string{}
	for _, id := range ids {
		r, err := s.Get(context.Background(), id, "", dynamostore.Bare)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range dynamostore.QueueStates {
			if r.Status == st {
				row := fmt.Sprintf("%s/%d", r.ID, r.Persons)
				want[string(st)] = append(want[string(st)], row)
				want[string(st)+"#"+r.Partner] = append(want[string(st)+"#"+r.Partner], row)
			}
		}
	}
	got := map[string][]string{}
	for _, st := range dynamostore.QueueStates {
		f := dynamostore.QueueFilter{Status: st, Stream: "hrd", Period: year}
		if rows := queueIDs(t, s, f, 2); len(rows) > 0 {
			got[string(st)] = rows
		}
		for _, p := range testenv.Partners {
			f.Partner = p
			if rows := queueIDs(t, s, f, 2); len(rows) > 0 {
				got[string(st)+"#"+p] = rows
			}
		}
	}
	sortRows := cmp.Transformer("sort", func(in []string) map[string]int {
		m := map[string]int{}
		for _, r := range in {
			m[r]++
		}
		return m
	})
	if diff := cmp.Diff(want, got, sortRows); diff != "" {
		t.Errorf("queues (-want +got):\n%s", diff)
	}
}

func TestQueues(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 6)
	ctx := context.Background()
	const unhcr, fld, pde = "unhcr", "front-line-defenders", "protectdefenders-eu"
	for _, c := range []struct {
		id      string
		partner string
		u       referral.Urgency
		family  int
		path    []referral.Status
	}{
		{"SUB-N", unhcr, referral.Normal, 0, nil},
		{"SUB-E", fld, referral.Emergency, 1, nil},
		{"SUB-U", unhcr, referral.Urgent, 0, nil},
		{"ELI", pde, referral.Urgent, 0, []referral.Status{referral.Eligible}},
		{"ALLOC", unhcr, referral.Normal, 2, []referral.Status{referral.Eligible, referral.Allocated}},
		{"APPR", fld, referral.Normal, 1, []referral.Status{referral.Eligible, referral.Allocated, referral.Approved}},
		{"ARR", fld, referral.Normal, 0, []referral.Status{referral.Eligible, referral.Allocated, referral.Approved, referral.Arrived}},
		{"WAIT-N", pde, referral.Normal, 3, []referral.Status{referral.Eligible, referral.Waitlisted}},
		{"WAIT-E", unhcr, referral.Emergency, 0, []referral.Status{referral.Eligible, referral.Waitlisted}},
		{"GONE", pde, referral.Normal, 0, []referral.Status{referral.Withdrawn}},
	} {
		mustCreate(t, e.Store, lcReferral(c.id, c.partner, c.u, c.family, tick()))
		drive(t, e.Store, c.id, c.path...)
	}
	ids := []string{"SUB-N", "SUB-E", "SUB-U", "ELI", "ALLOC", "APPR", "WAIT-N", "WAIT-E", "ARR", "GONE"}

	// Order, filters and paging, each a page of at most 2.
	for _, c := range []struct {
		name string
		f    dynamostore.QueueFilter
		want []string
	}{
		{"screening: emergency, urgent, normal", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd"}, []string{"SUB-E/2", "SUB-U/1", "SUB-N/1"}},
		{"screening of one partner", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd", Partner: unhcr}, []string{"SUB-U/1", "SUB-N/1"}},
		{"screening, urgent only", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd", Urgency: referral.Urgent}, []string{"SUB-U/1"}},
		{"partner and urgency", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd", Partner: unhcr, Urgency: referral.Emergency}, nil},
		{"allocation", dynamostore.QueueFilter{Status: referral.Eligible, Stream: "hrd"}, []string{"ELI/1"}},
		{"waitlist in promotion order", dynamostore.QueueFilter{Status: referral.Waitlisted, Stream: "hrd", Period: lcYear}, []string{"WAIT-E/1", "WAIT-N/4"}},
		{"decision", dynamostore.QueueFilter{Status: referral.Allocated, Stream: "hrd", Period: lcYear}, []string{"ALLOC/3"}},
		{"arrival", dynamostore.QueueFilter{Status: referral.Approved, Stream: "hrd", Period: lcYear}, []string{"APPR/2"}},
		{"another period", dynamostore.QueueFilter{Status: referral.Approved, Stream: "hrd", Period: lcYear + 1}, nil},
		{"another stream", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "closed-stream"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 100} {
				if diff := cmp.Diff(c.want, queueIDs(t, e.Store, c.f, limit)); diff != "" {
					t.Errorf("limit %d (-want +got):\n%s", limit, diff)
				}
			}
		})
	}
	checkQueues(t, e.Store, ids, lcYear)
	// The queue entry sits in the referral's partition: history is still
	// only events (and reads).
	for _, reads := range []bool{false, true} {
		if _, evs, err := e.Store.HistoryOf(ctx, "SUB-N", "", reads); err != nil || len(evs) != 1 || evs[0].Action != referral.ActionCreated {
			t.Errorf("history of a queued referral (reads %v): %+v %v", reads, evs, err)
		}
	}

	// A waitlisted row says why it waits; a queue row carries the reference.
	page, err := e.Store.Queue(ctx, dynamostore.QueueFilter{Status: referral.Waitlisted, Stream: "hrd", Period: lcYear}, 10, nil)
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("waitlist page: %+v %v", page, err)
	}
	if it := page.Items[0]; it.WaitReason == "" || it.PartnerReference != "REF-WAIT-E" || it.Period != lcYear || it.Urgency != referral.Emergency {
		t.Errorf("waitlisted row %+v", it)
	}

	// Every kind of move keeps the queues exact: family changes (re-put in
	// place, resized on the waitlist), an urgency revision (a new place),
	// a release and the promotion it allows, ends.
	if _, _, err := e.Store.ChangeFamily(ctx, dynamostore.FamilyChange{ID: "SUB-N", Members: members(2), ActorRole: "partner", Nonce: "f1"}, noRecord, tick()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Store.ChangeFamily(ctx, dynamostore.FamilyChange{ID: "WAIT-N", Members: members(1), ActorRole: "partner", Nonce: "f2"}, noRecord, tick()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Store.Move(ctx, dynamostore.Step{ID: "SUB-U", Urgency: referral.Emergency, Reason: "new-threat", Action: referral.ActionUrgency, ActorRole: "officer", Nonce: "u1"}, noRecord, tick()); err != nil {
		t.Fatal(err)
	}
	checkQueues(t, e.Store, ids, lcYear)
	if diff := cmp.Diff([]string{"SUB-E/2", "SUB-U/1", "SUB-N/3"}, queueIDs(t, e.Store, dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd"}, 5)); diff != "" {
		t.Errorf("screening after changes (-want +got):\n%s", diff)
	}
	drive(t, e.Store, "ALLOC", referral.Withdrawn)
	if n, err := e.Store.Promote(ctx, "hrd", lcYear, tick); err != nil || n != 2 {
		t.Fatalf("promote: %d %v", n, err)
	}
	if diff := cmp.Diff([]string{"WAIT-E/1", "WAIT-N/2"}, queueIDs(t, e.Store, dynamostore.QueueFilter{Status: referral.Allocated, Stream: "hrd", Period: lcYear}, 5)); diff != "" {
		t.Errorf("decision queue after promotion (-want +got):\n%s", diff)
	}
	drive(t, e.Store, "APPR", referral.Arrived)
	drive(t, e.Store, "SUB-E", referral.Ineligible)
	drive(t, e.Store, "ELI", referral.Withdrawn)
	checkQueues(t, e.Store, ids, lcYear)
}

func TestQueueRefusals(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 6)
	ctx := context.Background()
	for _, id := range []string{"A", "B", "C"} {
		mustCreate(t, e.Store, lcReferral(id, "unhcr", referral.Normal, 0, tick()))
	}
	page, err := e.Store.Queue(ctx, dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd"}, 1, nil)
	if err != nil || page.Next == nil {
		t.Fatalf("first page: %+v %v", page, err)
	}
	for _, c := range []struct {
		name string
		f    dynamostore.QueueFilter
		from map[string]string
	}{
		{"not a work state", dynamostore.QueueFilter{Status: referral.Arrived, Stream: "hrd"}, nil},
		{"no stream", dynamostore.QueueFilter{Status: referral.Submitted}, nil},
		{"period missing", dynamostore.QueueFilter{Status: referral.Allocated, Stream: "hrd"}, nil},
		{"unknown urgency", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd", Urgency: "soon"}, nil},
		{"cursor of another queue", dynamostore.QueueFilter{Status: referral.Eligible, Stream: "hrd"}, page.Next},
		{"cursor of another urgency", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd", Urgency: referral.Emergency}, page.Next},
		{"cursor without the partner index", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd", Partner: "unhcr"}, page.Next},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := e.Store.Queue(ctx, c.f, 10, c.from); problem.KindOf(err) != problem.Validation {
				t.Errorf("got %v, want a validation error", err)
			}
		})
	}
	if id, err := e.Store.ReferenceOwner(ctx, "unhcr", "REF-B"); err != nil || id != "B" {
		t.Errorf("lookup by reference: %q %v", id, err)
	}
	for _, c := range [][2]string{{"unhcr", "REF-X"}, {"front-line-defenders", "REF-B"}, {"UNHCR", "REF-B"}, {"", "REF-B"}, {"unhcr", ""}} {
		if _, err := e.Store.ReferenceOwner(ctx, c[0], c[1]); problem.KindOf(err) != problem.NotFound {
			t.Errorf("lookup %v: %v, want not found", c, err)
		}
	}
}
