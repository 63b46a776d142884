package conformance

import (
	"time"

	"pgregory.net/rapid"
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
	lastDay := time.Date(2999, time.December, 31, 0, 0, 0, 0, time.UTC)
	return []rule{{
		// "A YYYY-MM-DD date, not in the future and not before 1900."
		name: "not-in-the-future", schema: "PastDate",
		valid: func(g *gen, n node, path string) (any, bool) {
			return g.dateMatching(n, windowStart, clock, path), true
		},
		violate: func(g *gen, n node, path string) (any, int) {
			return g.dateMatching(n, farFuture, lastDay, path), 400
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
