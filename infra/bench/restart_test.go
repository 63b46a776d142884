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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/testenv"
)

// BenchmarkRunnerRestart measures the local runner with many referrals in its
// data directory: the time from starting the process to listening, and the
// processor time it uses over 30 s idle and over 30 s with one new referral a
// second. The data directory is HAVEN_BENCH_DATA, filled the first time with
// HAVEN_BENCH_REFERRALS referrals (default 10,000); each run starts from a
// copy of it, so runs on different commits read the same data.
//
// The first 2,000 are created through the API; the rest are copies of them
// under new ids and partner references (the same items, sizes and indexes).
// Creating all 10,000 through the API takes over an hour on a shared
// two-core machine, because the embedded server copies the whole table for
// every transaction.
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
		if have := len(referralIDs(readSnapshot(b, data))); have < min(n, apiReferrals) {
			r := testenv.StartRunner(b, bin, data, seed)
			loadReferrals(b, r, have, min(n, apiReferrals))
			r.Stop(b)
		}
		cloneReferrals(b, data, n)
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
		busy0, busyStart := r.CPUTime(b), time.Now()
		for i := range int(window / time.Second) {
			t := time.Now()
			if err := createReferral(r.URL, partner, fmt.Sprintf("TRICKLE-%d", i), i); err != nil {
				b.Fatal(err)
			}
			time.Sleep(time.Second - time.Since(t))
		}
		// Slow writes stretch the phase past the window: CPU is per
		// second of the phase.
		busy, busyTook := r.CPUTime(b)-busy0, time.Since(busyStart)
		// A crash right after those writes, then a clean stop.
		r.Kill()
		again := testenv.StartRunner(b, bin, dir, seed)
		stop := time.Now()
		again.Stop(b)
		stopped := time.Since(stop)
		b.ReportMetric(r.Ready.Seconds(), "start-s")
		b.ReportMetric(100*idle.Seconds()/window.Seconds(), "idle-cpu-%")
		b.ReportMetric(100*busy.Seconds()/busyTook.Seconds(), "1-write/s-cpu-%")
		b.ReportMetric(busy.Seconds()/window.Seconds(), "cpu-s/write")
		b.ReportMetric(again.Ready.Seconds(), "start-after-kill-s")
		b.ReportMetric(stopped.Seconds(), "stop-s")
		b.Logf("%d referrals: listening after %s; CPU %s over %s idle; %s over %s for %d writes paced a second apart; after kill -9, listening after %s; Ctrl-C took %s",
			n, r.Ready.Round(time.Millisecond), idle, window, busy, busyTook.Round(time.Millisecond), int(window/time.Second),
			again.Ready.Round(time.Millisecond), stopped.Round(time.Millisecond))
	}
}

// loadReferrals creates referrals from through n-1 through the API with four
// clients.
func loadReferrals(b *testing.B, r *testenv.RunnerProcess, from, n int) {
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
	for i := from; i < n; i++ {
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

// apiReferrals is how many referrals the benchmark creates through the API
// before copying them.
const apiReferrals = 2000

type snapshot map[string]json.RawMessage // the snapshot file's fields

func readSnapshot(b *testing.B, dir string) snapshot {
	raw, err := os.ReadFile(filepath.Join(dir, "dynamodb.json"))
	if os.IsNotExist(err) {
		return snapshot{}
	}
	var s snapshot
	if err == nil {
		err = json.Unmarshal(raw, &s)
	}
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func (s snapshot) items(b *testing.B) []json.RawMessage {
	var tables map[string][]json.RawMessage
	if s["tables"] != nil {
		if err := json.Unmarshal(s["tables"], &tables); err != nil {
			b.Fatal(err)
		}
	}
	return tables["HavenTable"]
}

// referralIDs are the ids of the snapshot's referrals (their REF#<id>/A items).
func referralIDs(s snapshot) []string {
	var ids []string
	var raw map[string][]map[string]struct{ S string }
	json.Unmarshal(s["tables"], &raw)
	for _, it := range raw["HavenTable"] {
		if id, ok := strings.CutPrefix(it["pk"].S, "REF#"); ok && it["sk"].S == "A" {
			ids = append(ids, id)
		}
	}
	return ids
}

// cloneReferrals copies the snapshot's referrals, with every item that
// names them, under new ids and partner references until there are n.
func cloneReferrals(b *testing.B, dir string, n int) {
	s := readSnapshot(b, dir)
	ids := referralIDs(s)
	if len(ids) >= n {
		return
	}
	items := s.items(b)
	byID := map[string][]string{}
	for _, it := range items {
		owner := ""
		for _, id := range ids {
			if bytes.Contains(it, []byte(id)) {
				owner = id
				break
			}
		}
		if owner != "" {
			byID[owner] = append(byID[owner], string(it))
		}
	}
	out := append([]json.RawMessage{}, items...)
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	total := len(ids)
	for c := 1; total < n; c++ {
		for _, id := range ids {
			if total == n {
				break
			}
			// A new id: another ULID of the same millisecond.
			clone := id
			for k := c; seen[clone]; k += 97 {
				clone = id[:10] + fmt.Sprintf("%c%c", crockford[k/32%32], crockford[k%32]) + id[12:]
			}
			seen[clone] = true
			r := strings.NewReplacer(id, clone, "BENCH-", fmt.Sprintf("BENCH%03d-", c))
			for _, it := range byID[id] {
				out = append(out, json.RawMessage(r.Replace(it)))
			}
			total++
		}
	}
	tables, _ := json.Marshal(map[string][]json.RawMessage{"HavenTable": out})
	s["tables"] = tables
	raw, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(dir, "dynamodb.json"), raw, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("copied %d referrals to make %d (%d items)", len(ids), n, len(out))
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

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
