package api

import (
	"strconv"
	"testing"

	"github.com/haven-hrd/haven/shared/problem"
)

func FuzzPeriodPath(f *testing.F) {
	for _, s := range [][2]string{{"hrd", "2026"}, {"hrd-temporary", "2100"}, {"", ""}, {"HRD", "2026"}, {"hrd", "+2026"}, {"hrd", "2026.0"}, {"../x", "1e3"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, stream, year string) {
		s, y, err := parsePeriodPath(stream, year)
		if err != nil {
			if problem.KindOf(err) != problem.Validation {
				t.Fatalf("kind %s", problem.KindOf(err))
			}
			return
		}
		if s != stream || !validSlug(s) || y < 2000 || y > 2100 {
			t.Fatalf("accepted %q %q as %q %d", stream, year, s, y)
		}
		if n, _ := strconv.Atoi(year); n != y {
			t.Fatalf("year %q parsed as %d", year, y)
		}
	})
}
