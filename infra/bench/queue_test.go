package bench_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/workspace"
)

type handler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// queueReferrals is the table's size (HAVEN_BENCH_REFERRALS overrides it).
const queueReferrals = 10_000

// queueRounds is how many requests of each kind are timed.
const queueRounds = 200

// BenchmarkQueuePage measures, in one run against one table of 10,000
// referrals (all submitted, so the screening queue holds all of them), the
// server time of the officers' screening queue page (GET /officer, 25 rows:
// its session, the streams, one Query of gsi4, the HTML) against GET
// /referrals?limit=25 as an officer (one Query of gsi2, 25 referrals unsealed
// for the list, the page's audit write, JSON). Both run in-process, each
// request through its function's handler and the real SDK to the embedded
// DynamoDB, alternating so that the machine's noise falls on both.
// Reported: medians and 90th percentiles in ms, the ratio of the medians
// (target ≤ 1.5) and DynamoDB calls per request. The embedded server's
// Query walks its index from the start, so on it a page costs more the
// further its partition sorts; on DynamoDB a Query reads only the page.
//
//	go test ./infra/bench -run '^$' -bench QueuePage -benchtime 1x -timeout 30m
func BenchmarkQueuePage(b *testing.B) {
	n := queueReferrals
	if s := os.Getenv("HAVEN_BENCH_REFERRALS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	env := testenv.New(b, testenv.Options{})
	year := testenv.Year()
	env.Seed(b, year, 100_000)
	calls := &callCounter{calls: map[string]int{}}
	db := dynamodb.New(env.DB.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, calls.add) })
	store := dynamostore.New(db, env.Table, env.Sealer)

	start := time.Now()
	created := testenv.Now().Add(-90 * 24 * time.Hour)
	var rs []referral.Referral
	for i := 0; i < n; i++ {
		r := allocReferral(i, created.Add(time.Duration(i)*time.Minute))
		r.Stream, r.Status, r.Period = "hrd", referral.Submitted, 0
		r.Partner = []string{"unhcr", "front-line-defenders", "protectdefenders-eu"}[i%3]
		r.Urgency = []referral.Urgency{referral.Normal, referral.Normal, referral.Urgent, referral.Normal, referral.Normal,
			referral.Normal, referral.Normal, referral.Urgent, referral.Normal, referral.Emergency}[i%10]
		r.PartnerReference = fmt.Sprintf("BENCH-%06d", i)
		rs = append(rs, r)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for c := 0; c < 8; c++ {
		wg.Go(func() {
			for i := c * 25; i < len(rs); i += 8 * 25 {
				if err := store.Load(ctx, rs[i:min(i+25, len(rs))]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("loaded %d referrals in %s", n, time.Since(start).Round(time.Millisecond))

	d := env.Deps(nil, nil)
	d.Store = store
	list := api.ListReferrals(d).(handler)
	wd := env.Deps(nil, nil)
	wd.Store = store
	wd.Web = api.WebConfig{SessionKey: []byte(strings.Repeat("s", 32)), DevSignIn: true}
	ws := workspace.Step(wd).(handler)

	listEvent := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /referrals", RawPath: "/referrals", QueryStringParameters: map[string]string{"limit": "25"},
		Headers: map[string]string{"host": "127.0.0.1:3000", "accept": "application/json"},
	}
	listEvent.RequestContext.HTTP.Method = http.MethodGet
	listEvent.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "bench-officer", "custom:role": "officer"}},
	}
	signIn := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST " + workspace.SignInPath, RawPath: workspace.SignInPath,
		Headers: map[string]string{"host": "127.0.0.1:3000", "content-type": "application/x-www-form-urlencoded", "origin": "http://127.0.0.1:3000"},
		Body:    url.Values{"role": {"officer"}}.Encode(),
	}
	signIn.RequestContext.HTTP.Method = http.MethodPost
	resp, err := ws(ctx, signIn)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %d %v", resp.StatusCode, err)
	}
	cookie, _, _ := strings.Cut(resp.Headers["Set-Cookie"], ";")
	queueEvent := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET " + workspace.HomePath, RawPath: workspace.HomePath,
		QueryStringParameters: map[string]string{"queue": "submitted", "stream": "hrd", "lang": "en"},
		Headers:               map[string]string{"host": "127.0.0.1:3000", "accept": "text/html"}, Cookies: []string{cookie},
	}
	queueEvent.RequestContext.HTTP.Method = http.MethodGet

	type arm struct {
		name  string
		h     handler
		ev    events.APIGatewayV2HTTPRequest
		ms    []float64
		calls int
		check func(events.APIGatewayV2HTTPResponse) bool
	}
	arms := []*arm{
		{name: "GET /referrals?limit=25", h: list, ev: listEvent, check: func(r events.APIGatewayV2HTTPResponse) bool {
			return r.StatusCode == 200 && strings.Count(r.Body, `"partner_reference"`) == 25
		}},
		{name: "GET /officer (screening, 25 rows)", h: ws, ev: queueEvent, check: func(r events.APIGatewayV2HTTPResponse) bool {
			return r.StatusCode == 200 && strings.Count(r.Body, `href="/officer/cases/`) == workspace.QueuePageSize
		}},
	}
	for round := -10; round < queueRounds; round++ { // 10 rounds of warm-up
		for k := range arms {
			a := arms[(k+round+10)%2] // the order flips every round
			calls.reset()
			t0 := time.Now()
			r, err := a.h(ctx, a.ev)
			elapsed := time.Since(t0)
			if err != nil || !a.check(r) {
				b.Fatalf("%s: %d %v\n%.400s", a.name, r.StatusCode, err, r.Body)
			}
			if round >= 0 {
				a.ms = append(a.ms, float64(elapsed.Microseconds())/1000)
				_, total, _ := calls.snapshot()
				a.calls = total
			}
		}
	}
	pct := func(xs []float64, p float64) float64 {
		s := append([]float64(nil), xs...)
		sort.Float64s(s)
		return s[int(p*float64(len(s)-1))]
	}
	for _, a := range arms {
		b.Logf("%-36s median %6.2f ms  p90 %6.2f ms  DynamoDB calls %d", a.name, medianOf(a.ms), pct(a.ms, 0.9), a.calls)
	}
	ratio := medianOf(arms[1].ms) / medianOf(arms[0].ms)
	b.Logf("queue page ÷ GET /referrals (medians, %d referrals, %d rounds): %.2f", n, queueRounds, ratio)
	b.ReportMetric(medianOf(arms[0].ms), "list-ms")
	b.ReportMetric(medianOf(arms[1].ms), "queue-ms")
	b.ReportMetric(ratio, "ratio")
}
