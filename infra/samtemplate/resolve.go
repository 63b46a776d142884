package samtemplate

import (
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
