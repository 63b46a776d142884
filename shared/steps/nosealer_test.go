package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/lambdamain"
	"github.com/haven-hrd/haven/shared/steps"
)

// TestWithoutSealerLinksNoSealer: the binaries of steps.WithoutSealer link
// neither the sealer nor a KMS client, and no binary links the SDK's config
// package (awsconn builds the configuration from Lambda's environment, so the
// STS, SSO and IMDS credential clients stay out), protobuf, Tink or the SDK's
// schema packages: each of those cost megabytes and milliseconds of init
// (BENCHMARKS.md).
func TestWithoutSealerLinksNoSealer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	root := testenv.Root(t)
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// Import paths, and prefixes (ending in "/" or naming sso, ssooidc).
	type rule struct {
		prefix     bool
		sealersToo bool // forbidden in every binary, not only those without a sealer
	}
	forbidden := map[string]rule{
		"github.com/haven-hrd/haven/shared/seal":               {}, // shared/seal/identity is free of keys
		"github.com/haven-hrd/haven/shared/lambdamain/sealing": {},
		"github.com/aws/aws-sdk-go-v2/service/kms":             {},
		"github.com/tink-crypto/":                              {prefix: true, sealersToo: true},
		"google.golang.org/protobuf/":                          {prefix: true, sealersToo: true},
		"github.com/aws/aws-sdk-go-v2/config":                  {sealersToo: true},
		"github.com/aws/aws-sdk-go-v2/credentials/":            {prefix: true, sealersToo: true},
		"github.com/aws/aws-sdk-go-v2/feature/ec2/imds":        {sealersToo: true},
		"github.com/aws/aws-sdk-go-v2/service/sts":             {sealersToo: true},
		"github.com/aws/aws-sdk-go-v2/service/sso":             {prefix: true, sealersToo: true},
		"github.com/aws/aws-sdk-go-v2/service/signin":          {sealersToo: true},
	}
	seen, sealers := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		dir := filepath.Base(fields[0])
		without := steps.WithoutSealer[dir]
		if without {
			seen++
		} else {
			sealers++
		}
		for _, dep := range fields[1:] {
			for f, r := range forbidden {
				if (without || r.sealersToo) && (dep == f || r.prefix && strings.HasPrefix(dep, f)) {
					t.Errorf("functions/%s links %s", dir, dep)
				}
			}
		}
	}
	if seen != len(steps.WithoutSealer) || sealers == 0 {
		t.Errorf("go list showed %d of the %d functions without a sealer and %d with", seen, len(steps.WithoutSealer), sealers)
	}
}

// TestWithoutSealerOnRealData runs every function of steps.WithoutSealer,
// wired as its binary is (lambdamain.NoPersonalData), against a table that
// holds sealed referrals, sealed idempotency records, reads, a waitlist and
// events: each answers without touching its sealer (which would fail the
// step). And the same wiring fails loudly for a step that does seal.
func TestWithoutSealerOnRealData(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{S3: true})
	year := e.Now().Year()
	e.Seed(t, year, 2)
	sealed := func(dir string) *api.Deps { return e.FunctionDeps(t, dir, nil, nil) }

	vars := map[string]string{"year": strconv.Itoa(year)}
	event := func(name string) events.APIGatewayV2HTTPRequest {
		t.Helper()
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(testenv.Event(t, name, vars), &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	invoke := func(d *api.Deps, dir string, ev any) []byte {
		t.Helper()
		payload, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out, err := lambda.NewHandler(steps.ByDir[dir](d)).Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		return out
	}
	http := func(d *api.Deps, dir string, ev events.APIGatewayV2HTTPRequest, want int) events.APIGatewayV2HTTPResponse {
		t.Helper()
		var r events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(invoke(d, dir, ev), &r); err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != want {
			t.Fatalf("%s: status %d, want %d\n%s", dir, r.StatusCode, want, r.Body)
		}
		return r
	}

	// Three referrals of 2 persons, screened (idempotency records, sealed)
	// and allocated into a period of 2: one allocated, two waitlisted; the
	// first read by its partner.
	var ids []string
	for i := range 3 {
		ev := event("create-referral")
		ev.Headers["idempotency-key"] = "8f14e45f-ceea-467f-a0e6-3b3b0e2f1a2" + strconv.Itoa(i)
		ev.Body = strings.Replace(ev.Body, "FLD-2026-0042", "FLD-2026-004"+strconv.Itoa(i), 1)
		r := http(sealed("create-referral"), "create-referral", ev, 201)
		id := strings.TrimPrefix(r.Headers["Location"], "/referrals/")
		ids = append(ids, id)
		for j, step := range []string{"screen-referral", "allocate-referral"} {
			vars["id"] = id
			ev := event(step)
			ev.Headers["idempotency-key"] = "2b7c1f1e-6d1a-4c55-9d0e-5a7f3e9b0c" + strconv.Itoa(i) + strconv.Itoa(j)
			http(sealed(step), step, ev, 200)
		}
	}
	vars["id"] = ids[0]
	http(sealed("get-referral"), "get-referral", event("get-referral"), 200)
	// Two more spaces, set directly so that only the sweep promotes.
	e.SetCapacity(t, "hrd", year, 4)

	var logs bytes.Buffer
	endpoint := os.Getenv("HAVEN_TEST_DYNAMODB_ENDPOINT")
	if e.Dynamo != nil {
		endpoint = e.Dynamo.URL
	}
	env := lambdamain.Env{
		Table: e.Table, ReportsBucket: embedded.BucketName("ReportsBucket"), ExportsBucket: embedded.BucketName("ExportsBucket"),
		DynamoDBEndpoint: endpoint, S3Endpoint: e.S3.URL,
	}
	plain := func(dir string) *api.Deps {
		t.Helper()
		d, err := lambdamain.Deps(ctx, env, slog.New(slog.NewJSONHandler(&logs, nil)),
			awsconn.Options{DynamoDBEndpoint: env.DynamoDBEndpoint, S3Endpoint: env.S3Endpoint, APIOptions: e.IAM.APIOptions(testenv.LogicalID(t, dir))},
			lambdamain.NoPersonalData)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tested := map[string]bool{}

	tested["get-period"] = true
	var period struct{ Capacity, Remaining int }
	if err := json.Unmarshal([]byte(http(plain("get-period"), "get-period", event("get-period"), 200).Body), &period); err != nil || period.Capacity != 4 || period.Remaining != 2 {
		t.Errorf("get-period: %+v (%v), want capacity 4, remaining 2", period, err)
	}

	tested["get-admissions"] = true
	var admissions struct{ Persons int }
	if err := json.Unmarshal([]byte(http(plain("get-admissions"), "get-admissions", event("get-admissions"), 200).Body), &admissions); err != nil || admissions.Persons != 0 {
		t.Errorf("get-admissions: %+v (%v), want nobody arrived", admissions, err)
	}

	tested["referral-history"] = true
	hist := event("referral-history")
	officer := hist.RequestContext.Authorizer.JWT.Claims
	officer["custom:role"] = "officer"
	delete(officer, "custom:partner")
	hist.QueryStringParameters = map[string]string{"include": "reads"}
	var h struct{ Items []struct{ Action string } }
	if err := json.Unmarshal([]byte(http(plain("referral-history"), "referral-history", hist, 200).Body), &h); err != nil || len(h.Items) < 4 {
		t.Errorf("referral-history: %+v (%v), want created, screened, allocated and the read", h, err)
	}

	tested["waitlist-sweep"] = true
	var sweep struct{ Periods, Promoted, Failed int }
	if err := json.Unmarshal(invoke(plain("waitlist-sweep"), "waitlist-sweep", event("scheduled")), &sweep); err != nil || sweep.Promoted != 1 || sweep.Failed != 0 {
		t.Errorf("waitlist-sweep: %+v (%v), want one promoted", sweep, err)
	}

	tested["daily-report"] = true
	var report struct {
		Keys    []string `json:"keys"`
		Scanned int      `json:"referrals_scanned"`
	}
	if err := json.Unmarshal(invoke(plain("daily-report"), "daily-report", event("scheduled")), &report); err != nil || report.Scanned != 3 || len(report.Keys) == 0 {
		t.Errorf("daily-report: %+v (%v), want 3 referrals scanned", report, err)
	}

	tested["partner-export"] = true
	var export struct {
		Partners []struct {
			Partner string
			Rows    int
		} `json:"partners"`
	}
	if err := json.Unmarshal(invoke(plain("partner-export"), "partner-export", event("scheduled")), &export); err != nil || len(export.Partners) == 0 {
		t.Errorf("partner-export: %+v (%v)", export, err)
	}
	rows := 0
	for _, p := range export.Partners {
		rows += p.Rows
	}
	if rows != 3 {
		t.Errorf("partner-export: %d rows, want 3", rows)
	}

	tested["disposition"] = true
	var disposition struct {
		Scanned int `json:"referrals_scanned"`
		Failed  int `json:"failed"`
	}
	if err := json.Unmarshal(invoke(plain("disposition"), "disposition", event("scheduled")), &disposition); err != nil || disposition.Scanned != 3 || disposition.Failed != 0 {
		t.Errorf("disposition: %+v (%v), want 3 referrals scanned (the seeded stream keeps them)", disposition, err)
	}

	for dir := range steps.WithoutSealer {
		if !tested[dir] {
			t.Errorf("functions/%s is in steps.WithoutSealer but not run here", dir)
		}
	}
	if strings.Contains(logs.String(), lambdamain.ErrNoPersonalData.Error()) {
		t.Errorf("a function without a sealer tried to use it:\n%s", logs.String())
	}

	// Wired the same way, a step that does seal or open fails loudly: an
	// internal error, the sealer's refusal logged, and nothing written.
	logs.Reset()
	vars["id"] = ids[0]
	http(plain("get-referral"), "get-referral", event("get-referral"), 500)
	ev := event("create-referral")
	ev.Headers["idempotency-key"] = "8f14e45f-ceea-467f-a0e6-3b3b0e2f1a99"
	ev.Body = strings.Replace(ev.Body, "FLD-2026-0042", "FLD-2026-0099", 1)
	http(plain("create-referral"), "create-referral", ev, 500)
	if n := strings.Count(logs.String(), `"msg":"sealer refused"`); n < 2 {
		t.Errorf("%d logged refusals, want one per step:\n%s", n, logs.String())
	}
	var all struct {
		Items []any `json:"items"`
	}
	if err := json.Unmarshal([]byte(http(sealed("list-referrals"), "list-referrals", event("list-referrals"), 200).Body), &all); err != nil || len(all.Items) != 3 {
		t.Errorf("list-referrals: %d referrals (%v), want the 3 (none created without a sealer)", len(all.Items), err)
	}
}
