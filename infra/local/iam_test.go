package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/samtemplate"
)

// TestRunnerAppliesFunctionPolicies: the runner gives each function's
// clients its own policy from the template it reads: take GetItem from the
// period reader's role and reading a period fails (500, as API Gateway
// answers when the function fails), while the template as it is serves it.
func TestRunnerAppliesFunctionPolicies(t *testing.T) {
	root, _ := filepath.Abs("../..")
	orig, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(string) string
		want   int
	}{
		{"template as it is", func(s string) string { return s }, 404},
		{"GetItem taken from GetPeriodFunction", func(s string) string {
			i := strings.Index(s, "\n  GetPeriodFunction:\n")
			j := i + strings.Index(s[i:], "- dynamodb:GetItem\n")
			return s[:j] + "- dynamodb:Query\n" + s[j+len("- dynamodb:GetItem\n"):]
		}, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "template.yaml")
			if err := os.WriteFile(path, []byte(tc.mutate(string(orig))), 0o600); err != nil {
				t.Fatal(err)
			}
			tpl, err := samtemplate.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			st, err := iam.Load(tpl, iam.LocalRefs(tpl, nil))
			if err != nil {
				t.Fatal(err)
			}
			log := &iam.Log{} // denials on purpose: not recorded for the least-privilege test
			r, err := Start(context.Background(), Config{
				Addr: "127.0.0.1:0", DynamoDBAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
				Template: path, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), IAM: &iam.Enforcer{Stack: st, Log: log},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			officer := token(t, r, `{"role":"officer"}`)
			// A period nobody created: the function reads it and answers 404.
			resp, body := call(t, "GET", r.URL+"/streams/hrd/periods/2030", officer, "", nil, nil)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.want)
			}
			var denied []string
			for _, c := range log.Calls() {
				if !c.Allowed {
					denied = append(denied, c.Function+" "+c.Action)
				}
			}
			if want := tc.want == 500; want != (len(denied) == 1 && denied[0] == "GetPeriodFunction dynamodb:GetItem") {
				t.Errorf("denied calls %v", denied)
			}
		})
	}
}
