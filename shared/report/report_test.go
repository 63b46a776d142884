package report

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func toronto(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func arrivedOn(r referral.Referral, day string) referral.Referral {
	r.ArrivedOn = day
	return r
}

func ref(id, partner string, status referral.Status, u referral.Urgency, persons, period int, created, updated string) referral.Referral {
	r := referral.Referral{ID: id, Partner: partner, Status: status, Persons: persons, Period: period, CreatedAt: at(created), UpdatedAt: at(updated)}
	r.Stream, r.Urgency = "hrd", u
	return r
}

func withReasons(r referral.Referral, codes ...string) referral.Referral {
	r.Reasons = codes
	return r
}

// fixture is a small period: counters as the quota transactions left them,
// and the referrals behind them.
func fixture(t testing.TB) Summary {
	p := quota.Period{
		Stream: "hrd", Year: 2026, Capacity: 500, Reserved: 9, Arrived: 6, Remaining: 485, WaitlistedPersons: 4,
		Partners: map[string]quota.PartnerCount{
			"unhcr": {Reserved: 5, Arrived: 6}, "front-line-defenders": {Reserved: 4},
			"old-partner": {Arrived: 0, Reserved: 0},
		},
	}
	b := NewBuilder(p, "Global Human Rights Defenders stream", []string{"unhcr", "front-line-defenders", "protectdefenders-eu"}, toronto(t))
	for _, r := range []referral.Referral{
		ref("r01", "unhcr", referral.Arrived, referral.Urgent, 4, 2026, "2026-01-10T15:00:00Z", "2026-06-02T14:00:00Z"),
		ref("r02", "unhcr", referral.Arrived, referral.Normal, 2, 2026, "2026-02-01T15:00:00Z", "2026-09-15T14:00:00Z"),
		ref("r03", "unhcr", referral.Allocated, referral.Emergency, 5, 2026, "2026-03-03T15:00:00Z", "2026-03-05T14:00:00Z"),
		ref("r04", "front-line-defenders", referral.Approved, referral.Normal, 4, 2026, "2026-04-20T15:00:00Z", "2026-10-01T14:00:00Z"),
		ref("r05", "front-line-defenders", referral.Waitlisted, referral.Normal, 4, 2026, "2026-05-20T15:00:00Z", "2026-05-21T14:00:00Z"),
		ref("r06", "protectdefenders-eu", referral.Submitted, referral.Urgent, 1, 0, "2026-11-26T15:00:00Z", "2026-11-26T15:00:00Z"),
		withReasons(ref("r07", "protectdefenders-eu", referral.Withdrawn, referral.Normal, 3, 0, "2026-07-01T15:00:00Z", "2026-08-01T15:00:00Z"), "resettled-elsewhere", "stored-before-the-lists"),
		// Received on New Year's Eve in Toronto, after midnight UTC: 2025.
		ref("r08", "unhcr", referral.Submitted, referral.Normal, 2, 0, "2026-01-01T03:00:00Z", "2026-01-01T03:00:00Z"),
		// Another year's period, another stream: not counted.
		ref("r09", "unhcr", referral.Allocated, referral.Normal, 2, 2027, "2026-11-01T15:00:00Z", "2026-11-02T15:00:00Z"),
		// 2025's quota, arrived 2026-01-15: in 2025's quota view, and in
		// 2026's admissions only.
		arrivedOn(ref("r11", "front-line-defenders", referral.Arrived, referral.Normal, 3, 2025, "2025-06-01T15:00:00Z", "2026-01-15T20:00:00Z"), "2026-01-15"),
	} {
		b.Add(r)
		b.Admit(r)
	}
	other := ref("r10", "unhcr", referral.Submitted, referral.Normal, 1, 0, "2026-03-01T15:00:00Z", "2026-03-01T15:00:00Z")
	other.Stream = "hrd-temporary"
	b.Add(other)
	return b.Summary("2026-11-27", at("2026-11-27T07:00:00Z"))
}

func TestReportGolden(t *testing.T) {
	s := fixture(t)
	for _, tc := range []struct {
		file   string
		render func(Summary) ([]byte, error)
	}{
		{"summary.json", JSON},
		{"summary.csv", CSV},
		{"summary.html", HTML},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := tc.render(s)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tc.file), got)
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	testenv.Golden(t, path, got, *update)
}

func TestReportCounts(t *testing.T) {
	s := fixture(t)
	if got, want := s.Referrals, 7; got != want {
		t.Errorf("referrals = %d, want %d", got, want)
	}
	byKey := func(cs []Count) map[string]Count {
		m := map[string]Count{}
		for _, c := range cs {
			m[c.Key] = c
		}
		return m
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"status arrived", byKey(s.Statuses)["arrived"], Count{Key: "arrived", Referrals: 2, Persons: 6}},
		{"status submitted", byKey(s.Statuses)["submitted"], Count{Key: "submitted", Referrals: 1, Persons: 1}},
		{"urgency emergency", byKey(s.Urgencies)["emergency"], Count{Key: "emergency", Referrals: 1, Persons: 5}},
		{"june", s.Months[5], Month{Month: "2026-06", ArrivedPersons: 4, AdmittedPersons: 4}},
		// r11 used 2025's quota: not arrived in this period's view, admitted
		// in January 2026 all the same.
		{"january", s.Months[0], Month{Month: "2026-01", ReceivedReferrals: 1, ReceivedPersons: 4, AdmittedPersons: 3}},
		{"admissions", s.Admissions, Admissions{Persons: 9, ByQuotaYear: []YearCount{{2025, 3}, {2026, 6}}}},
		{"partners order", partnerIDs(s), []string{"unhcr", "front-line-defenders", "protectdefenders-eu", "old-partner"}},
		{"unhcr", s.Partners[0], PartnerLine{Partner: "unhcr", Reserved: 5, Arrived: 6, Referrals: 3, Persons: 11}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func partnerIDs(s Summary) []string {
	var ids []string
	for _, p := range s.Partners {
		ids = append(ids, p.Partner)
	}
	return ids
}

func TestReportHTMLAccessible(t *testing.T) {
	b, err := HTML(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		`<section class="lang" id="en" lang="en"`, `<section class="lang" id="fr" lang="fr"`,
		`<title id="en-capacity-t">`, `<desc id="fr-month-d">`, `aria-labelledby="fr-partner-t fr-partner-d"`,
		"<caption>Persons by status</caption>", "<caption>Personnes par statut</caption>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, banned := range []string{"https://", "<script", "<link", "<img", "@import", "url("} {
		if strings.Contains(page, banned) {
			t.Errorf("page holds %q: it must need no external asset", banned)
		}
	}
	if got, want := strings.Count(page, "http://"), strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`); got != want {
		t.Errorf("page has %d URLs, %d of them SVG namespaces: no external assets allowed", got, want)
	}
	if got := strings.Count(page, "<svg "); got != 10 {
		t.Errorf("page has %d charts, want 10 (5 per language)", got)
	}
}

func TestFrenchNumbers(t *testing.T) {
	for _, tc := range []struct {
		w    words
		n    int
		want string
	}{
		{english, 0, "0"}, {english, 999, "999"}, {english, 1000, "1,000"}, {english, 1234567, "1,234,567"},
		{french, 1000, "1\u202f000"}, {french, -2500, "-2\u202f500"},
	} {
		if got := tc.w.num(tc.n); got != tc.want {
			t.Errorf("%s num(%d) = %q, want %q", tc.w.Code, tc.n, got, tc.want)
		}
	}
}

// TestCSVNeutralisesFormulas: a text cell a spreadsheet would run gets the
// quote prefix; a negative count stays a number.
func TestCSVNeutralisesFormulas(t *testing.T) {
	s := Summary{Stream: "hrd", Period: 2026, Counters: Counters{Remaining: -3},
		Partners: []PartnerLine{{Partner: "=HYPERLINK(\"http://x\",\"y\")", Reserved: 2}}}
	b, err := CSV(s)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		"period,hrd/2026,remaining,-3\r\n",
		"partner,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",reserved,2\r\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("csv lacks %q:\n%s", want, got)
		}
	}
}
