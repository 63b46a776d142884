package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/build"
	"github.com/haven-hrd/haven/infra/rie"
	"github.com/haven-hrd/haven/infra/testenv"
)

// coldProbe is what testdata/coldprobe prints.
type coldProbe struct {
	MainMS      float64 `json:"main_ms"`
	HeapKB      uint64  `json:"heap_kb"`
	Invocations []struct {
		WallMS  float64 `json:"wall_ms"`
		CPUMS   float64 `json:"cpu_ms"`
		GCs     uint64  `json:"gcs"`
		AllocKB uint64  `json:"alloc_kb"`
		Calls   []struct {
			Op     string  `json:"op"`
			Label  string  `json:"label"`
			Start  float64 `json:"start"`
			Pre    float64 `json:"pre"`
			Dial   float64 `json:"dial"`
			Write  float64 `json:"write"`
			Server float64 `json:"server"`
			Post   float64 `json:"post"`
			End    float64 `json:"end"`
			Reused bool    `json:"reused"`
		} `json:"calls"`
	} `json:"invocations"`
}

// TestColdStartBreakdown says where the partner export's cold invocation
// spends its time. It is a measurement, not a test:
//
//	HAVEN_COLD_BREAKDOWN=40 go test ./infra/bench -run TestColdStartBreakdown -v
//
// runs testdata/coldprobe (the function with its SDK calls timed) in that
// many fresh processes against the stack of the cold-start benchmark, and
// logs medians: of the invocation (wall, CPU, garbage collections,
// allocation), cold and then warm in the same process; and of each segment
// of the critical path, the chain of calls that ends with the last
// manifest: the streams query, the partner's referral query, the later of
// its two file uploads, its manifest, and the gaps between them (the
// handler's own work, goroutines starting, and waiting for a CPU), each
// call split into its phases (see coldprobe). COLDPROBE_TRACE=file writes
// an execution trace of the first run's cold invocation.
func TestColdStartBreakdown(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HAVEN_COLD_BREAKDOWN"))
	if n <= 0 {
		t.Skip("set HAVEN_COLD_BREAKDOWN=<runs> to run")
	}
	ctx := context.Background()
	root := testenv.Root(t)
	dir := t.TempDir()
	stack, err := rie.StartStack(ctx, root, dir, 500)
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	bins, err := build.Binaries(ctx, build.Options{Root: root, GOARCH: runtime.GOARCH},
		[]build.Function{{LogicalID: "ColdProbe", Package: "./infra/bench/testdata/coldprobe"}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, fn := range stack.Template.Functions() {
		if fn.LogicalID == "PartnerExportFunction" {
			env = stack.Env(fn)
		}
	}
	if env == nil {
		t.Fatal("no PartnerExportFunction in template.yaml")
	}
	samples := map[string][]float64{}
	add := func(k string, v float64) { samples[k] = append(samples[k], v) }
	for i := range n {
		cmd := exec.Command(bins["ColdProbe"])
		cmd.Env = env
		if i == 0 && os.Getenv("COLDPROBE_TRACE") != "" {
			trace, _ := filepath.Abs(os.Getenv("COLDPROBE_TRACE"))
			cmd.Env = append(cmd.Env, "COLDPROBE_TRACE="+trace)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("coldprobe: %v\n%s", err, stderr.String())
		}
		var p coldProbe
		if err := json.Unmarshal(out, &p); err != nil {
			t.Fatalf("coldprobe: %v\n%s", err, out)
		}
		add("wiring (main to handler) ms", p.MainMS)
		add("heap before the invocation kB", float64(p.HeapKB))
		for j, inv := range p.Invocations {
			which := [...]string{"cold", "warm"}[j]
			add(which+" invocation wall ms", inv.WallMS)
			add(which+" invocation CPU ms", inv.CPUMS)
			add(which+" invocation GCs", float64(inv.GCs))
			add(which+" invocation allocated kB", float64(inv.AllocKB))
			dials := 0
			for _, c := range inv.Calls {
				if !c.Reused {
					dials++
				}
			}
			add(which+" invocation SDK calls", float64(len(inv.Calls)))
			add(which+" invocation new connections", float64(dials))
		}
		// The critical path of the cold invocation.
		calls := p.Invocations[0].Calls
		byLabel := func(pred func(string) bool) (last int) {
			last = -1
			for k, c := range calls {
				if pred(c.Label) && (last < 0 || c.End > calls[last].End) {
					last = k
				}
			}
			return last
		}
		m := byLabel(func(l string) bool { return strings.HasSuffix(l, "/manifest.json") })
		if m < 0 {
			t.Fatal("no manifest uploaded")
		}
		partner, _, _ := strings.Cut(calls[m].Label, "/")
		chain := []int{
			byLabel(func(l string) bool { return l == "STREAMS" }),
			byLabel(func(l string) bool { return l == "PARTNER#"+partner }),
			byLabel(func(l string) bool {
				return strings.HasPrefix(l, partner+"/") && !strings.HasSuffix(l, "/manifest.json")
			}),
			m,
		}
		names := []string{"1 streams query", "2 partner query", "3 file upload", "4 manifest upload"}
		prev := 0.0
		for k, c := range chain {
			if c < 0 {
				t.Fatalf("critical path incomplete: %v", chain)
			}
			call := calls[c]
			add(fmt.Sprintf("path %s: gap before", names[k]), call.Start-prev)
			for _, ph := range []struct {
				name string
				v    float64
			}{{"pre", call.Pre}, {"dial", call.Dial}, {"write", call.Write}, {"server", call.Server}, {"post", call.Post}} {
				add(fmt.Sprintf("path %s: %s", names[k], ph.name), ph.v)
			}
			prev = call.End
		}
		add("path 5 after the last manifest", p.Invocations[0].WallMS-prev)
	}
	keys := make([]string, 0, len(samples))
	for k := range samples {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "partner export, %d fresh processes, medians (ms unless said):\n", n)
	for _, k := range keys {
		v := samples[k]
		sort.Float64s(v)
		fmt.Fprintf(&b, "  %-48s %8.2f\n", k, v[len(v)/2])
	}
	t.Log(b.String())
}
