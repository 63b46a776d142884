package conformance

import (
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"

	"github.com/haven-hrd/haven/infra/apicontract"
)

// defaultSeed makes every run draw the same requests unless -rapid.seed says
// otherwise (each cell derives its own seed from it and its name).
const defaultSeed = 0x486176656e // "Haven"

// Cases per cell, unless -rapid.checks sets one number for all.
const (
	setupChecks    = 300 // at most, per role, to create what other operations address
	setupWanted    = 15  // things created by the setup of each creating operation
	probeChecks    = 3   // each operation with each role, to learn who may call it
	validChecks    = 45  // at least, per operation; more for operations with more to vary
	mutationChecks = 5   // per constraint of each property
)

var userSet = map[string]bool{}

func TestMain(m *testing.M) {
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { userSet[f.Name] = true })
	defaults := map[string]string{
		// A failure is reported with its shrunk request; shrinking replays
		// requests against the runner, so it is bounded.
		"rapid.shrinktime": "3s",
		// Failures name their seed; fail files would land in testdata.
		"rapid.nofailfile": "true",
	}
	for name, v := range defaults {
		if !userSet[name] {
			flag.Set(name, v)
		}
	}
	// The document says format: email; kin-openapi checks it only when asked.
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	os.Exit(m.Run())
}

// cell is one thing the test varies: an operation called by one role (a
// probe), an operation's valid requests, or one constraint of one property.
type cell struct {
	op              *operation
	role            string // a probe's role; empty: drawn
	loc, tmpl, kind string // the constraint broken; kind "" for valid requests
	checks          int
	setup           bool // creates state, checks only that answers conform
	round           int  // valid requests run in rounds, so that each operation meets the others' effects
}

func (c cell) name() string {
	switch {
	case c.kind != "":
		where := c.loc
		if c.tmpl != "" {
			where += ":" + c.tmpl
		}
		return c.op.id + "/" + where + "/" + c.kind
	case c.setup:
		return c.op.id + "/setup-as-" + c.role
	case c.role != "":
		return c.op.id + "/probe-as-" + c.role
	}
	return c.op.id + "/valid-" + strconv.Itoa(c.round)
}

// TestConformance runs every operation of openapi.yaml against the local
// runner: valid requests, requests that break one constraint each, and every
// response checked against the document.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local runner and sends a few thousand requests")
	}
	start := time.Now()
	e := newEnv(t)
	e.start(t)
	ops := e.ops
	// Who may call what is learnt from the answers to valid requests: a role
	// is allowed once it gets anything but 401/403, and refused for an
	// operation once it gets 401/403 (a partner asking for another partner's
	// list, say). A broken request is sent as a role never refused, when there
	// is one, so that a 403 for another reason cannot hide the 400.
	allowed, refused := map[string]map[string]bool{}, map[string]map[string]bool{}
	record := func(o *operation, role string, status int) {
		m := allowed
		if status == http.StatusForbidden || status == http.StatusUnauthorized {
			m = refused
		}
		if m[o.id] == nil {
			m[o.id] = map[string]bool{}
		}
		m[o.id][role] = true
	}
	cov := newCoverage()
	cells, broken := e.cells()
	failedValid := map[string]bool{}
	var failed []string

	for _, c := range cells {
		c := c
		if userSet["rapid.checks"] {
			c.checks = 0 // the flag's value
		}
		ok := t.Run(c.name(), func(t *testing.T) {
			if !c.setup && c.role == "" && len(allowed[c.op.id]) == 0 {
				t.Fatalf("no role may call %s: no request of it can be checked", c.op.id)
			}
			callers := allowed[c.op.id]
			if c.kind != "" {
				callers = trusted(allowed[c.op.id], refused[c.op.id])
			}
			configure(c)
			rapid.Check(t, func(rt *rapid.T) {
				e.property(rt, c, callers, cov, record)
			})
		})
		if !ok {
			failed = append(failed, c.name())
			if c.kind == "" && !c.setup {
				failedValid[c.op.id] = true
			}
		}
	}

	// Every constraint of every property was broken at least once, and every
	// property was sent, left out (when optional) and varied.
	var gaps []string
	for _, c := range broken {
		if e.applied[c.name()] == 0 {
			gaps = append(gaps, c.name()+": never broken")
		}
	}
	for _, o := range ops {
		if failedValid[o.id] {
			// A failing valid cell stops at its first failure, so what it
			// varied says nothing; the failure is already reported.
			t.Logf("coverage of %s's valid requests not judged: some failed", o.id)
			continue
		}
		gaps = append(gaps, cov.gaps(o)...)
	}
	for _, g := range gaps {
		t.Error("coverage: " + g)
	}
	var per []string
	for _, o := range ops {
		var codes []string
		for _, s := range sortedKeys(e.statuses) {
			if id, status, _ := strings.Cut(s, " "); id == o.id {
				codes = append(codes, fmt.Sprintf("%s×%d", status, e.statuses[s]))
			}
		}
		per = append(per, fmt.Sprintf("%s %d (%s)", o.id, e.byOp[o.id], strings.Join(codes, " ")))
	}
	if len(failed) > 0 {
		t.Logf("%d of %d cells failed (rerun them all with -rapid.seed=%d):\n  %s",
			len(failed), len(cells), baseSeed(), strings.Join(failed, "\n  "))
	}
	t.Logf("conformance: %d operations, %d cells (%d constraints broken), %d requests in %s; -rapid.seed=%d\n  %s",
		len(ops), len(cells), len(broken), e.cases, time.Since(start).Round(time.Second), baseSeed(), strings.Join(per, "\n  "))
}

// cells lists what the test runs, in order: the setup, the probes, the
// rounds of valid requests, then every constraint of every property.
func (e *env) cells() (all, broken []cell) {
	for _, o := range e.ops {
		if rank(o) == 0 {
			for _, role := range e.roles {
				all = append(all, cell{op: o, role: role, setup: true, checks: setupChecks})
			}
		}
	}
	for _, o := range e.ops {
		for _, role := range e.roles {
			all = append(all, cell{op: o, role: role, checks: probeChecks})
		}
	}
	const rounds = 3
	for round := 1; round <= rounds; round++ {
		for _, o := range e.ops {
			n := validChecks
			if s := len(sites(o)); 2*s > n {
				n = 2 * s
			}
			all = append(all, cell{op: o, checks: (n + rounds - 1) / rounds, round: round})
		}
	}
	for _, o := range e.ops {
		for _, n := range sites(o) {
			for _, k := range kinds(o, n, e) {
				broken = append(broken, cell{op: o, loc: n.loc, tmpl: n.tmpl, kind: k, checks: mutationChecks})
			}
		}
		if len(o.media) > 0 {
			broken = append(broken, cell{op: o, loc: inHeader, tmpl: "Content-Type", kind: kMediaType, checks: mutationChecks})
		}
	}
	return append(all, broken...), broken
}

// trusted is the roles allowed and never refused, or else the roles allowed.
func trusted(allowed, refused map[string]bool) map[string]bool {
	out := map[string]bool{}
	for role := range allowed {
		if !refused[role] {
			out[role] = true
		}
	}
	if len(out) == 0 {
		return allowed
	}
	return out
}

func rank(o *operation) int {
	switch {
	case !strings.Contains(o.path, "{") && o.method == http.MethodPost:
		return 0
	case !strings.Contains(o.path, "{"):
		return 1
	}
	return 2
}

// baseSeed is the seed of the whole run: -rapid.seed, or defaultSeed. Each
// cell draws from its own seed, derived from the base and the cell's name, so
// that cells (and rounds) differ while the run stays reproducible. Rerun with
// -rapid.seed=<base> (not the per-cell seed rapid prints with a failure, which
// is derived again) to see a failure again: later cells depend on the state
// earlier ones leave, so the whole test reruns.
func baseSeed() uint64 {
	if !userSet["rapid.seed"] {
		return defaultSeed
	}
	if runSeed == 0 {
		runSeed, _ = strconv.ParseUint(flag.Lookup("rapid.seed").Value.String(), 10, 64)
		if runSeed == 0 {
			runSeed = rand.Uint64() | 1 // -rapid.seed=0 asks for a random run
		}
	}
	return runSeed
}

var runSeed uint64

// configure sets rapid's case count and seed for one cell.
func configure(c cell) {
	if c.checks > 0 {
		flag.Set("rapid.checks", strconv.Itoa(c.checks))
	}
	h := fnv.New64a()
	h.Write([]byte(c.name()))
	seed := baseSeed() ^ h.Sum64()
	if seed == 0 {
		seed = 1
	}
	flag.Set("rapid.seed", strconv.FormatUint(seed, 10))
}

// sites lists every place of an operation's requests a value goes.
func sites(o *operation) []node {
	var out []node
	for _, p := range o.params {
		n := newNode(p.In, p.Name, p.Schema, p.Required)
		n.optional = !p.Required
		out = append(out, n)
	}
	for _, mt := range o.media {
		walk(mt, "", o.jsonSchema(mt), true, func(n node) { out = append(out, n) })
	}
	if extra := o.formOnly(); extra != nil {
		required := o.body[mediaForm].Value.Required
		for _, name := range sortedKeys(extra) {
			n := newNode(mediaForm, name, extra[name], contains(required, name))
			n.optional = !n.required
			out = append(out, n)
		}
	}
	return out
}

// property is one case of a cell: draw a request, send it, check the answer.
func (e *env) property(rt *rapid.T, c cell, allowed map[string]bool, cov *coverage, record func(*operation, string, int)) {
	g := &gen{t: rt, e: e, o: c.op, seen: map[string]any{}, gone: map[string]bool{}}
	if c.setup {
		if e.created(c.op.path) >= setupWanted || e.setupRefused[c.name()] {
			return
		}
		g.hints = exampleHints(c.op)
	}
	if c.kind != "" {
		g.tg = &target{loc: c.loc, tmpl: c.tmpl, kind: c.kind}
		g.armed = true
	}
	req, values := g.request(c, allowed)
	if g.tg != nil && !g.tg.applied {
		return // this draw could not break the constraint; it does not count
	}
	e.selfCheck(rt, req, values, g.tg)
	rt.Logf("request: %s", req)
	resp, err := e.send(req)
	if err != nil {
		rt.Fatalf("send: %v", err)
	}
	rt.Logf("response: %d %s", resp.status, excerpt(resp.body))
	e.remember(req, resp)

	mismatches, err := apicontract.Mismatches(req.op.method, req.op.path, resp.status, resp.header, resp.body)
	if err != nil {
		rt.Fatal(err)
	}
	for _, m := range mismatches {
		rt.Errorf("the response breaks openapi.yaml: %s", m)
	}

	if c.setup {
		if resp.status == http.StatusForbidden || resp.status == http.StatusUnauthorized {
			e.setupRefused[c.name()] = true // this role cannot create anything
		}
		return
	}
	e.mu.Lock()
	e.statuses[c.op.id+" "+strconv.Itoa(resp.status)]++
	e.mu.Unlock()
	if g.tg == nil {
		record(c.op, req.role, resp.status)
		cov.add(c.op, g.seen, g.gone)
		if !validStatus(c.op, resp.status) {
			rt.Errorf("a schema-valid request was answered %d (want 2xx, 401/403, 404, 409 or 422)\n%s", resp.status, excerpt(resp.body))
		}
		return
	}
	e.countApplied(c.name())
	if resp.status != g.tg.want {
		rt.Errorf("a request breaking %s at %q was answered %d, want %d\n%s", c.kind, g.tg.field, resp.status, g.tg.want, excerpt(resp.body))
		return
	}
	if g.tg.want != http.StatusBadRequest {
		return
	}
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	json.Unmarshal(resp.body, &p)
	var fields []string
	for _, fe := range p.Errors {
		fields = append(fields, fe.Field)
		if named(fe.Field, g.tg.field) {
			return
		}
	}
	rt.Errorf("a request breaking %s at %q was answered 400 with errors[].field %q, none naming it", c.kind, g.tg.field, fields)
}

// exampleHints are the values of the document's example request body, by
// concrete path.
func exampleHints(o *operation) map[string]any {
	out := map[string]any{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				walk(join(path, k), vv)
			}
		case []any:
			for i, vv := range x {
				walk(join(path, strconv.Itoa(i)), vv)
			}
		default:
			out[path] = x
		}
	}
	if rb := o.op.RequestBody; rb != nil && rb.Value != nil {
		for _, c := range rb.Value.Content {
			if c.Example != nil {
				walk("", c.Example)
			}
		}
	}
	return out
}

// named reports whether an error's field names the broken place: the place
// itself, or a place inside it (a missing object's required members, an
// array's offending item; for the body as a whole, any field).
// The document names fields by dotted path; a JSON Pointer (/a/b/0) is
// read as the same path, so either style passes.
func named(field, broken string) bool {
	if strings.HasPrefix(field, "/") {
		field = strings.NewReplacer("/", ".", "~1", "/", "~0", "~").Replace(field[1:])
	}
	return field == broken || broken == "" || strings.HasPrefix(field, broken+".")
}

func validStatus(o *operation, status int) bool {
	switch {
	case status/100 == 2:
		return true
	case status == http.StatusSeeOther:
		return o.documents(status)
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

func excerpt(b []byte) string {
	const max = 1500
	if len(b) > max {
		return string(b[:max]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}

// request draws the whole request of a cell.
func (g *gen) request(c cell, allowed map[string]bool) (request, map[string]any) {
	o := g.o
	r := request{op: o, query: url.Values{}, header: http.Header{}}
	values := map[string]any{} // each parameter's value as drawn, for the self-check
	switch {
	case c.role != "":
		r.role = c.role
	case g.tg != nil:
		var roles []string
		for _, role := range g.e.roles {
			if allowed[role] {
				roles = append(roles, role)
			}
		}
		r.role = rapid.SampledFrom(roles).Draw(g.t, "role")
	default:
		// Mostly a role that may call the operation; sometimes any (403).
		var roles []string
		for _, role := range g.e.roles {
			if allowed[role] {
				roles = append(roles, role)
			}
		}
		if len(roles) == 0 || rapid.IntRange(0, 3).Draw(g.t, "any role") == 0 {
			roles = g.e.roles
		}
		r.role = rapid.SampledFrom(roles).Draw(g.t, "role")
	}

	pages := paged(o)
	continued := false
	if len(pages) > 0 && c.role == "" && !(g.tg != nil && g.tg.loc == inQuery) && rapid.Bool().Draw(g.t, "continue a listing") {
		if l, ok := g.e.continuation(g); ok && (g.tg == nil || allowed[l.role]) {
			r.role, continued = l.role, true
			for k, v := range l.query {
				r.query[k] = append([]string(nil), v...)
			}
			r.query.Set(l.param, l.cursor)
			g.record(node{loc: inQuery, tmpl: l.param}, l.cursor)
		}
	}

	path := o.path
	for _, p := range o.params {
		n := newNode(p.In, p.Name, p.Schema, p.Required)
		n.optional = !p.Required
		if continued && p.In == inQuery {
			continue
		}
		if g.omits(n) {
			g.apply(p.Name, http.StatusBadRequest)
			continue
		}
		send := p.In == inPath || p.Required || g.within(n)
		if !send && !pages[p.Name] {
			send = rapid.Bool().Draw(g.t, "send "+p.Name)
		}
		if !send {
			g.absent(n)
			continue
		}
		v := g.value(n, p.Name)
		values[p.In+":"+p.Name] = v
		text := paramText(v)
		switch p.In {
		case inPath:
			path = strings.Replace(path, "{"+p.Name+"}", url.PathEscape(text), 1)
		case inQuery:
			r.query.Set(p.Name, text)
		case inHeader:
			r.header.Set(p.Name, text)
		}
	}
	r.path = path

	if len(o.media) == 0 {
		return r, values
	}
	targetsBody := g.tg != nil && (g.tg.kind == kMediaType || o.body[g.tg.loc] != nil)
	if !o.bodyRequired && !targetsBody && !rapid.Bool().Draw(g.t, "send a body") {
		return r, values
	}
	media := rapid.SampledFrom(o.media).Draw(g.t, "media type")
	if g.tg != nil && o.body[g.tg.loc] != nil {
		media = g.tg.loc
	}
	root := newNode(media, "", o.jsonSchema(media), true)
	v := g.value(root, "")
	r.bodyJSON, r.media = v, media
	if media == mediaForm {
		form := url.Values{}
		flatten("", v, form)
		extra := o.formOnly()
		required := o.body[mediaForm].Value.Required
		for _, name := range sortedKeys(extra) {
			n := newNode(mediaForm, name, extra[name], contains(required, name))
			n.optional = !n.required
			if g.omits(n) {
				g.apply(name, http.StatusBadRequest)
				continue
			}
			if !n.required && !g.within(n) && !rapid.Bool().Draw(g.t, "send "+name) {
				g.absent(n)
				continue
			}
			x := g.value(n, name)
			values[mediaForm+":"+name] = x
			form.Set(name, paramText(x))
		}
		r.body = []byte(form.Encode())
	} else {
		r.body, _ = json.Marshal(v)
	}
	ct := media
	if rapid.Bool().Draw(g.t, "charset parameter") {
		ct += "; charset=utf-8"
	}
	if g.armed && g.tg.kind == kMediaType {
		var others []string
		for _, mt := range documentMedia(g.e.doc) {
			if o.body[mt] == nil {
				others = append(others, mt)
			}
		}
		ct = rapid.SampledFrom(others).Draw(g.t, "a media type it does not take")
		g.apply("", http.StatusUnsupportedMediaType)
	}
	r.header.Set("Content-Type", ct)
	return r, values
}

// documentMedia is every media type the document names.
func documentMedia(doc *openapi3.T) []string {
	set := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt := range op.RequestBody.Value.Content {
					set[mt] = true
				}
			}
			for _, ref := range op.Responses.Map() {
				for mt := range ref.Value.Content {
					set[mt] = true
				}
			}
		}
	}
	return sortedKeys(set)
}

func paramText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// flatten writes a JSON body as the form the document describes: dotted
// keys, array items of objects numbered from 0, arrays of scalars repeated.
func flatten(prefix string, v any, out url.Values) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			flatten(join(prefix, k), vv, out)
		}
	case []any:
		for i, item := range x {
			switch item.(type) {
			case map[string]any, []any:
				flatten(join(prefix, strconv.Itoa(i)), item, out)
			default:
				out.Add(prefix, paramText(item))
			}
		}
	case nil:
	default:
		out.Add(prefix, paramText(x))
	}
}

// selfCheck holds the generator to the document: what it calls valid passes
// kin-openapi's schema validation, and what it breaks fails it (except a
// rule the document states in words, which a schema cannot check).
func (e *env) selfCheck(rt *rapid.T, r request, values map[string]any, tg *target) {
	opts := []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.EnableFormatValidation(), openapi3.MultiErrors()}
	check := func(where, loc string, ref *openapi3.SchemaRef, v any, tg *target) {
		err := ref.Value.VisitJSON(v, opts...)
		broken := tg != nil && tg.loc == loc && !tg.schemaValid && tg.kind != kMediaType
		if broken && !strings.HasSuffix(where, " body") && where != loc+":"+tg.tmpl {
			broken = false
		}
		switch {
		case broken && tg.kind == kRequired:
			// A missing property or parameter is not a value to check.
		case broken && err == nil:
			rt.Fatalf("generator: %s breaks %s at %q but kin-openapi accepts it: %s", where, tg.kind, tg.field, jsonKey(v))
		case !broken && err != nil:
			rt.Fatalf("generator: %s should be valid but kin-openapi says: %v\nvalue: %s", where, err, jsonKey(v))
		}
	}
	for _, p := range r.op.params {
		if v, ok := values[p.In+":"+p.Name]; ok {
			check(p.In+":"+p.Name, p.In, p.Schema, v, tg)
		}
	}
	extra := r.op.formOnly()
	for name, ref := range extra {
		if v, ok := values[mediaForm+":"+name]; ok {
			check(mediaForm+":"+name, mediaForm, ref, v, tg)
		}
	}
	if r.media != "" {
		bodyTarget := tg
		if tg != nil && r.media == mediaForm && extra[tg.tmpl] != nil {
			bodyTarget = nil // the broken value is a form-only field, checked above
		}
		check(r.media+" body", r.media, r.op.jsonSchema(r.media), r.bodyJSON, bodyTarget)
	}
}

// coverage keeps, per operation and place, whether valid requests sent a
// value there, left it out, and how many distinct values they sent.
type coverage struct {
	values  map[string]map[string]bool
	omitted map[string]bool
}

func newCoverage() *coverage {
	return &coverage{values: map[string]map[string]bool{}, omitted: map[string]bool{}}
}

func (c *coverage) add(o *operation, seen map[string]any, gone map[string]bool) {
	for k, v := range seen {
		key := o.id + "|" + k
		if c.values[key] == nil {
			c.values[key] = map[string]bool{}
		}
		if len(c.values[key]) < 4 {
			c.values[key][jsonKey(v)] = true
		}
	}
	for k := range gone {
		c.omitted[o.id+"|"+k] = true
	}
}

func (c *coverage) gaps(o *operation) []string {
	var out []string
	for _, n := range sites(o) {
		key := o.id + "|" + n.loc + "|" + n.tmpl
		where := o.id + " " + n.loc + ":" + n.tmpl
		switch {
		case len(c.values[key]) == 0:
			out = append(out, where+": no valid request sent it")
		case len(c.values[key]) < 2 && varies(n):
			out = append(out, where+": valid requests always sent the same value")
		}
		if n.optional && !c.omitted[key] {
			out = append(out, where+": no valid request left it out")
		}
	}
	return out
}

// varies reports whether n's schema allows more than one value.
func varies(n node) bool {
	s := n.s
	switch {
	case len(s.Enum) > 0:
		return len(s.Enum) > 1
	case s.Min != nil && s.Max != nil:
		return *s.Max > *s.Min
	case s.MaxLength != nil:
		return *s.MaxLength > 0
	}
	return true
}
