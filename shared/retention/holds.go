package retention

import (
	"slices"

	"github.com/haven-hrd/haven/shared/reason"
)

// ChangeHolds is what a hold request does to a referral's holds: hold sets
// code; a lift with a code lifts that hold; a lift without one lifts every
// hold but an open access request, which only a lift naming it ends (that
// lift is the record that the request was answered). next is in the
// reason list's order; set and lifted say what changed (nothing: both
// empty).
func ChangeHolds(holds []string, hold bool, code string) (next, set, lifted []string) {
	has := map[string]bool{}
	for _, h := range holds {
		has[h] = true
	}
	switch {
	case hold && !has[code]:
		has[code] = true
		set = []string{code}
	case !hold && code != "":
		if has[code] {
			delete(has, code)
			lifted = []string{code}
		}
	case !hold:
		for _, h := range reason.Codes(reason.Hold) {
			if has[h] && h != reason.AccessRequest {
				delete(has, h)
				lifted = append(lifted, h)
			}
		}
	}
	for _, h := range reason.Codes(reason.Hold) {
		if has[h] {
			next = append(next, h)
		}
	}
	// A code no longer in the list (stored before it was retired) stays
	// until lifted by name: a hold is never dropped by accident.
	for _, h := range holds {
		if !slices.Contains(next, h) && has[h] {
			next = append(next, h)
		}
	}
	return next, set, lifted
}
