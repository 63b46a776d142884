package samtemplate

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	realTemplatePath = filepath.Join("..", "..", "template.yaml")
	architecturePath = filepath.Join("..", "..", "ARCHITECTURE.md")
)

// documentedFunction is a row of ARCHITECTURE.md's Functions table.
type documentedFunction struct {
	CodeDir, LogicalID string
	// Routes of an HTTP function: one plain "METHOD /path" trigger, or
	// several in backticks; "public" in the trigger marks them Public (the
	// authorizer is off: the web form).
	Routes   []Route
	Schedule string // the trigger text of a scheduled function
}

var backticked = regexp.MustCompile("`([A-Z]+ [^`]+)`")

var functionRow = regexp.MustCompile("^\\|\\s*`([a-z0-9-]+)`\\s*\\|\\s*([A-Za-z0-9]+)\\s*\\|\\s*(.+?)\\s*\\|\\s*$")

// documentedFunctions reads the Functions table of ARCHITECTURE.md.
func documentedFunctions(t *testing.T) map[string]documentedFunction {
	t.Helper()
	data, err := os.ReadFile(architecturePath)
	if err != nil {
		t.Fatalf("read ARCHITECTURE.md: %v", err)
	}
	out := map[string]documentedFunction{}
	for _, line := range strings.Split(string(data), "\n") {
		m := functionRow.FindStringSubmatch(line)
		if m == nil || !strings.HasSuffix(m[2], "Function") {
			continue
		}
		d := documentedFunction{CodeDir: m[1], LogicalID: m[2]}
		trigger := strings.Trim(m[3], "`")
		switch {
		case strings.HasPrefix(trigger, "ScheduleV2"):
			d.Schedule = trigger
		case strings.Contains(m[3], "`"):
			public := strings.HasPrefix(trigger, "public")
			for _, bt := range backticked.FindAllStringSubmatch(m[3], -1) {
				method, p, _ := strings.Cut(bt[1], " ")
				d.Routes = append(d.Routes, Route{Method: method, Path: p, Public: public})
			}
			if len(d.Routes) == 0 {
				t.Fatalf("ARCHITECTURE.md: trigger %q of %s names no route", trigger, d.LogicalID)
			}
			sort.Slice(d.Routes, func(i, j int) bool {
				if d.Routes[i].Path != d.Routes[j].Path {
					return d.Routes[i].Path < d.Routes[j].Path
				}
				return d.Routes[i].Method < d.Routes[j].Method
			})
		default:
			method, p, ok := strings.Cut(trigger, " ")
			if !ok {
				t.Fatalf("ARCHITECTURE.md: trigger %q of %s is neither a route nor a schedule", trigger, d.LogicalID)
			}
			d.Routes = []Route{{Method: method, Path: strings.Trim(p, "`")}}
		}
		out[d.LogicalID] = d
	}
	if len(out) == 0 {
		t.Fatal("ARCHITECTURE.md: no rows in the Functions table")
	}
	return out
}

func loadReal(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load(realTemplatePath)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tpl
}

func TestRealTemplateFunctionsMatchArchitecture(t *testing.T) {
	tpl := loadReal(t)
	docs := documentedFunctions(t)
	got := map[string]Function{}
	for _, f := range tpl.Functions() {
		got[f.LogicalID] = f
	}
	var gotIDs, wantIDs []string
	for id := range got {
		gotIDs = append(gotIDs, id)
	}
	for id := range docs {
		wantIDs = append(wantIDs, id)
	}
	sort.Strings(gotIDs)
	sort.Strings(wantIDs)
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("function logical ids (-ARCHITECTURE.md +template.yaml):\n%s", diff)
	}
	for id, d := range docs {
		t.Run(id, func(t *testing.T) {
			f, ok := got[id]
			if !ok {
				t.Skip("not in template.yaml (reported above)")
			}
			if f.CodeDir != d.CodeDir {
				t.Errorf("CodeDir = %q, want %q", f.CodeDir, d.CodeDir)
			}
			if f.Properties["CodeUri"] != "functions/"+d.CodeDir {
				t.Errorf("CodeUri = %v, want functions/%s", f.Properties["CodeUri"], d.CodeDir)
			}
			if d.Routes != nil {
				if diff := cmp.Diff(d.Routes, f.Routes); diff != "" {
					t.Errorf("routes (-want +got):\n%s", diff)
				}
				if len(f.Schedules) != 0 {
					t.Errorf("an HTTP function has schedules: %v", f.Schedules)
				}
				if f.Timeout != 15 {
					t.Errorf("Timeout = %d, want 15", f.Timeout)
				}
				return
			}
			if len(f.Routes) != 0 {
				t.Errorf("a scheduled function has routes: %v", f.Routes)
			}
			if len(f.Schedules) != 1 {
				t.Fatalf("schedules = %v, want exactly one", f.Schedules)
			}
			s := f.Schedules[0]
			if tz := regexp.MustCompile(`[A-Z][a-z]+/[A-Za-z_]+`).FindString(d.Schedule); tz != s.Timezone {
				t.Errorf("Timezone = %q, want %q (from %q)", s.Timezone, tz, d.Schedule)
			}
			switch {
			case strings.Contains(d.Schedule, "every 5 minutes"):
				if s.Expression != "rate(5 minutes)" {
					t.Errorf("Expression = %q, want rate(5 minutes)", s.Expression)
				}
			case strings.Contains(d.Schedule, "daily"):
				if !regexp.MustCompile(`^cron\(\d{1,2} \d{1,2} \* \* \? \*\)$`).MatchString(s.Expression) {
					t.Errorf("Expression = %q, want a daily cron(M H * * ? *)", s.Expression)
				}
			default:
				t.Errorf("the test does not know the schedule %q", d.Schedule)
			}
			if f.Timeout != 300 {
				t.Errorf("Timeout = %d, want 300", f.Timeout)
			}
		})
	}
}

func TestRealTemplateEnvironment(t *testing.T) {
	tpl := loadReal(t)
	refs := tpl.ParameterDefaults()
	refs["HavenTable"] = "haven"
	refs["KeyTable"] = "haven-keys"
	refs["ReportsBucket"] = "haven-reports"
	refs["ExportsBucket"] = "haven-exports"
	want := map[string]string{
		"TABLE_NAME":              "haven",
		"KEY_TABLE_NAME":          "haven-keys",
		"REPORTS_BUCKET":          "haven-reports",
		"EXPORTS_BUCKET":          "haven-exports",
		"KMS_KEY_ARN":             "", // empty locally
		"SEALING_KEYSETS":         "",
		"CLAIM_ROLE":              "custom:role",
		"CLAIM_PARTNER":           "custom:partner",
		"LOG_LEVEL":               "info",
		"LEGACY_SEALED_REFERRALS": "open",
	}
	// The browser pages (the web form, the officers' workspace) alone read
	// the identity provider. They have no SESSION_KEY: in AWS their session
	// keys are the sealer's session keyset.
	webWant := map[string]string{"OIDC_ISSUER": "", "OIDC_CLIENT_ID": ""}
	for k, v := range want {
		webWant[k] = v
	}
	for _, f := range tpl.Functions() {
		want := want
		if f.LogicalID == "WebFormFunction" || f.LogicalID == "OfficerWorkspaceFunction" {
			want = webWant
		}
		if diff := cmp.Diff(want, ResolveEnv(f.Env, refs)); diff != "" {
			t.Errorf("%s env (-want +got):\n%s", f.LogicalID, diff)
		}
		if f.MemorySize != 256 {
			t.Errorf("%s MemorySize = %d, want 256", f.LogicalID, f.MemorySize)
		}
	}
}

func TestRealTemplateTable(t *testing.T) {
	want := []Table{{
		LogicalID: "HavenTable",
		HashKey:   "pk",
		RangeKey:  "sk",
		AttributeTypes: map[string]string{
			"pk": "S", "sk": "S", "gsi1pk": "S", "gsi1sk": "S", "gsi2pk": "S", "gsi2sk": "S", "gsi3pk": "S", "gsi3sk": "S", "gsi4pk": "S", "gsi4sk": "S",
		},
		GSIs: []GSI{
			{Name: "gsi1", HashKey: "gsi1pk", RangeKey: "gsi1sk"},
			{Name: "gsi2", HashKey: "gsi2pk", RangeKey: "gsi2sk"},
			{Name: "gsi3", HashKey: "gsi3pk", RangeKey: "gsi3sk"},
			{Name: "gsi4", HashKey: "gsi4pk", RangeKey: "gsi4sk"},
		},
		TTLAttribute: "expires_at",
	}, {
		// The referrals' own data keys: one item per referral, no TTL.
		LogicalID: "KeyTable", HashKey: "pk", AttributeTypes: map[string]string{"pk": "S"},
	}}
	if diff := cmp.Diff(want, loadReal(t).Tables()); diff != "" {
		t.Errorf("Tables (-want +got):\n%s", diff)
	}
}

func TestRealTemplateBuckets(t *testing.T) {
	if diff := cmp.Diff([]string{"ExportsBucket", "ReportsBucket"}, loadReal(t).Buckets()); diff != "" {
		t.Errorf("Buckets (-want +got):\n%s", diff)
	}
}
