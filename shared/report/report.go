// Package report builds the daily summary of a stream's period and renders
// it as JSON, CSV and a bilingual HTML page with inline SVG charts.
//
// Counters (capacity, reserved, arrived, remaining, waitlisted, per partner)
// come from the period item, which the quota transactions keep exact. What
// the counters do not hold (referrals by status, by urgency, by month, and by
// the reason codes of their ineligibility, refusal or withdrawal, shown with
// their labels from shared/reason) is counted from referrals read without
// their personal data. A referral counts
// toward the year it holds or waits for; before it has one, toward the year
// it was received (America/Toronto).
//
// The HTML page holds both languages, English first, each in an element with
// its lang attribute, so one file serves every reader and screen readers
// switch voice; it needs no network (styles and charts are inline).
package report

import (
	"sort"
	"time"

	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/reason"
	"github.com/haven-hrd/haven/shared/referral"
)

// Summary is one stream's period on one day.
type Summary struct {
	Stream      string    `json:"stream"`
	StreamName  string    `json:"stream_name"`
	Period      int       `json:"period"`
	Date        string    `json:"date"`
	GeneratedAt time.Time `json:"generated_at"`
	Counters    Counters  `json:"counters"`
	// Referrals and Persons total the referrals counted below.
	Referrals int           `json:"referrals"`
	Persons   int           `json:"persons"`
	Partners  []PartnerLine `json:"by_partner"`
	Statuses  []Count       `json:"by_status"`
	Urgencies []Count       `json:"by_urgency"`
	Months    []Month       `json:"by_month"`
	// Reasons counts the reason codes of the referrals found ineligible,
	// refused or withdrawn, in shared/reason's order.
	Reasons []ReasonCount `json:"by_reason"`
}

// ReasonCount is the referrals and persons whose outcome (ineligible,
// refused, withdrawn) gave one reason code; a referral with several codes
// counts under each.
type ReasonCount struct {
	Outcome   string `json:"outcome"`
	Code      string `json:"code"`
	Referrals int    `json:"referrals"`
	Persons   int    `json:"persons"`
}

// Counters are the period's own figures, in persons.
type Counters struct {
	Capacity          int `json:"capacity"`
	Reserved          int `json:"reserved"`
	Arrived           int `json:"arrived"`
	Remaining         int `json:"remaining"`
	WaitlistedPersons int `json:"waitlisted_persons"`
}

// PartnerLine is one partner's share: counters from the period, referral
// counts from the referrals.
type PartnerLine struct {
	Partner   string `json:"partner"`
	Reserved  int    `json:"reserved"`
	Arrived   int    `json:"arrived"`
	Referrals int    `json:"referrals"`
	Persons   int    `json:"persons"`
}

// Count is referrals and persons under one key (a status or an urgency).
type Count struct {
	Key       string `json:"key"`
	Referrals int    `json:"referrals"`
	Persons   int    `json:"persons"`
}

// Month is one calendar month of the period: referrals received and persons
// arrived (a referral arrives once; its last update is its arrival).
type Month struct {
	Month             string `json:"month"`
	ReceivedReferrals int    `json:"received_referrals"`
	ReceivedPersons   int    `json:"received_persons"`
	ArrivedPersons    int    `json:"arrived_persons"`
}

// Urgencies in the order the waitlist serves them.
var urgencies = []referral.Urgency{referral.Emergency, referral.Urgent, referral.Normal}

// Builder accumulates one period's summary; it holds counts only, never a
// referral.
type Builder struct {
	s        Summary
	loc      *time.Location
	partner  map[string]int
	status   map[string]int
	urgency  map[string]int
	reasons  map[ReasonCount]ReasonCount // by outcome and code, counts zero
	received [12]struct{ refs, persons int }
	arrived  [12]int
}

// NewBuilder starts the summary of period p of a stream named name whose
// partners are partners (in the stream's order). Dates are bucketed in loc.
func NewBuilder(p quota.Period, name string, partners []string, loc *time.Location) *Builder {
	b := &Builder{
		s: Summary{
			Stream: p.Stream, StreamName: name, Period: p.Year,
			Counters: Counters{Capacity: p.Capacity, Reserved: p.Reserved, Arrived: p.Arrived, Remaining: p.Remaining, WaitlistedPersons: p.WaitlistedPersons},
		},
		loc: loc, partner: map[string]int{}, status: map[string]int{}, urgency: map[string]int{},
		reasons: map[ReasonCount]ReasonCount{},
	}
	add := func(id string) {
		if _, ok := b.partner[id]; ok {
			return
		}
		b.partner[id] = len(b.s.Partners)
		c := p.Partners[id]
		b.s.Partners = append(b.s.Partners, PartnerLine{Partner: id, Reserved: c.Reserved, Arrived: c.Arrived})
	}
	for _, id := range partners {
		add(id)
	}
	// A partner no longer in the stream may still hold spaces.
	var former []string
	for id := range p.Partners {
		if _, ok := b.partner[id]; !ok {
			former = append(former, id)
		}
	}
	sort.Strings(former)
	for _, id := range former {
		add(id)
	}
	for _, st := range referral.AllStatuses() {
		b.status[string(st)] = len(b.s.Statuses)
		b.s.Statuses = append(b.s.Statuses, Count{Key: string(st)})
	}
	for _, u := range urgencies {
		b.urgency[string(u)] = len(b.s.Urgencies)
		b.s.Urgencies = append(b.s.Urgencies, Count{Key: string(u)})
	}
	return b
}

// Counts reports whether r counts toward this summary's stream and period.
func (b *Builder) Counts(r referral.Referral) bool {
	if r.Stream != b.s.Stream {
		return false
	}
	if r.Period != 0 {
		return r.Period == b.s.Period
	}
	return r.CreatedAt.In(b.loc).Year() == b.s.Period
}

// Add counts r if it belongs to the summary, and reports whether it did.
func (b *Builder) Add(r referral.Referral) bool {
	if !b.Counts(r) {
		return false
	}
	b.s.Referrals++
	b.s.Persons += r.Persons
	i, ok := b.partner[r.Partner]
	if !ok {
		i = len(b.s.Partners)
		b.partner[r.Partner] = i
		b.s.Partners = append(b.s.Partners, PartnerLine{Partner: r.Partner})
	}
	b.s.Partners[i].Referrals++
	b.s.Partners[i].Persons += r.Persons
	count := func(idx map[string]int, list *[]Count, key string) {
		j, ok := idx[key]
		if !ok {
			j = len(*list)
			idx[key] = j
			*list = append(*list, Count{Key: key})
		}
		(*list)[j].Referrals++
		(*list)[j].Persons += r.Persons
	}
	count(b.status, &b.s.Statuses, string(r.Status))
	if _, ok := reasonKinds[r.Status]; ok {
		for _, code := range r.Reasons {
			k := ReasonCount{Outcome: string(r.Status), Code: code}
			c := b.reasons[k]
			c.Outcome, c.Code = k.Outcome, k.Code
			c.Referrals++
			c.Persons += r.Persons
			b.reasons[k] = c
		}
	}
	count(b.urgency, &b.s.Urgencies, string(r.Urgency))
	if c := r.CreatedAt.In(b.loc); c.Year() == b.s.Period {
		b.received[c.Month()-1].refs++
		b.received[c.Month()-1].persons += r.Persons
	}
	if r.Status == referral.Arrived {
		// The recorded arrival date; referrals from before it was recorded
		// fall back to their last change, which was the arrival.
		u := r.UpdatedAt.In(b.loc)
		if d, err := time.Parse("2006-01-02", r.ArrivedOn); err == nil {
			u = d
		}
		if u.Year() == b.s.Period {
			b.arrived[u.Month()-1] += r.Persons
		}
	}
	return true
}

// Summary returns the summary as of date (YYYY-MM-DD), generated at.
func (b *Builder) Summary(date string, generatedAt time.Time) Summary {
	s := b.s
	s.Date, s.GeneratedAt = date, generatedAt.UTC()
	s.Partners = append([]PartnerLine(nil), b.s.Partners...)
	s.Statuses = append([]Count(nil), b.s.Statuses...)
	s.Urgencies = append([]Count(nil), b.s.Urgencies...)
	s.Reasons = b.reasonCounts()
	s.Months = make([]Month, 12)
	for m := range 12 {
		s.Months[m] = Month{
			Month:             time.Date(s.Period, time.Month(m+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01"),
			ReceivedReferrals: b.received[m].refs, ReceivedPersons: b.received[m].persons, ArrivedPersons: b.arrived[m],
		}
	}
	return s
}

// reasonKinds maps the statuses whose steps give reasons to their kind.
var reasonKinds = map[referral.Status]reason.Kind{
	referral.Ineligible: reason.Ineligible, referral.Refused: reason.Refused, referral.Withdrawn: reason.Withdrawn,
}

// reasonCounts lists the counted reasons outcome by outcome in lifecycle
// order, codes in their list's order; a code no list has (stored before the
// lists existed) comes after its outcome's listed codes, in code order.
func (b *Builder) reasonCounts() []ReasonCount {
	out := []ReasonCount{}
	for _, st := range []referral.Status{referral.Ineligible, referral.Refused, referral.Withdrawn} {
		listed := map[string]bool{}
		for _, code := range reason.Codes(reasonKinds[st]) {
			listed[code] = true
			if c, ok := b.reasons[ReasonCount{Outcome: string(st), Code: code}]; ok {
				out = append(out, c)
			}
		}
		var other []ReasonCount
		for k, c := range b.reasons {
			if k.Outcome == string(st) && !listed[k.Code] {
				other = append(other, c)
			}
		}
		sort.Slice(other, func(i, j int) bool { return other[i].Code < other[j].Code })
		out = append(out, other...)
	}
	return out
}
