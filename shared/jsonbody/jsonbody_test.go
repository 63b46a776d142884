package jsonbody

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/problem"
)

// sample is a small schema in the shape of the lifecycle bodies.
type sample struct {
	Outcome string
	Reasons []string
	N       int64
	HasN    bool
	Flag    bool
	A       string
	Items   int
}

const maxReasons = 3

func decodeSample(body []byte) (sample, error) {
	var s sample
	d, err := New(body, 1<<10)
	if err != nil {
		return s, err
	}
	d.Object("", func(key, path string) bool {
		switch key {
		case "outcome":
			s.Outcome = d.String(path)
		case "reasons":
			s.Reasons = d.Strings(path, maxReasons)
		case "n":
			s.N, s.HasN = d.Integer(path)
		case "flag":
			s.Flag = d.Bool(path)
		case "obj":
			d.Object(path, func(key, path string) bool {
				if key != "a" {
					return false
				}
				s.A = d.String(path)
				return true
			})
		case "items":
			d.Array(path, maxReasons, func(p string) { s.Items++; d.Skip() })
		default:
			return false
		}
		return true
	})
	return s, d.Finish()
}

func fields(t *testing.T, err error) []problem.FieldError {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *problem.Error", err)
	}
	if pe.Kind != problem.Validation {
		t.Fatalf("kind %s, want validation", pe.Kind)
	}
	return pe.Fields
}

func fe(field, code string) problem.FieldError { return problem.FieldError{Field: field, Code: code} }

func TestBadBodies(t *testing.T) {
	malformed := []problem.FieldError{fe("", problem.CodeMalformed)}
	long := strings.Repeat("é", 40) // 80 bytes
	tests := []struct {
		name, body string
		want       []problem.FieldError
	}{
		{"keys differ in case only", `{"OUTCOME":"eligible","outcome":"ineligible"}`, []problem.FieldError{fe("OUTCOME", problem.CodeUnknownField)}},
		{"upper-case key", `{"Outcome":"eligible"}`, []problem.FieldError{fe("Outcome", problem.CodeUnknownField)}},
		{"repeated key", `{"outcome":"eligible","outcome":"ineligible"}`, []problem.FieldError{fe("outcome", problem.CodeDuplicate)}},
		{"repeated key by escape", `{"outcome":"eligible","\u006futcome":"ineligible"}`, []problem.FieldError{fe("outcome", problem.CodeDuplicate)}},
		{"repeated nested key", `{"obj":{"a":"x","a":"y"}}`, []problem.FieldError{fe("obj.a", problem.CodeDuplicate)}},
		{"unknown key", `{"outcome":"eligible","note":"x"}`, []problem.FieldError{fe("note", problem.CodeUnknownField)}},
		{"unknown nested key", `{"obj":{"b":1}}`, []problem.FieldError{fe("obj.b", problem.CodeUnknownField)}},
		{"long unknown key is cut on a rune", `{"` + long + `":1}`, []problem.FieldError{fe(strings.Repeat("é", 32)+"…", problem.CodeUnknownField)}},
		{"null is not absent", `{"outcome":null}`, []problem.FieldError{fe("outcome", problem.CodeWrongType)}},
		{"null list", `{"reasons":null}`, []problem.FieldError{fe("reasons", problem.CodeWrongType)}},
		{"null in a list", `{"reasons":["a",null]}`, []problem.FieldError{fe("reasons.1", problem.CodeWrongType)}},
		{"null object", `{"obj":null}`, []problem.FieldError{fe("obj", problem.CodeWrongType)}},
		{"number for string", `{"outcome":1}`, []problem.FieldError{fe("outcome", problem.CodeWrongType)}},
		{"string for integer", `{"n":"2026"}`, []problem.FieldError{fe("n", problem.CodeWrongType)}},
		{"fraction for integer", `{"n":2026.5}`, []problem.FieldError{fe("n", problem.CodeWrongType)}},
		{"huge integer", `{"n":1e999}`, []problem.FieldError{fe("n", problem.CodeOutOfRange)}},
		{"integer past 2^53", `{"n":9007199254740993}`, []problem.FieldError{fe("n", problem.CodeOutOfRange)}},
		{"string for bool", `{"flag":"true"}`, []problem.FieldError{fe("flag", problem.CodeWrongType)}},
		{"array body", `[]`, []problem.FieldError{fe("", problem.CodeWrongType)}},
		{"null body", `null`, []problem.FieldError{fe("", problem.CodeWrongType)}},
		{"every problem, in body order", `{"zz":1,"outcome":2,"obj":{"a":[],"b":0},"flag":0}`, []problem.FieldError{
			fe("zz", problem.CodeUnknownField), fe("outcome", problem.CodeWrongType),
			fe("obj.a", problem.CodeWrongType), fe("obj.b", problem.CodeUnknownField), fe("flag", problem.CodeWrongType)}},
		{"empty", ``, malformed},
		{"trailing data", `{} {}`, malformed},
		{"trailing comma", `{"outcome":"x",}`, malformed},
		{"invalid UTF-8", "{\"outcome\":\"\xff\"}", malformed},
		{"byte order mark", "\ufeff{}", malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeSample([]byte(tt.body))
			if err == nil {
				t.Fatalf("decode(%q) accepted", tt.body)
			}
			if diff := cmp.Diff(tt.want, fields(t, err)); diff != "" {
				t.Errorf("decode(%q) field errors (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestGoodBodies(t *testing.T) {
	tests := []struct {
		name, body string
		want       sample
	}{
		{"all", `{"outcome":"x","reasons":["a","b"],"n":2026,"flag":true,"obj":{"a":"y"}}`,
			sample{Outcome: "x", Reasons: []string{"a", "b"}, N: 2026, HasN: true, Flag: true, A: "y"}},
		{"whole number with a fraction part", `{"n":2026.0}`, sample{N: 2026, HasN: true}},
		{"whole number with an exponent", `{"n":2.026e3}`, sample{N: 2026, HasN: true}},
		{"negative", `{"n":-1}`, sample{N: -1, HasN: true}},
		{"2^53", `{"n":9007199254740992}`, sample{N: 1 << 53, HasN: true}},
		{"empty list", `{"reasons":[]}`, sample{}},
		{"white space", " {\n\t\"outcome\" : \"x\" } \n", sample{Outcome: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeSample([]byte(tt.body))
			if err != nil {
				t.Fatalf("decode(%q): %v", tt.body, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decode(%q) (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

// Arrays are read one element past their limit and no further: a caller can
// tell there are too many, and the rest costs no decoding and no errors.
func TestArrayStopsOnePastItsLimit(t *testing.T) {
	body := `{"reasons":[` + strings.Repeat(`"a",`, 200) + `1,{"x":[]}],"items":[` + strings.Repeat(`{"k":1},`, 100) + `2]}`
	d, err := New([]byte(body), 1<<12)
	if err != nil {
		t.Fatal(err)
	}
	var got sample
	d.Object("", func(key, path string) bool {
		switch key {
		case "reasons":
			got.Reasons = d.Strings(path, maxReasons)
		case "items":
			d.Array(path, maxReasons, func(string) { got.Items++; d.Skip() })
		default:
			return false
		}
		return true
	})
	if err := d.Finish(); err != nil {
		t.Fatalf("Finish: %v (the wrong-typed elements are past the limit)", err)
	}
	if len(got.Reasons) != maxReasons+1 || got.Items != maxReasons+1 {
		t.Errorf("read %d reasons and %d items, want %d of each", len(got.Reasons), got.Items, maxReasons+1)
	}
}

func TestTooLarge(t *testing.T) {
	_, err := New([]byte(`{"a":"`+strings.Repeat("x", 100)+`"}`), 64)
	if problem.KindOf(err) != problem.PayloadTooLarge {
		t.Errorf("kind %s, want payload-too-large", problem.KindOf(err))
	}
}

// Whatever arrives, the decoder answers a client error or a value, never
// panics; what it echoes is bounded; and a key it accepted was spelled
// exactly and given once.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"OUTCOME":"eligible","outcome":"ineligible"}`, `{"outcome":"x","reasons":["a","b"],"n":2026,"flag":true,"obj":{"a":"y"}}`,
		`{"n":1e999}`, `{"n":-0.0}`, `{"n":2.5}`, `{"reasons":[null]}`, `{"obj":{"a":"x","a":"y"}}`, `[]`, `null`, ``, `{"a":1}{}`,
		`{"` + strings.Repeat("k", 100) + `":1}`, "\xff", `{"items":[[[[[]]]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeSample(body)
		if err != nil {
			var pe *problem.Error
			if !errors.As(err, &pe) || (pe.Kind != problem.Validation && pe.Kind != problem.PayloadTooLarge) {
				t.Fatalf("error %v is not a client error", err)
			}
			for _, f := range pe.Fields {
				// The longest path is obj.<shown key>.
				if len(f.Field) > len("obj.")+MaxShownKey+len("…") {
					t.Fatalf("field path of %d bytes echoed", len(f.Field))
				}
			}
			return
		}
		if len(got.Reasons) > maxReasons+1 || got.Items > maxReasons+1 {
			t.Fatalf("read past the limit: %+v", got)
		}
	})
}
