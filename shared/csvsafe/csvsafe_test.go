package csvsafe_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/csvsafe"
)

func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"UNHCR-2026-001", "UNHCR-2026-001"},
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"a=1+1", "a=1+1"},
		{" =1", " =1"},
		{"'quoted", "'quoted"},
		{"Réf-1", "Réf-1"},
	} {
		if got := csvsafe.Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestTextInCSV checks the whole treatment OWASP asks for: the quote prefix
// from Text, then RFC 4180 quoting (double quotes doubled) from encoding/csv.
func TestTextInCSV(t *testing.T) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{csvsafe.Text(`=HYPERLINK("http://x","y")`), "-3"})
	w.Flush()
	if diff := cmp.Diff("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-3\n", buf.String()); diff != "" {
		t.Errorf("csv (-want +got):\n%s", diff)
	}
}
