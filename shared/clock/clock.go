package clock

import (
	"fmt"
	"strings"
	"time"
)

// Clock returns the current time. It is a plain function type so that a
// field of type func() time.Time accepts any Clock.
type Clock = func() time.Time

// System is the machine's clock, in UTC.
func System() time.Time { return time.Now().UTC() }

// Fixed is a clock stopped at t.
func Fixed(t time.Time) Clock {
	t = t.UTC()
	return func() time.Time { return t }
}

// From is a clock that reads start when it is made and then advances as the
// machine's clock does (by its monotonic reading, so a change of the
// machine's date does not move it).
func From(start time.Time) Clock {
	start = start.UTC()
	origin := time.Now()
	return func() time.Time { return start.Add(time.Since(origin)) }
}

// Parse reads a point in time as RFC 3339 ("2027-01-01T05:30:00Z",
// "2026-12-31T23:59:00-05:00"), optionally followed by a space and an IANA
// zone name that the local time is in ("2026-12-31T23:59 America/Toronto"),
// or a date alone ("2030-06-15", noon UTC, which is the same date in every
// zone Haven reports in).
func Parse(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if local, zone, ok := strings.Cut(s, " "); ok {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return time.Time{}, fmt.Errorf("clock %q: unknown time zone %q", s, zone)
		}
		for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
			if t, err := time.ParseInLocation(layout, local, loc); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("clock %q: want YYYY-MM-DDTHH:MM[:SS] before the zone name", s)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(12 * time.Hour), nil
	}
	return time.Time{}, fmt.Errorf("clock %q: want RFC 3339, a date, or local time and a zone name", s)
}
