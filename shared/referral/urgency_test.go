package referral

import "testing"

func TestUrgencyReasonsHaveBothLabels(t *testing.T) {
	for _, r := range UrgencyReasons() {
		if !r.Valid() || r.Label("en") == "" || r.Label("fr") == "" || r.Label("en") == r.Label("fr") {
			t.Errorf("%s: labels %q / %q", r, r.Label("en"), r.Label("fr"))
		}
	}
	if UrgencyReason("because").Valid() {
		t.Errorf("free text accepted as a reason")
	}
}
