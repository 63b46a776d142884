package quota

import (
	"time"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// Why a referral waits (the referral view shows it).
const (
	// WaitStreamFull: the stream has fewer spaces left than the family needs
	// (for a partner without an allotment: the spaces nobody is allotted).
	WaitStreamFull = "stream-full"
	// WaitAllotmentFull: the stream has room, but the partner's allotment
	// does not.
	WaitAllotmentFull = "partner-allotment-full"
)

// Subject is what the decision needs of a referral.
type Subject struct {
	ID      string
	Partner string
	Status  referral.Status
	Persons int
	// Period is the quota year held or waited for; 0 before allocation.
	Period  int
	Urgency referral.Urgency
}

// Move is what is asked of a referral: a status (To), a family size
// (Persons, status unchanged) or an urgency (Urgency, status unchanged).
type Move struct {
	To referral.Status
	// Year is the period of an allocation of an eligible referral (the
	// caller fills in the current year when none was asked).
	Year int
	// Persons, when To is empty, is the new family size.
	Persons int
	// Urgency, when To and Persons are empty, is the new urgency.
	Urgency referral.Urgency
	// CarryTo, alone, moves a waitlisted referral of a closed period to the
	// waitlist of this open one, at the same place.
	CarryTo int
}

// WaitOp is what happens to the referral's waitlist entry.
type WaitOp int

const (
	WaitNone   WaitOp = iota
	WaitPut           // the referral starts waiting
	WaitDelete        // it stops waiting
	WaitResize        // it waits with another family size
	WaitRekey         // it waits at another place (its urgency changed)
	WaitCarry         // it waits, at the same place, in another period
)

// Limit says which of a period's limits a change is checked against.
type Limit int

const (
	// NoCheck: the change takes no spaces.
	NoCheck Limit = iota
	// Fits: stream remaining ≥ Need and the partner's limit ≥ Need, in an
	// open period.
	Fits
	// StillStreamFull: the change is a waitlisting, valid only while the
	// referral does not fit in the stream (or, for a partner without an
	// allotment, in the unallotted spaces).
	StillStreamFull
	// StillAllotmentFull: the change is a waitlisting, valid only while the
	// stream has room and the partner's allotment does not.
	StillAllotmentFull
	// Open: the period is open (a carried-over referral starts waiting).
	Open
)

// Condition is what must hold of the period when the change is written. The
// store turns it into the period item's condition expression; a failed
// condition means the period moved since it was read: decide again.
type Condition struct {
	Limit Limit
	// Need is the number of spaces the condition is about (the persons
	// taken, or the persons that do not fit for a waitlisting).
	Need int
	// Allotted pins whether the partner has an allotment: the change moves
	// the partner's allotment counter when it does, the unallotted pool
	// when it does not.
	Allotted bool
}

// Decision is the change to make, with the conditions under which it may be
// made. It is computed from one read of the referral and its period; the
// store writes it as one transaction and re-reads when a condition fails.
type Decision struct {
	To      referral.Status
	Persons int
	Period  int
	Urgency referral.Urgency
	// WaitReason is set when the referral starts waiting.
	WaitReason string
	// Delta moves the counters of Period and the partner's.
	Delta Delta
	// FromDelta, for a carry-over, moves the counters of the period the
	// referral leaves.
	FromDelta Delta
	// Counted is set when the period item is written: the counters move, or
	// a waitlisting is conditioned on the period.
	Counted   bool
	Condition Condition
	Wait      WaitOp
	// Released is set when spaces came back (promote the waitlist).
	Released bool
	// Unchanged is set when nothing is to be written: an allocation of a
	// waitlisted referral that still does not fit.
	Unchanged bool
	// ReleasesReference is set when the referral ends in a way that frees
	// its partner_reference (referral.ReleasesReference).
	ReleasesReference bool
	// Admits is set on an arrival: the persons count as admissions of the
	// arrival's year (AdmissionYear), apart from the quota year they used.
	Admits bool
}

// NeedsPeriod reports which period the decision for m needs to read: 0 when
// the move does not touch spaces (the decision then takes a nil period).
func NeedsPeriod(r Subject, m Move) int {
	switch {
	case m.To == referral.Allocated || m.To == referral.Waitlisted:
		if r.Status == referral.Waitlisted {
			return r.Period
		}
		return m.Year
	case m.To != "":
		if Change(r.Status, r.Persons, m.To, r.Persons).Taken() != 0 {
			return r.Period
		}
	case m.Persons != 0:
		if Change(r.Status, r.Persons, r.Status, m.Persons).Taken() != 0 {
			return r.Period
		}
	case m.CarryTo != 0:
		return m.CarryTo
	}
	return 0
}

// Decide is Haven's one lifecycle rule: which moves are allowed and what
// they do to the period's counters, the partner's allotment and the
// waitlist. p is the period the referral holds, waits for or asks for
// (NeedsPeriod), nil when the move does not touch spaces.
func Decide(r Subject, p *Period, m Move) (Decision, error) {
	switch {
	case m.To != "":
		return decideStatus(r, p, m)
	case m.Persons != 0:
		return decideFamily(r, p, m.Persons)
	case m.Urgency != "":
		return decideUrgency(r, m.Urgency)
	case m.CarryTo != 0:
		return decideCarry(r, p, m.CarryTo)
	}
	return Decision{}, problem.New(problem.InvalidTransition)
}

func decideStatus(r Subject, p *Period, m Move) (Decision, error) {
	if !referral.CanTransition(r.Status, m.To) {
		return Decision{}, problem.New(problem.InvalidTransition)
	}
	d := Decision{To: m.To, Persons: r.Persons, Period: r.Period, Urgency: r.Urgency}
	if m.To == referral.Waitlisted || m.To == referral.Allocated {
		// Waitlisted is never asked for: it is the answer to an allocation
		// that does not fit, so nobody waits while spaces are free.
		return decideAllocation(r, p, m.Year)
	}
	d.Delta = Change(r.Status, r.Persons, d.To, d.Persons)
	if r.Status == referral.Waitlisted {
		d.Wait = WaitDelete
	}
	d.ReleasesReference = referral.ReleasesReference(d.To)
	d.Admits = d.To == referral.Arrived
	return counted(d, p, r.Partner), nil
}

// counted fills in how the period item moves for a change that takes no
// spaces (a release, an arrival, a waitlisted family that shrank).
func counted(d Decision, p *Period, partner string) Decision {
	d.Counted = !d.Delta.IsZero()
	d.Released = d.Delta.Taken() < 0
	if d.Delta.Taken() != 0 && p != nil {
		d.Condition.Allotted = p.HasAllotment(partner)
	}
	return d
}

func decideAllocation(r Subject, p *Period, year int) (Decision, error) {
	if r.Status == referral.Waitlisted {
		if year != 0 && year != r.Period {
			// A waitlisted referral waits for one period; moving it to another
			// is a carry-over (the period's closure), not an allocation. The
			// request is well formed: the referral's state refuses it.
			return Decision{}, problem.New(problem.InvalidTransition)
		}
		year = r.Period
	}
	if p == nil {
		// No such period: 404, as the period's own URL answers (a request
		// that names no period means this year's, so it is no fault of the
		// body).
		return Decision{}, problem.New(problem.NotFound)
	}
	if p.Closed {
		return Decision{}, problem.New(problem.PeriodClosed)
	}
	n := r.Persons
	allotted := p.HasAllotment(r.Partner)
	d := Decision{Persons: n, Period: year, Urgency: r.Urgency, Counted: true}
	switch reason := p.WhyNotFit(r.Partner, n); reason {
	case "":
		d.To = referral.Allocated
		d.Condition = Condition{Limit: Fits, Need: n, Allotted: allotted}
		if r.Status == referral.Waitlisted {
			d.Wait = WaitDelete
		}
	default:
		if r.Status == referral.Waitlisted {
			return Decision{To: r.Status, Persons: n, Period: year, Urgency: r.Urgency, Unchanged: true}, nil
		}
		d.To, d.WaitReason, d.Wait = referral.Waitlisted, reason, WaitPut
		lim := StillStreamFull
		if reason == WaitAllotmentFull {
			lim = StillAllotmentFull
		}
		d.Condition = Condition{Limit: lim, Need: n, Allotted: allotted}
	}
	d.Delta = Change(r.Status, r.Persons, d.To, n)
	return d, nil
}

func decideFamily(r Subject, p *Period, persons int) (Decision, error) {
	if referral.Terminal(r.Status) {
		return Decision{}, problem.New(problem.InvalidTransition)
	}
	d := Decision{To: r.Status, Persons: persons, Period: r.Period, Urgency: r.Urgency}
	d.Delta = Change(r.Status, r.Persons, r.Status, persons)
	if r.Status == referral.Waitlisted && d.Delta.Waitlisted != 0 {
		d.Wait = WaitResize
	}
	if need := d.Delta.Need(); need > 0 {
		if p == nil || p.Closed {
			return Decision{}, problem.New(problem.PeriodClosed)
		}
		if p.WhyNotFit(r.Partner, need) != "" {
			return Decision{}, problem.New(problem.QuotaExhausted)
		}
		d.Counted = true
		d.Condition = Condition{Limit: Fits, Need: need, Allotted: p.HasAllotment(r.Partner)}
		return d, nil
	}
	d = counted(d, p, r.Partner)
	// A waitlisted family that shrank may now fit.
	d.Released = d.Released || d.Delta.Waitlisted < 0
	return d, nil
}

func decideUrgency(r Subject, u referral.Urgency) (Decision, error) {
	if referral.Terminal(r.Status) {
		return Decision{}, problem.New(problem.InvalidTransition)
	}
	d := Decision{To: r.Status, Persons: r.Persons, Period: r.Period, Urgency: u}
	if r.Status == referral.Waitlisted && u != r.Urgency {
		d.Wait = WaitRekey
	}
	return d, nil
}

// decideCarry moves a waitlisted referral to the open period p (the
// closure of its own): it keeps its urgency and creation time, so its
// place in the order, and takes no spaces until promoted there.
func decideCarry(r Subject, p *Period, year int) (Decision, error) {
	if r.Status != referral.Waitlisted || year == r.Period {
		return Decision{}, problem.New(problem.InvalidTransition)
	}
	if p == nil {
		// No such target period: 404, as for an allocation.
		return Decision{}, problem.New(problem.NotFound)
	}
	if p.Closed {
		return Decision{}, problem.New(problem.PeriodClosed)
	}
	return Decision{
		To: referral.Waitlisted, Persons: r.Persons, Period: year, Urgency: r.Urgency,
		Delta: Delta{Waitlisted: r.Persons}, FromDelta: Delta{Waitlisted: -r.Persons},
		Counted: true, Condition: Condition{Limit: Open}, Wait: WaitCarry,
	}, nil
}

// AdmissionYear is the year an arrival counts in as an admission: the
// calendar year of its arrival date (YYYY-MM-DD, already local to Canada),
// as IRCC's levels plans count admissions — whatever the quota year whose
// space it used. 0 for a malformed date.
func AdmissionYear(arrivedOn string) int {
	day, err := time.Parse(time.DateOnly, arrivedOn)
	if err != nil {
		return 0
	}
	return day.Year()
}

// Admissions is a stream's admissions of one calendar year, counted by
// arrival date.
type Admissions struct {
	Stream    string
	Year      int
	Persons   int
	ByPartner map[string]int
	// ByQuotaYear splits them by the period whose spaces they used.
	ByQuotaYear map[int]int
}
