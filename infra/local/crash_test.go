package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/testenv"
)

// crashPeriod is the period the crash test allocates from: the tests'
// year, seeded with room for every referral the test makes, so no waitlist
// forms and every allocation's outcome is known.
var crashPeriod = testenv.Year()

// A referral's path; a worker withdraws it at a random point instead of
// taking the next move.
var crashPath = []struct{ status, method, path, body string }{
	{"submitted", "", "", ""},
	{"eligible", "POST", "/screening", `{"outcome":"eligible","reasons":[]}`},
	{"allocated", "POST", "/allocation", fmt.Sprintf(`{"period":%d}`, crashPeriod)},
	{"approved", "POST", "/decision", `{"outcome":"approved","reasons":[]}`},
	{"arrived", "POST", "/arrival", `{"arrived_on":"` + testenv.Now().Format(time.DateOnly) + `"}`},
}

// tracked is what the test knows of one referral: the status its last
// acknowledged step left, and the status of a step whose answer never came
// (the runner was killed first), which may or may not have happened.
type tracked struct {
	id, ref         string
	status, pending string
}

type crashModel struct {
	mu         sync.Mutex
	referrals  map[string]*tracked // by id
	unanswered map[string]bool     // partner references of creates with no answer
	acked      int                 // acknowledged steps, creates included
	unknown    int                 // steps with no answer
	happened   int                 // of those, found done after the restart
}

// TestCrashKeepsAcknowledgedWrites runs the runner as its own process with
// eight clients creating referrals and moving them through their life, kills
// it with SIGKILL at a random moment, restarts it, and checks that every
// step answered 2xx is there and nothing is half applied: each referral is in
// the status of its last acknowledged step (or of the unanswered step after
// it), no referral appears that no client created, and the period's counters
// equal what the referrals' statuses add up to. Several rounds, the kill
// moments drawn from a fixed seed; then a clean stop and start, which folds
// the journal into the snapshot.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the runner")
	}
	const rounds, workers, seed = 4, 8, 12
	tmp := t.TempDir()
	bin := testenv.BuildRunner(t, tmp)
	seedFile := filepath.Join(tmp, "seed.yaml")
	os.WriteFile(seedFile, fmt.Appendf(nil, `streams:
  - id: hrd
    name: Crash test stream
    open: true
    partners: [unhcr, front-line-defenders, protectdefenders-eu]
    periods:
      "%d": 100000
`, crashPeriod), 0o600)
	data := filepath.Join(tmp, "data")
	m := &crashModel{referrals: map[string]*tracked{}, unanswered: map[string]bool{}}
	rng := rand.New(rand.NewPCG(seed, 0))
	client := &http.Client{Timeout: 20 * time.Second}
	kills := 0
	for round := range rounds {
		p := testenv.StartRunner(t, bin, data, seedFile)
		m.verify(t, client, p, round)
		partner := p.Token(t, `{"role":"partner","partner":"unhcr"}`)
		officer := p.Token(t, `{"role":"officer"}`)
		killAfter := 300*time.Millisecond + time.Duration(rng.IntN(1500))*time.Millisecond
		var wg sync.WaitGroup
		for w := range workers {
			wrng := rand.New(rand.NewPCG(seed, uint64(round*workers+w+1)))
			wg.Go(func() { m.work(t, client, p.URL, partner, officer, fmt.Sprintf("CRASH-%d-%d", round, w), wrng) })
		}
		time.Sleep(killAfter)
		p.Kill()
		kills++
		wg.Wait()
		t.Logf("round %d: killed after %s; %d acknowledged steps so far, %d unanswered", round, killAfter, m.acked, m.unknown)
	}
	p := testenv.StartRunner(t, bin, data, seedFile)
	m.verify(t, client, p, rounds)
	p.Stop(t)
	p = testenv.StartRunner(t, bin, data, seedFile)
	m.verify(t, client, p, rounds+1)
	p.Stop(t)
	if m.acked < rounds*workers {
		t.Errorf("only %d acknowledged steps over %d rounds: the test checked too little", m.acked, rounds)
	}
	t.Logf("%d rounds, %d kills, %d referrals, %d acknowledged steps checked, %d unanswered (%d of them found done)",
		rounds, kills, len(m.referrals), m.acked, m.unknown, m.happened)
}

// work creates referrals and moves them along until the runner dies.
func (m *crashModel) work(t *testing.T, c *http.Client, base, partner, officer, prefix string, rng *rand.Rand) {
	body, _ := os.ReadFile("../../shared/referral/testdata/referral.json")
	for i := 0; ; i++ {
		var r map[string]any
		json.Unmarshal(body, &r)
		ref := fmt.Sprintf("%s-%d", prefix, i)
		r["partner_reference"] = ref
		b, _ := json.Marshal(r)
		status, out, err := send(c, "POST", base+"/referrals", partner, b)
		if err != nil || status >= 500 {
			m.mu.Lock()
			m.unanswered[ref] = true
			m.unknown++
			m.mu.Unlock()
			if err != nil {
				return // the runner is gone
			}
			continue
		}
		if status != 201 {
			t.Errorf("create %s: %d %s", ref, status, out)
			return
		}
		var created struct{ ID string }
		json.Unmarshal(out, &created)
		tr := &tracked{id: created.ID, ref: ref, status: "submitted"}
		m.mu.Lock()
		m.referrals[tr.id] = tr
		m.acked++
		m.mu.Unlock()
		withdrawAt := 1 + rng.IntN(len(crashPath)+2) // past the end: never withdrawn
		for step := 1; step < len(crashPath); step++ {
			next := crashPath[step]
			if step == withdrawAt {
				next = struct{ status, method, path, body string }{"withdrawn", "POST", "/withdrawal", `{"reason":"resettled-elsewhere"}`}
			}
			status, out, err := send(c, next.method, base+"/referrals/"+tr.id+next.path, officer, []byte(next.body))
			m.mu.Lock()
			switch {
			case err != nil || status >= 500:
				tr.pending = next.status
				m.unknown++
			case status/100 == 2:
				tr.status = next.status
				m.acked++
			default:
				t.Errorf("%s %s: %d %s", next.method, next.path, status, out)
			}
			m.mu.Unlock()
			if err != nil {
				return
			}
			if status/100 != 2 || next.status == "withdrawn" {
				break
			}
		}
	}
}

func send(c *http.Client, method, url, token string, body []byte) (int, []byte, error) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// verify checks the restarted runner against the model, then takes what it
// found for the steps whose answer never came.
func (m *crashModel) verify(t *testing.T, c *http.Client, p *testenv.RunnerProcess, round int) {
	t.Helper()
	officer := p.Token(t, `{"role":"officer"}`)
	type item struct {
		ID, Status       string
		PartnerReference string `json:"partner_reference"`
		Persons          int
	}
	var all []item
	cursor := ""
	for {
		u := p.URL + "/referrals?limit=100"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		status, out, err := send(c, "GET", u, officer, nil)
		if err != nil || status != 200 {
			t.Fatalf("round %d: list: %d %v %s", round, status, err, out)
		}
		var page struct {
			Items      []json.RawMessage
			NextCursor *string `json:"next_cursor"`
		}
		json.Unmarshal(out, &page)
		for _, raw := range page.Items {
			var it item
			json.Unmarshal(raw, &it)
			all = append(all, it)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	found := map[string]bool{}
	var reserved, arrived int
	for _, it := range all {
		found[it.ID] = true
		tr, ok := m.referrals[it.ID]
		switch {
		case ok:
			if tr.pending != "" && it.Status == tr.pending {
				m.happened++
			}
			if it.Status != tr.status && it.Status != tr.pending {
				t.Errorf("round %d: referral %s (%s) is %s; its last acknowledged step left it %s (unanswered: %q)", round, it.ID, tr.ref, it.Status, tr.status, tr.pending)
			}
		case m.unanswered[it.PartnerReference]:
			// A create whose answer never came, which happened.
			tr = &tracked{id: it.ID, ref: it.PartnerReference}
			m.referrals[it.ID] = tr
			m.happened++
			delete(m.unanswered, it.PartnerReference)
		default:
			t.Errorf("round %d: referral %s (%q) was never created by the test", round, it.ID, it.PartnerReference)
			continue
		}
		tr.status, tr.pending = it.Status, ""
		switch it.Status {
		case "allocated", "approved":
			reserved += it.Persons
		case "arrived":
			arrived += it.Persons
		}
		if it.Status != "withdrawn" {
			// Each move wrote one history event with it, in one transaction.
			idx := slices.IndexFunc(crashPath, func(s struct{ status, method, path, body string }) bool { return s.status == it.Status })
			status, out, _ := send(c, "GET", p.URL+"/referrals/"+it.ID+"/history", officer, nil)
			var h struct{ Items []json.RawMessage }
			json.Unmarshal(out, &h)
			if status != 200 || len(h.Items) != idx+1 {
				t.Errorf("round %d: referral %s is %s with %d history events, want %d", round, it.ID, it.Status, len(h.Items), idx+1)
			}
		}
	}
	for id, tr := range m.referrals {
		if !found[id] {
			t.Errorf("round %d: referral %s (%s), acknowledged, is missing after the restart", round, id, tr.ref)
		}
	}
	status, out, err := send(c, "GET", fmt.Sprintf("%s/streams/hrd/periods/%d", p.URL, crashPeriod), officer, nil)
	if err != nil || status != 200 {
		t.Fatalf("round %d: period: %d %v %s", round, status, err, out)
	}
	var period struct {
		Capacity, Reserved, Arrived, Remaining int
		Waitlisted                             int `json:"waitlisted_persons"`
	}
	json.Unmarshal(out, &period)
	if period.Reserved != reserved || period.Arrived != arrived || period.Waitlisted != 0 ||
		period.Remaining != period.Capacity-reserved-arrived {
		t.Errorf("round %d: period %+v; the referrals hold %d reserved and %d arrived", round, period, reserved, arrived)
	}
	if strings.Contains(p.Banner, "dropped") {
		t.Logf("round %d: %s", round, p.Banner)
	}
}

// TestDamagedDataRefusesToStart: a snapshot that does not parse, or a
// journal damaged before its end, stops the runner with a message naming the
// file, rather than starting without the data and later overwriting it.
func TestDamagedDataRefusesToStart(t *testing.T) {
	tests := []struct{ file, content, want string }{
		{"dynamodb.json", `{"journal":3,"tables":{"HavenTable":[{"pk":`, "dynamodb.json"},
		{"dynamodb.journal", "\x10\x00\x00\x00garbage that is not a record, followed by more data", "dynamodb.journal"},
	}
	root, _ := filepath.Abs("../..")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := t.TempDir()
			if err := os.WriteFile(filepath.Join(data, tt.file), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := Start(t.Context(), Config{
				Addr: "127.0.0.1:0", DynamoDBAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0", DataDir: data,
				Template: filepath.Join(root, "template.yaml"), Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
			})
			if err == nil {
				r.Close()
				t.Fatal("the runner started")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "move it aside") {
				t.Errorf("error %q does not name %s and what to do", err, tt.want)
			}
		})
	}
}
