package clock

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2027-01-01T05:30:00Z", want: time.Date(2027, 1, 1, 5, 30, 0, 0, time.UTC)},
		{in: "2026-12-31T23:59:00-05:00", want: time.Date(2027, 1, 1, 4, 59, 0, 0, time.UTC)},
		{in: "2026-12-31T23:59 America/Toronto", want: time.Date(2027, 1, 1, 4, 59, 0, 0, time.UTC)},
		{in: "2026-07-01T00:00:30 America/Toronto", want: time.Date(2026, 7, 1, 4, 0, 30, 0, time.UTC)},
		{in: "2030-06-15", want: time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)},
		{in: " 2030-06-15 ", want: time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)},
		{in: "2026-12-31T23:59 Mars/Olympus", wantErr: true},
		{in: "2026-12-31 America/Toronto", wantErr: true},
		{in: "yesterday", wantErr: true},
		{in: "", wantErr: true},
	} {
		got, err := Parse(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("Parse(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestFixedAndFrom(t *testing.T) {
	start := time.Date(2026, 12, 31, 23, 59, 59, 0, time.FixedZone("EST", -5*3600))
	if got, want := Fixed(start)(), start.UTC(); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Fixed() = %v, want %v in UTC", got, want)
	}
	c := From(start)
	first := c()
	if first.Before(start) || first.Sub(start) > time.Minute || first.Location() != time.UTC {
		t.Errorf("From(start)() = %v, want start (%v) in UTC", first, start.UTC())
	}
	for range 1000 {
		if next := c(); next.Before(first) {
			t.Fatalf("From went back: %v after %v", next, first)
		}
	}
}
