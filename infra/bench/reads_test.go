package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/steps"
)

// BenchmarkReferralReads measures, in process against the embedded
// DynamoDB, the latency of GET /referrals/{id} and of a list page of 100
// (GET /referrals?limit=100): cold is a handler's first request (a fresh
// SDK client and store, as in a new execution environment; the sealer is
// the local keyset file, so no KMS), warm the median of the next 20. It
// runs with each referral's own data key (keys) and with the data keyset
// alone, as before per-referral keys (keyset), on the same machine at the
// same time, for BENCHMARKS.md:
//
//	go test ./infra/bench -run '^$' -bench ReferralReads -benchtime 5x
func BenchmarkReferralReads(b *testing.B) {
	for _, keyed := range []bool{true, false} {
		name := "keyset"
		if keyed {
			name = "keys"
		}
		b.Run(name, func(b *testing.B) { referralReads(b, keyed) })
	}
}

func referralReads(b *testing.B, keyed bool) {
	e := testenv.New(b, testenv.Options{})
	deps := func(dir string) *api.Deps {
		d := e.FunctionDeps(b, dir, nil, nil)
		if !keyed {
			d.Store = d.Store.WithKeyTable("")
		}
		return d
	}
	now := e.Now()
	year := quota.YearOf(now)
	e.Seed(b, year, 500)
	vars := map[string]string{"year": strconv.Itoa(year), "today": now.In(quota.Location()).Format(time.DateOnly)}
	invoke := func(dir string, payload []byte) ([]byte, time.Duration) {
		b.Helper()
		h := lambda.NewHandler(steps.ByDir[dir](deps(dir)))
		t0 := time.Now()
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			b.Fatal(err)
		}
		return out, time.Since(t0)
	}
	var id string
	for i := range 100 {
		ev := testenv.Event(b, "create-referral", vars)
		ev = bytes.Replace(ev, []byte("FLD-2026-0042"), fmt.Appendf(nil, "FLD-2026-B%03d", i), 1)
		ev = bytes.Replace(ev, []byte("8f14e45f-ceea-467f-a0e6-3b3b0e2f1a11"), fmt.Appendf(nil, "8f14e45f-ceea-467f-a0e6-3b3b0e2f%04d", i), 1)
		out, _ := invoke("create-referral", ev)
		var r struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
		}
		json.Unmarshal(out, &r)
		if r.StatusCode != 201 {
			b.Fatalf("create: %s", out)
		}
		id = strings.TrimPrefix(r.Headers["Location"], "/referrals/")
	}
	vars["id"] = id
	list := bytes.Replace(testenv.Event(b, "list-referrals", vars), []byte("limit=10"), []byte("limit=100"), 1)
	reqs := map[string][]byte{"get": testenv.Event(b, "get-referral", vars), "list": list}
	dirs := map[string]string{"get": "get-referral", "list": "list-referrals"}
	cold := map[string][]time.Duration{}
	warm := map[string][]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for _, k := range []string{"get", "list"} {
			h := lambda.NewHandler(steps.ByDir[dirs[k]](deps(dirs[k])))
			for j := range 21 {
				t0 := time.Now()
				out, err := h.Invoke(context.Background(), reqs[k])
				d := time.Since(t0)
				if err != nil || !bytes.Contains(out, []byte(`"statusCode":200`)) {
					b.Fatalf("%s: %v %.300s", k, err, out)
				}
				if j == 0 {
					cold[k] = append(cold[k], d)
				} else {
					warm[k] = append(warm[k], d)
				}
			}
		}
	}
	b.StopTimer()
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds()) / 1000
	}
	for _, k := range []string{"get", "list"} {
		b.ReportMetric(median(cold[k]), k+"-cold-ms")
		b.ReportMetric(median(warm[k]), k+"-warm-ms")
	}
}
