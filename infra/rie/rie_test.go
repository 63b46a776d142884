package rie_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/build"
	"github.com/haven-hrd/haven/infra/rie"
	"github.com/haven-hrd/haven/infra/samtemplate"
	"github.com/haven-hrd/haven/infra/testenv"
)

// apiResponse is the part of an API Gateway v2 proxy answer the test reads.
type apiResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// TestFunctionsUnderRIE builds every function of template.yaml for this
// machine, runs each under aws-lambda-rie against an embedded DynamoDB and S3,
// and walks a referral through its whole life with the testdata events:
// every step answers through the real Lambda runtime API.
func TestFunctionsUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function; skipped with -short")
	}
	rieBin, err := rie.Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (infra/ci/test.sh installs it)", err)
		}
		t.Skipf("skipped: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root := testenv.Root(t)
	dir := t.TempDir()

	stack, err := rie.StartStack(ctx, root, dir, 500)
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	fns, err := build.Functions(stack.Template)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var buildLog bytes.Buffer
	bins, err := build.Binaries(ctx, build.Options{Root: root, GOARCH: hostArch(), Stderr: &buildLog}, fns, dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, buildLog.String())
	}
	t.Logf("built %d functions for linux/%s in %s", len(fns), hostArch(), time.Since(start).Round(time.Millisecond))

	// One emulator per function, all started at once; each starts its
	// bootstrap on the first invocation.
	byDir := map[string]samtemplate.Function{}
	procs := map[string]*rie.Process{}
	for _, fn := range stack.Template.Functions() {
		byDir[fn.CodeDir] = fn
		env, err := stack.EnforcedEnv(fn)
		if err != nil {
			t.Fatal(err)
		}
		p, err := rie.Start(rieBin, bins[fn.LogicalID], env)
		if err != nil {
			t.Fatal(err)
		}
		procs[fn.CodeDir] = p
	}
	t.Cleanup(func() {
		for dir, p := range procs {
			p.Close()
			if t.Failed() {
				t.Logf("== %s output:\n%s", dir, p.Output())
			}
		}
	})
	tested := map[string]bool{}
	vars := map[string]string{
		"year":  strconv.Itoa(stack.Year),
		"today": stack.Today,
	}
	invoke := func(dir string, event []byte) []byte {
		t.Helper()
		p, ok := procs[dir]
		if !ok {
			t.Fatalf("no function with CodeUri functions/%s in template.yaml", dir)
		}
		tested[dir] = true
		out, err := p.Invoke(ctx, event)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		return out
	}
	http := func(dir string, event []byte, wantStatus int) apiResponse {
		t.Helper()
		out := invoke(dir, event)
		var r apiResponse
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s: answer is not an API Gateway response: %v\n%s", dir, err, out)
		}
		if r.StatusCode != wantStatus {
			t.Fatalf("%s: status %d, want %d\n%s", dir, r.StatusCode, wantStatus, r.Body)
		}
		return r
	}
	status := func(r apiResponse) string {
		var v struct {
			Status  string `json:"status"`
			Persons int    `json:"persons"`
		}
		if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
			t.Fatalf("body: %v\n%s", err, r.Body)
		}
		return v.Status + "/" + strconv.Itoa(v.Persons)
	}
	event := func(name string) []byte { return testenv.Event(t, name, vars) }

	// A partner refers a defender with one child: the real API Gateway event.
	create, err := os.ReadFile(filepath.Join(root, "shared", "api", "testdata", "create-referral.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := http("create-referral", create, 201)
	vars["id"] = strings.TrimPrefix(r.Headers["Location"], "/referrals/")
	if got := status(r); got != "submitted/2" {
		t.Errorf("created: %s, want submitted/2", got)
	}
	// Replayed with the same Idempotency-Key: the same answer.
	if again := http("create-referral", create, 201); again.Body != r.Body {
		t.Errorf("replayed create answered differently:\n%s\n%s", again.Body, r.Body)
	}

	steps := []struct {
		dir, want string
	}{
		{"get-referral", "submitted/2"},
		{"screen-referral", "eligible/2"},
		{"allocate-referral", "allocated/2"},
		{"change-family", "allocated/3"},
		{"decide-referral", "approved/3"},
		{"record-arrival", "arrived/3"},
	}
	for _, st := range steps {
		if got := status(http(st.dir, event(st.dir), 200)); got != st.want {
			t.Errorf("%s: %s, want %s", st.dir, got, st.want)
		}
	}
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(http("list-referrals", event("list-referrals"), 200).Body), &list); err != nil || len(list.Items) != 1 || list.Items[0].ID != vars["id"] {
		t.Errorf("list-referrals: %+v, %v; want the one referral", list, err)
	}
	var history []any
	hist := http("referral-history", event("referral-history"), 200)
	if err := json.Unmarshal([]byte(hist.Body), &struct {
		Items *[]any `json:"items"`
	}{&history}); err != nil || len(history) < 6 {
		t.Errorf("referral-history: %d events (%v); want at least 6\n%s", len(history), err, hist.Body)
	}
	var period struct {
		Capacity  int `json:"capacity"`
		Remaining int `json:"remaining"`
	}
	if err := json.Unmarshal([]byte(http("get-period", event("get-period"), 200).Body), &period); err != nil || period.Capacity != 500 || period.Remaining != 497 {
		t.Errorf("get-period: %+v, %v; want capacity 500, remaining 497", period, err)
	}
	http("put-period", event("put-period"), 200)
	var admissions struct {
		Persons int `json:"persons"`
	}
	if err := json.Unmarshal([]byte(http("get-admissions", event("get-admissions"), 200).Body), &admissions); err != nil || admissions.Persons != 3 {
		t.Errorf("get-admissions: %+v, %v; want the 3 arrived persons", admissions, err)
	}

	// A second referral, withdrawn by its partner.
	second := bytes.Replace(create, []byte("FLD-2026-0042"), []byte("FLD-2026-0043"), 1)
	second = bytes.Replace(second, []byte("8f14e45f-ceea-467f-a0e6-3b3b0e2f1a11"), []byte("8f14e45f-ceea-467f-a0e6-3b3b0e2f1a12"), 1)
	r = http("create-referral", second, 201)
	vars["id"] = strings.TrimPrefix(r.Headers["Location"], "/referrals/")
	http("revise-urgency", event("revise-urgency"), 200)
	if got := status(http("withdraw-referral", event("withdraw-referral"), 200)); got != "withdrawn/2" {
		t.Errorf("withdraw-referral: %s, want withdrawn/2", got)
	}
	// An officer asks for everything held about it (an access request), then
	// holds its disposition.
	if pd := http("personal-data", event("personal-data"), 200); !strings.Contains(pd.Body, `"access-request"`) {
		t.Errorf("personal-data: %s", pd.Body)
	}
	// An officer holds its disposition too (the access request stays).
	if hold := http("hold-referral", event("hold-referral"), 200); !strings.Contains(hold.Body, `"holds":["legal-proceedings","access-request"]`) {
		t.Errorf("hold-referral: %s", hold.Body)
	}

	// The period closes (nobody waits, so no carry-over is needed).
	http("close-period", event("close-period"), 200)

	// The web form without a session sends the browser to sign in (the
	// OIDC sign-in itself needs the identity provider, so it stops here).
	if wf := http("web-form", event("web-form"), 303); !strings.Contains(wf.Headers["Location"], "/sign-in") {
		t.Errorf("web-form: Location %q, want the sign-in page", wf.Headers["Location"])
	}
	// So does the officers' workspace, to its own sign-in.
	if ws := http("officer-workspace", event("officer-workspace"), 303); !strings.Contains(ws.Headers["Location"], "/officer/sign-in") {
		t.Errorf("officer-workspace: Location %q, want the workspace's sign-in page", ws.Headers["Location"])
	}

	// The scheduled jobs, with an EventBridge Scheduler event, run at once
	// (each its own process).
	var wg sync.WaitGroup
	results := map[string][]byte{}
	var mu sync.Mutex
	for _, dir := range []string{"waitlist-sweep", "daily-report", "partner-export", "disposition"} {
		tested[dir] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := procs[dir].Invoke(ctx, event("scheduled"))
			if err != nil {
				t.Errorf("%s: %v", dir, err)
			}
			mu.Lock()
			results[dir] = out
			mu.Unlock()
		}()
	}
	wg.Wait()
	var sweep struct{ Periods, Promoted, Failed int }
	if err := json.Unmarshal(results["waitlist-sweep"], &sweep); err != nil || sweep.Periods != 1 || sweep.Failed != 0 {
		t.Errorf("waitlist-sweep: %s (%v); want 1 period, none failed", results["waitlist-sweep"], err)
	}
	for _, dir := range []string{"daily-report", "partner-export", "disposition"} {
		var v map[string]any
		if err := json.Unmarshal(results[dir], &v); err != nil || v["errorMessage"] != nil {
			t.Errorf("%s: %s (%v)", dir, results[dir], err)
		}
	}

	for dir, fn := range byDir {
		if !tested[dir] {
			t.Errorf("%s (functions/%s) was never invoked: give it a testdata event here", fn.LogicalID, dir)
		}
	}
}

// hostArch is this machine's architecture: the binaries run here, not on Lambda.
func hostArch() string { return runtime.GOARCH }
