package quota

import (
	_ "embed"
	"sync"
	"time"
)

// Zone is where Haven's year is reckoned: a period is a calendar year in
// Toronto (IRCC's levels plans count calendar years in Canada's capital
// region), for defaults, the lapse of a quota and the reports alike.
const Zone = "America/Toronto"

// torontoTZ is the zone's TZif data from Go's own zoneinfo, so that the
// year does not depend on the Lambda image having /usr/share/zoneinfo.
//
//go:embed zoneinfo/America_Toronto
var torontoTZ []byte

// Location is Zone, loaded once: the system's copy when it has one (kept up
// to date by the OS), else the embedded one.
var Location = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation(Zone); err == nil {
		return loc
	}
	loc, err := time.LoadLocationFromTZData(Zone, torontoTZ)
	if err != nil {
		panic("quota: embedded " + Zone + " zone data: " + err.Error())
	}
	return loc
})

// YearOf is the one rule for "which year is it": the calendar year of t in
// Toronto. 2027-01-01T03:00Z is still 2026.
func YearOf(t time.Time) int { return t.In(Location()).Year() }
