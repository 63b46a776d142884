package export_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/export"
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/s3store"
)

// The export benchmark (see BENCHMARKS.md, "Exports"):
//
//	HAVEN_BENCH_EXPORT=10000,100000 go test ./shared/export -run 'TestExportBenchmark$' -v -timeout 20m
//
// For each size n, this (parent) process serves S3 (the embedded gofakes3,
// which holds the objects) and a synthetic DynamoDB (bench_dynamo_test.go,
// which generates the n referrals of one partner page by page); the export
// runs in a child process of its own, the real partner-export handler
// talking to both through the AWS SDK over HTTP, so that the child's peak
// memory is the exporter's alone. The parent then re-hashes the files
// against the manifest.
func TestExportBenchmark(t *testing.T) {
	sizes := os.Getenv("HAVEN_BENCH_EXPORT")
	if sizes == "" {
		t.Skip("set HAVEN_BENCH_EXPORT=10000,100000 to run")
	}
	var results []string
	type peak struct {
		n         int
		heap, rss float64
	}
	var peaks []peak
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(s, func(t *testing.T) {
			ctx := context.Background()
			s3srv, err := embedded.StartS3("127.0.0.1:0", "")
			if err != nil {
				t.Fatal(err)
			}
			defer s3srv.Close()
			clients, err := awsconn.New(ctx, awsconn.Options{S3Endpoint: s3srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if err := embedded.CreateBuckets(ctx, s3store.NewClient(clients.Config, s3srv.URL), testenv.Template(t).Buckets()); err != nil {
				t.Fatal(err)
			}
			synth := newSynthDynamo(n)
			ddbsrv := httptest.NewServer(synth)
			defer ddbsrv.Close()

			cmd := exec.Command(os.Args[0], "-test.run=^TestExportBenchmarkChild$", "-test.v")
			cmd.Env = append(os.Environ(), "HAVEN_BENCH_CHILD=1",
				"HAVEN_BENCH_DYNAMODB="+ddbsrv.URL, "HAVEN_BENCH_S3="+s3srv.URL, "HAVEN_BENCH_TABLE=HavenTable")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			t.Logf("synthetic DynamoDB served %s", synth.summary())
			if len(synth.unexpected) > 0 {
				t.Fatalf("unexpected DynamoDB calls: %q", synth.unexpected)
			}
			found := false
			for _, line := range strings.Split(string(out), "\n") {
				if r, ok := strings.CutPrefix(line, "RESULT "); ok {
					t.Logf("n=%d %s", n, r)
					results = append(results, fmt.Sprintf("n=%d %s", n, r))
					p := peak{n: n}
					for _, f := range strings.Fields(r) {
						k, v, _ := strings.Cut(f, "=")
						switch k {
						case "peak_heap_inuse_mib":
							p.heap, _ = strconv.ParseFloat(v, 64)
						case "vmhwm_mib":
							p.rss, _ = strconv.ParseFloat(v, 64)
						}
					}
					peaks = append(peaks, p)
					found = true
				}
			}
			if !found {
				t.Fatalf("child printed no result:\n%s", out)
			}
			bucket := s3store.New(s3store.NewClient(clients.Config, s3srv.URL), embedded.BucketName("ExportsBucket"))
			var m export.Manifest
			b, err := bucket.Get(ctx, export.Prefix(benchPartner, "2026-11-27")+export.ManifestName)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m.Files[0].Rows != n || m.Files[1].Rows != n {
				t.Fatalf("manifest rows %d, %d; want %d", m.Files[0].Rows, m.Files[1].Rows, n)
			}
			if err := export.Verify(ctx, m, bucket.Open); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, r := range results {
		t.Log(r)
	}
	// The target (issue 5): peak memory of the largest size within 1.2× of
	// the smallest's.
	if len(peaks) > 1 {
		first, last := peaks[0], peaks[len(peaks)-1]
		hr, rr := last.heap/first.heap, last.rss/first.rss
		t.Logf("n=%d vs n=%d: peak heap %.2f×, peak RSS %.2f×", last.n, first.n, hr, rr)
		if hr > 1.2 || rr > 1.2 {
			t.Errorf("peak memory grows with the number of referrals: heap %.2f×, RSS %.2f× (target ≤ 1.2×)", hr, rr)
		}
	}
}

// TestExportBenchmarkChild is the measured process: it exports the seeded
// partner and prints time and peak memory.
func TestExportBenchmarkChild(t *testing.T) {
	if os.Getenv("HAVEN_BENCH_CHILD") == "" {
		t.Skip("run by TestExportBenchmark")
	}
	ctx := context.Background()
	clients, err := awsconn.New(ctx, awsconn.Options{DynamoDBEndpoint: os.Getenv("HAVEN_BENCH_DYNAMODB"), S3Endpoint: os.Getenv("HAVEN_BENCH_S3")})
	if err != nil {
		t.Fatal(err)
	}
	// No sealer: the export reads nothing sealed, and would fail if it tried.
	store := dynamostore.New(clients.DynamoDB, os.Getenv("HAVEN_BENCH_TABLE"), nil)
	bucket := s3store.New(s3store.NewClient(clients.Config, os.Getenv("HAVEN_BENCH_S3")), embedded.BucketName("ExportsBucket"))

	// The heap before the export: the test binary, the SDK clients.
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	deps := &api.Deps{Store: store, AWS: clients.Config, S3Endpoint: os.Getenv("HAVEN_BENCH_S3"), ExportsBucket: bucket.Name(), Now: func() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) }}
	deps.WithDefaults()
	out, err := lambdaInvoke(deps)
	elapsed := time.Since(start)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	var res jobs.ExportResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, p := range res.Partners {
		rows += p.Rows
	}
	var m export.Manifest
	b, err := bucket.Get(ctx, "unhcr/2026-11-27/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("RESULT rows=%d seconds=%.1f base_heap_inuse_mib=%.1f peak_heap_inuse_mib=%.1f vmhwm_mib=%.1f csv_mib=%.1f jsonl_mib=%.1f\n",
		rows, elapsed.Seconds(), float64(base.HeapInuse)/(1<<20), float64(peakHeap.Load())/(1<<20), float64(vmHWM())/1024,
		float64(m.Files[0].Bytes)/(1<<20), float64(m.Files[1].Bytes)/(1<<20))
}

func lambdaInvoke(deps *api.Deps) ([]byte, error) {
	h := jobs.PartnerExport(deps)
	payload, err := os.ReadFile("testdata/scheduled-event.json")
	if err != nil {
		return nil, err
	}
	return lambdaHandler(h).Invoke(context.Background(), payload)
}

// vmHWM is the process's peak resident set, in KiB (Linux).
func vmHWM() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}
