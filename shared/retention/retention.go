package retention

import (
	"time"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// MaxDays bounds a retention period: a century, far beyond any schedule,
// so that a typo cannot overflow the arithmetic on dates.
const MaxDays = 36525

// Schedule is a stream's retention. A nil period keeps those referrals.
type Schedule struct {
	// Ended is the days a referral is kept after it ended (withdrawn,
	// ineligible, refused).
	Ended *int
	// Arrived is the days a referral is kept after its people arrived.
	Arrived *int
}

// Days is a period of n days, for building schedules.
func Days(n int) *int { return &n }

// Check reports what is wrong with s, as field errors under path (the
// stream configuration's retention_days).
func (s Schedule) Check(path string) []problem.FieldError {
	var fields []problem.FieldError
	for _, p := range []struct {
		name string
		days *int
	}{{"ended", s.Ended}, {"arrived", s.Arrived}} {
		if p.days != nil && (*p.days < 0 || *p.days > MaxDays) {
			fields = append(fields, problem.FieldError{Field: path + "." + p.name, Code: problem.CodeOutOfRange})
		}
	}
	return fields
}

// Facts are what the rule needs to know about one referral.
type Facts struct {
	Status referral.Status
	// EndedAt is when the referral reached its terminal status: its last
	// change, since nothing changes an ended referral (a hold is not a
	// change of the referral's state and leaves it as it was).
	EndedAt time.Time
	// ArrivedOn is the arrival date (YYYY-MM-DD), once arrived.
	ArrivedOn string
	// Holds are the reason codes of the holds on it.
	Holds []string
	// Disposed is set once it was disposed.
	Disposed bool
}

// Verdict is what the rule decided.
type Verdict string

const (
	// Due: dispose of it now.
	Due Verdict = "due"
	// Open: the referral has not ended; nothing is disposed while it runs.
	Open Verdict = "open"
	// Kept: its stream has no period for its status.
	Kept Verdict = "kept"
	// NotYet: the period has not run out.
	NotYet Verdict = "not-yet"
	// Held: the period ran out, but a hold stops disposition.
	Held Verdict = "held"
	// Disposed: already done; a second run changes nothing.
	Disposed Verdict = "disposed"
)

// Decide says whether a referral with facts f is due for disposition at
// now under schedule s. A period of n days runs out n calendar days after
// the anchor, in Toronto (quota.Location), as every other date of Haven:
// the arrival date's midnight, or the instant it ended.
func Decide(f Facts, s Schedule, now time.Time) Verdict {
	if f.Disposed {
		return Disposed
	}
	var anchor time.Time
	var days *int
	switch {
	case f.Status == referral.Arrived:
		day, err := time.ParseInLocation(time.DateOnly, f.ArrivedOn, quota.Location())
		if err != nil {
			// An arrival without a readable date cannot be timed: keep it
			// rather than guess.
			return Kept
		}
		anchor, days = day, s.Arrived
	case f.Status == referral.Withdrawn || f.Status == referral.Ineligible || f.Status == referral.Refused:
		anchor, days = f.EndedAt.In(quota.Location()), s.Ended
	default:
		return Open
	}
	if days == nil {
		return Kept
	}
	if now.Before(anchor.AddDate(0, 0, *days)) {
		return NotYet
	}
	if len(f.Holds) > 0 {
		return Held
	}
	return Due
}
