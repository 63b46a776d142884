package clock_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/testenv"
)

// elapsedOnly lists every place outside this package that may read the
// machine's clock, each with its reason: they measure how long something
// took or bound how long to wait, and none of them decides anything from the
// date. A place is a file (from the repository root) and the top-level
// function or method the read is in.
var elapsedOnly = map[string]string{
	"shared/clock/clock.go System":                                         "the clock's own definition",
	"shared/clock/clock.go From":                                           "the clock's own definition (its monotonic origin)",
	"shared/apigw/request.go Wrap":                                         "latency_ms of the request log line",
	"infra/bench/testdata/coldprobe/main.go run":                           "cold-start probe: times its own init and handler",
	"infra/bench/testdata/coldprobe/main.go calls.middleware":              "cold-start probe: times each SDK call",
	"infra/bench/testdata/coldprobe/main.go tracingClient.Do":              "cold-start probe: times connection set-up",
	"infra/bench/coldstart_test.go BenchmarkColdStart":                     "benchmark: times cold starts",
	"infra/bench/reads_test.go referralReads":                              "benchmark: times reads of a referral and of a list page",
	"infra/bench/allocation_test.go allocSetup.run":                        "benchmark: times the allocation rounds",
	"infra/bench/queue_test.go BenchmarkQueuePage":                         "benchmark: times the load and each page's handler",
	"shared/export/bench_test.go TestExportBenchmarkChild":                 "benchmark: times the export",
	"infra/rie/rie_test.go TestFunctionsUnderRIE":                          "logs how long building the functions took",
	"shared/webform/browser_test.go TestBrowser":                           "logs how long the browser tests took",
	"shared/dynamostore/concurrency_test.go TestConcurrencyNeverOverbooks": "logs how long the torture test took",
	"infra/bench/restart_test.go BenchmarkRunnerRestart":                   "benchmark: times restarts, writes and shutdowns of the runner",
	"infra/conformance/conformance_test.go TestConformance":                "logs how long the conformance run took",
	"infra/embedded/tables.go limitedDynamoDB.tableCall":                   "the emulated DynamoDB's CreationDateTime of a table, as AWS stamps it",
	"infra/embedded/tables_test.go TestDescribeTable":                      "bounds how long the SDK's table waiter may take",
	"infra/testenv/runnerproc.go StartRunner":                              "times how long the runner takes to listen (RunnerProcess.Ready)",
	"shared/jobs/concurrency_test.go TestPrefetchBounded":                  "bounds how long the test waits (a deadline)",
}

// TestWallClock fails on any read of the machine's clock (time.Now,
// time.Since, time.Until) outside the places listed in elapsedOnly: the date
// must come from an injected Clock, so that tests never depend on the day
// they run.
func TestWallClock(t *testing.T) {
	root := testenv.Root(t)
	fset := token.NewFileSet()
	seen := map[string]bool{}
	var bad []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "vendor" || name == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		timePkg := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "time" {
				timePkg = "time"
				if imp.Name != nil {
					timePkg = imp.Name.Name
				}
			}
		}
		if timePkg == "" {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			owner := declName(decl)
			ast.Inspect(decl, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				id, ok := sel.X.(*ast.Ident)
				if !ok || id.Name != timePkg {
					return true
				}
				switch sel.Sel.Name {
				case "Now", "Since", "Until":
				default:
					return true
				}
				place := rel + " " + owner
				if _, ok := elapsedOnly[place]; ok {
					seen[place] = true
					return true
				}
				bad = append(bad, fset.Position(sel.Pos()).String()[len(root)+1:]+": time."+sel.Sel.Name+" in "+owner)
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("%s reads the machine's clock: take the time from an injected clock.Clock, or list the place in elapsedOnly with its reason if it only measures elapsed time", b)
	}
	for place := range elapsedOnly {
		if !seen[place] {
			t.Errorf("elapsedOnly lists %q, which no longer reads the clock: remove it", place)
		}
	}
}

func declName(d ast.Decl) string {
	fd, ok := d.(*ast.FuncDecl)
	if !ok {
		return "(package level)"
	}
	if fd.Recv != nil && len(fd.Recv.List) == 1 {
		typ := fd.Recv.List[0].Type
		if star, ok := typ.(*ast.StarExpr); ok {
			typ = star.X
		}
		if g, ok := typ.(*ast.IndexExpr); ok {
			typ = g.X
		}
		if id, ok := typ.(*ast.Ident); ok {
			return id.Name + "." + fd.Name.Name
		}
	}
	return fd.Name.Name
}
