package quota

import (
	"testing"
	"time"
)

// The embedded zone must be Toronto's: a report dated in UTC would put the
// evening's arrivals on the wrong day.
func TestEmbeddedScheduleZone(t *testing.T) {
	loc, err := time.LoadLocationFromTZData(Zone, torontoTZ)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		utc  time.Time
		want string
	}{
		{time.Date(2026, 11, 28, 3, 30, 0, 0, time.UTC), "2026-11-27 22:30 EST"},
		{time.Date(2026, 7, 1, 3, 30, 0, 0, time.UTC), "2026-06-30 23:30 EDT"},
	}
	for _, tt := range tests {
		if got := tt.utc.In(loc).Format("2006-01-02 15:04 MST"); got != tt.want {
			t.Errorf("%v in Toronto = %s, want %s", tt.utc, got, tt.want)
		}
	}
	if Location().String() != Zone {
		t.Errorf("Location() is %s", Location())
	}
}
