package workspace

import (
	"strings"
	"testing"
)

// TestLabels: every label has both languages, and French keeps its
// no-break spaces before high punctuation.
func TestLabels(t *testing.T) {
	for k, m := range labels {
		if strings.TrimSpace(m.en) == "" || strings.TrimSpace(m.fr) == "" {
			t.Errorf("%s: missing a language", k)
		}
		if strings.Count(m.en, "%") != strings.Count(m.fr, "%") {
			t.Errorf("%s: the languages take different arguments", k)
		}
		for _, bad := range []string{" :", " ;", " ?", " !"} {
			if strings.Contains(T("fr", k), bad) {
				t.Errorf("%s: French has a breaking space in %q", k, bad)
			}
		}
	}
}
