package quota

import (
	"sort"
	"time"

	"github.com/haven-hrd/haven/shared/referral"
)

// Delta is how one change moves a period's counters.
type Delta struct {
	Reserved   int
	Arrived    int
	Waitlisted int
}

// Holding is what a referral of persons in status s contributes to its
// period's counters: allocated and approved referrals hold reserved spaces,
// arrived ones count as arrived, waitlisted ones count as waitlisted persons,
// and every other status counts nowhere.
func Holding(s referral.Status, persons int) Delta {
	switch {
	case referral.HoldsSpaces(s):
		return Delta{Reserved: persons}
	case s == referral.Arrived:
		return Delta{Arrived: persons}
	case s == referral.Waitlisted:
		return Delta{Waitlisted: persons}
	}
	return Delta{}
}

// Minus is d − o.
func (d Delta) Minus(o Delta) Delta {
	return Delta{Reserved: d.Reserved - o.Reserved, Arrived: d.Arrived - o.Arrived, Waitlisted: d.Waitlisted - o.Waitlisted}
}

// Change is the counter change of a referral going from (status, persons)
// to (status, persons): a transition keeps persons, a family change keeps
// the status.
func Change(from referral.Status, fromPersons int, to referral.Status, toPersons int) Delta {
	return Holding(to, toPersons).Minus(Holding(from, fromPersons))
}

// Taken is the number of spaces the change takes from remaining (negative
// when it gives some back).
func (d Delta) Taken() int { return d.Reserved + d.Arrived }

// Need is how many spaces must remain for the change to be allowed: the
// store conditions its write on remaining ≥ Need, which keeps remaining ≥ 0.
func (d Delta) Need() int { return max(0, d.Taken()) }

// IsZero reports whether the change leaves the counters alone.
func (d Delta) IsZero() bool { return d == Delta{} }

// Waiting is one referral on a period's waitlist.
type Waiting struct {
	ID      string
	Partner string
	Urgency referral.Urgency
	Created time.Time
	Persons int
}

// Before is the waitlist order: emergency before urgent before normal, then
// oldest first, then by id so that the order is total.
func Before(a, b Waiting) bool {
	if ra, rb := a.Urgency.Rank(), b.Urgency.Rank(); ra != rb {
		return ra < rb
	}
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.ID < b.ID
}

// Sort puts a waitlist in order.
func Sort(q []Waiting) {
	sort.SliceStable(q, func(i, j int) bool { return Before(q[i], q[j]) })
}

// Promotable picks, from a waitlist in order, the referrals to allocate now
// that remaining spaces are free: walking the list in order, each one that
// still fits is taken, each one that does not is skipped and keeps its place
// (first fit in priority order; see the package documentation for why).
func Promotable(remaining int, queue []Waiting) []Waiting {
	var out []Waiting
	for _, w := range queue {
		if w.Persons <= remaining {
			out = append(out, w)
			remaining -= w.Persons
		}
	}
	return out
}

// Counted is what Recount needs of a referral.
type Counted struct {
	Partner string
	Status  referral.Status
	Persons int
}

// Recount computes a period's counters from its referrals, the way an
// auditor (or a test) checks the stored ones.
func Recount(stream string, year, capacity int, refs []Counted) Period {
	p := Period{Stream: stream, Year: year, Capacity: capacity, Partners: map[string]PartnerCount{}}
	for _, r := range refs {
		h := Holding(r.Status, r.Persons)
		p.Reserved += h.Reserved
		p.Arrived += h.Arrived
		p.WaitlistedPersons += h.Waitlisted
		if h.Reserved != 0 || h.Arrived != 0 {
			c := p.Partners[r.Partner]
			c.Reserved += h.Reserved
			c.Arrived += h.Arrived
			p.Partners[r.Partner] = c
		}
	}
	p.Remaining = capacity - p.Reserved - p.Arrived
	return p
}
