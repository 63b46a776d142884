package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/quota"
)

// lockedBuffer collects log output from concurrent handlers.

func startRunnerLogging(t *testing.T, w io.Writer) *Runner {
	t.Helper()
	root, _ := filepath.Abs("../..")
	r, err := Start(context.Background(), Config{
		Addr: "127.0.0.1:0", DynamoDBAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		Template: filepath.Join(root, "template.yaml"), Seed: filepath.Join(root, "infra/local/seed.yaml"),
		Now: testenv.Clock(),
		Log: slog.New(slog.NewJSONHandler(w, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestRoleMatrix calls every API route of the template as every kind of
// caller and checks the authorization outcome: 401 without a valid token,
// 403 for a role the contract does not allow, 404 for another partner's
// referral, and anything else (2xx, or a 4xx about the request itself) for
// an allowed caller.
func TestRoleMatrix(t *testing.T) {
	r := startRunnerLogging(t, io.Discard)
	own := token(t, r, `{"role":"partner","partner":"unhcr"}`)
	other := token(t, r, `{"role":"partner","partner":"front-line-defenders"}`)
	officer := token(t, r, `{"role":"officer"}`)
	admin := token(t, r, `{"role":"admin"}`)
	expired := token(t, r, `{"role":"officer","ttl_seconds":-60}`)
	p := strings.Split(officer, ".")
	forged := p[0] + "." + p[1] + "." + strings.Repeat("B", len(p[2]))

	body, _ := os.ReadFile("../../shared/referral/testdata/referral.json")
	newReferral := func() string {
		var m map[string]any
		json.Unmarshal(body, &m)
		m["partner_reference"] = fmt.Sprintf("M-%d", len(m)+int(nextSeq()))
		b, _ := json.Marshal(m)
		resp, out := call(t, "POST", r.URL+"/referrals", own, "application/json", b, nil)
		if resp.StatusCode != 201 {
			t.Fatalf("seed referral: %d %s", resp.StatusCode, out)
		}
		var v map[string]any
		json.Unmarshal(out, &v)
		return v["id"].(string)
	}
	now := testenv.Now()
	year := strconv.Itoa(quota.YearOf(now))
	// The closure closes a period of its own, so the other routes keep
	// theirs open.
	closing := strconv.Itoa(quota.YearOf(now) + 3)
	if resp, out := call(t, "PUT", r.URL+"/streams/hrd/periods/"+closing, admin, "application/json", []byte(`{"capacity":5}`), nil); resp.StatusCode != 200 {
		t.Fatalf("period to close: %d %s", resp.StatusCode, out)
	}
	type route struct {
		method, path, body string
		allowed            map[string]bool // caller → allowed
		scoped             bool            // another partner gets 404
	}
	all := map[string]bool{"own": true, "other": true, "officer": true, "admin": true}
	routes := []route{
		{"POST", "/referrals", string(body), map[string]bool{"own": true, "other": true}, false},
		{"GET", "/referrals/{id}", "", all, true},
		{"GET", "/referrals", "", all, false},
		{"GET", "/referrals/{id}/history", "", all, true},
		{"POST", "/referrals/{id}/screening", `{"outcome":"eligible","reasons":[]}`, map[string]bool{"officer": true}, false},
		{"POST", "/referrals/{id}/allocation", `{"period":` + year + `}`, map[string]bool{"officer": true}, false},
		{"POST", "/referrals/{id}/decision", `{"outcome":"approved","reasons":[]}`, map[string]bool{"officer": true}, false},
		{"POST", "/referrals/{id}/arrival", `{"arrived_on":"` + now.In(quota.Location()).Format(time.DateOnly) + `"}`, map[string]bool{"officer": true}, false},
		{"POST", "/referrals/{id}/withdrawal", `{"reason":"resettled-elsewhere"}`, map[string]bool{"own": true, "other": true, "officer": true}, true},
		{"PUT", "/referrals/{id}/family", `{"family_members":[]}`, map[string]bool{"own": true, "other": true, "officer": true}, true},
		{"POST", "/referrals/{id}/urgency", `{"urgency":"urgent","reason":"officer-assessment"}`, map[string]bool{"officer": true}, false},
		{"POST", "/referrals/{id}/hold", `{"hold":true,"reason":"investigation"}`, map[string]bool{"officer": true, "admin": true}, false},
		{"GET", "/referrals/{id}/personal-data", "", map[string]bool{"officer": true}, false},
		{"GET", "/streams/hrd/periods/" + year, "", all, false},
		{"PUT", "/streams/hrd/periods/" + year, `{"capacity":500}`, map[string]bool{"admin": true}, false},
		{"POST", "/streams/hrd/periods/" + closing + "/closure", `{}`, map[string]bool{"admin": true}, false},
		{"GET", "/streams/hrd/admissions/" + year, "", all, false},
	}
	// Every API route of the template is in the matrix.
	tested := map[string]bool{}
	for _, rt := range routes {
		p := strings.Replace(rt.path, "/hrd/periods/"+year, "/{stream}/periods/{year}", 1)
		p = strings.Replace(p, "/hrd/periods/"+closing, "/{stream}/periods/{year}", 1)
		tested[rt.method+" "+strings.Replace(p, "/hrd/admissions/"+year, "/{stream}/admissions/{year}", 1)] = true
	}
	for _, f := range r.functions {
		for _, rt := range f.fn.Routes {
			if !rt.Public && !tested[rt.Method+" "+rt.Path] {
				t.Errorf("route %s %s is not in the role matrix", rt.Method, rt.Path)
			}
		}
	}
	callers := []struct{ name, token string }{
		{"own", own}, {"other", other}, {"officer", officer}, {"admin", admin},
		{"no token", ""}, {"expired", expired}, {"forged", forged},
	}
	n := 0
	for _, rt := range routes {
		for _, c := range callers {
			n++
			t.Run(rt.method+" "+rt.path+" as "+c.name, func(t *testing.T) {
				path := strings.Replace(rt.path, "{id}", newReferral(), 1)
				b := rt.body
				if rt.method == "POST" && rt.path == "/referrals" {
					var m map[string]any
					json.Unmarshal(body, &m)
					m["partner_reference"] = fmt.Sprintf("X-%d", nextSeq())
					bb, _ := json.Marshal(m)
					b = string(bb)
				}
				resp, out := call(t, rt.method, r.URL+path, c.token, "application/json", []byte(b), nil)
				got := resp.StatusCode
				switch {
				case c.token == "" || c.name == "expired" || c.name == "forged":
					if got != 401 {
						t.Errorf("status %d, want 401", got)
					}
				case !rt.allowed[c.name]:
					if got != 403 {
						t.Errorf("status %d, want 403: %s", got, out)
					}
				case rt.scoped && c.name == "other":
					if got != 404 {
						t.Errorf("status %d, want 404", got)
					}
				default:
					if got == 401 || got == 403 || got == 404 || got >= 500 {
						t.Errorf("allowed caller got %d: %s", got, out)
					}
				}
			})
		}
	}
	t.Logf("role matrix: %d routes × %d callers = %d cases", len(routes), len(callers), n)
}

var seq struct {
	sync.Mutex
	n int
}

func nextSeq() int {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return seq.n
}

// TestLogsHoldNoPersonalData runs a whole journey with distinctive personal
// data and checks that none of it reaches the logs, while the logs do carry
// request ids, routes and statuses.
func TestLogsHoldNoPersonalData(t *testing.T) {
	logs := &testenv.LogBuffer{}
	r := startRunnerLogging(t, logs)
	partner := token(t, r, `{"role":"partner","partner":"unhcr"}`)
	officer := token(t, r, `{"role":"officer"}`)
	now := testenv.Now()
	secrets := map[string]string{
		"given": "Qwertyuiopzx", "family": "Asdfghjklqq", "dob": "1971-02-03", "email": "qwertyuiopzx@example.org",
		"phone": "+66 2 987 6543", "summary": "Zxcvbnmsummaryword", "child": "Poiuytrewqch",
	}
	ref := map[string]any{
		"stream": "hrd", "partner_reference": "LOG-1", "urgency": "emergency",
		"principal":          map[string]any{"given_name": secrets["given"], "family_name": secrets["family"], "date_of_birth": secrets["dob"], "sex": "F", "nationality": "VNM"},
		"family_members":     []any{map[string]any{"given_name": secrets["child"], "family_name": secrets["family"], "date_of_birth": "2015-06-01", "sex": "M", "relationship": "child"}},
		"country_of_asylum":  "THA",
		"defender_profile":   map[string]any{"rights_areas": []any{"journalism"}, "summary": secrets["summary"]},
		"contact":            map[string]any{"email": secrets["email"], "phone": secrets["phone"], "preferred_channel": "signal"},
		"preferred_language": "fr", "consent": map[string]any{"given": true, "date": now.AddDate(0, 0, -30).Format(time.DateOnly)},
	}
	b, _ := json.Marshal(ref)
	resp, out := call(t, "POST", r.URL+"/referrals", partner, "application/json", b, map[string]string{"Idempotency-Key": "log-1"})
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, out)
	}
	var v map[string]any
	json.Unmarshal(out, &v)
	id := v["id"].(string)
	// A bad request echoing personal data must not log it either.
	bad := strings.Replace(string(b), `"sex":"F"`, `"sex":"`+secrets["given"]+`"`, 1)
	call(t, "POST", r.URL+"/referrals", partner, "application/json", []byte(bad), nil)
	steps := []struct{ method, path, body string }{
		{"GET", "/referrals/" + id, ""},
		{"GET", "/referrals?limit=5", ""},
		{"GET", "/referrals/" + id + "/history", ""},
		{"POST", "/referrals/" + id + "/screening", `{"outcome":"eligible","reasons":[]}`},
		{"POST", "/referrals/" + id + "/allocation", `{"period":` + strconv.Itoa(now.Year()) + `}`},
		{"PUT", "/referrals/" + id + "/family", `{"family_members":[{"given_name":"` + secrets["child"] + `","family_name":"` + secrets["family"] + `","date_of_birth":"2015-06-01","sex":"M","relationship":"child"}]}`},
		{"POST", "/referrals/" + id + "/decision", `{"outcome":"approved","reasons":[]}`},
		{"POST", "/referrals/" + id + "/arrival", `{"arrived_on":"` + now.In(quota.Location()).Format(time.DateOnly) + `"}`},
		{"POST", "/referrals/" + id + "/hold", `{"hold":true,"reason":"legal-proceedings"}`},
		{"GET", "/referrals/" + id + "/personal-data", ""},
	}
	for _, s := range steps {
		call(t, s.method, r.URL+s.path, officer, "application/json", []byte(s.body), nil)
	}
	for _, fn := range []string{"WaitlistSweepFunction", "DailyReportFunction", "PartnerExportFunction", "DispositionFunction"} {
		if resp, b := call(t, "POST", r.URL+"/_local/invoke/"+fn, "", "application/json", nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("invoke %s = %d %s", fn, resp.StatusCode, b)
		}
	}

	text := logs.String()
	lower := strings.ToLower(text)
	for name, s := range secrets {
		if strings.Contains(lower, strings.ToLower(s)) {
			t.Errorf("logs contain the %s %q", name, s)
		}
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	requests := 0
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if m["msg"] == "request" {
			requests++
			for _, k := range []string{"request_id", "route", "status", "latency_ms"} {
				if _, ok := m[k]; !ok {
					t.Errorf("request log without %s: %s", k, line)
				}
			}
		}
	}
	if requests < 8 {
		t.Errorf("%d request log lines, want one per request", requests)
	}
}
