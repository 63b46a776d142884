package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/haven-hrd/haven/shared/problem"
)

// MaxShownKey bounds how much of a client's key is echoed back in an error's
// field path, so a 60 KiB key does not come back as a 60 KiB problem body.
const MaxShownKey = 64

// Decoder walks one body, already known to be valid UTF-8 JSON, token by
// token, collecting field errors.
type Decoder struct {
	dec    *json.Decoder
	fields []problem.FieldError
	broken bool
}

// New checks body's size and syntax and returns a Decoder positioned before
// its first value. A body over maxBytes is payload-too-large; one that is not
// a single valid UTF-8 JSON value is a validation error with code malformed.
func New(body []byte, maxBytes int) (*Decoder, error) {
	if len(body) > maxBytes {
		return nil, problem.New(problem.PayloadTooLarge)
	}
	// encoding/json would replace invalid UTF-8 with U+FFFD, silently changing
	// a name; json.Valid also rejects trailing data after the value.
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, Malformed()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return &Decoder{dec: dec}, nil
}

// Malformed is the error of a body that cannot be read as JSON at all.
func Malformed() *problem.Error {
	return problem.Invalid(problem.FieldError{Field: "", Code: problem.CodeMalformed})
}

// Finish returns the errors collected, nil if none. Call it once, after the
// top-level value has been read.
func (d *Decoder) Finish() error {
	if !d.broken {
		if _, err := d.dec.Token(); err != io.EOF {
			d.broken = true
		}
	}
	if d.broken {
		return Malformed()
	}
	if len(d.fields) > 0 {
		return problem.Invalid(d.fields...)
	}
	return nil
}

// Failed reports whether an error has been collected so far.
func (d *Decoder) Failed() bool { return d.broken || len(d.fields) > 0 }

// Add records a field error found by the caller while decoding.
func (d *Decoder) Add(path, code string) {
	d.fields = append(d.fields, problem.FieldError{Field: path, Code: code})
}

func (d *Decoder) token() (json.Token, bool) {
	if d.broken {
		return nil, false
	}
	t, err := d.dec.Token()
	if err != nil {
		// Cannot happen after json.Valid; kept so a decoder bug fails closed.
		d.broken = true
		return nil, false
	}
	return t, true
}

// wrongType records that the value starting with t is not what the schema
// wants at path, and consumes the rest of it.
func (d *Decoder) wrongType(path string, t json.Token) {
	d.Add(path, problem.CodeWrongType)
	d.skipRest(t)
}

// skipRest consumes the remainder of a value whose first token was t. It is a
// loop, not recursion, so that deep nesting in an unknown field costs nothing.
func (d *Decoder) skipRest(t json.Token) {
	depth := 0
	for {
		if delim, ok := t.(json.Delim); ok {
			switch delim {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		if depth == 0 {
			return
		}
		var ok bool
		if t, ok = d.token(); !ok {
			return
		}
	}
}

// Skip consumes one value without looking at it.
func (d *Decoder) Skip() {
	if t, ok := d.token(); ok {
		d.skipRest(t)
	}
}

// Object reads an object at path, calling field for each key; field consumes
// the key's value and returns true, or returns false (consuming nothing) for a
// key the schema does not know. It reports whether an object was read.
func (d *Decoder) Object(path string, field func(key, path string) bool) (isObject bool) {
	t, ok := d.token()
	if !ok {
		return false
	}
	if delim, isDelim := t.(json.Delim); !isDelim || delim != '{' {
		d.wrongType(path, t)
		return false
	}
	seen := make(map[string]bool)
	for d.dec.More() && !d.broken {
		kt, ok := d.token()
		if !ok {
			return true
		}
		key, _ := kt.(string)
		p := Join(path, ShownKey(key))
		switch {
		case seen[key]:
			d.Add(p, problem.CodeDuplicate)
			d.Skip()
		case !field(key, p):
			d.Add(p, problem.CodeUnknownField)
			d.Skip()
		}
		seen[key] = true
	}
	d.token() // the closing brace
	return true
}

// Array reads an array at path, calling elem with each element's path for at
// most maxItems+1 elements; elem consumes exactly one value. The elements
// after those are skipped unread: one more than maxItems is all a caller
// needs to say there are too many. It reports whether an array was read.
func (d *Decoder) Array(path string, maxItems int, elem func(path string)) (isArray bool) {
	t, ok := d.token()
	if !ok {
		return false
	}
	if delim, isDelim := t.(json.Delim); !isDelim || delim != '[' {
		d.wrongType(path, t)
		return false
	}
	for i := 0; d.dec.More() && !d.broken; i++ {
		if i > maxItems {
			d.Skip()
			continue
		}
		elem(Join(path, strconv.Itoa(i)))
	}
	d.token() // the closing bracket
	return true
}

// String reads a string at path.
func (d *Decoder) String(path string) string {
	t, ok := d.token()
	if !ok {
		return ""
	}
	if s, isString := t.(string); isString {
		return s
	}
	d.wrongType(path, t)
	return ""
}

// Bool reads a boolean at path.
func (d *Decoder) Bool(path string) bool {
	t, ok := d.token()
	if !ok {
		return false
	}
	if b, isBool := t.(bool); isBool {
		return b
	}
	d.wrongType(path, t)
	return false
}

// Strings reads an array of at most maxItems+1 strings at path (see Array).
func (d *Decoder) Strings(path string, maxItems int) []string {
	var out []string
	d.Array(path, maxItems, func(p string) { out = append(out, d.String(p)) })
	return out
}

// ErrOutOfRange is what Integer reports for an integer beyond ±2^53: no
// contract value comes near it, and above it float64 readers (JavaScript
// clients, kin-openapi) no longer agree on which integer was meant.
var ErrOutOfRange = errors.New("jsonbody: integer out of range")

// Integer reads an integer at path. As in JSON Schema, any number whose value
// is whole is an integer (2026, 2026.0 and 2.026e3 are the same); a fraction
// is wrong-type. A whole number beyond ±2^53 is recorded as out-of-range.
func (d *Decoder) Integer(path string) (n int64, ok bool) {
	t, ok := d.token()
	if !ok {
		return 0, false
	}
	num, isNumber := t.(json.Number)
	if !isNumber {
		d.wrongType(path, t)
		return 0, false
	}
	const limit = 1 << 53
	if i, err := strconv.ParseInt(string(num), 10, 64); err == nil {
		if i > limit || i < -limit {
			d.Add(path, problem.CodeOutOfRange)
			return 0, false
		}
		return i, true
	}
	// Not an int64: a fraction, an exponent or too many digits. Read as
	// float64, as kin-openapi and JavaScript clients read it.
	f, err := strconv.ParseFloat(string(num), 64)
	switch {
	case err != nil || f > limit || f < -limit:
		d.Add(path, problem.CodeOutOfRange) // json.Valid leaves ErrRange (1e999) as the only error
	case f != math.Trunc(f):
		d.Add(path, problem.CodeWrongType)
	default:
		return int64(f), true
	}
	return 0, false
}

// Join appends key to a dotted path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// ShownKey is key as an error may echo it: at most MaxShownKey bytes, cut on
// a rune boundary and marked with an ellipsis.
func ShownKey(key string) string {
	if len(key) <= MaxShownKey {
		return key
	}
	cut := MaxShownKey
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return key[:cut] + "…"
}
