package export_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/export"
	"github.com/haven-hrd/haven/shared/s3store"
)

// The export benchmark: HAVEN_BENCH_EXPORT=10000,100000 go test ./shared/export
// -run TestExportBenchmark -v -timeout 60m (see BENCHMARKS.md).
//
// The embedded DynamoDB and S3 servers run in this (parent) process and hold
// the whole table and the objects; the export runs in a child process of its
// own per size, so that its peak memory is the exporter's alone.
func TestExportBenchmark(t *testing.T) {
	sizes := os.Getenv("HAVEN_BENCH_EXPORT")
	if sizes == "" {
		t.Skip("set HAVEN_BENCH_EXPORT=10000,100000 to run")
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(s, func(t *testing.T) {
			env := testenv.New(t, testenv.Options{S3: true})
			env.Seed(t, 2026, 500)
			start := time.Now()
			seedRaw(t, env.DB, env.Table, "unhcr", n)
			t.Logf("seeded %d referrals in %v", n, time.Since(start).Round(time.Millisecond))
			cmd := exec.Command(os.Args[0], "-test.run=^TestExportBenchmarkChild$", "-test.v")
			cmd.Env = append(os.Environ(), "HAVEN_BENCH_CHILD=1",
				"HAVEN_BENCH_DYNAMODB="+env.Dynamo.URL, "HAVEN_BENCH_S3="+env.S3.URL, "HAVEN_BENCH_TABLE="+env.Table)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "RESULT ") {
					t.Logf("n=%d %s", n, strings.TrimPrefix(line, "RESULT "))
				}
			}
		})
	}
}

// seedRaw writes n referral items of partner with BatchWriteItem (the
// embedded server copies the whole table per transaction, so the create
// transaction would take hours at 100k). The layout is dynamostore's (doc.go);
// the sealed attributes are filler of a realistic size.
func seedRaw(t testing.TB, db *dynamodb.Client, table, partner string, n int) {
	t.Helper()
	ctx := context.Background()
	filler := &ddb.AttributeValueMemberB{Value: make([]byte, 300)}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statuses := []string{"submitted", "eligible", "allocated", "waitlisted", "approved", "arrived", "withdrawn"}
	s := func(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }
	nv := func(v int) ddb.AttributeValue { return &ddb.AttributeValueMemberN{Value: strconv.Itoa(v)} }
	var batch []ddb.WriteRequest
	flush := func() {
		for len(batch) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{table: batch}})
			if err != nil {
				t.Fatal(err)
			}
			batch = out.UnprocessedItems[table]
		}
	}
	for i := range n {
		id := fmt.Sprintf("01BENCH%019d", i)
		at := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
		item := map[string]ddb.AttributeValue{
			"pk": s("REF#" + id), "sk": s("A"),
			"gsi1pk": s("PARTNER#" + partner), "gsi1sk": s(at + "#" + id),
			"gsi2pk": s("REFS"), "gsi2sk": s(at + "#" + id),
			"id": s(id), "partner": s(partner), "stream": s("hrd"), "partner_reference": s(fmt.Sprintf("%s-2026-%07d", strings.ToUpper(partner), i)),
			"urgency": s([]string{"normal", "urgent", "emergency"}[i%3]), "status": s(statuses[i%len(statuses)]),
			"persons": nv(1 + i%5), "period": nv(2026), "created_at": s(at), "updated_at": s(at), "version": nv(1),
			"consent_given": &ddb.AttributeValueMemberBOOL{Value: true}, "consent_date": s("2026-01-01"),
			"pii_people": filler, "pii_asylum": filler, "pii_profile": filler, "pii_contact": filler,
		}
		batch = append(batch, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: item}})
		if len(batch) == 25 {
			flush()
		}
	}
	flush()
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
	bucket := s3store.New(clients.S3, embedded.BucketName("ExportsBucket"))

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
	deps := &api.Deps{Store: store, S3: clients.S3, ExportsBucket: bucket.Name(), Now: func() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) }}
	deps.WithDefaults()
	out, err := lambdaInvoke(deps)
	elapsed := time.Since(start)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	var res api.ExportResult
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
	fmt.Printf("RESULT rows=%d seconds=%.1f peak_heap_inuse_mib=%.1f vmhwm_mib=%.1f csv_mib=%.1f jsonl_mib=%.1f\n",
		rows, elapsed.Seconds(), float64(peakHeap.Load())/(1<<20), float64(vmHWM())/1024,
		float64(m.Files[0].Bytes)/(1<<20), float64(m.Files[1].Bytes)/(1<<20))
}

func lambdaInvoke(deps *api.Deps) ([]byte, error) {
	h := api.Steps["partner-export"](deps)
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
