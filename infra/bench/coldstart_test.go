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
// first invocation), and the same for a hello-world aws-lambda-go handler,
// whose starts alternate with the function's. x-hello is the ratio of the two
// medians (target ≤ 1.5); the HelloWorld line is hello world against itself,
// the noise floor.
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
	vars := map[string]string{"year": strconv.Itoa(stack.Year), "today": stack.Today, "id": notFoundID}
	event := func(name string) []byte { return testenv.Event(b, name, vars) }
	initRE := regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	// start runs one cold start: the emulator's process start to the first
	// answer, and the init phase as the emulator reports it (main up to the
	// first /next, the part a function's own wiring adds to).
	start := func(b *testing.B, bootstrap string, env []string, payload []byte) (time.Duration, float64) {
		t0 := time.Now()
		p, err := rie.Start(rieBin, bootstrap, env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Invoke(ctx, payload); err != nil {
			b.Fatalf("%v\n%s", err, p.Output())
		}
		d := time.Since(t0)
		p.Close()
		var initMs float64
		if m := initRE.FindStringSubmatch(p.Output()); m != nil {
			initMs, _ = strconv.ParseFloat(m[1], 64)
		}
		return d, initMs
	}
	helloEnv := []string{"PATH=" + os.Getenv("PATH"), "AWS_REGION=ca-central-1"}
	// measure alternates the function's cold starts with hello world's (in
	// turn first and second), so that both see the same machine: on a
	// shared machine the load drifts within seconds, and a hello world
	// measured once for the whole run made the ratios swing by ±0.2.
	measure := func(b *testing.B, bootstrap string, env []string, payload []byte) {
		var runs, hellos []time.Duration
		var inits, helloInits []float64
		for i := 0; i < b.N; i++ {
			for k := range 2 {
				if (i+k)%2 == 0 {
					d, in := start(b, bins["HelloWorld"], helloEnv, []byte(`{}`))
					hellos, helloInits = append(hellos, d), append(helloInits, in)
				} else {
					d, in := start(b, bootstrap, env, payload)
					runs, inits = append(runs, d), append(inits, in)
				}
			}
		}
		med, helloMed := medianMs(runs), medianMs(hellos)
		initMed, helloInitMed := median(inits), median(helloInits)
		b.ReportMetric(med, "ms-median")
		b.ReportMetric(helloMed, "hello-ms-median")
		b.ReportMetric(med/helloMed, "x-hello")
		b.ReportMetric(initMed, "init-ms")
		b.ReportMetric(initMed/helloInitMed, "init-x-hello")
	}
	b.Run("HelloWorld", func(b *testing.B) { // against itself: the noise floor of the ratio
		measure(b, bins["HelloWorld"], helloEnv, []byte(`{}`))
	})
	for _, fn := range stack.Template.Functions() {
		payload := event("scheduled")
		if len(fn.Routes) > 0 {
			payload = event(fn.CodeDir)
		}
		b.Run(fn.LogicalID, func(b *testing.B) {
			measure(b, bins[fn.LogicalID], stack.Env(fn), payload)
		})
	}
}

func medianMs(d []time.Duration) float64 {
	f := make([]float64, len(d))
	for i, v := range d {
		f[i] = float64(v.Microseconds()) / 1000
	}
	return median(f)
}

func median(f []float64) float64 {
	if len(f) == 0 {
		return 0
	}
	s := append([]float64(nil), f...)
	sort.Float64s(s)
	return s[len(s)/2]
}
