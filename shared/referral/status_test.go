package referral

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCanTransitionMatchesContract(t *testing.T) {
	// The contract's list, written out pair by pair.
	allowed := map[[2]Status]bool{
		{Submitted, Eligible}:   true,
		{Submitted, Ineligible}: true,
		{Eligible, Allocated}:   true,
		{Eligible, Waitlisted}:  true,
		{Waitlisted, Allocated}: true,
		{Allocated, Approved}:   true,
		{Allocated, Refused}:    true,
		{Approved, Arrived}:     true,
		{Submitted, Withdrawn}:  true,
		{Eligible, Withdrawn}:   true,
		{Waitlisted, Withdrawn}: true,
		{Allocated, Withdrawn}:  true,
		{Approved, Withdrawn}:   true,
	}
	all := append(AllStatuses(), Status(""), Status("bogus"), Status("Submitted"))
	n := 0
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]Status{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%q, %q) = %v, want %v", from, to, got, want)
			}
			if want {
				n++
			}
		}
	}
	if n != len(allowed) {
		t.Errorf("checked %d allowed pairs, contract lists %d", n, len(allowed))
	}
}

func TestStatusProperties(t *testing.T) {
	tests := []struct {
		s           Status
		terminal    bool
		holdsSpaces bool
	}{
		{Submitted, false, false},
		{Eligible, false, false},
		{Ineligible, true, false},
		{Allocated, false, true},
		{Waitlisted, false, false},
		{Approved, false, true},
		{Refused, true, false},
		{Arrived, true, false},
		{Withdrawn, true, false},
	}
	var listed []Status
	for _, tt := range tests {
		listed = append(listed, tt.s)
		if got := Terminal(tt.s); got != tt.terminal {
			t.Errorf("Terminal(%q) = %v, want %v", tt.s, got, tt.terminal)
		}
		if got := HoldsSpaces(tt.s); got != tt.holdsSpaces {
			t.Errorf("HoldsSpaces(%q) = %v, want %v", tt.s, got, tt.holdsSpaces)
		}
		// A terminal status must have no way out, and every other status
		// must have one, or referrals could get stuck.
		out := 0
		for _, to := range AllStatuses() {
			if CanTransition(tt.s, to) {
				out++
			}
		}
		if tt.terminal != (out == 0) {
			t.Errorf("%q: terminal %v but %d transitions out", tt.s, tt.terminal, out)
		}
	}
	if diff := cmp.Diff(listed, AllStatuses()); diff != "" {
		t.Errorf("AllStatuses() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseStatus(t *testing.T) {
	for _, s := range AllStatuses() {
		got, ok := ParseStatus(string(s))
		if !ok || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q, true", s, got, ok, s)
		}
	}
	for _, s := range []string{"", "Allocated", " allocated", "allocated ", "bogus"} {
		if got, ok := ParseStatus(s); ok {
			t.Errorf("ParseStatus(%q) = %q, true; want false", s, got)
		}
	}
}

func TestUrgencyRank(t *testing.T) {
	tests := []struct {
		u     Urgency
		rank  int
		valid bool
	}{
		{Emergency, 0, true},
		{Urgent, 1, true},
		{Normal, 2, true},
		{"", 3, false},
		{"Emergency", 3, false},
	}
	for _, tt := range tests {
		if got := tt.u.Rank(); got != tt.rank {
			t.Errorf("Urgency(%q).Rank() = %d, want %d", tt.u, got, tt.rank)
		}
		if got := tt.u.Valid(); got != tt.valid {
			t.Errorf("Urgency(%q).Valid() = %v, want %v", tt.u, got, tt.valid)
		}
	}
}
