package samtemplate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func loadSmall(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load(filepath.Join("testdata", "small.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tpl
}

func TestShortForms(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want any
	}{
		{"Ref", `!Ref Table`, map[string]any{"Ref": "Table"}},
		{"GetAtt scalar", `!GetAtt Key.Arn`, map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}}},
		{"GetAtt nested attribute", `!GetAtt Db.Endpoint.Address`, map[string]any{"Fn::GetAtt": []any{"Db", "Endpoint.Address"}}},
		{"GetAtt sequence", `!GetAtt [Key, Arn]`, map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}}},
		{"Sub scalar", `!Sub "${A}-${AWS::Region}"`, map[string]any{"Fn::Sub": "${A}-${AWS::Region}"}},
		{"Sub with vars", `!Sub ["${X}", {X: !Ref Y}]`, map[string]any{"Fn::Sub": []any{"${X}", map[string]any{"X": map[string]any{"Ref": "Y"}}}}},
		{"Join", `!Join [",", [a, !Ref B]]`, map[string]any{"Fn::Join": []any{",", []any{"a", map[string]any{"Ref": "B"}}}}},
		{"Select Split", `!Select [1, !Split [",", "a,b"]]`, map[string]any{"Fn::Select": []any{1, map[string]any{"Fn::Split": []any{",", "a,b"}}}}},
		{"If Equals Not", `!If [C, !Not [!Equals [!Ref P, ""]], !Ref AWS::NoValue]`, map[string]any{"Fn::If": []any{
			"C",
			map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "P"}, ""}}}},
			map[string]any{"Ref": "AWS::NoValue"},
		}}},
		{"And Or Condition", `!And [!Condition A, !Or [!Condition B, !Condition C]]`, map[string]any{"Fn::And": []any{
			map[string]any{"Condition": "A"},
			map[string]any{"Fn::Or": []any{map[string]any{"Condition": "B"}, map[string]any{"Condition": "C"}}},
		}}},
		{"FindInMap", `!FindInMap [M, k1, k2]`, map[string]any{"Fn::FindInMap": []any{"M", "k1", "k2"}}},
		{"Base64 ImportValue GetAZs", `[!Base64 x, !ImportValue y, !GetAZs ""]`, []any{
			map[string]any{"Fn::Base64": "x"}, map[string]any{"Fn::ImportValue": "y"}, map[string]any{"Fn::GetAZs": ""},
		}},
		{"Ref with number-like value stays a string", `!Ref 123`, map[string]any{"Ref": "123"}},
		{"tagged mapping", `!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}`, map[string]any{
			"Fn::Transform": map[string]any{"Name": "AWS::Include", "Parameters": map[string]any{"Location": "s3://b/k"}},
		}},
		{"plain scalars", `[1, 2.5, true, null, "007", 2010-09-09, yes]`, []any{1, 2.5, true, nil, "007", "2010-09-09", "yes"}},
		{"alias", `{a: &x [1, 2], b: *x}`, map[string]any{"a": []any{1, 2}, "b": []any{1, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "Resources:\n  R:\n    Type: X::Y::Z\n    Properties:\n      V: " + tt.yaml + "\n"
			tpl, err := Parse([]byte(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, tpl.Raw("R")["V"]); diff != "" {
				t.Errorf("V (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"empty", ``, "empty document"},
		{"not a mapping", `[1, 2]`, "not a mapping"},
		{"no resources", `Description: x`, "no Resources"},
		{"resource without type", "Resources:\n  R:\n    Properties: {}\n", "has no Type"},
		{"unknown tag", "Resources:\n  R:\n    Type: X\n    Properties:\n      V: !Nope x\n", "unknown tag !Nope"},
		{"bad GetAtt", "Resources:\n  R:\n    Type: X\n    Properties:\n      V: !GetAtt Key\n", "not LogicalId.Attribute"},
		{"duplicate key", "Resources:\n  R:\n    Type: X\n    Type: Y\n", `duplicate key "Type"`},
		{"merge key", "Resources:\n  R:\n    <<: {Type: X}\n", "merge keys"},
		{"bad yaml", "Resources: [\n", "parse template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join("testdata", "nope.yaml")); err == nil {
		t.Error("Load of a missing file: no error")
	}
}

func TestTemplateSections(t *testing.T) {
	tpl := loadSmall(t)
	if got, want := tpl.FormatVersion, "2010-09-09"; got != want {
		t.Errorf("FormatVersion = %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"AWS::Serverless-2016-10-31"}, tpl.Transform); diff != "" {
		t.Errorf("Transform (-want +got):\n%s", diff)
	}
	wantParams := map[string]Parameter{
		"Stage":   {Type: "String", Default: "dev"},
		"Origins": {Type: "CommaDelimitedList", Default: "https://a.example,https://b.example"},
		"Secret":  {Type: "String"},
	}
	if diff := cmp.Diff(wantParams, tpl.Parameters); diff != "" {
		t.Errorf("Parameters (-want +got):\n%s", diff)
	}
	wantDefaults := map[string]string{"Stage": "dev", "Origins": "https://a.example,https://b.example"}
	if diff := cmp.Diff(wantDefaults, tpl.ParameterDefaults()); diff != "" {
		t.Errorf("ParameterDefaults (-want +got):\n%s", diff)
	}
	things := tpl.Resources["Things"]
	if things.DeletionPolicy != "Retain" || things.UpdateReplacePolicy != "Retain" {
		t.Errorf("Things policies = %q/%q, want Retain/Retain", things.DeletionPolicy, things.UpdateReplacePolicy)
	}
	if got := tpl.Resources["Archive"].Condition; got != "Never" {
		t.Errorf("Archive condition = %q, want Never", got)
	}
}

func TestFunctions(t *testing.T) {
	tpl := loadSmall(t)
	globalEnv := map[string]any{
		"TABLE_NAME": map[string]any{"Ref": "Things"},
		"STAGE":      map[string]any{"Ref": "Stage"},
		"KEY_ARN":    map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}},
		"LEVEL":      "info",
	}
	want := []Function{
		{
			LogicalID:  "CatchAll",
			Env:        map[string]any{},
			Routes:     []Route{{Method: "ANY", Path: "$default"}},
			Timeout:    10,
			MemorySize: 128,
		},
		{
			LogicalID: "GetThing",
			CodeDir:   "get-thing",
			Env: map[string]any{
				"TABLE_NAME": map[string]any{"Ref": "Things"},
				"STAGE":      map[string]any{"Ref": "Stage"},
				"KEY_ARN":    map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}},
				"LEVEL":      "debug",
				"URL":        map[string]any{"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/${Stage}"},
			},
			Routes:     []Route{{Method: "GET", Path: "/things"}, {Method: "GET", Path: "/things/{id}"}},
			Timeout:    10,
			MemorySize: 128,
		},
		{
			LogicalID: "Sweep",
			CodeDir:   "sweep",
			Env:       globalEnv,
			Schedules: []Schedule{
				{Name: "Nightly", Expression: "cron(0 2 * * ? *)", Timezone: "America/Toronto"},
				{Name: "Often", Expression: "rate(5 minutes)"},
			},
			Timeout:    300,
			MemorySize: 128,
		},
	}
	got := tpl.Functions()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Function{}, "Properties")); diff != "" {
		t.Errorf("Functions (-want +got):\n%s", diff)
	}
}

func TestFunctionsMergeGlobals(t *testing.T) {
	tpl := loadSmall(t)
	byID := map[string]Function{}
	for _, f := range tpl.Functions() {
		byID[f.LogicalID] = f
	}
	tests := []struct {
		name     string
		function string
		property string
		want     any
	}{
		{"scalar from globals", "GetThing", "Runtime", "provided.al2023"},
		{"scalar overridden", "Sweep", "Timeout", 300},
		{"list from globals", "GetThing", "Layers", []any{"global-layer"}},
		{"lists are additive", "Sweep", "Layers", []any{"global-layer", "local-layer"}},
		{"intrinsic replaces a map", "CatchAll", "Environment", map[string]any{"Variables": map[string]any{"Ref": "AWS::NoValue"}}},
		{"non-string CodeUri kept", "CatchAll", "CodeUri", map[string]any{"Bucket": "b", "Key": "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, byID[tt.function].Properties[tt.property]); diff != "" {
				t.Errorf("%s.%s (-want +got):\n%s", tt.function, tt.property, diff)
			}
		})
	}
	// The merge must not write into the template's Globals.
	if diff := cmp.Diff([]any{"global-layer"}, mapOf(tpl.Globals["Function"])["Layers"]); diff != "" {
		t.Errorf("Globals.Function.Layers changed (-want +got):\n%s", diff)
	}
}

func TestTables(t *testing.T) {
	want := []Table{
		{
			LogicalID:      "NoTTL",
			HashKey:        "id",
			AttributeTypes: map[string]string{"id": "S"},
		},
		{
			LogicalID:      "Simple",
			HashKey:        "code",
			AttributeTypes: map[string]string{"code": "N"},
		},
		{
			LogicalID:      "Things",
			HashKey:        "pk",
			RangeKey:       "sk",
			AttributeTypes: map[string]string{"pk": "S", "sk": "S", "n": "N"},
			GSIs:           []GSI{{Name: "byN", HashKey: "n"}},
			TTLAttribute:   "ttl",
		},
	}
	if diff := cmp.Diff(want, loadSmall(t).Tables()); diff != "" {
		t.Errorf("Tables (-want +got):\n%s", diff)
	}
}

func TestBuckets(t *testing.T) {
	if diff := cmp.Diff([]string{"Archive", "Files"}, loadSmall(t).Buckets()); diff != "" {
		t.Errorf("Buckets (-want +got):\n%s", diff)
	}
}

func TestRaw(t *testing.T) {
	tpl := loadSmall(t)
	if got := tpl.Raw("Nope"); got != nil {
		t.Errorf("Raw(Nope) = %v, want nil", got)
	}
	if got := tpl.Raw("Files"); got == nil || len(got) != 0 {
		t.Errorf("Raw(Files) = %#v, want an empty map", got)
	}
	raw := tpl.Raw("Things")
	if diff := cmp.Diff(map[string]any{"AttributeName": "ttl", "Enabled": true}, raw["TimeToLiveSpecification"]); diff != "" {
		t.Errorf("TimeToLiveSpecification (-want +got):\n%s", diff)
	}
	raw["BillingMode"] = "PROVISIONED"
	mapOf(raw["TimeToLiveSpecification"])["Enabled"] = false
	again := tpl.Raw("Things")
	if again["BillingMode"] != "PAY_PER_REQUEST" || mapOf(again["TimeToLiveSpecification"])["Enabled"] != true {
		t.Error("Raw returned the template's own maps: a caller's change leaked into the template")
	}
}

func TestResolveEnv(t *testing.T) {
	refs := map[string]string{
		"Things":      "things-table",
		"Stage":       "dev",
		"Key.Arn":     "arn:aws:kms:ca-central-1:111111111111:key/k",
		"Api":         "abc123",
		"AWS::Region": "ca-central-1",
		"Origins":     "https://a.example,https://b.example",
	}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"string", "info", "info"},
		{"int", 15, "15"},
		{"float", 2.5, "2.5"},
		{"bool", true, "true"},
		{"null", nil, ""},
		{"Ref", map[string]any{"Ref": "Things"}, "things-table"},
		{"Ref unknown", map[string]any{"Ref": "Nope"}, ""},
		{"GetAtt list", map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}}, "arn:aws:kms:ca-central-1:111111111111:key/k"},
		{"GetAtt string", map[string]any{"Fn::GetAtt": "Key.Arn"}, "arn:aws:kms:ca-central-1:111111111111:key/k"},
		{"GetAtt unknown", map[string]any{"Fn::GetAtt": []any{"Key", "KeyId"}}, ""},
		{"Sub", map[string]any{"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/${Stage}"}, "https://abc123.execute-api.ca-central-1.amazonaws.com/dev"},
		{"Sub GetAtt and literal", map[string]any{"Fn::Sub": "${Key.Arn}|${!Literal}|${Nope}|"}, "arn:aws:kms:ca-central-1:111111111111:key/k|${Literal}||"},
		{"Sub with vars", map[string]any{"Fn::Sub": []any{"${T}/${Stage}", map[string]any{"T": map[string]any{"Ref": "Things"}}}}, "things-table/dev"},
		{"Sub unterminated", map[string]any{"Fn::Sub": "a-${Stage"}, "a-${Stage"},
		{"Join", map[string]any{"Fn::Join": []any{"-", []any{"a", map[string]any{"Ref": "Stage"}}}}, "a-dev"},
		{"Select of Split", map[string]any{"Fn::Select": []any{1, map[string]any{"Fn::Split": []any{",", map[string]any{"Ref": "Origins"}}}}}, "https://b.example"},
		{"Select of list parameter", map[string]any{"Fn::Select": []any{0, map[string]any{"Ref": "Origins"}}}, "https://a.example"},
		{"Select out of range", map[string]any{"Fn::Select": []any{5, []any{"a"}}}, ""},
		{"If is not resolved", map[string]any{"Fn::If": []any{"C", "a", "b"}}, ""},
		{"plain map", map[string]any{"a": "b", "c": "d"}, ""},
		{"list", []any{"a"}, ""},
	}
	env := map[string]any{}
	want := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResolveEnv(map[string]any{"V": tt.in}, refs)["V"]
			if got != tt.want {
				t.Errorf("ResolveEnv(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
		env[tt.name] = tt.in
		want[tt.name] = tt.want
	}
	if diff := cmp.Diff(want, ResolveEnv(env, refs)); diff != "" {
		t.Errorf("ResolveEnv of all (-want +got):\n%s", diff)
	}
}

func TestResolveEnvOfSmallTemplate(t *testing.T) {
	tpl := loadSmall(t)
	refs := tpl.ParameterDefaults()
	refs["Things"] = "things"
	var sweep Function
	for _, f := range tpl.Functions() {
		if f.LogicalID == "Sweep" {
			sweep = f
		}
	}
	want := map[string]string{"TABLE_NAME": "things", "STAGE": "dev", "KEY_ARN": "", "LEVEL": "info"}
	if diff := cmp.Diff(want, ResolveEnv(sweep.Env, refs)); diff != "" {
		t.Errorf("Sweep env (-want +got):\n%s", diff)
	}
}
