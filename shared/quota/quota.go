package quota

import "github.com/haven-hrd/haven/shared/problem"

// PartnerCount is one partner's share of a period.
type PartnerCount struct {
	Reserved int `json:"reserved"`
	Arrived  int `json:"arrived"`
}

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
	// Version increases with every capacity change.
	Version int
}

// Committed is what capacity can never go below.
func (p Period) Committed() int { return p.Reserved + p.Arrived }

// Consistent reports whether the counters obey remaining = capacity −
// reserved − arrived ≥ 0.
func (p Period) Consistent() bool {
	return p.Remaining >= 0 && p.Remaining == p.Capacity-p.Reserved-p.Arrived
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
	if capacity < 0 || capacity > MaxCapacity {
		return problem.Invalid(problem.FieldError{Field: "capacity", Code: problem.CodeOutOfRange})
	}
	if capacity < p.Committed() {
		return problem.New(problem.CapacityBelowCommitted)
	}
	return nil
}
