package samtemplate

import (
	"fmt"
	"strconv"
	"strings"
)

// ResolveEnv turns environment variables as the template declares them (see
// [Function].Env) into strings. refs maps a logical id or parameter name (or pseudo
// parameter such as AWS::Region) to the value Ref gives, and "LogicalId.Attribute" to
// the value Fn::GetAtt gives. Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select and
// Fn::Split are resolved; an unknown name or any other intrinsic resolves to "".
func ResolveEnv(env map[string]any, refs map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = resolveString(v, refs)
	}
	return out
}

func resolveString(v any, refs map[string]string) string {
	if s, ok := scalarString(v); ok {
		return s
	}
	m, ok := v.(map[string]any)
	if !ok || !isIntrinsic(m) {
		return ""
	}
	switch {
	case m["Ref"] != nil:
		name, _ := m["Ref"].(string)
		return refs[name]
	case m["Fn::GetAtt"] != nil:
		return refs[getAttKey(m["Fn::GetAtt"])]
	case m["Fn::Sub"] != nil:
		return resolveSub(m["Fn::Sub"], refs)
	case m["Fn::Join"] != nil:
		args := listOf(m["Fn::Join"])
		if len(args) != 2 {
			return ""
		}
		sep, _ := args[0].(string)
		parts := resolveList(args[1], refs)
		return strings.Join(parts, sep)
	case m["Fn::Select"] != nil:
		args := listOf(m["Fn::Select"])
		if len(args) != 2 {
			return ""
		}
		i, ok := intOf(args[0])
		list := resolveList(args[1], refs)
		if !ok || i < 0 || i >= len(list) {
			return ""
		}
		return list[i]
	}
	return ""
}

func resolveList(v any, refs map[string]string) []string {
	if l, ok := v.([]any); ok {
		out := make([]string, len(l))
		for i, e := range l {
			out[i] = resolveString(e, refs)
		}
		return out
	}
	m, _ := v.(map[string]any)
	if args := listOf(m["Fn::Split"]); len(args) == 2 {
		sep, _ := args[0].(string)
		if sep == "" {
			return nil
		}
		return strings.Split(resolveString(args[1], refs), sep)
	}
	if name, ok := m["Ref"].(string); ok {
		// A list parameter given as "a,b,c".
		if s, found := refs[name]; found {
			return strings.Split(s, ",")
		}
	}
	return nil
}

func getAttKey(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) == 2 {
			a, _ := x[0].(string)
			b, _ := x[1].(string)
			return a + "." + b
		}
	}
	return ""
}

// resolveSub resolves Fn::Sub: "text ${Name} ${Res.Attr} ${!Literal}", or
// [text, {Var: value}].
func resolveSub(v any, refs map[string]string) string {
	var text string
	vars := map[string]any{}
	switch x := v.(type) {
	case string:
		text = x
	case []any:
		if len(x) != 2 {
			return ""
		}
		text, _ = x[0].(string)
		vars = mapOf(x[1])
	default:
		return ""
	}
	var b strings.Builder
	for {
		start := strings.Index(text, "${")
		if start < 0 {
			b.WriteString(text)
			return b.String()
		}
		end := strings.Index(text[start:], "}")
		if end < 0 {
			b.WriteString(text)
			return b.String()
		}
		end += start
		b.WriteString(text[:start])
		name := text[start+2 : end]
		switch {
		case strings.HasPrefix(name, "!"):
			b.WriteString("${" + name[1:] + "}")
		case vars[name] != nil:
			b.WriteString(resolveString(vars[name], refs))
		default:
			b.WriteString(refs[strings.TrimSpace(name)])
		}
		text = text[end+1:]
	}
}

// scalarString formats a literal scalar as CloudFormation passes it on.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case nil:
		return "", true
	}
	return "", false
}

// Resolve turns a value of the template (a literal, an intrinsic, or a list
// or mapping of them) into plain strings, lists and mappings, as
// CloudFormation would with refs (see [ResolveEnv]). Unlike ResolveEnv it
// refuses what it cannot resolve: a name missing from refs, or an intrinsic
// other than Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select and Fn::Split.
// A {"Ref": "AWS::NoValue"} in a list or mapping is dropped, as
// CloudFormation drops it.
func Resolve(v any, refs map[string]string) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if isNoValue(e) {
				continue
			}
			r, err := Resolve(e, refs)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	case map[string]any:
		if isIntrinsic(x) {
			if err := resolvable(x, refs, nil); err != nil {
				return nil, err
			}
			return resolveString(x, refs), nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if isNoValue(e) {
				continue
			}
			r, err := Resolve(e, refs)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	if s, ok := scalarString(v); ok {
		return s, nil
	}
	return nil, fmt.Errorf("cannot resolve %v", v)
}

func isNoValue(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 1 && m["Ref"] == "AWS::NoValue"
}

// resolvable reports the first name or intrinsic in v that resolveString
// would quietly turn into "". vars are the names an enclosing Fn::Sub defines.
func resolvable(v any, refs map[string]string, vars map[string]any) error {
	if _, ok := scalarString(v); ok {
		return nil
	}
	if l, ok := v.([]any); ok {
		for _, e := range l {
			if err := resolvable(e, refs, vars); err != nil {
				return err
			}
		}
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok || !isIntrinsic(m) {
		return fmt.Errorf("cannot resolve %v", v)
	}
	known := func(name string) error {
		if _, ok := refs[name]; ok {
			return nil
		}
		return fmt.Errorf("unknown name %q", name)
	}
	for k, arg := range m {
		switch k {
		case "Ref":
			name, _ := arg.(string)
			return known(name)
		case "Fn::GetAtt":
			return known(getAttKey(arg))
		case "Fn::Sub":
			text, _ := arg.(string)
			local := map[string]any{}
			if l, ok := arg.([]any); ok && len(l) == 2 {
				text, _ = l[0].(string)
				local = mapOf(l[1])
				for _, e := range local {
					if err := resolvable(e, refs, vars); err != nil {
						return err
					}
				}
			}
			for _, part := range strings.Split(text, "${")[1:] {
				name, _, found := strings.Cut(part, "}")
				if !found || strings.HasPrefix(name, "!") || local[name] != nil {
					continue
				}
				if err := known(strings.TrimSpace(name)); err != nil {
					return err
				}
			}
			return nil
		case "Fn::Join", "Fn::Select", "Fn::Split":
			return resolvable(arg, refs, vars)
		default:
			return fmt.Errorf("intrinsic %s is not resolved locally", k)
		}
	}
	return nil
}
