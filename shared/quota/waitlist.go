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
// that spaces are free in p: walking the list in order, each one that
// still fits both the stream and its partner's limit (Decide's rule) is
// taken, each one that does not is skipped and keeps its place (first fit
// in priority order; see the package documentation for why). A family held
// back by its partner's allotment therefore never blocks another partner's.
func Promotable(p Period, queue []Waiting) []Waiting {
	var out []Waiting
	for _, w := range queue {
		if p.WhyNotFit(w.Partner, w.Persons) != "" {
			continue
		}
		out = append(out, w)
		p = p.After(w.Partner, Change(referral.Waitlisted, w.Persons, referral.Allocated, w.Persons))
	}
	return out
}

// After is p once partner's change d is written: what the store's period
// update does to the item. Its partner map is a copy.
func (p Period) After(partner string, d Delta) Period {
	p.Partners = clonePartners(p.Partners)
	c := p.Partners[partner]
	c.Reserved += d.Reserved
	c.Arrived += d.Arrived
	p.Partners[partner] = c
	p.Reserved += d.Reserved
	p.Arrived += d.Arrived
	p.WaitlistedPersons += d.Waitlisted
	p.Remaining -= d.Taken()
	if p.HasAllotment(partner) {
		left := make(map[string]int, len(p.Left))
		for k, v := range p.Left {
			left[k] = v
		}
		left[partner] -= d.Taken()
		p.Left = left
	} else {
		p.Pool -= d.Taken()
	}
	return p
}

func clonePartners(m map[string]PartnerCount) map[string]PartnerCount {
	out := make(map[string]PartnerCount, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Counted is what Recount needs of a referral.
type Counted struct {
	Partner string
	Status  referral.Status
	Persons int
}

// Recount computes a period's counters from its referrals and its
// capacity and allotments, the way an auditor (or a test) checks the stored
// ones.
func Recount(stream string, year, capacity int, allotments map[string]int, refs []Counted) Period {
	p := Period{Stream: stream, Year: year, Capacity: capacity, Allotments: allotments, Partners: map[string]PartnerCount{}}
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
	p.Pool = capacity - p.Allotted() - p.unallottedHeld()
	if len(allotments) > 0 {
		p.Left = map[string]int{}
		for id, a := range allotments {
			p.Left[id] = a - p.Partners[id].Held()
		}
	}
	return p
}
