package samtemplate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Template is a parsed CloudFormation/SAM template. Values are plain Go values:
// map[string]any, []any, string, int, float64, bool and nil, with intrinsic
// functions in their long form.
type Template struct {
	FormatVersion string
	Transform     []string
	Description   string
	Parameters    map[string]Parameter
	Conditions    map[string]any
	Globals       map[string]any
	Resources     map[string]Resource
	Outputs       map[string]any
}

// Parameter is one entry of the template's Parameters section.
type Parameter struct {
	Type          string
	Default       any // nil when the parameter has no default
	Description   string
	AllowedValues []any
}

// Resource is one entry of the template's Resources section.
type Resource struct {
	Type                string
	Properties          map[string]any
	Metadata            map[string]any
	Condition           string
	DependsOn           []string
	DeletionPolicy      string
	UpdateReplacePolicy string
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template in YAML (or JSON, which is YAML).
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("parse template: empty document")
		}
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("parse template: empty document")
	}
	v, err := convert(doc.Content[0], 0)
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("parse template: the top level is not a mapping")
	}
	return fromMap(root)
}

func fromMap(root map[string]any) (*Template, error) {
	t := &Template{
		Parameters: map[string]Parameter{},
		Conditions: mapOf(root["Conditions"]),
		Globals:    mapOf(root["Globals"]),
		Resources:  map[string]Resource{},
		Outputs:    mapOf(root["Outputs"]),
	}
	t.FormatVersion, _ = root["AWSTemplateFormatVersion"].(string)
	t.Description, _ = root["Description"].(string)
	switch tr := root["Transform"].(type) {
	case string:
		t.Transform = []string{tr}
	case []any:
		for _, x := range tr {
			if s, ok := x.(string); ok {
				t.Transform = append(t.Transform, s)
			}
		}
	}
	for name, raw := range mapOf(root["Parameters"]) {
		p := mapOf(raw)
		param := Parameter{Default: p["Default"]}
		param.Type, _ = p["Type"].(string)
		param.Description, _ = p["Description"].(string)
		param.AllowedValues, _ = p["AllowedValues"].([]any)
		t.Parameters[name] = param
	}
	resources, ok := root["Resources"].(map[string]any)
	if !ok || len(resources) == 0 {
		return nil, errors.New("parse template: no Resources")
	}
	for id, raw := range resources {
		r, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parse template: resource %s is not a mapping", id)
		}
		res := Resource{Properties: mapOf(r["Properties"]), Metadata: mapOf(r["Metadata"])}
		if res.Type, ok = r["Type"].(string); !ok || res.Type == "" {
			return nil, fmt.Errorf("parse template: resource %s has no Type", id)
		}
		res.Condition, _ = r["Condition"].(string)
		res.DeletionPolicy, _ = r["DeletionPolicy"].(string)
		res.UpdateReplacePolicy, _ = r["UpdateReplacePolicy"].(string)
		switch d := r["DependsOn"].(type) {
		case string:
			res.DependsOn = []string{d}
		case []any:
			for _, x := range d {
				if s, ok := x.(string); ok {
					res.DependsOn = append(res.DependsOn, s)
				}
			}
		}
		t.Resources[id] = res
	}
	return t, nil
}

// Raw returns a copy of the Properties of the resource logicalID (long-form
// intrinsics), or nil when there is no such resource.
func (t *Template) Raw(logicalID string) map[string]any {
	r, ok := t.Resources[logicalID]
	if !ok {
		return nil
	}
	if r.Properties == nil {
		return map[string]any{}
	}
	return deepCopy(r.Properties).(map[string]any)
}

// ParameterDefaults maps each parameter that has a default to that default as a
// string (a CommaDelimitedList default stays comma-separated). It is a starting point
// for the refs of [ResolveEnv].
func (t *Template) ParameterDefaults() map[string]string {
	out := map[string]string{}
	for name, p := range t.Parameters {
		if p.Default == nil {
			continue
		}
		if s, ok := scalarString(p.Default); ok {
			out[name] = s
		}
	}
	return out
}

// logicalIDsOfType returns the sorted logical ids of the resources of type typ.
func (t *Template) logicalIDsOfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// shortForms maps the YAML short-form tags of CloudFormation to their long-form keys.
var shortForms = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!FindInMap":    "Fn::FindInMap",
	"!GetAtt":       "Fn::GetAtt",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!Sub":          "Fn::Sub",
	"!Transform":    "Fn::Transform",
	"!And":          "Fn::And",
	"!Equals":       "Fn::Equals",
	"!If":           "Fn::If",
	"!Not":          "Fn::Not",
	"!Or":           "Fn::Or",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// maxDepth bounds nesting (and alias expansion) so a hostile document can't recurse forever.
const maxDepth = 200

// convert turns a YAML node into plain Go values, short-form intrinsics into long form.
func convert(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nesting deeper than %d", n.Line, maxDepth)
	}
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias, depth+1)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return convertShortForm(n, depth)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, vn := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys (<<) are not supported by CloudFormation", k.Line)
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if _, dup := out[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			v, err := convert(vn, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
}

func convertShortForm(n *yaml.Node, depth int) (any, error) {
	key, ok := shortForms[n.Tag]
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	if n.Kind == yaml.ScalarNode {
		switch key {
		case "Fn::GetAtt":
			name, attr, found := strings.Cut(n.Value, ".")
			if !found || name == "" || attr == "" {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not LogicalId.Attribute", n.Line, n.Value)
			}
			return map[string]any{key: []any{name, attr}}, nil
		case "Ref", "Condition", "Fn::Sub", "Fn::Base64", "Fn::GetAZs", "Fn::ImportValue":
			return map[string]any{key: n.Value}, nil
		}
		// e.g. "!Not x": keep the plain scalar value.
		v, err := scalar(n)
		if err != nil {
			return nil, err
		}
		return map[string]any{key: v}, nil
	}
	// Sequence or mapping under the tag: convert it as if untagged.
	untagged := *n
	untagged.Tag = ""
	v, err := convert(&untagged, depth+1)
	if err != nil {
		return nil, err
	}
	return map[string]any{key: v}, nil
}

func scalar(n *yaml.Node) (any, error) {
	if n.Tag == "!" { // the non-specific tag: a string
		return n.Value, nil
	}
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		// CloudFormation has no timestamps: 2010-09-09 is a string.
		return n.Value, nil
	case "!!null":
		return nil, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	if tm, ok := v.(time.Time); ok {
		return tm.Format(time.RFC3339), nil
	}
	return v, nil
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}
