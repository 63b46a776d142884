package conformance

import (
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/haven-hrd/haven/infra/apicontract"
)

// Where a value goes. A body's location is its media type.
const (
	inPath    = "path"
	inQuery   = "query"
	inHeader  = "header"
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

// operation is one method and path of openapi.yaml and what a request to it
// may carry.
type operation struct {
	id, method, path string
	op               *openapi3.Operation
	params           []*openapi3.Parameter // path, then query, then header; by name
	media            []string              // request body media types, sorted
	body             map[string]*openapi3.SchemaRef
	bodyRequired     bool
}

func operations(doc *openapi3.T) []*operation {
	var out []*operation
	for _, r := range apicontract.Routes(doc) {
		item := doc.Paths.Value(r.Path)
		op := item.GetOperation(r.Method)
		o := &operation{id: op.OperationID, method: r.Method, path: r.Path, op: op, body: map[string]*openapi3.SchemaRef{}}
		byKey := map[string]*openapi3.Parameter{}
		for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
			for _, p := range list {
				byKey[p.Value.In+":"+p.Value.Name] = p.Value
			}
		}
		for _, p := range byKey {
			o.params = append(o.params, p)
		}
		order := map[string]int{inPath: 0, inQuery: 1, inHeader: 2}
		sort.Slice(o.params, func(i, j int) bool {
			a, b := o.params[i], o.params[j]
			if a.In != b.In {
				return order[a.In] < order[b.In]
			}
			return a.Name < b.Name
		})
		if rb := op.RequestBody; rb != nil && rb.Value != nil {
			o.bodyRequired = rb.Value.Required
			for mt, c := range rb.Value.Content {
				o.media = append(o.media, mt)
				o.body[mt] = c.Schema
			}
			sort.Strings(o.media)
		}
		if o.id == "" {
			o.id = r.Method + " " + r.Path
		}
		out = append(out, o)
	}
	return out
}

// documents reports whether the operation documents a response status.
func (o *operation) documents(status int) bool {
	return o.op.Responses.Status(status) != nil
}

// jsonSchema is the schema a body of media type mt is generated from. A form
// body is the JSON body with dotted keys (the document says so of its form
// schema, which OpenAPI 3.0 cannot spell out: it has no patternProperties), so
// it is generated from the JSON schema when the operation has one.
func (o *operation) jsonSchema(mt string) *openapi3.SchemaRef {
	if mt == mediaForm {
		if s, ok := o.body[mediaJSON]; ok {
			return s
		}
	}
	return o.body[mt]
}

// formOnly lists the form schema's properties that flattening the JSON body
// does not produce (such as a field that stands in for a header).
func (o *operation) formOnly() map[string]*openapi3.SchemaRef {
	form, ok := o.body[mediaForm]
	if !ok || form.Value == nil || o.body[mediaJSON] == nil {
		return nil
	}
	flat := map[string]bool{}
	walk(mediaForm, "", o.body[mediaJSON], true, func(n node) {
		flat[formKey(n.tmpl)] = true
	})
	out := map[string]*openapi3.SchemaRef{}
	for name, p := range form.Value.Properties {
		if !flat[name] {
			out[name] = p
		}
	}
	return out
}

// formKey is the form key of a body template: array items of objects are
// numbered, arrays of scalars repeat their key.
func formKey(tmpl string) string {
	return strings.TrimSuffix(tmpl, ".*")
}

// node is one place a request can carry a value: a parameter, or a value
// inside a body. tmpl is its dotted path with "*" for array items ("" is the
// body itself).
type node struct {
	loc, tmpl string
	ref       *openapi3.SchemaRef
	s         *openapi3.Schema
	names     []string // the component schemas it is (through $ref and allOf)
	required  bool     // required by its parent object, or a required parameter
	optional  bool     // may be left out (an optional property or parameter)
}

func newNode(loc, tmpl string, ref *openapi3.SchemaRef, required bool) node {
	s, names := effective(ref)
	return node{loc: loc, tmpl: tmpl, ref: ref, s: s, names: names, required: required}
}

// effective folds allOf into one schema (the document uses allOf to describe
// a $ref'd schema in place) and names the component schemas involved.
func effective(ref *openapi3.SchemaRef) (*openapi3.Schema, []string) {
	if ref == nil || ref.Value == nil {
		return &openapi3.Schema{}, nil
	}
	var names []string
	if ref.Ref != "" {
		names = append(names, componentName(ref.Ref))
	}
	s := ref.Value
	if len(s.AllOf) == 0 {
		return s, names
	}
	m := *s
	m.AllOf = nil
	for _, sub := range s.AllOf {
		ss, subNames := effective(sub)
		names = append(names, subNames...)
		if m.Type == nil {
			m.Type = ss.Type
		}
		if m.Format == "" {
			m.Format = ss.Format
		}
		if m.Pattern == "" {
			m.Pattern = ss.Pattern
		}
		if m.Enum == nil {
			m.Enum = ss.Enum
		}
		if m.Min == nil {
			m.Min = ss.Min
		}
		if m.Max == nil {
			m.Max = ss.Max
		}
		if m.MinLength == 0 {
			m.MinLength = ss.MinLength
		}
		if m.MaxLength == nil {
			m.MaxLength = ss.MaxLength
		}
		if m.MinItems == 0 {
			m.MinItems = ss.MinItems
		}
		if m.MaxItems == nil {
			m.MaxItems = ss.MaxItems
		}
		if m.Items == nil {
			m.Items = ss.Items
		}
		m.UniqueItems = m.UniqueItems || ss.UniqueItems
		if m.Properties == nil {
			m.Properties = ss.Properties
		}
		m.Required = append(append([]string(nil), m.Required...), ss.Required...)
		if m.AdditionalProperties.Has == nil && m.AdditionalProperties.Schema == nil {
			m.AdditionalProperties = ss.AdditionalProperties
		}
		m.AnyOf = append(append(openapi3.SchemaRefs(nil), m.AnyOf...), ss.AnyOf...)
		if m.Description == "" {
			m.Description = ss.Description
		}
	}
	return &m, names
}

func componentName(ref string) string {
	return ref[strings.LastIndex(ref, "/")+1:]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// walk visits every node of a body schema, parents first.
func walk(loc, tmpl string, ref *openapi3.SchemaRef, required bool, visit func(node)) {
	walkDepth(loc, tmpl, ref, required, false, visit, 0)
}

func walkDepth(loc, tmpl string, ref *openapi3.SchemaRef, required, optional bool, visit func(node), depth int) {
	if depth > 12 {
		return // the document has no recursive schema; stop if one appears
	}
	n := newNode(loc, tmpl, ref, required)
	n.optional = optional
	visit(n)
	for _, name := range sortedKeys(n.s.Properties) {
		req := contains(n.s.Required, name)
		walkDepth(loc, join(tmpl, name), n.s.Properties[name], req, !req, visit, depth+1)
	}
	if n.s.Items != nil {
		walkDepth(loc, join(tmpl, "*"), n.s.Items, false, false, visit, depth+1)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func isType(s *openapi3.Schema, typ string) bool {
	if s.Type == nil {
		switch typ {
		case openapi3.TypeObject:
			return s.Properties != nil
		case openapi3.TypeArray:
			return s.Items != nil
		}
		return false
	}
	return s.Type.Is(typ)
}

// anyOfRequired returns the required lists of an anyOf made only of
// "required" (at least one of these properties), or nil.
func anyOfRequired(s *openapi3.Schema) [][]string {
	var out [][]string
	for _, alt := range s.AnyOf {
		if alt.Value == nil || len(alt.Value.Required) == 0 {
			return nil
		}
		out = append(out, alt.Value.Required)
	}
	return out
}

func closedObject(s *openapi3.Schema) bool {
	return s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has
}

// patterns are compiled as kin-openapi compiles them (\uXXXX as Go's
// \x{XXXX}), so that the generator and the validator read one dialect.
var codepoint = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

func goPattern(p string) string { return codepoint.ReplaceAllString(p, `\x{$1}`) }

// vocabulary is the words a free-text header or query value may be built of:
// the document's media types and enum values, and the words the parameter's
// own description quotes (`text/html`): what a client reading the document
// would send.
func vocabulary(doc *openapi3.T, p *openapi3.Parameter) []string {
	set := map[string]bool{}
	for _, s := range doc.Components.Schemas {
		for _, e := range s.Value.Enum {
			if v, ok := e.(string); ok && v != "" {
				set[v] = true
			}
		}
	}
	for _, h := range doc.Components.Headers {
		if h.Value.Schema != nil {
			for _, e := range h.Value.Schema.Value.Enum {
				if v, ok := e.(string); ok {
					set[v] = true
				}
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt := range op.RequestBody.Value.Content {
					set[mt] = true
				}
			}
		}
	}
	for _, m := range quoted.FindAllStringSubmatch(p.Description, -1) {
		if !strings.ContainsAny(m[1], " ") {
			set[m[1]] = true
		}
	}
	return sortedKeys(set)
}

var quoted = regexp.MustCompile("`([^`]+)`")
