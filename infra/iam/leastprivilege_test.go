package iam_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/samtemplate"
)

// ReportEnv names the directory of recorded calls TestLeastPrivilege checks
// (infra/ci/test.sh sets it after the suite ran with iam.RecordEnv).
const ReportEnv = "HAVEN_IAM_REPORT"

// TestLeastPrivilege fails when a call of the whole test suite was denied,
// or when template.yaml grants something no test exercised (unless
// iam.Unexercised excuses it). It runs last, over what every test process
// recorded.
func TestLeastPrivilege(t *testing.T) {
	dir := os.Getenv(ReportEnv)
	if dir == "" {
		t.Skip(ReportEnv + " is not set: run by infra/ci/test.sh after the suite")
	}
	calls, err := iam.ReadCalls(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatalf("no calls recorded in %s", dir)
	}
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := iam.Load(tpl, iam.LocalRefs(tpl, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(iam.Summary(calls))
	if findings := iam.Check(s, calls, iam.Unexercised); len(findings) > 0 {
		t.Errorf("least privilege:\n%s", strings.Join(findings, "\n"))
	}
}
