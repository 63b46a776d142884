package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/export"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/report"
)

// A call of forEach runs every index once, never more than limit at a time,
// and reaches the limit (or n): the calls do overlap.
func TestForEachBoundedAndConcurrent(t *testing.T) {
	for _, tc := range []struct{ n, limit int }{
		{0, 4}, {1, 4}, {3, 4}, {4, 4}, {10, 4}, {10, 1}, {7, 3},
	} {
		t.Run(fmt.Sprintf("n=%d,limit=%d", tc.n, tc.limit), func(t *testing.T) {
			target := min(tc.n, tc.limit)
			g := newGate(target)
			var inflight, peak atomic.Int32
			calls := make([]atomic.Int32, tc.n)
			err := forEach(tc.n, tc.limit, func(i int) error {
				peakMax(&peak, inflight.Add(1))
				defer inflight.Add(-1)
				calls[i].Add(1)
				if !g.wait() {
					return fmt.Errorf("call %d: the first %d calls never ran at once", i, target)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range calls {
				if c := calls[i].Load(); c != 1 {
					t.Errorf("index %d called %d times", i, c)
				}
			}
			if got := int(peak.Load()); got != target {
				t.Errorf("peak concurrency %d, want %d", got, target)
			}
		})
	}
}

// A failed call stops no other; the errors come back joined, in index
// order, and errors.Is sees each of them. A panic becomes an error.
func TestForEachJoinsErrors(t *testing.T) {
	e2, e5 := errors.New("two"), errors.New("five")
	var ran atomic.Int32
	err := forEach(8, 3, func(i int) error {
		ran.Add(1)
		switch i {
		case 2:
			return e2
		case 5:
			return e5
		case 6:
			panic("six")
		}
		return nil
	})
	if ran.Load() != 8 {
		t.Errorf("%d calls ran, want 8", ran.Load())
	}
	if !errors.Is(err, e2) || !errors.Is(err, e5) {
		t.Fatalf("err = %v, want both failures", err)
	}
	msg := err.Error()
	if i, j, k := strings.Index(msg, "two"), strings.Index(msg, "five"), strings.Index(msg, "panic: six"); i < 0 || j < i || k < j {
		t.Errorf("errors not in index order, or panic missing: %q", msg)
	}
}

// The partner export runs partners at once, within its bound; a partner
// whose query or upload fails gets no manifest, every other partner is
// exported completely, and the error names each failure.
func TestExportPartnersFailureIsolated(t *testing.T) {
	partners := []string{"p1", "p2", "p3", "p4", "p5", "p6"}
	day := "2026-11-27"
	queryFailed := errors.New("query failed")
	tests := []struct {
		name       string
		failUpload []string // keys whose upload fails
		failRows   []string // partners whose query fails
		wantFailed []string
	}{
		{name: "all succeed"},
		{name: "one partner's csv upload fails", failUpload: []string{"p2/2026-11-27/referrals.csv"}, wantFailed: []string{"p2"}},
		{name: "one partner's jsonl upload fails", failUpload: []string{"p5/2026-11-27/referrals.jsonl"}, wantFailed: []string{"p5"}},
		{name: "one partner's manifest upload fails", failUpload: []string{"p3/2026-11-27/manifest.json"}, wantFailed: []string{"p3"}},
		{name: "one partner's query fails", failRows: []string{"p1"}, wantFailed: []string{"p1"}},
		{name: "several partners fail", failUpload: []string{"p6/2026-11-27/referrals.csv"}, failRows: []string{"p1", "p4"}, wantFailed: []string{"p1", "p4", "p6"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The first partnerLimit partners' CSV uploads wait for one
			// another: a sequential export would never open the gate.
			b := &memBucket{fail: tc.failUpload, gate: newGate(partnerLimit), gated: export.CSVName}
			x := exporter{
				up: b, day: day, now: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC),
				rows: func(_ context.Context, p string) iter.Seq2[export.Row, error] {
					return partnerRows(p, 3, slices.Contains(tc.failRows, p), queryFailed)
				},
			}
			got, err := x.run(context.Background(), partners)

			var want []ExportPartner
			var wantManifests []string
			for _, p := range partners {
				if slices.Contains(tc.wantFailed, p) {
					continue
				}
				want = append(want, ExportPartner{Partner: p, Rows: 3, Manifest: p + "/2026-11-27/manifest.json"})
				wantManifests = append(wantManifests, p+"/2026-11-27/manifest.json")
				for _, f := range []string{export.CSVName, export.JSONLName} {
					if _, ok := b.get(p + "/2026-11-27/" + f); !ok {
						t.Errorf("%s exported without its %s", p, f)
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("partners exported (-want +got):\n%s", diff)
			}
			// A failed partner's other file may have been written; its
			// manifest never is.
			var manifests []string
			for _, k := range b.keys() {
				if strings.HasSuffix(k, "/"+export.ManifestName) {
					manifests = append(manifests, k)
				}
			}
			if diff := cmp.Diff(wantManifests, manifests); diff != "" {
				t.Errorf("manifests written (-want +got):\n%s", diff)
			}
			if len(tc.wantFailed) == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("no error, though partners failed")
				}
				for _, p := range tc.wantFailed {
					if !strings.Contains(err.Error(), "export "+p+":") {
						t.Errorf("error does not name %s: %v", p, err)
					}
				}
				if len(tc.failRows) > 0 && !errors.Is(err, queryFailed) {
					t.Errorf("error does not wrap the query's: %v", err)
				}
			}
			if !b.gate.opened() {
				t.Errorf("the first %d partners were not exported at once", partnerLimit)
			}
			// Each partner has at most two uploads in flight (its files;
			// the manifest comes after both): the bound of the export's
			// part buffers.
			if peak := b.peak.Load(); peak > 2*partnerLimit {
				t.Errorf("%d uploads in flight at once, want ≤ %d", peak, 2*partnerLimit)
			}
		})
	}
}

// Every file of every period is written, with the bytes its renderer gives
// whatever order the uploads ran in; a failed upload stops no other, and
// the keys written come back in period then file order.
func TestWriteReportsConcurrent(t *testing.T) {
	var sums []report.Summary
	for i, st := range []string{"hrd", "hrd-temporary", "a", "b", "c", "d"} {
		p := quota.Period{Stream: st, Year: 2025 + i%2, Capacity: 100 * (i + 1), Reserved: i, Remaining: 100*(i+1) - i,
			Partners: map[string]quota.PartnerCount{"unhcr": {Reserved: i}}}
		b := report.NewBuilder(p, strings.ToUpper(st), []string{"unhcr"}, time.UTC)
		sums = append(sums, b.Summary("2026-11-27", time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)))
	}
	tests := []struct {
		name string
		fail []string
	}{
		{name: "all succeed"},
		{name: "one file fails", fail: []string{"reports/a/2025/2026-11-27/summary.csv"}},
		{name: "files of two periods fail", fail: []string{"reports/hrd/2025/2026-11-27/summary.html", "reports/d/2026/2026-11-27/summary.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The three files of the first periodLimit periods are
			// uploaded at once.
			b := &memBucket{fail: tc.fail, gate: newGate(periodLimit * len(reportFiles)), gated: "summary."}
			got, err := writeReports(context.Background(), b, sums)
			want := []string{}
			for _, s := range sums {
				for _, f := range reportFiles {
					key := fmt.Sprintf("reports/%s/%d/%s/%s", s.Stream, s.Period, s.Date, f.name)
					if slices.Contains(tc.fail, key) {
						continue
					}
					want = append(want, key)
					body, err := f.render(s)
					if err != nil {
						t.Fatal(err)
					}
					if got, _ := b.get(key); string(got) != string(body) {
						t.Errorf("%s differs from its rendering", key)
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if (err != nil) != (len(tc.fail) > 0) {
				t.Fatalf("err = %v", err)
			}
			for _, k := range tc.fail {
				if !strings.Contains(err.Error(), k) {
					t.Errorf("error does not name %s: %v", k, err)
				}
			}
			if !b.gate.opened() {
				t.Errorf("the files of %d periods were not uploaded at once", periodLimit)
			}
			if peak := b.peak.Load(); peak > periodLimit*int32(len(reportFiles)) {
				t.Errorf("%d uploads in flight at once, want ≤ %d", peak, periodLimit*len(reportFiles))
			}
		})
	}
}

// partnerRows is n rows of partner p, then err if fail.
func partnerRows(p string, n int, fail bool, err error) iter.Seq2[export.Row, error] {
	return func(yield func(export.Row, error) bool) {
		for i := range n {
			r := export.Row{ID: fmt.Sprintf("%s-%d", p, i), PartnerReference: "ref", Stream: "hrd", Status: "submitted", Urgency: "normal", Persons: 1, Reasons: []string{}}
			if !yield(r, nil) {
				return
			}
		}
		if fail {
			yield(export.Row{}, err)
		}
	}
}

// memBucket is an export.Uploader in memory. Uploads of the keys in fail
// fail after reading a little; uploads whose key contains gated wait at
// gate first. It records the peak number of uploads in flight.
type memBucket struct {
	fail  []string
	gate  *gate
	gated string

	inflight, peak atomic.Int32
	mu             sync.Mutex
	objects        map[string][]byte
}

func (m *memBucket) Upload(_ context.Context, key, _ string, body io.Reader) error {
	peakMax(&m.peak, m.inflight.Add(1))
	defer m.inflight.Add(-1)
	if m.gated != "" && strings.Contains(key, m.gated) {
		m.gate.wait()
	}
	if slices.Contains(m.fail, key) {
		io.CopyN(io.Discard, body, 10)
		return fmt.Errorf("upload %s: injected failure", key)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects == nil {
		m.objects = map[string][]byte{}
	}
	m.objects[key] = b
	return nil
}

func (m *memBucket) get(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	return b, ok
}

func (m *memBucket) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ks []string
	for k := range m.objects {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// gate opens once n callers wait at it at the same time; callers after
// that pass. A caller gives up after a while, so that a run that never gets
// n at once fails instead of hanging.
type gate struct {
	mu       sync.Mutex
	n, seen  int
	open     chan struct{}
	timedOut atomic.Bool
}

func newGate(n int) *gate {
	g := &gate{n: n, open: make(chan struct{})}
	if n <= 0 {
		close(g.open)
	}
	return g
}

func (g *gate) wait() bool {
	g.mu.Lock()
	g.seen++
	if g.seen == g.n {
		close(g.open)
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return true
	case <-time.After(5 * time.Second):
		g.timedOut.Store(true)
		return false
	}
}

// opened reports whether the gate opened with n callers waiting at once
// (no caller gave up before it did).
func (g *gate) opened() bool {
	select {
	case <-g.open:
		return !g.timedOut.Load()
	default:
		return false
	}
}

func peakMax(peak *atomic.Int32, v int32) {
	for {
		p := peak.Load()
		if v <= p || peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// prefetch gives the source's elements in order, then its error if any,
// whatever the batch and read-ahead sizes.
func TestPrefetchOrderAndErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name         string
		n, batch     int
		ahead        int
		err          error
		wantN        int
		wantErr      error
		breakAfter   int // the consumer stops after this many (0: never)
		cancelParent bool
	}{
		{name: "empty", n: 0, batch: 4, ahead: 2},
		{name: "less than a batch", n: 3, batch: 4, ahead: 2, wantN: 3},
		{name: "whole batches", n: 12, batch: 4, ahead: 2, wantN: 12},
		{name: "batches and a rest", n: 1001, batch: 128, ahead: 2, wantN: 1001},
		{name: "no read-ahead", n: 10, batch: 1, ahead: 0, wantN: 10},
		{name: "error after elements", n: 10, batch: 4, ahead: 1, err: boom, wantN: 10, wantErr: boom},
		{name: "error first", n: 0, batch: 4, ahead: 1, err: boom, wantErr: boom},
		{name: "consumer stops early", n: 1000, batch: 4, ahead: 1, breakAfter: 5, wantN: 5},
		{name: "parent cancelled", n: 1000, batch: 4, ahead: 1, cancelParent: true, wantErr: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelParent {
				cancel()
			}
			seq, stop := prefetch(ctx, func(ctx context.Context) iter.Seq2[int, error] {
				return func(yield func(int, error) bool) {
					for i := range tc.n {
						if err := ctx.Err(); err != nil {
							yield(0, err)
							return
						}
						if !yield(i, nil) {
							return
						}
					}
					if tc.err != nil {
						yield(0, tc.err)
					}
				}
			}, tc.batch, tc.ahead)
			defer stop()
			var got []int
			var gotErr error
			for v, err := range seq {
				if err != nil {
					gotErr = err
					break
				}
				got = append(got, v)
				if len(got) == tc.breakAfter {
					break
				}
			}
			if !tc.cancelParent {
				want := []int{}
				for i := range tc.wantN {
					want = append(want, i)
				}
				if diff := cmp.Diff(want, append([]int{}, got...)); diff != "" {
					t.Errorf("elements (-want +got):\n%s", diff)
				}
			}
			if !errors.Is(gotErr, tc.wantErr) || (tc.wantErr == nil) != (gotErr == nil) {
				t.Errorf("err = %v, want %v", gotErr, tc.wantErr)
			}
		})
	}
}

// The source runs at most ahead batches, plus the one being filled, ahead
// of a consumer that does not read; stop ends it, even while it waits.
func TestPrefetchBounded(t *testing.T) {
	for _, tc := range []struct{ batch, ahead int }{{4, 2}, {1, 0}, {128, 2}} {
		t.Run(fmt.Sprintf("batch=%d,ahead=%d", tc.batch, tc.ahead), func(t *testing.T) {
			var produced atomic.Int32
			ended := make(chan struct{})
			_, stop := prefetch(context.Background(), func(ctx context.Context) iter.Seq2[int, error] {
				return func(yield func(int, error) bool) {
					defer close(ended)
					for i := 0; ; i++ {
						produced.Add(1)
						if !yield(i, nil) {
							return
						}
					}
				}
			}, tc.batch, tc.ahead)
			limit := int32((tc.ahead + 1) * tc.batch)
			deadline := time.Now().Add(5 * time.Second)
			for produced.Load() < limit && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // time to overrun, were it unbounded
			if got := produced.Load(); got != limit {
				t.Errorf("source produced %d ahead of the consumer, want %d", got, limit)
			}
			stop()
			select {
			case <-ended:
			default:
				t.Error("source still running after stop")
			}
		})
	}
}
