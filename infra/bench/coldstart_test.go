package bench_test

import (
	"context"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/build"
	"github.com/haven-hrd/haven/infra/rie"
	"github.com/haven-hrd/haven/infra/testenv"
)

// notFoundID is a well-formed referral id that does not exist: the lifecycle
// and read events answer 404 after a real DynamoDB read, so every iteration
// does the same work.
const notFoundID = "01JZZZZZZZZZZZZZZZZZZZZZZZ"

// BenchmarkColdStart measures, for every function of template.yaml built for
// this machine, the time from starting aws-lambda-rie to the first answer to
// the function's testdata event (the emulator starts the bootstrap on that
// first invocation), and the same for a hello-world aws-lambda-go handler
// measured in the same run. x-hello is the ratio of medians (target ≤ 1.5).
func BenchmarkColdStart(b *testing.B) {
	rieBin, err := rie.Find()
	if err != nil {
		b.Skip(err)
	}
	ctx := context.Background()
	root := testenv.Root(b)
	dir := b.TempDir()
	stack, err := rie.StartStack(ctx, root, dir, 500)
	if err != nil {
		b.Fatal(err)
	}
	defer stack.Close()
	fns, err := build.Functions(stack.Template)
	if err != nil {
		b.Fatal(err)
	}
	fns = append([]build.Function{{LogicalID: "HelloWorld", Package: "./infra/bench/testdata/hello"}}, fns...)
	bins, err := build.Binaries(ctx, build.Options{Root: root, GOARCH: runtime.GOARCH}, fns, dir)
	if err != nil {
		b.Fatal(err)
	}
	vars := map[string]string{"year": strconv.Itoa(stack.Year), "today": time.Now().UTC().Format(time.DateOnly), "id": notFoundID}
	event := func(name string) []byte { return testenv.Event(b, name, vars) }
	var hello, helloInit float64
	initRE := regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	measure := func(b *testing.B, isHello bool, bootstrap string, env []string, payload []byte) {
		var runs []time.Duration
		var inits []float64
		for i := 0; i < b.N; i++ {
			start := time.Now()
			p, err := rie.Start(rieBin, bootstrap, env)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Invoke(ctx, payload); err != nil {
				b.Fatalf("%v\n%s", err, p.Output())
			}
			runs = append(runs, time.Since(start))
			p.Close()
			if m := initRE.FindStringSubmatch(p.Output()); m != nil {
				ms, _ := strconv.ParseFloat(m[1], 64)
				inits = append(inits, ms)
			}
		}
		sort.Slice(runs, func(i, j int) bool { return runs[i] < runs[j] })
		med := float64(runs[len(runs)/2].Microseconds()) / 1000
		sort.Float64s(inits)
		initMed := 0.0
		if len(inits) > 0 {
			initMed = inits[len(inits)/2]
		}
		if isHello {
			hello, helloInit = med, initMed
		}
		// ms-median: process start to first answer; init-ms: the runtime's
		// init phase as the emulator reports it (main up to the first
		// /next), the part a function's own wiring adds to.
		b.ReportMetric(med, "ms-median")
		b.ReportMetric(med/hello, "x-hello")
		b.ReportMetric(initMed, "init-ms")
		b.ReportMetric(initMed/helloInit, "init-x-hello")
	}
	b.Run("HelloWorld", func(b *testing.B) {
		env := []string{"PATH=" + os.Getenv("PATH"), "AWS_REGION=ca-central-1"}
		measure(b, true, bins["HelloWorld"], env, []byte(`{}`))
	})
	for _, fn := range stack.Template.Functions() {
		payload := event("scheduled")
		if len(fn.Routes) > 0 {
			payload = event(fn.CodeDir)
		}
		b.Run(fn.LogicalID, func(b *testing.B) {
			measure(b, false, bins[fn.LogicalID], stack.Env(fn), payload)
		})
	}
}
