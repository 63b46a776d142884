package problem

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
)

func TestEveryKindIsComplete(t *testing.T) {
	want := map[Kind]int{
		Validation: 400, Unauthenticated: 401, Forbidden: 403, NotFound: 404, InvalidTransition: 409,
		QuotaExhausted: 409, DuplicateReferral: 409, RequestInProgress: 409, CapacityBelowCommitted: 409, PeriodClosed: 409, WaitlistNotEmpty: 409,
		PayloadTooLarge: 413, UnsupportedMediaType: 415, IdempotencyKeyReused: 422, RateLimited: 429, Disposed: 410,
		Internal: 500, Unavailable: 503,
	}
	if len(Kinds()) != len(want) {
		t.Fatalf("%d kinds, want %d", len(Kinds()), len(want))
	}
	for _, k := range Kinds() {
		if got := k.Status(); got != want[k] {
			t.Errorf("%s: status %d, want %d", k, got, want[k])
		}
		for _, l := range []Lang{English, French} {
			if titles[k].in(l) == "" || details[k].in(l) == "" {
				t.Errorf("%s has no %s title or detail", k, l)
			}
		}
		if titles[k].en == titles[k].fr {
			t.Errorf("%s: French title is the English one", k)
		}
	}
	if Kind("nonsense").Status() != 500 {
		t.Errorf("unknown kind is not 500")
	}
}

// French typography: a (narrow) no-break space before ; : ! ? and none of
// the ASCII apostrophes English uses.
func TestFrenchTypography(t *testing.T) {
	var texts []string
	for _, k := range Kinds() {
		texts = append(texts, titles[k].fr, details[k].fr)
	}
	texts = append(texts, allowedIntro.fr, malformedBody.fr)
	for _, c := range FieldCodes() {
		texts = append(texts, fieldMessages[c].fr)
		if fieldMessages[c].en == "" || fieldMessages[c].fr == "" || fieldMessages[c].en == fieldMessages[c].fr {
			t.Errorf("field code %s lacks a distinct message in one language", c)
		}
	}
	for _, s := range texts {
		if strings.Contains(s, "'") {
			t.Errorf("ASCII apostrophe in %q: use ’", s)
		}
		r := []rune(s)
		for i, c := range r {
			if strings.ContainsRune(";:!?", c) && i > 0 && r[i-1] != '\u00a0' && r[i-1] != '\u202f' && r[i-1] != ' ' {
				t.Errorf("no space before %q in %q", c, s)
			}
			if strings.ContainsRune(";:!?", c) && i > 0 && r[i-1] == ' ' {
				// A plain space may break the line before the mark.
				t.Errorf("breaking space before %q in %q: use a no-break space", c, s)
			}
		}
		if !unicode.IsUpper([]rune(s)[0]) {
			t.Errorf("%q does not start with a capital", s)
		}
	}
}

func TestPickLang(t *testing.T) {
	tests := []struct {
		header string
		want   Lang
	}{
		{"", English},
		{"fr", French},
		{"fr-CA,fr;q=0.9,en;q=0.8", French},
		{"en-CA,fr;q=0.9", English},
		{"de,fr;q=0.5", French},
		{"fr;q=0.2,en;q=0.9", English},
		{"es", English},
		{"FR-ca", French},
		{"fr;q=abc", English},
		{"fr;q=1.5", English},
	}
	for _, tt := range tests {
		if got := PickLang(tt.header); got != tt.want {
			t.Errorf("PickLang(%q) = %s, want %s", tt.header, got, tt.want)
		}
	}
}

func FuzzPickLang(f *testing.F) {
	for _, s := range []string{"", "fr", "en-CA,fr;q=0.9", "fr;q=", ";;,,", "fr;q=0.999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if l := PickLang(s); l != English && l != French {
			t.Fatalf("PickLang(%q) = %q", s, l)
		}
	})
}

func TestKindOf(t *testing.T) {
	wrapped := fmt.Errorf("context: %w", New(QuotaExhausted))
	tests := []struct {
		err  error
		want Kind
	}{
		{New(NotFound), NotFound},
		{wrapped, QuotaExhausted},
		{errors.New("plain"), Internal},
		{Invalid(FieldError{Field: "a", Code: CodeRequired}), Validation},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
	if As(errors.New("x")).Kind != Internal {
		t.Errorf("As of a plain error is not internal")
	}
}

// A value outside a closed list is answered with the list, in both languages.
func TestMessageNamesTheAllowedValues(t *testing.T) {
	f := FieldError{Field: "urgency", Code: CodeNotAllowed, Allowed: []string{"normal", "urgent", "emergency"}}
	for l, want := range map[Lang]string{
		English: "This value is not one of the allowed choices. Allowed values: normal, urgent, emergency.",
		French:  "Cette valeur ne fait pas partie des choix permis. Valeurs permises\u00a0: normal, urgent, emergency.",
	} {
		if got := f.Message(l); got != want {
			t.Errorf("Message(%s) = %q, want %q", l, got, want)
		}
	}
	if got := (FieldError{Code: CodeRequired}).Message(French); got != FieldMessage(CodeRequired, French) {
		t.Errorf("Message without a list = %q", got)
	}
}

// A malformed header or parameter is not an unreadable body: the message
// says which, in both languages.
func TestMalformedSaysWhat(t *testing.T) {
	for _, l := range []Lang{English, French} {
		body := FieldError{Code: CodeMalformed}.Message(l)
		header := FieldError{Field: "Idempotency-Key", Code: CodeMalformed}.Message(l)
		if body != malformedBody.in(l) {
			t.Errorf("%s: body message %q, want %q", l, body, malformedBody.in(l))
		}
		if header == body || header != fieldMessages[CodeMalformed].in(l) {
			t.Errorf("%s: header message %q, want the value message, not the body's", l, header)
		}
	}
}
