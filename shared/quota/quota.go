package quota

import (
	"sort"

	"github.com/haven-hrd/haven/shared/problem"
)

// PartnerCount is one partner's share of a period.
type PartnerCount struct {
	Reserved int `json:"reserved"`
	Arrived  int `json:"arrived"`
}

// Held is what the partner holds of the period: reserved and arrived.
func (c PartnerCount) Held() int { return c.Reserved + c.Arrived }

// Period is a stream's quota for one calendar year.
type Period struct {
	Stream            string
	Year              int
	Capacity          int
	Reserved          int
	Arrived           int
	Remaining         int
	WaitlistedPersons int
	Partners          map[string]PartnerCount
	// Allotments are the partners' own shares of the capacity, in persons.
	// A partner with one never holds more than it; partners without one
	// share the Pool.
	Allotments map[string]int
	// Left is, per partner with an allotment, what is left of it: allotment −
	// reserved − arrived (kept by the store so that a condition can check it).
	Left map[string]int
	// Pool is what is left of the capacity nobody is allotted:
	// capacity − Σ allotments − what partners without an allotment hold.
	Pool int
	// Closed is set by the period's closure: nothing takes spaces any more.
	Closed bool
	// Version increases with every change of the period item.
	Version int
}

// Committed is what capacity can never go below.
func (p Period) Committed() int { return p.Reserved + p.Arrived }

// HasAllotment reports whether partner has its own share of the period.
func (p Period) HasAllotment(partner string) bool {
	_, ok := p.Allotments[partner]
	return ok
}

// PartnerRemaining is what partner may still take: what is left of its
// allotment, or of the unallotted pool, and never more than the stream has.
func (p Period) PartnerRemaining(partner string) int {
	if a, ok := p.Allotments[partner]; ok {
		return min(p.Remaining, a-p.Partners[partner].Held())
	}
	return min(p.Remaining, p.Pool)
}

// WhyNotFit says why persons of partner do not fit in p ("" when they do):
// the stream is full (for a partner without an allotment: the unallotted
// spaces are), or only the partner's allotment is.
func (p Period) WhyNotFit(partner string, persons int) string {
	if a, ok := p.Allotments[partner]; ok {
		switch {
		case p.Remaining < persons:
			return WaitStreamFull
		case a-p.Partners[partner].Held() < persons:
			return WaitAllotmentFull
		}
		return ""
	}
	if p.Pool < persons || p.Remaining < persons {
		return WaitStreamFull
	}
	return ""
}

// Allotted is the sum of the allotments.
func (p Period) Allotted() int {
	n := 0
	for _, a := range p.Allotments {
		n += a
	}
	return n
}

// unallottedHeld is what partners without an allotment hold.
func (p Period) unallottedHeld() int {
	n := 0
	for id, c := range p.Partners {
		if !p.HasAllotment(id) {
			n += c.Held()
		}
	}
	return n
}

// Consistent reports whether the counters obey remaining = capacity −
// reserved − arrived ≥ 0, pool = capacity − allotted − what partners
// without an allotment hold ≥ 0, and each partner holds no more than its
// allotment.
func (p Period) Consistent() bool {
	if p.Remaining < 0 || p.Remaining != p.Capacity-p.Reserved-p.Arrived {
		return false
	}
	if p.Pool < 0 || p.Pool != p.Capacity-p.Allotted()-p.unallottedHeld() {
		return false
	}
	for id, a := range p.Allotments {
		if p.Partners[id].Held() > a || p.Left[id] != a-p.Partners[id].Held() {
			return false
		}
	}
	return true
}

// MinYear and MaxYear bound a period's year: anything outside is a typo.
const (
	MinYear = 2000
	MaxYear = 2100
)

// MaxCapacity bounds a period so that counters stay far from overflow and
// typos (5000000) are caught.
const MaxCapacity = 1_000_000

// CheckCapacity refuses a capacity below what p has committed.
func CheckCapacity(p Period, capacity int) error {
	return CheckPlan(p, capacity, p.Allotments)
}

// CheckPlan refuses a capacity and allotments that break a rule: the
// allotments sum to at most the capacity (400), no partner's allotment is
// below what it holds, and neither the capacity nor the unallotted spaces
// are below what is held in them (409 capacity-below-committed).
func CheckPlan(p Period, capacity int, allotments map[string]int) error {
	if capacity < 0 || capacity > MaxCapacity {
		return problem.Invalid(problem.FieldError{Field: "capacity", Code: problem.CodeOutOfRange})
	}
	var fields []problem.FieldError
	sum := 0
	for _, id := range PartnerIDs(allotments) {
		a := allotments[id]
		if a < 0 || a > MaxCapacity {
			fields = append(fields, problem.FieldError{Field: "allotments." + id, Code: problem.CodeOutOfRange})
		}
		sum += a
	}
	if len(fields) == 0 && sum > capacity {
		fields = append(fields, problem.FieldError{Field: "allotments", Code: problem.CodeAllotmentsOverCapacity})
	}
	if len(fields) > 0 {
		return problem.Invalid(fields...)
	}
	next := p
	next.Capacity, next.Allotments = capacity, allotments
	if capacity < p.Committed() || capacity-sum < next.unallottedHeld() {
		return problem.New(problem.CapacityBelowCommitted)
	}
	for id, a := range allotments {
		if a < p.Partners[id].Held() {
			return problem.New(problem.CapacityBelowCommitted)
		}
	}
	return nil
}

// Plan is p with a new capacity and allotments, its derived counters
// recomputed (CheckPlan first).
func Plan(p Period, capacity int, allotments map[string]int) Period {
	next := p
	next.Capacity, next.Allotments = capacity, allotments
	next.Remaining = capacity - p.Committed()
	next.Pool = capacity - next.Allotted() - next.unallottedHeld()
	next.Left = nil
	if len(allotments) == 0 {
		next.Allotments = nil
	}
	for id, a := range allotments {
		if next.Left == nil {
			next.Left = map[string]int{}
		}
		next.Left[id] = a - p.Partners[id].Held()
	}
	next.Version = p.Version + 1
	return next
}

// PartnerIDs lists the partners of an allotment map in order, so that
// errors and writes come out the same every time.
func PartnerIDs(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
