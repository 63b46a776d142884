package retention_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/retention"
)

func TestDecide(t *testing.T) {
	toronto, _ := time.LoadLocation("America/Toronto")
	// Ended at 10:00 Toronto on 2026-03-01; arrived on 2026-03-01.
	ended := time.Date(2026, 3, 1, 10, 0, 0, 0, toronto)
	twoYears := retention.Schedule{Ended: retention.Days(730), Arrived: retention.Days(365)}
	zero := retention.Schedule{Ended: retention.Days(0), Arrived: retention.Days(0)}
	withdrawn := retention.Facts{Status: referral.Withdrawn, EndedAt: ended}
	arrived := retention.Facts{Status: referral.Arrived, EndedAt: ended.AddDate(0, 1, 0), ArrivedOn: "2026-03-01"}
	held := func(f retention.Facts, codes ...string) retention.Facts { f.Holds = codes; return f }
	for _, tc := range []struct {
		name string
		f    retention.Facts
		s    retention.Schedule
		now  time.Time
		want retention.Verdict
	}{
		{"withdrawn, period run out", withdrawn, twoYears, ended.AddDate(0, 0, 730), retention.Due},
		{"withdrawn, a nanosecond early", withdrawn, twoYears, ended.AddDate(0, 0, 730).Add(-time.Nanosecond), retention.NotYet},
		{"withdrawn, 0 days: at once", withdrawn, zero, ended, retention.Due},
		{"ineligible", retention.Facts{Status: referral.Ineligible, EndedAt: ended}, zero, ended, retention.Due},
		{"refused", retention.Facts{Status: referral.Refused, EndedAt: ended}, zero, ended, retention.Due},
		{"withdrawn, no period for ended referrals", withdrawn, retention.Schedule{Arrived: retention.Days(0)}, ended.AddDate(50, 0, 0), retention.Kept},
		{"withdrawn, held", held(withdrawn, "legal-proceedings"), zero, ended, retention.Held},
		{"withdrawn, access request open", held(withdrawn, "access-request"), zero, ended, retention.Held},
		{"held but not yet: not yet", held(withdrawn, "legal-proceedings"), twoYears, ended, retention.NotYet},
		{"disposed: nothing more", retention.Facts{Status: referral.Withdrawn, EndedAt: ended, Disposed: true}, zero, ended, retention.Disposed},
		// After arrival the period runs from the arrival date (midnight,
		// Toronto), not from when it was recorded.
		{"arrived, from the arrival date", arrived, twoYears, time.Date(2027, 3, 1, 0, 0, 0, 0, toronto), retention.Due},
		{"arrived, the day before", arrived, twoYears, time.Date(2027, 2, 28, 23, 59, 0, 0, toronto), retention.NotYet},
		{"arrived, UTC already the next day", arrived, twoYears, time.Date(2027, 3, 1, 4, 0, 0, 0, time.UTC), retention.NotYet},
		{"arrived, other period", arrived, retention.Schedule{Ended: retention.Days(0)}, ended.AddDate(50, 0, 0), retention.Kept},
		{"arrived, unreadable date: kept", retention.Facts{Status: referral.Arrived, ArrivedOn: "soon"}, zero, ended, retention.Kept},
		{"arrived, held", held(arrived, "investigation"), zero, ended.AddDate(1, 0, 0), retention.Held},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retention.Decide(tc.f, tc.s, tc.now); got != tc.want {
				t.Errorf("Decide = %s, want %s", got, tc.want)
			}
		})
	}
	// A referral still running is never disposed, whatever the schedule.
	for _, st := range referral.AllStatuses() {
		switch st {
		case referral.Withdrawn, referral.Ineligible, referral.Refused, referral.Arrived:
			continue
		}
		if got := retention.Decide(retention.Facts{Status: st, EndedAt: ended}, zero, ended.AddDate(100, 0, 0)); got != retention.Open {
			t.Errorf("%s: %s, want open", st, got)
		}
	}
}

func TestScheduleCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    retention.Schedule
		want []problem.FieldError
	}{
		{"none", retention.Schedule{}, nil},
		{"zero", retention.Schedule{Ended: retention.Days(0), Arrived: retention.Days(0)}, nil},
		{"the most", retention.Schedule{Ended: retention.Days(retention.MaxDays)}, nil},
		{"negative", retention.Schedule{Ended: retention.Days(-1), Arrived: retention.Days(30)}, []problem.FieldError{
			{Field: "retention_days.ended", Code: problem.CodeOutOfRange}}},
		{"too long", retention.Schedule{Arrived: retention.Days(retention.MaxDays + 1)}, []problem.FieldError{
			{Field: "retention_days.arrived", Code: problem.CodeOutOfRange}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.s.Check("retention_days")); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChangeHolds(t *testing.T) {
	for _, tc := range []struct {
		name             string
		holds            []string
		hold             bool
		code             string
		next, set, lifed []string
	}{
		{"set", nil, true, "legal-proceedings", []string{"legal-proceedings"}, []string{"legal-proceedings"}, nil},
		{"set again: nothing", []string{"legal-proceedings"}, true, "legal-proceedings", []string{"legal-proceedings"}, nil, nil},
		{"set a second, list order", []string{"investigation"}, true, "legal-proceedings", []string{"legal-proceedings", "investigation"}, []string{"legal-proceedings"}, nil},
		{"lift one by name", []string{"legal-proceedings", "investigation"}, false, "investigation", []string{"legal-proceedings"}, nil, []string{"investigation"}},
		{"lift one not held: nothing", []string{"legal-proceedings"}, false, "investigation", []string{"legal-proceedings"}, nil, nil},
		{"lift all but an open access request", []string{"legal-proceedings", "privacy-complaint", "access-request"}, false, "",
			[]string{"access-request"}, nil, []string{"legal-proceedings", "privacy-complaint"}},
		{"answer the access request", []string{"legal-proceedings", "access-request"}, false, "access-request", []string{"legal-proceedings"}, nil, []string{"access-request"}},
		{"lift all of none: nothing", nil, false, "", nil, nil, nil},
		{"a retired code stays until lifted by name", []string{"old-code"}, false, "", []string{"old-code"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, set, lifted := retention.ChangeHolds(tc.holds, tc.hold, tc.code)
			if diff := cmp.Diff([][]string{tc.next, tc.set, tc.lifed}, [][]string{next, set, lifted}); diff != "" {
				t.Errorf("next, set, lifted (-want +got):\n%s", diff)
			}
		})
	}
}
