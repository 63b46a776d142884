package quota

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

func TestChange(t *testing.T) {
	tests := []struct {
		name     string
		from     referral.Status
		fromN    int
		to       referral.Status
		toN      int
		want     Delta
		wantNeed int
	}{
		{"allocate", referral.Eligible, 5, referral.Allocated, 5, Delta{Reserved: 5}, 5},
		{"waitlist", referral.Eligible, 5, referral.Waitlisted, 5, Delta{Waitlisted: 5}, 0},
		{"promote", referral.Waitlisted, 3, referral.Allocated, 3, Delta{Reserved: 3, Waitlisted: -3}, 3},
		{"approve holds the same", referral.Allocated, 4, referral.Approved, 4, Delta{}, 0},
		{"arrive moves reserved to arrived", referral.Approved, 4, referral.Arrived, 4, Delta{Reserved: -4, Arrived: 4}, 0},
		{"refuse gives back", referral.Allocated, 4, referral.Refused, 4, Delta{Reserved: -4}, 0},
		{"withdraw approved gives back", referral.Approved, 2, referral.Withdrawn, 2, Delta{Reserved: -2}, 0},
		{"withdraw waitlisted", referral.Waitlisted, 2, referral.Withdrawn, 2, Delta{Waitlisted: -2}, 0},
		{"family grows while held", referral.Allocated, 2, referral.Allocated, 5, Delta{Reserved: 3}, 3},
		{"family shrinks while held", referral.Allocated, 5, referral.Allocated, 2, Delta{Reserved: -3}, 0},
		{"family grows before allocation", referral.Submitted, 2, referral.Submitted, 5, Delta{}, 0},
	}
	for _, tt := range tests {
		got := Change(tt.from, tt.fromN, tt.to, tt.toN)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		if got.Need() != tt.wantNeed {
			t.Errorf("%s: need %d, want %d", tt.name, got.Need(), tt.wantNeed)
		}
	}
}

func TestWaitlistOrderAndPromotion(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := []Waiting{
		{ID: "n-old", Urgency: referral.Normal, Created: t0, Persons: 2},
		{ID: "e-big", Urgency: referral.Emergency, Created: t0.Add(3 * time.Hour), Persons: 6},
		{ID: "u", Urgency: referral.Urgent, Created: t0.Add(time.Hour), Persons: 3},
		{ID: "e-small", Urgency: referral.Emergency, Created: t0.Add(4 * time.Hour), Persons: 1},
		{ID: "n-new", Urgency: referral.Normal, Created: t0.Add(2 * time.Hour), Persons: 1},
	}
	Sort(q)
	var order []string
	for _, w := range q {
		order = append(order, w.ID)
	}
	if diff := cmp.Diff([]string{"e-big", "e-small", "u", "n-old", "n-new"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	tests := []struct {
		remaining int
		want      []string
	}{
		{0, nil},
		{1, []string{"e-small"}},      // the big emergency family does not block the small one
		{4, []string{"e-small", "u"}}, // first fit in priority order
		{6, []string{"e-big"}},        // the first in line gets what fits it first
		{13, []string{"e-big", "e-small", "u", "n-old", "n-new"}},
	}
	for _, tt := range tests {
		var got []string
		for _, w := range Promotable(Period{Remaining: tt.remaining, Pool: tt.remaining}, q) {
			got = append(got, w.ID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("remaining %d (-want +got):\n%s", tt.remaining, diff)
		}
	}
}

func TestCapacityAndRecount(t *testing.T) {
	refs := []Counted{
		{Partner: "unhcr", Status: referral.Allocated, Persons: 3},
		{Partner: "unhcr", Status: referral.Arrived, Persons: 2},
		{Partner: "front-line-defenders", Status: referral.Approved, Persons: 4},
		{Partner: "front-line-defenders", Status: referral.Waitlisted, Persons: 5},
		{Partner: "unhcr", Status: referral.Withdrawn, Persons: 9},
	}
	p := Recount("hrd", 2026, 10, nil, refs)
	want := Period{Stream: "hrd", Year: 2026, Capacity: 10, Reserved: 7, Arrived: 2, Remaining: 1, WaitlistedPersons: 5,
		Partners: map[string]PartnerCount{"unhcr": {Reserved: 3, Arrived: 2}, "front-line-defenders": {Reserved: 4}}, Pool: 1}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("recount (-want +got):\n%s", diff)
	}
	if !p.Consistent() {
		t.Errorf("recounted period is not consistent")
	}
	for _, tt := range []struct {
		capacity int
		want     problem.Kind
	}{{9, ""}, {8, problem.CapacityBelowCommitted}, {-1, problem.Validation}, {MaxCapacity + 1, problem.Validation}, {500, ""}} {
		var got problem.Kind
		if err := CheckCapacity(p, tt.capacity); err != nil {
			got = problem.KindOf(err)
		}
		if got != tt.want {
			t.Errorf("capacity %d: %q, want %q", tt.capacity, got, tt.want)
		}
	}
}
