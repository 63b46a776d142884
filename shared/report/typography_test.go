package report

import (
	"reflect"
	"strings"
	"testing"
)

// French typography in the report's French texts: a no-break space before
// : ; ? ! and inside « », never a plain one (it would let the mark wrap alone
// onto the next line).
func TestFrenchTypography(t *testing.T) {
	v := reflect.ValueOf(french)
	var texts []string
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.String {
			texts = append(texts, f.String())
		}
	}
	for _, m := range []map[string]string{french.Statuses, french.Urgencies} {
		for _, s := range m {
			texts = append(texts, s)
		}
	}
	for _, s := range texts {
		for _, bad := range []string{" :", " ;", " ?", " !", "« ", " »"} {
			if strings.Contains(s, bad) {
				t.Errorf("plain space in %q of %q", bad, s)
			}
		}
	}
}
