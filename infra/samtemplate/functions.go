package samtemplate

import (
	"path"
	"sort"
	"strconv"
	"strings"
)

// Function is an AWS::Serverless::Function with SAM's Globals.Function merged in.
type Function struct {
	LogicalID string
	// CodeDir is the base name of CodeUri ("create-referral" for
	// functions/create-referral): the key of the function's handler.
	CodeDir string
	// Env is the merged Environment.Variables, values raw (intrinsics as long-form maps).
	Env        map[string]any
	Routes     []Route    // HttpApi (and Api) events, sorted by path then method
	Schedules  []Schedule // ScheduleV2 (and Schedule) events, sorted by name
	Timeout    int        // seconds; 0 when unset or not a literal
	MemorySize int        // MB; 0 when unset or not a literal
	// Properties are all the function's properties after the Globals merge.
	Properties map[string]any
}

// Route is an HTTP route of a function. A route without Method or Path (the
// API's catch-all) has Method "ANY" and Path "$default".
type Route struct {
	Method string // upper case: GET, POST, PUT, ..., ANY
	Path   string // e.g. /referrals/{id}
	// Public is true when the event turns the API's authorizer off
	// (Auth: {Authorizer: NONE}): the web form's pages, which check their own
	// session cookie. The local runner verifies no token for such a route.
	Public bool
}

// Schedule is a scheduled trigger of a function.
type Schedule struct {
	Name       string // the event's name in the template
	Expression string // rate(...) or cron(...)
	Timezone   string // ScheduleExpressionTimezone; "" means UTC
}

// Table is a DynamoDB table (AWS::DynamoDB::Table or AWS::Serverless::SimpleTable).
type Table struct {
	LogicalID      string
	HashKey        string
	RangeKey       string
	AttributeTypes map[string]string // attribute name → S, N or B
	GSIs           []GSI             // in template order
	TTLAttribute   string            // "" when TTL is not enabled
}

// GSI is a global secondary index.
type GSI struct {
	Name     string
	HashKey  string
	RangeKey string
}

// Functions returns the template's functions sorted by logical id, with
// Globals.Function merged in as the SAM transform does: maps merge key by key,
// lists are the global entries followed by the function's, and anything else
// (including an intrinsic function) in the function replaces the global value.
func (t *Template) Functions() []Function {
	globals := mapOf(t.Globals["Function"])
	var out []Function
	for _, id := range t.logicalIDsOfType("AWS::Serverless::Function") {
		props := mergeGlobals(deepCopy(globals), deepCopy(t.Resources[id].Properties)).(map[string]any)
		f := Function{LogicalID: id, Properties: props, Env: map[string]any{}}
		if uri, ok := props["CodeUri"].(string); ok && uri != "" {
			f.CodeDir = path.Base(strings.TrimRight(uri, "/"))
		}
		if vars := mapOf(mapOf(props["Environment"])["Variables"]); !isIntrinsic(vars) {
			for k, v := range vars {
				f.Env[k] = v
			}
		}
		f.Timeout, _ = intOf(props["Timeout"])
		f.MemorySize, _ = intOf(props["MemorySize"])
		for name, raw := range mapOf(props["Events"]) {
			ev := mapOf(raw)
			ep := mapOf(ev["Properties"])
			switch ev["Type"] {
			case "HttpApi", "Api":
				r := Route{Method: "ANY", Path: "$default"}
				if m, ok := ep["Method"].(string); ok && m != "" {
					r.Method = strings.ToUpper(m)
				}
				if p, ok := ep["Path"].(string); ok && p != "" {
					r.Path = p
				}
				r.Public = mapOf(ep["Auth"])["Authorizer"] == "NONE"
				f.Routes = append(f.Routes, r)
			case "ScheduleV2":
				s := Schedule{Name: name}
				s.Expression, _ = ep["ScheduleExpression"].(string)
				s.Timezone, _ = ep["ScheduleExpressionTimezone"].(string)
				f.Schedules = append(f.Schedules, s)
			case "Schedule":
				s := Schedule{Name: name}
				s.Expression, _ = ep["Schedule"].(string)
				f.Schedules = append(f.Schedules, s)
			}
		}
		sort.Slice(f.Routes, func(i, j int) bool {
			if f.Routes[i].Path != f.Routes[j].Path {
				return f.Routes[i].Path < f.Routes[j].Path
			}
			return f.Routes[i].Method < f.Routes[j].Method
		})
		sort.Slice(f.Schedules, func(i, j int) bool { return f.Schedules[i].Name < f.Schedules[j].Name })
		out = append(out, f)
	}
	return out
}

// mergeGlobals merges a global value and a resource's value as the SAM transform does.
func mergeGlobals(global, local any) any {
	gm, gIsMap := global.(map[string]any)
	lm, lIsMap := local.(map[string]any)
	if gIsMap && lIsMap && !isIntrinsic(gm) && !isIntrinsic(lm) {
		out := make(map[string]any, len(gm)+len(lm))
		for k, v := range gm {
			out[k] = v
		}
		for k, v := range lm {
			if g, ok := gm[k]; ok {
				out[k] = mergeGlobals(g, v)
			} else {
				out[k] = v
			}
		}
		return out
	}
	gl, gIsList := global.([]any)
	ll, lIsList := local.([]any)
	if gIsList && lIsList {
		return append(append([]any{}, gl...), ll...)
	}
	if local == nil {
		return global
	}
	return local
}

// isIntrinsic reports whether m is a long-form intrinsic function ({"Ref": ...},
// {"Fn::If": ...}, {"Condition": ...}).
func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// Tables returns the template's DynamoDB tables sorted by logical id.
func (t *Template) Tables() []Table {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == "AWS::DynamoDB::Table" || r.Type == "AWS::Serverless::SimpleTable" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out []Table
	for _, id := range ids {
		r := t.Resources[id]
		tb := Table{LogicalID: id, AttributeTypes: map[string]string{}}
		if r.Type == "AWS::Serverless::SimpleTable" {
			tb.HashKey, tb.AttributeTypes = simpleTableKey(mapOf(r.Properties["PrimaryKey"]))
			out = append(out, tb)
			continue
		}
		for _, a := range listOf(r.Properties["AttributeDefinitions"]) {
			am := mapOf(a)
			name, _ := am["AttributeName"].(string)
			typ, _ := am["AttributeType"].(string)
			if name != "" {
				tb.AttributeTypes[name] = typ
			}
		}
		tb.HashKey, tb.RangeKey = keySchema(r.Properties["KeySchema"])
		for _, g := range listOf(r.Properties["GlobalSecondaryIndexes"]) {
			gm := mapOf(g)
			gsi := GSI{}
			gsi.Name, _ = gm["IndexName"].(string)
			gsi.HashKey, gsi.RangeKey = keySchema(gm["KeySchema"])
			tb.GSIs = append(tb.GSIs, gsi)
		}
		ttl := mapOf(r.Properties["TimeToLiveSpecification"])
		if enabled, _ := boolOf(ttl["Enabled"]); enabled {
			tb.TTLAttribute, _ = ttl["AttributeName"].(string)
		}
		out = append(out, tb)
	}
	return out
}

func simpleTableKey(pk map[string]any) (string, map[string]string) {
	name, typ := "id", "S"
	if n, ok := pk["Name"].(string); ok && n != "" {
		name = n
	}
	switch pk["Type"] {
	case "Number":
		typ = "N"
	case "Binary":
		typ = "B"
	}
	return name, map[string]string{name: typ}
}

func keySchema(v any) (hash, rangeKey string) {
	for _, k := range listOf(v) {
		km := mapOf(k)
		name, _ := km["AttributeName"].(string)
		switch km["KeyType"] {
		case "HASH":
			hash = name
		case "RANGE":
			rangeKey = name
		}
	}
	return hash, rangeKey
}

// Buckets returns the logical ids of the template's AWS::S3::Bucket resources, sorted.
func (t *Template) Buckets() []string {
	return t.logicalIDsOfType("AWS::S3::Bucket")
}

func listOf(v any) []any {
	l, _ := v.([]any)
	return l
}

func intOf(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case float64:
		if x == float64(int(x)) {
			return int(x), true
		}
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

func boolOf(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(x)
		return b, err == nil
	}
	return false, false
}

// APIScopes returns the OAuth scopes the HttpApi's default JWT authorizer
// requires (a token must carry at least one), or nil when it requires none.
func (t *Template) APIScopes() []string {
	for _, id := range t.logicalIDsOfType("AWS::Serverless::HttpApi") {
		auth := mapOf(t.Raw(id)["Auth"])
		def, _ := auth["DefaultAuthorizer"].(string)
		a := mapOf(mapOf(auth["Authorizers"])[def])
		var out []string
		for _, v := range listOf(a["AuthorizationScopes"]) {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
