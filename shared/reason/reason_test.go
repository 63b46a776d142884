package reason

import (
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/problem"
)

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Every code of every kind is a stable kebab-case code with an English and a
// French label that differ, read as sentences and follow French typography.
func TestEveryCodeHasTwoLabels(t *testing.T) {
	for _, k := range append(Kinds(), Urgency, Hold) {
		codes := Codes(k)
		if len(codes) == 0 || len(codes) > MaxPerStep() {
			t.Errorf("%s: %d codes", k, len(codes))
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if seen[c] {
				t.Errorf("%s: %s listed twice", k, c)
			}
			seen[c] = true
			if !kebab.MatchString(c) || len(c) > 64 {
				t.Errorf("%s: code %q is not kebab-case of at most 64 bytes", k, c)
			}
			lb, ok := LabelOf(c)
			if !ok || lb.EN == "" || lb.FR == "" || lb.EN == lb.FR {
				t.Errorf("%s: code %s lacks a distinct label in one language: %+v", k, c, lb)
				continue
			}
			for _, s := range []string{lb.EN, lb.FR} {
				if !unicode.IsUpper([]rune(s)[0]) || strings.HasSuffix(s, ".") {
					t.Errorf("%q: a label starts with a capital and has no full stop", s)
				}
				if strings.Contains(s, "'") {
					t.Errorf("%q: ASCII apostrophe, use ’", s)
				}
			}
			if strings.Contains(lb.FR, " :") || strings.Contains(lb.FR, " ;") {
				t.Errorf("%q: breaking space before a French colon or semicolon", lb.FR)
			}
			if !k.Allows(c) {
				t.Errorf("%s does not allow its own code %s", k, c)
			}
		}
	}
	if _, ok := LabelOf("safe now"); ok {
		t.Errorf("a free-text reason has a label")
	}
}

func TestCheck(t *testing.T) {
	withdrawn := Codes(Withdrawn)
	refused := Codes(Refused)
	tests := []struct {
		name  string
		kind  Kind
		codes []string
		want  []problem.FieldError
	}{
		{"none", Refused, nil, nil},
		{"valid", Ineligible, []string{"not-a-refugee", "no-protection-risk"}, nil},
		{"shared code", Refused, []string{"durable-solution-available"}, nil},
		{"another kind's code", Refused, []string{"not-a-refugee"},
			[]problem.FieldError{{Field: "reasons.0", Code: problem.CodeNotAllowed, Allowed: refused}}},
		{"free text", Refused, []string{"inadmissible-security", "Lives at 12 Main St"},
			[]problem.FieldError{{Field: "reasons.1", Code: problem.CodeNotAllowed, Allowed: refused}}},
		{"repeated", Refused, []string{"misrepresentation", "misrepresentation"},
			[]problem.FieldError{{Field: "reasons.1", Code: problem.CodeDuplicate}}},
		{"too many", Withdrawn, append(append([]string{}, withdrawn...), withdrawn[:3]...), []problem.FieldError{
			{Field: "reasons", Code: problem.CodeTooMany},
			{Field: "reasons.8", Code: problem.CodeDuplicate},
			{Field: "reasons.9", Code: problem.CodeDuplicate},
			{Field: "reasons.10", Code: problem.CodeDuplicate},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Check(tt.kind, "reasons", tt.codes)); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if got := CheckOne(Withdrawn, "reason", "safe now"); len(got) != 1 || got[0].Field != "reason" || len(got[0].Allowed) != len(withdrawn) {
		t.Errorf("CheckOne(free text) = %+v", got)
	}
	if got := CheckOne(Withdrawn, "reason", "deceased"); got != nil {
		t.Errorf("CheckOne(deceased) = %+v", got)
	}
}

// The message of a refused code names the allowed codes in both languages.
func TestErrorNamesTheCodes(t *testing.T) {
	f := CheckOne(Withdrawn, "reason", "safe")[0]
	for _, l := range []problem.Lang{problem.English, problem.French} {
		m := f.Message(l)
		for _, c := range Codes(Withdrawn) {
			if !strings.Contains(m, c) {
				t.Errorf("%s message %q does not name %s", l, m, c)
			}
		}
	}
}

func TestAllHasEveryCodeOnce(t *testing.T) {
	n := map[string]int{}
	for _, c := range All() {
		n[c]++
	}
	for _, k := range Kinds() {
		for _, c := range Codes(k) {
			if n[c] != 1 {
				t.Errorf("All() holds %s %d times", c, n[c])
			}
		}
	}
}
