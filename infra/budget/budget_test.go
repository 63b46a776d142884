package budget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/retention"
	"github.com/haven-hrd/haven/shared/steps"
)

// counter counts DynamoDB API calls by operation. It sits in the Initialize
// step, before retries: one count per call the code makes, whatever the SDK
// retried underneath.
type counter struct {
	mu  sync.Mutex
	ops []string
}

func (c *counter) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("HavenCountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.ops = append(c.ops, awsmiddleware.GetOperationName(ctx))
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	return ops
}

var writeOps = map[string]bool{
	"PutItem": true, "UpdateItem": true, "DeleteItem": true,
	"TransactWriteItems": true, "BatchWriteItem": true,
}

// budget is what one request of a step may cost. Writes: one write call per
// state change, the idempotency record and audit event riding in the same
// TransactWriteItems. Reads: only what the write cannot carry itself.
type budget struct {
	reads, writes int
	// transact: the write is one TransactWriteItems (the idempotency record
	// rides in it), never a bare PutItem/UpdateItem.
	transact bool
	why      string
}

// excess is a known overrun of the budget, reported rather than
// hidden: the test allows it, says so in its log, and fails once it is gone
// so that the entry is removed with the overrun.
type excess struct {
	reads int
	why   string
}

var budgets = map[string]budget{
	"create-referral":                {0, 1, true, "stream check, reference, referral, event, fingerprint and idempotency record in one transaction"},
	"get-referral":                   {1, 1, false, "the referral and its data key in one TransactGetItems; the audited read is the one write"},
	"list-referrals":                 {2, 1, false, "one Query on gsi1, one BatchGetItem of the page's data keys (the key table); the page's read audit is the one write (one item per page, not per referral)"},
	"referral-history":               {1, 0, false, "one Query on the referral's partition: the referral (access check) and its events"},
	"referral-history?include=reads": {2, 0, false, "the referral's partition (events and full reads), then one Query of list page reads per day searched (one here: the referral is a day old)"},
	"get-period":                     {1, 0, false, "the period"},
	"put-period":                     {2, 1, true, "the period (remaining depends on its capacity and version), the transaction, then the period again for waitlist promotion"},
	"screen-referral":                {1, 1, true, "the referral (the period delta needs its persons and status), one transaction"},
	"allocate-referral":              {2, 1, true, "the referral and its period (quota.Decide needs the partner's allotment and whether the period is open), one transaction with the period counters"},
	"change-family":                  {2, 1, true, "the referral and, when the family holds spaces and changes size, its period (quota.Decide), one transaction"},
	"revise-urgency":                 {1, 1, true, "the referral, one transaction (its waitlist entry moves in it when it waits)"},
	"get-admissions":                 {2, 0, false, "the stream (404 for an unknown one) and the year's admissions item"},
	"decide-referral":                {1, 1, true, "the referral, one transaction"},
	"record-arrival":                 {1, 1, true, "the referral, one transaction"},
	"withdraw-referral":              {1, 1, true, "the referral, one transaction"},
	"hold-referral":                  {1, 1, true, "the referral (its holds and version), one transaction: holds, audit events, idempotency record"},
	"disposition":                    {5, 1, true, "streams and referrals (two Queries), then per due referral: the referral, its reads and stored-answer links (Query), its reference claim; one transaction (one withdrawn referral due here)"},
	"personal-data":                  {6, 2, false, "DynamoDB: the referral bare (the access-request hold), one transaction (the hold), the referral whole, the audited read (PutItem), its fingerprint's referrals, its partition (history and reads), the list pages of each day since its creation (one day here); S3: the partner's export listing (+1 GetObject per manifest, none here)"},
	"waitlist-sweep":                 {2, 0, false, "the periods (Query), then each period (GetItem) before its waitlist (one period, nobody waiting)"},
}

var excesses = map[string]excess{}

// TestDynamoDBCallBudget walks a referral through every step with the
// runtime test's events and checks each step's DynamoDB calls.
func TestDynamoDBCallBudget(t *testing.T) {
	e := testenv.New(t, testenv.Options{S3: true})
	now := e.Now()
	year := quota.YearOf(now)
	e.Seed(t, year, 500)
	c := &counter{}
	e.APIOptions = append(e.APIOptions, c.add)

	vars := map[string]string{"year": strconv.Itoa(year), "today": now.In(quota.Location()).Format(time.DateOnly)}
	event := func(name string) []byte { return testenv.Event(t, name, vars) }
	type row struct {
		step string
		ops  []string
	}
	var rows []row
	// runAs records the calls under label, for a request of dir's function
	// whose calls differ from its plain event's.
	runAs := func(label, dir string, payload []byte) []byte {
		t.Helper()
		c.take()
		out, err := lambda.NewHandler(steps.ByDir[dir](e.FunctionDeps(t, dir, nil, nil))).Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		var r struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
		}
		json.Unmarshal(out, &r)
		if r.StatusCode >= 300 {
			t.Fatalf("%s: status %d: %s", dir, r.StatusCode, out)
		}
		rows = append(rows, row{label, c.take()})
		return out
	}
	run := func(dir string, payload []byte) []byte {
		t.Helper()
		return runAs(dir, dir, payload)
	}

	out := run("create-referral", event("create-referral"))
	var created struct {
		Headers map[string]string `json:"headers"`
	}
	json.Unmarshal(out, &created)
	vars["id"] = strings.TrimPrefix(created.Headers["Location"], "/referrals/")
	for _, dir := range []string{"get-referral", "list-referrals", "referral-history", "get-period", "put-period",
		"screen-referral", "allocate-referral", "change-family", "revise-urgency", "decide-referral", "record-arrival", "get-admissions"} {
		run(dir, event(dir))
	}
	// An officer's history with reads searches each day of the window's list
	// page reads: the default window is seven days, but the referral was
	// created today, so only today needs a Query.
	reads := bytes.Replace(event("referral-history"), []byte(`"rawQueryString": ""`), []byte(`"rawQueryString": "include=reads", "queryStringParameters": {"include": "reads"}`), 1)
	reads = bytes.Replace(reads, []byte(`"custom:role": "partner"`), []byte(`"custom:role": "officer"`), 1)
	runAs("referral-history?include=reads", "referral-history", reads)
	// A hold on the first (arrived) referral; the second is disposed below.
	run("hold-referral", event("hold-referral"))
	run("personal-data", event("personal-data"))
	second := bytes.Replace(event("create-referral"), []byte("FLD-2026-0042"), []byte("FLD-2026-0043"), 1)
	second = bytes.Replace(second, []byte("8f14e45f-ceea-467f-a0e6-3b3b0e2f1a11"), []byte("8f14e45f-ceea-467f-a0e6-3b3b0e2f1a12"), 1)
	out = run("create-referral", second)
	json.Unmarshal(out, &created)
	vars["id"] = strings.TrimPrefix(created.Headers["Location"], "/referrals/")
	run("withdraw-referral", event("withdraw-referral"))
	run("waitlist-sweep", event("scheduled"))
	// The withdrawn referral is due at once under a retention of 0 days.
	if err := e.Store.PutStream(context.Background(), dynamostore.Stream{ID: "hrd", Name: "HRD", Open: true, Partners: testenv.Partners, RetentionEndedDays: retention.Days(0)}); err != nil {
		t.Fatal(err)
	}
	run("disposition", event("scheduled"))

	var report strings.Builder
	fmt.Fprintf(&report, "| step | DynamoDB calls | reads | writes | budget (reads/writes) |\n|---|---|---:|---:|---|\n")
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.step] {
			continue
		}
		seen[r.step] = true
		reads, writes, transacts := 0, 0, 0
		for _, op := range r.ops {
			if writeOps[op] {
				writes++
			} else {
				reads++
			}
			if op == "TransactWriteItems" {
				transacts++
			}
		}
		b, ok := budgets[r.step]
		if !ok {
			t.Errorf("%s: no budget", r.step)
			continue
		}
		x := excesses[r.step]
		fmt.Fprintf(&report, "| %s | %s | %d | %d | %d/%d |\n", r.step, strings.Join(r.ops, ", "), reads, writes, b.reads, b.writes)
		if writes > b.writes {
			t.Errorf("%s: %d write calls %v; budget %d (%s)", r.step, writes, r.ops, b.writes, b.why)
		}
		if b.transact && transacts != writes {
			t.Errorf("%s: writes %v; the change and its idempotency record must be one TransactWriteItems", r.step, r.ops)
		}
		switch {
		case reads > b.reads+x.reads:
			t.Errorf("%s: %d read calls %v; budget %d (%s)", r.step, reads, r.ops, b.reads+x.reads, b.why)
		case reads > b.reads:
			t.Logf("%s: %d reads, %d over the issue's budget: %s", r.step, reads, reads-b.reads, x.why)
		case x.reads > 0:
			t.Errorf("%s: the known excess is gone (%d reads): remove its entry from excesses", r.step, reads)
		}
	}
	var missing []string
	for step := range budgets {
		if !seen[step] {
			missing = append(missing, step)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("steps with a budget that never ran: %v", missing)
	}
	t.Logf("DynamoDB calls per request:\n%s", report.String())
}
