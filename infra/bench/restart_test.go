package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/testenv"
)

// BenchmarkRunnerRestart measures the local runner with many referrals in its
// data directory: the time from starting the process to listening, and the
// processor time it uses over 30 s idle and over 30 s with one new referral a
// second. The data directory is HAVEN_BENCH_DATA, filled the first time with
// HAVEN_BENCH_REFERRALS referrals (default 10,000) through the API; each run
// starts from a copy of it, so runs on different commits read the same data.
//
//	HAVEN_BENCH_DATA=/tmp/haven-10k go test ./infra/bench -run '^$' -bench RunnerRestart -benchtime 1x -timeout 60m
func BenchmarkRunnerRestart(b *testing.B) {
	data := os.Getenv("HAVEN_BENCH_DATA")
	if data == "" {
		b.Skip("set HAVEN_BENCH_DATA to a directory for the runner's data")
	}
	n := 10_000
	if s := os.Getenv("HAVEN_BENCH_REFERRALS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	root := testenv.Root(b)
	seed := filepath.Join(root, "infra", "local", "seed.yaml")
	bin := testenv.BuildRunner(b, b.TempDir())
	marker := filepath.Join(data, "bench-referrals")
	if got, _ := os.ReadFile(marker); string(got) != strconv.Itoa(n) {
		start := time.Now()
		r := testenv.StartRunner(b, bin, data, seed)
		loadReferrals(b, r, n)
		r.Stop(b)
		if err := os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o600); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d referrals in %s", n, time.Since(start).Round(time.Second))
	}
	const window = 30 * time.Second
	for b.Loop() {
		dir := b.TempDir()
		copyDir(b, data, dir)
		r := testenv.StartRunner(b, bin, dir, seed)
		idle0 := r.CPUTime(b)
		time.Sleep(window)
		idle := r.CPUTime(b) - idle0
		partner := r.Token(b, `{"role":"partner","partner":"unhcr"}`)
		busy0 := r.CPUTime(b)
		for i := range int(window / time.Second) {
			t := time.Now()
			if err := createReferral(r.URL, partner, fmt.Sprintf("TRICKLE-%d-%d", time.Now().UnixNano(), i), i); err != nil {
				b.Fatal(err)
			}
			time.Sleep(time.Second - time.Since(t))
		}
		busy := r.CPUTime(b) - busy0
		r.Stop(b)
		b.ReportMetric(r.Ready.Seconds(), "start-s")
		b.ReportMetric(100*idle.Seconds()/window.Seconds(), "idle-cpu-%")
		b.ReportMetric(100*busy.Seconds()/window.Seconds(), "1-write/s-cpu-%")
		b.Logf("%d referrals: listening after %s; CPU %s idle and %s with one write a second, over %s",
			n, r.Ready.Round(time.Millisecond), idle, busy, window)
	}
}

// loadReferrals creates n referrals through the API with four clients.
func loadReferrals(b *testing.B, r *testenv.RunnerProcess, n int) {
	partner := r.Token(b, `{"role":"partner","partner":"unhcr"}`)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				if err := createReferral(r.URL, partner, fmt.Sprintf("BENCH-%06d", i), i); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range n {
		if i%1000 == 0 {
			b.Logf("%d referrals", i)
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// referralJSON is the API's sample referral.
var referralJSON = sync.OnceValue(func() []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "referral", "testdata", "referral.json"))
	if err != nil {
		panic(err)
	}
	return b
})

func createReferral(url, token, ref string, i int) error {
	var m map[string]any
	json.Unmarshal(referralJSON(), &m)
	m["partner_reference"] = ref
	// A different birth date each: different defenders, as in real data.
	m["principal"].(map[string]any)["date_of_birth"] = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%20000).Format(time.DateOnly)
	body, _ := json.Marshal(m)
	// A runner starved of processor time answers 503 when a function times
	// out; the same Idempotency-Key makes the retry safe.
	var err error
	for attempt := range 10 {
		if attempt > 0 {
			time.Sleep(time.Second)
		}
		req, _ := http.NewRequest("POST", url+"/referrals", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", ref)
		resp, rerr := http.DefaultClient.Do(req)
		if rerr != nil {
			err = rerr
			continue
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == 201:
			return nil
		case resp.StatusCode >= 500:
			err = fmt.Errorf("create %s: %d %s", ref, resp.StatusCode, out)
		default:
			return fmt.Errorf("create %s: %d %s", ref, resp.StatusCode, out)
		}
	}
	return err
}

// copyDir copies the regular files of src into dst.
func copyDir(b *testing.B, src, dst string) {
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		in, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o700); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), in, 0o600)
	})
	if err != nil {
		b.Fatal(err)
	}
}
