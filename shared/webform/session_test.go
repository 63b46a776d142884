package webform

import (
	"strings"
	"testing"
)

func TestCatalogFrench(t *testing.T) {
	for k, m := range catalog {
		if m.en == "" || m.fr == "" {
			t.Errorf("%s: missing a language", k)
		}
		for _, bad := range []string{" :", " ;", " ?", " !", "« ", " »"} {
			if strings.Contains(m.fr, bad) {
				t.Errorf("%s: French text has a breaking space in %q", k, bad)
			}
		}
	}
	if got := summaryText("fr", "family_members.1.date_of_birth", "x"); got != "Membre de la famille 2, date de naissance\u00a0: x" {
		t.Errorf("summaryText = %q", got)
	}
}
