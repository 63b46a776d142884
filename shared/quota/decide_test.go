package quota

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// allotted is the example: capacity 10, FLD allotted 4, UNHCR 6.
func allotted(fldHeld, unhcrHeld int) Period {
	p := Period{Stream: "hrd", Year: 2026, Capacity: 10, Allotments: map[string]int{"fld": 4, "unhcr": 6},
		Partners: map[string]PartnerCount{"fld": {Reserved: fldHeld}, "unhcr": {Reserved: unhcrHeld}}}
	p.Reserved = fldHeld + unhcrHeld
	p.Remaining = 10 - p.Reserved
	p.Left = map[string]int{"fld": 4 - fldHeld, "unhcr": 6 - unhcrHeld}
	return p
}

// pooled is a period of 10 with FLD allotted 4 and the rest shared.
func pooled(fldHeld, otherHeld int) Period {
	p := Period{Stream: "hrd", Year: 2026, Capacity: 10, Allotments: map[string]int{"fld": 4},
		Partners: map[string]PartnerCount{"fld": {Reserved: fldHeld}, "other": {Reserved: otherHeld}}}
	p.Reserved = fldHeld + otherHeld
	p.Remaining = 10 - p.Reserved
	p.Pool = 6 - otherHeld
	p.Left = map[string]int{"fld": 4 - fldHeld}
	return p
}

func TestDecide(t *testing.T) {
	closed := allotted(0, 0)
	closed.Closed = true
	tests := []struct {
		name    string
		r       Subject
		p       *Period
		m       Move
		want    Decision
		wantErr problem.Kind
	}{
		{name: "allocation that fits the allotment",
			r: Subject{Partner: "fld", Status: referral.Eligible, Persons: 3}, p: ptr(allotted(0, 0)), m: Move{To: referral.Allocated, Year: 2026},
			want: Decision{To: referral.Allocated, Persons: 3, Period: 2026, Delta: Delta{Reserved: 3}, Counted: true,
				Condition: Condition{Limit: Fits, Need: 3, Allotted: true}}},
		{name: "allotment full although the stream has room",
			r: Subject{Partner: "fld", Status: referral.Eligible, Persons: 2}, p: ptr(allotted(3, 0)), m: Move{To: referral.Allocated, Year: 2026},
			want: Decision{To: referral.Waitlisted, Persons: 2, Period: 2026, WaitReason: WaitAllotmentFull, Delta: Delta{Waitlisted: 2}, Counted: true,
				Condition: Condition{Limit: StillAllotmentFull, Need: 2, Allotted: true}, Wait: WaitPut}},
		{name: "stream full",
			r: Subject{Partner: "fld", Status: referral.Eligible, Persons: 2}, p: ptr(func() Period { p := allotted(3, 6); return p }()), m: Move{To: referral.Allocated, Year: 2026},
			want: Decision{To: referral.Waitlisted, Persons: 2, Period: 2026, WaitReason: WaitStreamFull, Delta: Delta{Waitlisted: 2}, Counted: true,
				Condition: Condition{Limit: StillStreamFull, Need: 2, Allotted: true}, Wait: WaitPut}},
		{name: "partner without an allotment takes from the pool",
			r: Subject{Partner: "other", Status: referral.Eligible, Persons: 6}, p: ptr(pooled(0, 0)), m: Move{To: referral.Allocated, Year: 2026},
			want: Decision{To: referral.Allocated, Persons: 6, Period: 2026, Delta: Delta{Reserved: 6}, Counted: true,
				Condition: Condition{Limit: Fits, Need: 6}}},
		{name: "the pool is full although FLD's allotment is not: stream-full for the others",
			r: Subject{Partner: "other", Status: referral.Eligible, Persons: 1}, p: ptr(pooled(0, 6)), m: Move{To: referral.Allocated, Year: 2026},
			want: Decision{To: referral.Waitlisted, Persons: 1, Period: 2026, WaitReason: WaitStreamFull, Delta: Delta{Waitlisted: 1}, Counted: true,
				Condition: Condition{Limit: StillStreamFull, Need: 1}, Wait: WaitPut}},
		{name: "promotion of a waitlisted referral",
			r: Subject{Partner: "fld", Status: referral.Waitlisted, Persons: 2, Period: 2026}, p: ptr(allotted(0, 0)), m: Move{To: referral.Allocated},
			want: Decision{To: referral.Allocated, Persons: 2, Period: 2026, Delta: Delta{Reserved: 2, Waitlisted: -2}, Counted: true,
				Condition: Condition{Limit: Fits, Need: 2, Allotted: true}, Wait: WaitDelete}},
		{name: "waitlisted and still does not fit: nothing",
			r: Subject{Partner: "fld", Status: referral.Waitlisted, Persons: 2, Period: 2026}, p: ptr(allotted(3, 0)), m: Move{To: referral.Allocated},
			want: Decision{To: referral.Waitlisted, Persons: 2, Period: 2026, Unchanged: true}},
		{name: "waitlisted for another period", r: Subject{Status: referral.Waitlisted, Persons: 1, Period: 2026}, p: ptr(allotted(0, 0)),
			m: Move{To: referral.Allocated, Year: 2027}, wantErr: problem.InvalidTransition},
		{name: "no such period", r: Subject{Status: referral.Eligible, Persons: 1}, m: Move{To: referral.Allocated, Year: 2030}, wantErr: problem.NotFound},
		{name: "closed period", r: Subject{Partner: "fld", Status: referral.Eligible, Persons: 1}, p: &closed,
			m: Move{To: referral.Allocated, Year: 2026}, wantErr: problem.PeriodClosed},
		{name: "withdrawal of a holder gives back to its allotment",
			r: Subject{Partner: "fld", Status: referral.Allocated, Persons: 3, Period: 2026}, p: ptr(allotted(3, 0)), m: Move{To: referral.Withdrawn},
			want: Decision{To: referral.Withdrawn, Persons: 3, Period: 2026, Delta: Delta{Reserved: -3}, Counted: true, Released: true,
				Condition: Condition{Allotted: true}, ReleasesReference: true}},
		{name: "withdrawal of a waitlisted referral",
			r: Subject{Partner: "fld", Status: referral.Waitlisted, Persons: 2, Period: 2026}, m: Move{To: referral.Withdrawn},
			want: Decision{To: referral.Withdrawn, Persons: 2, Period: 2026, Delta: Delta{Waitlisted: -2}, Counted: true, Wait: WaitDelete, ReleasesReference: true}},
		{name: "arrival moves reserved to arrived, no limit",
			r: Subject{Partner: "fld", Status: referral.Approved, Persons: 2, Period: 2026}, m: Move{To: referral.Arrived},
			want: Decision{To: referral.Arrived, Persons: 2, Period: 2026, Delta: Delta{Reserved: -2, Arrived: 2}, Counted: true, Admits: true}},
		{name: "screening touches nothing", r: Subject{Status: referral.Submitted, Persons: 2}, m: Move{To: referral.Eligible},
			want: Decision{To: referral.Eligible, Persons: 2}},
		{name: "not in the status machine", r: Subject{Status: referral.Submitted}, m: Move{To: referral.Arrived}, wantErr: problem.InvalidTransition},
		{name: "family grows within the allotment",
			r: Subject{Partner: "fld", Status: referral.Allocated, Persons: 2, Period: 2026}, p: ptr(allotted(2, 0)), m: Move{Persons: 4},
			want: Decision{To: referral.Allocated, Persons: 4, Period: 2026, Delta: Delta{Reserved: 2}, Counted: true,
				Condition: Condition{Limit: Fits, Need: 2, Allotted: true}}},
		{name: "family grows past the allotment",
			r: Subject{Partner: "fld", Status: referral.Allocated, Persons: 2, Period: 2026}, p: ptr(allotted(2, 0)), m: Move{Persons: 5},
			wantErr: problem.QuotaExhausted},
		{name: "waitlisted family shrinks",
			r: Subject{Partner: "fld", Status: referral.Waitlisted, Persons: 3, Period: 2026}, m: Move{Persons: 1},
			want: Decision{To: referral.Waitlisted, Persons: 1, Period: 2026, Delta: Delta{Waitlisted: -2}, Counted: true, Released: true, Wait: WaitResize}},
		{name: "terminal family", r: Subject{Status: referral.Withdrawn, Persons: 3}, m: Move{Persons: 1}, wantErr: problem.InvalidTransition},
		{name: "urgency of a waitlisted referral moves its place",
			r: Subject{Status: referral.Waitlisted, Persons: 1, Period: 2026, Urgency: referral.Normal}, m: Move{Urgency: referral.Emergency},
			want: Decision{To: referral.Waitlisted, Persons: 1, Period: 2026, Urgency: referral.Emergency, Wait: WaitRekey}},
		{name: "urgency of a submitted referral",
			r: Subject{Status: referral.Submitted, Persons: 1, Urgency: referral.Normal}, m: Move{Urgency: referral.Urgent},
			want: Decision{To: referral.Submitted, Persons: 1, Urgency: referral.Urgent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decide(tt.r, tt.p, tt.m)
			if tt.wantErr != "" {
				if problem.KindOf(err) != tt.wantErr {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.p != nil && got.Counted {
				// The decision keeps the period consistent.
				if after := tt.p.After(tt.r.Partner, got.Delta); !after.Consistent() {
					t.Errorf("period after the change is inconsistent: %+v", after)
				}
			}
		})
	}
}

func ptr(p Period) *Period { return &p }

// TestPromotableRespectsAllotments is the scenario: a family held
// back by its partner's allotment never blocks another partner's family
// that fits.
func TestPromotableRespectsAllotments(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	q := []Waiting{
		{ID: "fld-2", Partner: "fld", Urgency: referral.Emergency, Created: t0, Persons: 2},
		{ID: "unhcr-3", Partner: "unhcr", Urgency: referral.Normal, Created: t0, Persons: 3},
		{ID: "unhcr-2", Partner: "unhcr", Urgency: referral.Normal, Created: t0.Add(time.Hour), Persons: 2},
	}
	for _, tt := range []struct {
		name string
		p    Period
		want []string
	}{
		{"FLD full, UNHCR has 4", allotted(3, 2), []string{"unhcr-3"}},
		{"FLD has room again", allotted(0, 2), []string{"fld-2", "unhcr-3"}},
		{"UNHCR full too", allotted(3, 6), nil},
	} {
		var got []string
		for _, w := range Promotable(tt.p, q) {
			got = append(got, w.ID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCheckPlan(t *testing.T) {
	p := allotted(3, 5)
	for _, tt := range []struct {
		name       string
		capacity   int
		allotments map[string]int
		want       problem.Kind
	}{
		{"same", 10, map[string]int{"fld": 4, "unhcr": 6}, ""},
		{"allotments over capacity", 10, map[string]int{"fld": 5, "unhcr": 6}, problem.Validation},
		{"allotment below what the partner holds", 10, map[string]int{"fld": 2, "unhcr": 6}, problem.CapacityBelowCommitted},
		{"pool below what partners without an allotment hold", 10, map[string]int{"fld": 4, "other": 6}, problem.CapacityBelowCommitted},
		{"remove every allotment", 10, map[string]int{}, ""},
		{"capacity below committed", 7, map[string]int{}, problem.CapacityBelowCommitted},
		{"negative allotment", 10, map[string]int{"fld": -1}, problem.Validation},
	} {
		var got problem.Kind
		if err := CheckPlan(p, tt.capacity, tt.allotments); err != nil {
			got = problem.KindOf(err)
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		if got == "" && !Plan(p, tt.capacity, tt.allotments).Consistent() {
			t.Errorf("%s: plan inconsistent: %+v", tt.name, Plan(p, tt.capacity, tt.allotments))
		}
	}
}

func TestYearOf(t *testing.T) {
	for _, tt := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC), 2026}, // 22:00 on Dec 31 in Toronto
		{time.Date(2027, 1, 1, 5, 0, 0, 0, time.UTC), 2027},
		{time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), 2026},
	} {
		if got := YearOf(tt.at); got != tt.want {
			t.Errorf("YearOf(%s) = %d, want %d", tt.at, got, tt.want)
		}
	}
}

func TestAdmissionYear(t *testing.T) {
	for in, want := range map[string]int{"2027-01-15": 2027, "2026-12-31": 2026, "": 0, "20x7-01-01": 0} {
		if got := AdmissionYear(in); got != want {
			t.Errorf("AdmissionYear(%q) = %d, want %d", in, got, want)
		}
	}
}
