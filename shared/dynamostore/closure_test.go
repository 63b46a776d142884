package dynamostore_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

func closure(year, to int) dynamostore.Closure {
	return dynamostore.Closure{Stream: "hrd", Year: year, CarryTo: to, ActorRole: "admin", Actor: "a", Nonce: "close-" + tick().String()}
}

// TestClosureDoneWhen is the scenario: closing 2026 with one
// waitlisted referral and carry_over_to 2027 puts it first in 2027's
// waitlist at its urgency (before a 2027 referral of the same urgency made
// later); an allocation into 2026 is then 409 period-closed.
func TestClosureDoneWhen(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 2)
	e.SetCapacity(t, "hrd", lcYear+1, 0)
	ctx := context.Background()
	for _, r := range []referral.Referral{
		lcReferral("HOLD", unhcr, referral.Normal, 1, tick()),
		lcReferral("OLD", fld, referral.Urgent, 0, tick()),
		lcReferral("NEW", fld, referral.Urgent, 0, tick()),
		lcReferral("LATE", fld, referral.Normal, 0, tick()),
	} {
		mustCreate(t, e.Store, r)
		drive(t, e.Store, r.ID, referral.Eligible)
	}
	drive(t, e.Store, "HOLD", referral.Allocated)
	drive(t, e.Store, "OLD", referral.Waitlisted) // 2026 is full
	st := step("NEW", referral.Allocated)
	st.Period = lcYear + 1
	if res, _, err := e.Store.Move(ctx, st, noRecord, tick()); err != nil || res.Referral.Status != referral.Waitlisted {
		t.Fatalf("NEW into 2027: %+v %v", res.Referral.Status, err)
	}
	// Without a target, a waitlist stops the closure.
	if _, err := e.Store.ClosePeriod(ctx, closure(lcYear, 0), tick); problem.KindOf(err) != problem.WaitlistNotEmpty {
		t.Fatalf("closure without target: %v", err)
	}
	res, err := e.Store.ClosePeriod(ctx, closure(lcYear, lcYear+1), tick)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"OLD"}, res.Carried); diff != "" {
		t.Errorf("carried (-want +got):\n%s", diff)
	}
	if !res.Period.Closed || res.Period.WaitlistedPersons != 0 {
		t.Errorf("closed period %+v", res.Period)
	}
	q, err := e.Store.Waitlist(ctx, "hrd", lcYear+1)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, w := range q {
		order = append(order, w.ID+"/"+string(w.Urgency))
	}
	if diff := cmp.Diff([]string{"OLD/urgent", "NEW/urgent"}, order); diff != "" {
		t.Errorf("2027 waitlist (-want +got):\n%s", diff)
	}
	old, _ := e.Store.Get(ctx, "OLD", "", dynamostore.Bare)
	if old.Period != lcYear+1 || old.Status != referral.Waitlisted {
		t.Errorf("OLD: %s in %d", old.Status, old.Period)
	}
	if h := history(t, e.Store, "OLD"); h[len(h)-1].Action != referral.ActionCarriedOver {
		t.Errorf("OLD history ends %+v, want carried-over", h[len(h)-1])
	}
	next, _ := e.Store.GetPeriod(ctx, "hrd", lcYear+1)
	if next.WaitlistedPersons != 2 {
		t.Errorf("2027 waitlisted persons %d, want 2", next.WaitlistedPersons)
	}
	// 2026 is closed: an allocation into it is refused, and so is a second
	// closure into a closed target.
	if _, err := move(ctx, e.Store, "LATE", referral.Allocated, tick()); problem.KindOf(err) != problem.PeriodClosed {
		t.Errorf("allocation into a closed period: %v", err)
	}
	if _, err := e.Store.ClosePeriod(ctx, closure(lcYear+1, lcYear), tick); problem.KindOf(err) != problem.PeriodClosed {
		t.Errorf("carry into a closed period: %v", err)
	}
	// Resumable: closing again carries nothing more and changes nothing.
	res, err = e.Store.ClosePeriod(ctx, closure(lcYear, lcYear+1), tick)
	if err != nil || len(res.Carried) != 0 {
		t.Errorf("second closure: %+v %v", res, err)
	}
	// Releases still work in a closed period.
	drive(t, e.Store, "HOLD", referral.Withdrawn)
}

// TestReferenceReleased: a referral that ends withdrawn, ineligible or
// refused releases its partner_reference; a new referral with it is
// accepted and its creation names the earlier one. An arrived (or live)
// referral keeps it: duplicate-referral.
func TestReferenceReleased(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 10)
	ctx := context.Background()
	again := func(id, prev string) referral.Referral {
		r := lcReferral(id, fld, referral.Normal, 0, tick())
		r.PartnerReference = "REF-" + prev
		return r
	}
	for _, tt := range []struct {
		name     string
		path     []referral.Status
		released bool
	}{
		{"withdrawn", []referral.Status{referral.Withdrawn}, true},
		{"ineligible", []referral.Status{referral.Ineligible}, true},
		{"refused", []referral.Status{referral.Eligible, referral.Allocated, referral.Refused}, true},
		{"arrived", []referral.Status{referral.Eligible, referral.Allocated, referral.Approved, referral.Arrived}, false},
		{"live", []referral.Status{referral.Eligible}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first := "R1-" + tt.name
			mustCreate(t, e.Store, lcReferral(first, fld, referral.Normal, 0, tick()))
			drive(t, e.Store, first, tt.path...)
			r := again("R2-"+tt.name, first)
			_, err := e.Store.Create(ctx, r, referral.Event{At: r.CreatedAt, Action: referral.ActionCreated, ToStatus: referral.Submitted, ActorRole: "partner"}, nil, r.CreatedAt)
			if !tt.released {
				if problem.KindOf(err) != problem.DuplicateReferral {
					t.Fatalf("reference kept: %v, want duplicate-referral", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("reference released: %v", err)
			}
			evs, err := e.Store.History(ctx, r.ID)
			if err != nil || len(evs) == 0 || evs[0].Previous != first {
				t.Fatalf("history of the new referral %+v %v, want its creation to name %s", evs, err, first)
			}
			// The new one holds the reference now: a third is a duplicate of it.
			third := again("R3-"+tt.name, first)
			_, err = e.Store.Create(ctx, third, referral.Event{At: third.CreatedAt, Action: referral.ActionCreated, ToStatus: referral.Submitted, ActorRole: "partner"}, nil, third.CreatedAt)
			var pe *problem.Error
			if !errorsAs(err, &pe) || pe.Kind != problem.DuplicateReferral || pe.Extra["existing_id"] != r.ID {
				t.Errorf("third: %v, want duplicate of %s", err, r.ID)
			}
		})
	}
}

// TestUrgencyRevision: an officer's new urgency moves a waitlisted
// referral to its new place in the same transaction, audited with its
// reason; a terminal referral cannot change.
func TestUrgencyRevision(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 0)
	ctx := context.Background()
	for _, r := range []referral.Referral{
		lcReferral("FIRST", fld, referral.Urgent, 0, tick()),
		lcReferral("SECOND", unhcr, referral.Normal, 0, tick()),
	} {
		mustCreate(t, e.Store, r)
		drive(t, e.Store, r.ID, referral.Eligible, referral.Waitlisted)
	}
	st := dynamostore.Step{ID: "SECOND", Urgency: referral.Emergency, Reason: "new-threat", Action: referral.ActionUrgency, ActorRole: "officer", Nonce: "u1"}
	res, _, err := e.Store.Move(ctx, st, noRecord, tick())
	if err != nil || res.Referral.Urgency != referral.Emergency || res.Referral.Status != referral.Waitlisted {
		t.Fatalf("revise: %+v %v", res.Referral, err)
	}
	q, err := e.Store.Waitlist(ctx, "hrd", lcYear)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, w := range q {
		order = append(order, w.ID+"/"+string(w.Urgency))
	}
	if diff := cmp.Diff([]string{"SECOND/emergency", "FIRST/urgent"}, order); diff != "" {
		t.Errorf("waitlist (-want +got):\n%s", diff)
	}
	evs, _ := e.Store.History(ctx, "SECOND")
	if last := evs[len(evs)-1]; last.Action != referral.ActionUrgency || last.Reason != "new-threat" {
		t.Errorf("audit %+v", last)
	}
	drive(t, e.Store, "FIRST", referral.Withdrawn)
	st.ID, st.Nonce = "FIRST", "u2"
	if _, _, err := e.Store.Move(ctx, st, noRecord, tick()); problem.KindOf(err) != problem.InvalidTransition {
		t.Errorf("terminal: %v", err)
	}
	checkWaitlist(t, e.Store, []string{"FIRST", "SECOND"})
}
