package conformance

import (
	"strings"
	"time"
	"unicode"

	"pgregory.net/rapid"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/quota"
)

// rule is one the document states in words because a schema cannot: how a
// date stands to today, or that a value must name something that exists. The
// test draws valid values that keep it and, where the document says a request
// breaking it is invalid, requests that break it alone.
type rule struct {
	name string
	// schema is the component schema whose description states the rule;
	// param is "<in>:<name>" of a parameter instead.
	schema, param string
	// applies says where the rule holds (nil: wherever the schema is used).
	applies func(o *operation, n node) bool
	valid   func(g *gen, n node, path string) (any, bool)
	// violate draws a value that breaks the rule alone, and the status the
	// document gives it; breaks says where that is a bad request.
	violate func(g *gen, n node, path string) (any, int)
	breaks  func(o *operation, n node) bool
}

func inBody(_ *operation, n node) bool {
	return n.loc != inPath && n.loc != inQuery && n.loc != inHeader
}

func describedRules(e *env) []rule {
	return []rule{
		{
			// "that period must exist (else 404)": three valid years in four
			// are the seeded one (the runner's current year), so that
			// allocations, decisions and arrivals succeed as often as not;
			// the rest are drawn from the schema and may name no period.
			name: "existing-period", schema: "Year",
			valid: func(g *gen, n node, path string) (any, bool) {
				if rapid.IntRange(0, 3).Draw(g.t, "the seeded year for "+path) == 0 {
					return nil, false
				}
				return quota.YearOf(testenv.Now()), true
			},
		},
		{
			// "they sum to at most capacity (else 400
			// allotments-over-capacity)": valid requests keep the sum within
			// the capacity; one that breaks it alone allots one more person
			// than the capacity to one partner.
			name: "allotments-within-capacity", schema: "CapacityRequest",
			valid: func(g *gen, n node, path string) (any, bool) {
				obj := g.object(n, path)
				// Only a request whose capacity and allotments are all in
				// range is adjusted: one that breaks another constraint on
				// purpose keeps it.
				a, _ := obj["allotments"].(map[string]any)
				c, ok := asInt(obj["capacity"])
				sum := 0
				for _, v := range a {
					n, isInt := asInt(v)
					ok = ok && isInt && n >= 0 && n <= 1000000
					sum += n
				}
				if !ok || c < 0 || c > 1000000 || sum <= c {
					return obj, true
				}
				if sum > 1000000 {
					for k := range a {
						a[k] = 0
					}
					return obj, true
				}
				obj["capacity"] = sum
				return obj, true
			},
			violate: func(g *gen, n node, path string) (any, int) {
				c := rapid.IntRange(0, 999999).Draw(g.t, "capacity at "+path)
				return map[string]any{"capacity": c, "allotments": map[string]any{"unhcr": c + 1}}, 400
			},
			breaks: inBody,
		},
		// "A YYYY-MM-DD date, not in the future and not before 1900."
		notInTheFuture("not-in-the-future", "PastDate", windowStart),
		// "... not before 2000 (the pattern), and not in the future (400
		// future-date, in UTC)": the arrival date.
		notInTheFuture("arrival-not-in-the-future", "Date", arrivalsStart),
		// "the last UTC day whose list pages are searched ... never in the
		// future (400 future-date)": a history's listed_to.
		listedTo(),
		{
			// "Any script: Unicode letters (L), combining marks (M), spaces,
			// apostrophes, hyphens and full stops, with at least one letter".
			name: "name-characters", schema: "Name",
			valid: func(g *gen, n node, path string) (any, bool) {
				return g.text(n, path, nameRune, isName), true
			},
			violate: func(g *gen, n node, path string) (any, int) {
				return g.textWith(n, path, nameRune, rapid.RuneFrom(nil, unicode.N, unicode.S, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)), 400
			},
			breaks: inBody,
		}, {
			// "not only white space; no control (Cc), format (Cf) or line/
			// paragraph separator (Zl, Zp) characters".
			name: "printable-reference", schema: "PartnerReference",
			valid: func(g *gen, n node, path string) (any, bool) {
				return g.text(n, path, printableRune, func(v string) bool { return strings.TrimSpace(v) != "" }), true
			},
			violate: func(g *gen, n node, path string) (any, int) {
				if rapid.Bool().Draw(g.t, "only white space at "+path) {
					lo, hi := lengths(n.s)
					return rapid.StringOfN(rapid.RuneFrom([]rune{' ', '\u00a0', '\u2003', '\u3000'}), max(lo, 1), min(hi, 8), -1).Draw(g.t, path), 400
				}
				return g.textWith(n, path, printableRune, rapid.RuneFrom(nil, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)), 400
			},
			breaks: inBody,
		}, {
			// "no format (Cf: zero-width, bidi) or line/paragraph separator
			// (Zl, Zp) characters (400 hidden-characters)": the summary.
			name: "no-hidden-characters", schema: "Summary",
			valid: func(g *gen, n node, path string) (any, bool) {
				return g.text(n, path, freeTextRune, func(string) bool { return true }), true
			},
			violate: func(g *gen, n node, path string) (any, int) {
				return g.textWith(n, path, freeTextRune, rapid.RuneFrom(nil, unicode.Cf, unicode.Zl, unicode.Zp)), 400
			},
			breaks: inBody,
		}, {
			// "A stream slug; the stream must exist and be open." A body names
			// one to file into, so an unknown one is a bad request; in a path it
			// names a resource, which may be missing (404).
			name: "existing-stream", schema: "StreamID",
			valid: func(g *gen, n node, path string) (any, bool) {
				if !inBody(g.o, n) && rapid.IntRange(0, 3).Draw(g.t, "a seeded stream for "+path) == 0 {
					return nil, false
				}
				return rapid.SampledFrom(e.streams).Draw(g.t, path), true
			},
			violate: func(g *gen, n node, path string) (any, int) {
				re := compiled(n.s.Pattern)
				lo, hi := lengths(n.s)
				v := rapid.StringMatching(`^[a-z0-9-]{1,40}$`).Filter(func(v string) bool {
					return !contains(e.streams, v) && lengthIn(v, lo, hi) && (re == nil || re.MatchString(v))
				}).Draw(g.t, path)
				return v, 400
			},
			breaks: inBody,
		}, {
			// "A reason is required when hold is true": a valid hold names
			// one; one that breaks it alone holds without a reason.
			name: "hold-needs-reason", schema: "HoldRequest",
			valid: func(g *gen, n node, path string) (any, bool) {
				obj := g.object(n, path)
				if obj["hold"] == true {
					if _, ok := obj["reason"]; !ok {
						obj["reason"] = "investigation"
					}
				}
				return obj, true
			},
			violate: func(g *gen, n node, path string) (any, int) {
				return map[string]any{"hold": true}, 400
			},
			breaks: inBody,
		}, {
			// "Opaque, tamper-checked; only valid with the same filters and
			// caller": a valid one is only ever one the service handed out (the
			// request continues that listing); any other is a bad request.
			name: "issued-cursor", param: inQuery + ":cursor",
			applies: func(o *operation, n node) bool { return n.loc == inQuery && paged(o)[n.tmpl] },
			violate: func(g *gen, n node, path string) (any, int) {
				return g.str(n, path), 400
			},
		}}
}

// rulesFor lists the rules that hold at n.
func (e *env) rulesFor(o *operation, n node) []rule {
	var out []rule
	for _, r := range e.rules {
		switch {
		case r.applies != nil:
			if !r.applies(o, n) {
				continue
			}
		case r.schema != "":
			if !contains(n.names, r.schema) {
				continue
			}
		case r.param != n.loc+":"+n.tmpl:
			continue
		}
		out = append(out, r)
	}
	return out
}

// dateMatching draws a day in [from, to] that also matches n's pattern.
func (g *gen) dateMatching(n node, from, to time.Time, path string) string {
	re := compiled(n.s.Pattern)
	return rapid.Custom(func(t *rapid.T) string {
		return dayIn(t, from, to, path).Format(time.DateOnly)
	}).Filter(func(v string) bool { return re == nil || re.MatchString(v) }).Draw(g.t, path)
}

// notInTheFuture is the rule of a date schema whose days run from first
// to today: valid days are drawn up to the test's clock, a broken one after
// any clock this code will meet.
func notInTheFuture(name, schema string, first time.Time) rule {
	lastDay := time.Date(2999, time.December, 31, 0, 0, 0, 0, time.UTC)
	return rule{
		name: name, schema: schema,
		valid: func(g *gen, n node, path string) (any, bool) {
			return g.dateMatching(n, first, clock, path), true
		},
		violate: func(g *gen, n node, path string) (any, int) {
			return g.dateMatching(n, farFuture, lastDay, path), 400
		},
		breaks: inBody,
	}
}

// listedTo is the not-in-the-future rule of history's listed_to
// parameter: checked even without include=reads, so a future day is a bad
// request wherever it is sent.
func listedTo() rule {
	r := notInTheFuture("listed-to-not-in-the-future", "", windowStart)
	r.param, r.breaks = inQuery+":listed_to", nil
	return r
}

// arrivalsStart is the first day an arrival may be recorded on.
var arrivalsStart = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// nameRune draws what names are made of: letters of several scripts,
// combining marks, and the punctuation the document allows.
var nameRune = rapid.OneOf(
	rapid.RuneFrom(nil, unicode.L),
	rapid.RuneFrom(nil, unicode.M),
	rapid.RuneFrom([]rune{' ', '\'', '’', '-', '.'}),
)

func isName(v string) bool {
	return strings.IndexFunc(v, unicode.IsLetter) >= 0
}

// printableRune draws any character but the control, format and separator
// characters a reference may not hold.
var printableRune = rapid.Rune().Filter(func(r rune) bool {
	return !unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
})

// freeTextRune draws what free text may hold: any character but controls
// (newline and tab aside) and the hidden ones.
var freeTextRune = rapid.Rune().Filter(func(r rune) bool {
	return r == '\n' || r == '\t' || !unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
})

// text draws a string of runes within n's lengths that ok accepts.
func (g *gen) text(n node, path string, runes *rapid.Generator[rune], ok func(string) bool) string {
	lo, hi := lengths(n.s)
	most := lo + 40
	if hi >= 0 && hi < most {
		most = hi
	}
	return rapid.StringOfN(runes, lo, most, -1).Filter(func(v string) bool {
		return lengthIn(v, lo, hi) && ok(v)
	}).Draw(g.t, path)
}

// textWith is a string of runes within n's lengths with one character of
// bad among them, and at least one letter (so that only bad is wrong).
func (g *gen) textWith(n node, path string, runes, bad *rapid.Generator[rune]) string {
	lo, hi := lengths(n.s)
	return rapid.Custom(func(t *rapid.T) string {
		v := []rune(rapid.StringOfN(runes, 0, 20, -1).Draw(t, "around"))
		at := rapid.IntRange(0, len(v)).Draw(t, "at")
		v = append(v[:at], append([]rune{bad.Draw(t, "bad"), 'a'}, v[at:]...)...)
		return string(v)
	}).Filter(func(v string) bool { return lengthIn(v, lo, hi) }).Draw(g.t, path)
}

// asInt is a drawn JSON number as an int; ok is false for anything else.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	}
	return 0, false
}
