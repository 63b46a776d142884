package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"
)

// Mutation kinds: the constraint a request breaks. Each is answered 400
// naming the field, except a media type the operation does not take (415).
const (
	kType       = "type"
	kRequired   = "required"
	kEnum       = "enum"
	kPattern    = "pattern"
	kMinLength  = "minLength"
	kMaxLength  = "maxLength"
	kMinItems   = "minItems"
	kMaxItems   = "maxItems"
	kUnique     = "uniqueItems"
	kMinimum    = "minimum"
	kMaximum    = "maximum"
	kAdditional = "additionalProperties"
	kFormat     = "format"
	kAnyOf      = "anyOf"
	kMediaType  = "mediaType"
	kDescribed  = "described:" // + the rule's name
)

// The clock generated data is measured against. It is fixed, never today: a
// date "in the past" is on or before it; dates with no stated relation to
// today span the window below. The runner itself runs on the wall clock
// (infra/local has no injected clock yet), which is later than this.
var (
	clock       = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	windowStart = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	windowEnd   = time.Date(2100, time.December, 31, 0, 0, 0, 0, time.UTC)
	// farFuture starts where no wall clock this code will meet has reached.
	farFuture = time.Date(2101, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// kinds lists the constraints of n that a request can break on its own.
func kinds(o *operation, n node, e *env) []string {
	s := n.s
	var out []string
	form := n.loc == mediaForm
	param := n.loc == inPath || n.loc == inQuery || n.loc == inHeader
	switch {
	case param:
		if isType(s, openapi3.TypeInteger) || isType(s, openapi3.TypeNumber) || isType(s, openapi3.TypeBoolean) {
			out = append(out, kType)
		}
	case !form:
		out = append(out, kType)
	}
	if n.required && n.tmpl != "" && n.loc != inPath {
		out = append(out, kRequired)
	}
	if len(s.Enum) > 0 {
		out = append(out, kEnum)
	} else {
		if s.Pattern != "" {
			out = append(out, kPattern)
		}
		if _, ok := formatViolations[s.Format]; ok {
			out = append(out, kFormat)
		}
	}
	// An empty path segment does not reach the operation at all.
	if s.MinLength > 0 && n.loc != inPath {
		out = append(out, kMinLength)
	}
	if s.MaxLength != nil {
		out = append(out, kMaxLength)
	}
	if s.MinItems > 0 {
		out = append(out, kMinItems)
	}
	if s.MaxItems != nil {
		out = append(out, kMaxItems)
	}
	if s.UniqueItems {
		out = append(out, kUnique)
	}
	if s.Min != nil {
		out = append(out, kMinimum)
	}
	if s.Max != nil {
		out = append(out, kMaximum)
	}
	if closedObject(s) {
		out = append(out, kAdditional)
	}
	if anyOfRequired(s) != nil {
		out = append(out, kAnyOf)
	}
	for _, r := range e.rulesFor(o, n) {
		if r.violate != nil && (r.breaks == nil || r.breaks(o, n)) {
			out = append(out, kDescribed+r.name)
		}
	}
	return out
}

// target is the one constraint a request breaks, and where it ended up.
type target struct {
	loc, tmpl, kind string
	applied         bool
	field           string // the concrete path that was broken
	want            int    // the status it must get
	schemaValid     bool   // the value still passes the schema (a rule in prose)
}

// gen draws one request's values. With a target it breaks that one
// constraint; elsewhere, and without one, every value is schema-valid.
type gen struct {
	t     *rapid.T
	e     *env
	o     *operation
	tg    *target
	armed bool
	seen  map[string]any // loc|tmpl -> a value generated there (valid requests)
	gone  map[string]bool
	// hints are the document's example values by concrete path; only the
	// setup, which needs some requests to succeed, draws from them.
	hints map[string]any
}

func (g *gen) hit(n node) bool {
	return g.armed && g.tg.loc == n.loc && g.tg.tmpl == n.tmpl && g.tg.kind != kRequired
}

// within reports whether the target lies at or under n (n must then be sent).
func (g *gen) within(n node) bool {
	if !g.armed || g.tg.loc != n.loc {
		return false
	}
	return n.tmpl == "" || g.tg.tmpl == n.tmpl || strings.HasPrefix(g.tg.tmpl, n.tmpl+".")
}

// omits reports whether n is the property the target leaves out.
func (g *gen) omits(n node) bool {
	return g.armed && g.tg.kind == kRequired && g.tg.loc == n.loc && g.tg.tmpl == n.tmpl
}

func (g *gen) apply(field string, want int) {
	g.tg.applied, g.tg.field, g.tg.want = true, field, want
	g.armed = false
}

func (g *gen) record(n node, v any) {
	if g.tg == nil {
		g.seen[n.loc+"|"+n.tmpl] = v
	}
}

func (g *gen) absent(n node) {
	if g.tg == nil {
		g.gone[n.loc+"|"+n.tmpl] = true
	}
}

// value draws n's value at the concrete path.
func (g *gen) value(n node, path string) any {
	if g.hit(n) {
		if v, ok := g.mutate(n, path); ok {
			return v
		}
		g.armed = false // cannot break it here; the case will not count
	}
	return g.valid(n, path)
}

func (g *gen) valid(n node, path string) any {
	v := g.validValue(n, path)
	g.record(n, v)
	return v
}

func (g *gen) validValue(n node, path string) any {
	s := n.s
	if h, ok := g.hints[path]; ok && !isType(s, openapi3.TypeObject) && !isType(s, openapi3.TypeArray) &&
		s.VisitJSON(h, openapi3.VisitAsRequest(), openapi3.EnableFormatValidation()) == nil &&
		rapid.Bool().Draw(g.t, "the document's example for "+path) {
		return h
	}
	for _, r := range g.e.rulesFor(g.o, n) {
		if r.valid != nil {
			if v, ok := r.valid(g, n, path); ok {
				return v
			}
		}
	}
	if v, ok := g.e.state(g, n, path); ok {
		return v
	}
	switch {
	case len(s.Enum) > 0:
		return rapid.SampledFrom(s.Enum).Draw(g.t, path)
	case isType(s, openapi3.TypeObject):
		return g.object(n, path)
	case isType(s, openapi3.TypeArray):
		return g.array(n, path, -1)
	case isType(s, openapi3.TypeInteger):
		lo, hi := bounds(s)
		return float64(rapid.Int64Range(lo, hi).Draw(g.t, path))
	case isType(s, openapi3.TypeNumber):
		lo, hi := bounds(s)
		return rapid.Float64Range(float64(lo), float64(hi)).Draw(g.t, path)
	case isType(s, openapi3.TypeBoolean):
		return rapid.Bool().Draw(g.t, path)
	}
	return g.str(n, path)
}

func bounds(s *openapi3.Schema) (int64, int64) {
	lo, hi := int64(-1_000_000), int64(1_000_000)
	if s.Min != nil {
		lo = int64(*s.Min)
	}
	if s.Max != nil {
		hi = int64(*s.Max)
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

func (g *gen) child(n node, name string) node {
	c := newNode(n.loc, join(n.tmpl, name), n.s.Properties[name], contains(n.s.Required, name))
	c.optional = !c.required
	return c
}

func (g *gen) object(n node, path string) map[string]any {
	s := n.s
	out := map[string]any{}
	for _, name := range sortedKeys(s.Properties) {
		c := g.child(n, name)
		cp := join(path, name)
		if g.omits(c) {
			g.apply(cp, 400)
			continue
		}
		if !c.required && !g.within(c) && !rapid.Bool().Draw(g.t, "send "+cp) {
			g.absent(c)
			continue
		}
		out[name] = g.value(c, cp)
	}
	if alts := anyOfRequired(s); alts != nil && !satisfiesAny(out, alts) {
		alt := alts[rapid.IntRange(0, len(alts)-1).Draw(g.t, "anyOf "+path)]
		for _, name := range alt {
			if _, ok := out[name]; !ok {
				out[name] = g.valid(g.child(n, name), join(path, name))
			}
		}
	}
	return out
}

func satisfiesAny(obj map[string]any, alts [][]string) bool {
	for _, alt := range alts {
		all := true
		for _, name := range alt {
			if _, ok := obj[name]; !ok {
				all = false
			}
		}
		if all {
			return true
		}
	}
	return false
}

// array draws the items of n; count < 0 draws the count too.
func (g *gen) array(n node, path string, count int) []any {
	s := n.s
	item := newNode(n.loc, join(n.tmpl, "*"), s.Items, false)
	if count < 0 {
		lo, hi := int(s.MinItems), int(s.MinItems)+6
		if s.MaxItems != nil && int(*s.MaxItems) < hi {
			hi = int(*s.MaxItems)
		}
		if s.UniqueItems && len(item.s.Enum) > 0 && len(item.s.Enum) < hi {
			hi = len(item.s.Enum)
		}
		if g.within(item) && lo < 1 {
			lo = 1
		}
		if hi < lo {
			hi = lo
		}
		count = rapid.IntRange(lo, hi).Draw(g.t, "items of "+path)
	}
	k := -1
	if g.within(item) && count > 0 {
		k = rapid.IntRange(0, count-1).Draw(g.t, "broken item of "+path)
	}
	out := []any{}
	seen := map[string]bool{}
	for i := 0; i < count; i++ {
		armed := g.armed
		g.armed = armed && i == k
		var v any
		for try := 0; try < 20; try++ {
			v = g.value(item, join(path, strconv.Itoa(len(out))))
			if !s.UniqueItems || i == k || !seen[jsonKey(v)] {
				break
			}
		}
		if armed {
			g.armed = !g.tg.applied
		}
		if s.UniqueItems && i != k && seen[jsonKey(v)] {
			continue
		}
		seen[jsonKey(v)] = true
		out = append(out, v)
	}
	if len(out) == 0 {
		g.absent(item)
	}
	return out
}

func jsonKey(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// str draws a string that meets n's format, pattern and lengths.
func (g *gen) str(n node, path string) string {
	s := n.s
	lo, hi := lengths(s)
	re := compiled(s.Pattern)
	fits := func(v string) bool { return lengthIn(v, lo, hi) && (re == nil || re.MatchString(v)) }
	if f, ok := formats[s.Format]; ok {
		return rapid.Custom(func(t *rapid.T) string { return f(t, n) }).Filter(fits).Draw(g.t, path)
	}
	if re != nil {
		return rapid.StringMatching(goPattern(s.Pattern)).Filter(fits).Draw(g.t, path)
	}
	switch n.loc {
	case inHeader, inQuery:
		words := g.e.words(n)
		if len(words) > 0 && rapid.Bool().Draw(g.t, "from the document's words "+path) {
			list := rapid.SliceOfN(rapid.SampledFrom(words), 1, 3).Draw(g.t, path)
			if v := strings.Join(list, ", "); fits(v) {
				return v
			}
		}
	}
	var runes *rapid.Generator[rune]
	switch n.loc {
	case inHeader:
		// A header value is visible ASCII, spaces inside (RFC 9110).
		runes = rapid.RuneFrom(nil, &unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x21, Hi: 0x7e, Stride: 1}}})
	default:
		runes = rapid.Rune()
	}
	max := hi
	if max < 0 {
		max = lo + 40
	}
	return rapid.StringOfN(runes, lo, max, -1).Filter(func(v string) bool {
		return fits(v) && (n.loc != inPath || segment(v))
	}).Draw(g.t, path)
}

// segment reports whether v can travel as one path segment: the runner's
// router (Go's ServeMux) cleans "." and ".." away and matches on the
// unescaped path, where an escaped slash splits the segment.
func segment(v string) bool {
	return v != "." && v != ".." && !strings.Contains(v, "/")
}

func lengths(s *openapi3.Schema) (int, int) {
	hi := -1
	if s.MaxLength != nil {
		hi = int(*s.MaxLength)
	}
	return int(s.MinLength), hi
}

// lengthIn holds when v's length is within [lo, hi] counted both as the
// JSON Schema counts it (code points) and as kin-openapi does (UTF-16 units).
func lengthIn(v string, lo, hi int) bool {
	cp, u16 := utf8.RuneCountInString(v), len(utf16.Encode([]rune(v)))
	return cp >= lo && u16 >= lo && (hi < 0 || (cp <= hi && u16 <= hi))
}

var patterns = map[string]*regexp.Regexp{}

func compiled(p string) *regexp.Regexp {
	if p == "" {
		return nil
	}
	if re, ok := patterns[p]; ok {
		return re
	}
	re := regexp.MustCompile(goPattern(p))
	patterns[p] = re
	return re
}

// formats draw values of the string formats the document may use.
var formats = map[string]func(*rapid.T, node) string{
	"date": func(t *rapid.T, n node) string {
		return dayIn(t, windowStart, windowEnd, n.tmpl).Format(time.DateOnly)
	},
	"date-time": func(t *rapid.T, n node) string {
		d := dayIn(t, windowStart, windowEnd, n.tmpl)
		return d.Add(time.Duration(rapid.IntRange(0, 86399).Draw(t, "second of "+n.tmpl)) * time.Second).Format(time.RFC3339)
	},
	"email": func(t *rapid.T, n node) string {
		return rapid.StringMatching(`^[a-z0-9]{1,16}(\.[a-z0-9]{1,8})?@[a-z0-9]{1,16}(\.[a-z]{2,8}){1,2}$`).Draw(t, n.tmpl)
	},
	"uuid": func(t *rapid.T, n node) string {
		return rapid.StringMatching(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).Draw(t, n.tmpl)
	},
}

// formatViolations draw strings that are not of the format.
var formatViolations = map[string]func(*rapid.T, node) string{
	"date": func(t *rapid.T, n node) string {
		return badDate(t, n.tmpl)
	},
	"date-time": func(t *rapid.T, n node) string {
		return badDate(t, n.tmpl) + "T00:00:00Z"
	},
	"email": func(t *rapid.T, n node) string {
		return rapid.StringMatching(`^[a-z0-9.]{1,30}$`).Draw(t, n.tmpl)
	},
}

func dayIn(t *rapid.T, from, to time.Time, label string) time.Time {
	days := int(to.Sub(from).Hours() / 24)
	return from.AddDate(0, 0, rapid.IntRange(0, days).Draw(t, "day of "+label))
}

// badDate is YYYY-MM-DD in shape but no day of the calendar.
func badDate(t *rapid.T, label string) string {
	y := rapid.IntRange(windowStart.Year(), windowEnd.Year()).Draw(t, "year of "+label)
	switch rapid.IntRange(0, 3).Draw(t, "how "+label+" is wrong") {
	case 0:
		return fmt.Sprintf("%04d-%02d-%02d", y, rapid.IntRange(13, 99).Draw(t, "month of "+label), rapid.IntRange(1, 28).Draw(t, "day of "+label))
	case 1:
		return fmt.Sprintf("%04d-%02d-%02d", y, rapid.IntRange(1, 12).Draw(t, "month of "+label), rapid.IntRange(32, 99).Draw(t, "day of "+label))
	case 2:
		return fmt.Sprintf("%04d-02-%02d", y|1, rapid.IntRange(29, 31).Draw(t, "day of "+label)) // odd years are never leap years
	default:
		return fmt.Sprintf("%04d-00-%02d", y, rapid.IntRange(1, 28).Draw(t, "day of "+label))
	}
}

// mutate breaks the target's constraint at n.
func (g *gen) mutate(n node, path string) (any, bool) {
	s := n.s
	g.armed = false // what is drawn below stays valid
	broken := func(v any) (any, bool) {
		g.armed = true
		g.apply(path, 400)
		return v, true
	}
	switch kind := g.tg.kind; {
	case kind == kType:
		return broken(g.wrongType(n))
	case kind == kEnum:
		v, ok := g.notInEnum(n, path)
		if !ok {
			return nil, false
		}
		return broken(v)
	case kind == kPattern:
		v, ok := g.breakPattern(n, path)
		if !ok {
			return nil, false
		}
		return broken(v)
	case kind == kFormat:
		re := compiled(s.Pattern)
		lo, hi := lengths(s)
		v := rapid.Custom(func(t *rapid.T) string { return formatViolations[s.Format](t, n) }).Filter(func(v string) bool {
			return lengthIn(v, lo, hi) && (re == nil || re.MatchString(v))
		}).Draw(g.t, path)
		return broken(v)
	case kind == kMinLength:
		v, ok := g.resize(n, path, int(s.MinLength)-1)
		if !ok {
			return nil, false
		}
		return broken(v)
	case kind == kMaxLength:
		v, ok := g.resize(n, path, int(*s.MaxLength)+1)
		if !ok {
			return nil, false
		}
		return broken(v)
	case kind == kMinItems || kind == kMaxItems || kind == kUnique:
		var v []any
		switch kind {
		case kMinItems:
			v = g.array(n, path, int(s.MinItems)-1)
		case kMaxItems:
			v = g.array(n, path, int(*s.MaxItems)+1)
		default:
			v = g.array(n, path, rapid.IntRange(1, 3).Draw(g.t, "items of "+path))
			v = append(v, v[rapid.IntRange(0, len(v)-1).Draw(g.t, "repeated item of "+path)])
		}
		return broken(v)
	case kind == kMinimum:
		lo, _ := bounds(s)
		return broken(float64(lo - rapid.Int64Range(1, 1000).Draw(g.t, "below "+path)))
	case kind == kMaximum:
		_, hi := bounds(s)
		return broken(float64(hi + rapid.Int64Range(1, 1000).Draw(g.t, "above "+path)))
	case kind == kAdditional:
		obj := g.object(n, path)
		name := rapid.StringMatching(`^[a-z][a-z_]{0,15}$`).Filter(func(k string) bool {
			_, known := s.Properties[k]
			return !known
		}).Draw(g.t, "unknown key in "+path)
		obj[name] = g.valid(newNode(n.loc, join(n.tmpl, name), &openapi3.SchemaRef{Value: openapi3.NewStringSchema()}, false), join(path, name))
		g.armed = true
		g.apply(join(path, name), 400)
		return obj, true
	case kind == kAnyOf:
		obj := g.object(n, path)
		for _, alt := range anyOfRequired(s) {
			for _, name := range alt {
				delete(obj, name)
			}
		}
		return broken(obj)
	case strings.HasPrefix(kind, kDescribed):
		for _, r := range g.e.rulesFor(g.o, n) {
			if kDescribed+r.name == kind && r.violate != nil {
				v, want := r.violate(g, n, path)
				g.armed = true
				g.apply(path, want)
				g.tg.schemaValid = true
				return v, true
			}
		}
	}
	g.armed = true
	return nil, false
}

// wrongType is a value of another JSON type than n's (in a parameter, text
// that does not parse as its type).
func (g *gen) wrongType(n node) any {
	s := n.s
	if n.loc == inPath || n.loc == inQuery || n.loc == inHeader {
		return rapid.SampledFrom([]string{"x", "1.5", "true", "[]"}).Filter(func(v string) bool {
			_, err := strconv.ParseInt(v, 10, 64)
			_, berr := strconv.ParseBool(v)
			if isType(s, openapi3.TypeBoolean) {
				return berr != nil
			}
			return err != nil && (isType(s, openapi3.TypeInteger) || v != "1.5")
		}).Draw(g.t, "not a "+strings.Join(s.Type.Slice(), "|")+" "+n.tmpl)
	}
	var options []any
	if !isType(s, openapi3.TypeString) {
		options = append(options, rapid.StringMatching(`^[a-z0-9]{0,8}$`).Draw(g.t, "string instead"))
	}
	if !isType(s, openapi3.TypeInteger) && !isType(s, openapi3.TypeNumber) {
		options = append(options, float64(rapid.IntRange(-10, 10).Draw(g.t, "number instead")))
	}
	if isType(s, openapi3.TypeInteger) {
		options = append(options, float64(rapid.IntRange(0, 100).Draw(g.t, "fraction instead"))+0.5)
	}
	if !isType(s, openapi3.TypeBoolean) {
		options = append(options, rapid.Bool().Draw(g.t, "boolean instead"))
	}
	if !isType(s, openapi3.TypeObject) {
		options = append(options, map[string]any{})
	}
	if !isType(s, openapi3.TypeArray) {
		options = append(options, []any{})
	}
	if !s.Nullable {
		options = append(options, nil)
	}
	return options[rapid.IntRange(0, len(options)-1).Draw(g.t, "wrong type of "+n.tmpl)]
}

func (g *gen) notInEnum(n node, path string) (any, bool) {
	s := n.s
	in := map[string]bool{}
	for _, e := range s.Enum {
		in[jsonKey(e)] = true
	}
	var v any
	switch {
	case isType(s, openapi3.TypeBoolean):
		v = !(s.Enum[0].(bool))
	case isType(s, openapi3.TypeInteger) || isType(s, openapi3.TypeNumber):
		v = float64(rapid.IntRange(-1000, 1000).Filter(func(i int) bool { return !in[jsonKey(float64(i))] }).Draw(g.t, path))
	default:
		lo, hi := lengths(s)
		v = rapid.StringMatching(`^[a-z][a-z0-9-]{0,15}$`).Filter(func(x string) bool {
			return !in[jsonKey(x)] && lengthIn(x, lo, hi)
		}).Draw(g.t, path)
	}
	return v, true
}

// hostile draws a character to break a pattern with.
func (g *gen) hostile(loc string) rune {
	if loc == inHeader {
		// Visible ASCII, space, or Latin-1: what a header can carry.
		return rapid.RuneFrom(nil, &unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x20, Hi: 0x7e, Stride: 1}, {Lo: 0xa0, Hi: 0xff, Stride: 1}}}).Draw(g.t, "character")
	}
	return rapid.OneOf(rapid.Rune(), rapid.RuneFrom(nil, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Zs, unicode.P, unicode.S, unicode.N, unicode.Lu)).Draw(g.t, "character")
}

// breakPattern changes one character of a valid value, or adds one, so that
// the pattern fails and the lengths still hold.
func (g *gen) breakPattern(n node, path string) (string, bool) {
	re := compiled(n.s.Pattern)
	lo, hi := lengths(n.s)
	for try := 0; try < 30; try++ {
		base := []rune(g.str(n, path))
		r := g.hostile(n.loc)
		pos := rapid.IntRange(0, len(base)).Draw(g.t, "position")
		var cand []rune
		if pos < len(base) && rapid.Bool().Draw(g.t, "replace") {
			cand = append(append(append([]rune{}, base[:pos]...), r), base[pos+1:]...)
		} else {
			cand = append(append(append([]rune{}, base[:pos]...), r), base[pos:]...)
		}
		v := string(cand)
		if n.loc == inPath && !segment(v) {
			continue
		}
		if n.loc == inHeader && strings.TrimSpace(v) != v {
			continue // the server trims what a header starts or ends with
		}
		if !re.MatchString(v) && lengthIn(v, lo, hi) {
			return v, true
		}
	}
	return "", false
}

// resize makes a valid value exactly size characters long, keeping it to
// the pattern when it can (a length no value of the pattern has breaks both).
func (g *gen) resize(n node, path string, size int) (string, bool) {
	if size <= 0 {
		return "", true
	}
	re := compiled(n.s.Pattern)
	var last string
	for try := 0; try < 10; try++ {
		base := []rune(g.str(n, path))
		if len(base) == 0 {
			base = []rune{'a'}
		}
		for len(base) < size {
			pos := rapid.IntRange(0, len(base)).Draw(g.t, "grow at")
			from := base[rapid.IntRange(0, len(base)-1).Draw(g.t, "copy from")]
			base = append(base[:pos], append([]rune{from}, base[pos:]...)...)
		}
		v := string(base[:size])
		if len(utf16.Encode([]rune(v))) > size && size < int(n.s.MinLength) {
			continue // too short in code points but not in UTF-16 units
		}
		last = v
		if re == nil || re.MatchString(v) {
			return v, true
		}
	}
	return last, last != ""
}
