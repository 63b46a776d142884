package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/referral"
)

const (
	// allocClients is the number of concurrent clients of each arm.
	allocClients = 32
	// allocReferrals is how many eligible referrals each arm allocates per
	// round (allocReferrals/allocClients per client). The embedded server
	// copies the whole table in every transaction, so the table stays small.
	allocReferrals = 256
	// allocRounds is how many rounds run, each on two fresh servers.
	allocRounds = 5
	// allocChunk is how many allocations an arm runs before the other arm
	// takes its turn (2 per client).
	allocChunk = 2 * allocClients
	allocYear  = 2026
	allocScope = "officer::bench-officer"
)

// allocSetup is one arm's fresh environment: an embedded DynamoDB with the
// template's table, the hrd stream, its period with exactly the capacity
// the referrals need, and the referrals, eligible (version 1).
type allocSetup struct {
	env *testenv.Env
	// db and store go through an SDK client that counts calls and attempts.
	db       *dynamodb.Client
	store    *dynamostore.Store
	calls    *callCounter
	refs     []referral.Referral
	capacity int
	// periodVersion is the period's version before the arm runs.
	periodVersion int
}

// allocFamily gives referral i a family of 0–3 members: 1–4 persons.
func allocFamily(i int) []referral.Person {
	var out []referral.Person
	for k := 0; k < i%4; k++ {
		out = append(out, referral.Person{GivenName: "Kid", FamilyName: "Khai", DateOfBirth: "2015-06-01", Sex: "M", Relationship: "child"})
	}
	return out
}

func allocReferral(i int, created time.Time) referral.Referral {
	id := fmt.Sprintf("BENCH%05d", i)
	r := referral.Referral{
		Input: referral.Input{
			Stream: "hrd", PartnerReference: "REF-" + id, Urgency: referral.Normal,
			Principal:         referral.Person{GivenName: "Minh", FamilyName: "Khai", DateOfBirth: "1985-03-14", Sex: "F", Nationality: "VNM"},
			CountryOfAsylum:   "THA",
			DefenderProfile:   referral.Profile{RightsAreas: []string{"land"}, Summary: "Land rights defender documenting evictions."},
			Contact:           referral.Contact{Email: "defender@example.org"},
			PreferredLanguage: "en", Consent: referral.Consent{Given: true, Date: "2026-11-01"},
		},
		ID: id, Partner: testenv.Partners[i%len(testenv.Partners)], Status: referral.Eligible,
		CreatedAt: created, UpdatedAt: created, Version: 1,
	}
	r.FamilyMembers = allocFamily(i)
	r.Persons = r.Input.Persons()
	return r
}

// callCounter counts DynamoDB calls (Initialize step: once per call) and
// attempts (Finalize step, after the retryer: once per HTTP attempt).
type callCounter struct {
	mu       sync.Mutex
	calls    map[string]int
	attempts int
}

func (c *callCounter) add(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchCountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.calls[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("BenchCountAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.attempts++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *callCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.attempts = map[string]int{}, 0
}

// snapshot returns the calls by operation, their total and the attempts.
func (c *callCounter) snapshot() (map[string]int, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, total := map[string]int{}, 0
	for k, v := range c.calls {
		out[k] = v
		total += v
	}
	return out, total, c.attempts
}

// newAllocSetup builds an arm's environment. Both arms get exactly this.
// The referrals are created through the store (one transaction each, 32 at a
// time) already eligible: allocation reads only status, version, persons and
// partner, so a screened referral and this one are the same to it.
func newAllocSetup(b *testing.B) *allocSetup {
	b.Helper()
	ctx := context.Background()
	env := testenv.New(b, testenv.Options{})
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	s := &allocSetup{env: env, calls: &callCounter{calls: map[string]int{}}}
	s.db = dynamodb.New(env.DB.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, s.calls.add) })
	s.store = dynamostore.New(s.db, env.Table, env.Sealer)
	for i := 0; i < allocReferrals; i++ {
		r := allocReferral(i, created.Add(time.Duration(i)*time.Millisecond))
		s.refs = append(s.refs, r)
		s.capacity += r.Persons
	}
	// Exactly the persons of all referrals: every allocation fits and the
	// period ends at remaining 0, so the counters' condition is exercised
	// to its edge.
	env.Seed(b, allocYear, s.capacity)
	var wg sync.WaitGroup
	errs := make(chan error, allocReferrals)
	for c := 0; c < allocClients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; i < len(s.refs); i += allocClients {
				r := s.refs[i]
				ev := referral.Event{At: r.CreatedAt, Action: referral.ActionCreated, ToStatus: referral.Submitted, ActorRole: "partner", Actor: "bench-partner"}
				if _, err := s.store.Create(ctx, r, ev, nil, r.CreatedAt); err != nil {
					errs <- fmt.Errorf("create %s: %w", r.ID, err)
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	p, err := env.Store.GetPeriod(ctx, "hrd", allocYear)
	if err != nil {
		b.Fatal(err)
	}
	s.periodVersion = p.Version
	return s
}

// run allocates the referrals refs[from:to] with allocClients goroutines,
// client c taking from+c, from+c+32, …, and returns the wall time until the
// last one is done.
func (s *allocSetup) run(b *testing.B, from, to int, op func(ctx context.Context, r referral.Referral, now time.Time) error) time.Duration {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, to-from)
	start := time.Now()
	for c := 0; c < allocClients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := from + c; i < to; i += allocClients {
				if err := op(ctx, s.refs[i], testenv.Now()); err != nil {
					errs <- fmt.Errorf("%s: %w", s.refs[i].ID, err)
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return elapsed
}

// verify checks that every referral is allocated in the period (version 2)
// and that the period's counters are exactly the sum of the allocated
// persons, overall and per partner: nothing overbooked, nothing lost.
func (s *allocSetup) verify(b *testing.B, arm string) {
	b.Helper()
	ctx := context.Background()
	sum := 0
	perPartner := map[string]int{}
	for _, want := range s.refs {
		got, err := s.env.Store.Get(ctx, want.ID, "", dynamostore.Bare)
		if err != nil {
			b.Fatalf("%s: read %s: %v", arm, want.ID, err)
		}
		if got.Status != referral.Allocated || got.Period != allocYear || got.Version != 2 {
			b.Fatalf("%s: %s is %s in %d at version %d, want allocated in %d at version 2", arm, got.ID, got.Status, got.Period, got.Version, allocYear)
		}
		sum += got.Persons
		perPartner[got.Partner] += got.Persons
	}
	p, err := s.env.Store.GetPeriod(ctx, "hrd", allocYear)
	if err != nil {
		b.Fatal(err)
	}
	if !p.Consistent() || p.Reserved != sum || p.Arrived != 0 || p.Remaining != s.capacity-sum || p.Remaining < 0 {
		b.Fatalf("%s: period %+v; allocated persons %d, capacity %d", arm, p, sum, s.capacity)
	}
	for partner, n := range perPartner {
		if p.Partners[partner].Reserved != n {
			b.Fatalf("%s: partner %s reserved %d, allocated persons %d", arm, partner, p.Partners[partner].Reserved, n)
		}
	}
	if p.Version != s.periodVersion+len(s.refs) {
		b.Fatalf("%s: period version %d, want %d", arm, p.Version, s.periodVersion+len(s.refs))
	}
}

func allocKey(id string) string { return "bench-alloc-" + id }

// allocHash is the request fingerprint of POST /referrals/{id}/allocate.
func allocHash(id string) string {
	return idempotency.Hash("POST", "/referrals/"+id+"/allocate", []byte(`{"period":`+strconv.Itoa(allocYear)+`}`))
}

var allocHeaders = map[string]string{"Content-Type": "application/json"}

// havenAllocate is Haven's allocation as the allocate step runs it: Store.Move
// (one consistent GetItem of the referral, unsealed, then one
// TransactWriteItems) with a Record that builds the JSON response from the
// referral as it will be and the idempotency record carrying it (sealed by
// the store), as shared/api's recorder does.
func havenAllocate(s *allocSetup) func(context.Context, referral.Referral, time.Time) error {
	return func(ctx context.Context, r referral.Referral, now time.Time) error {
		record := func(next referral.Referral) (dynamostore.Idem, error) {
			body, err := json.Marshal(next)
			if err != nil {
				return nil, err
			}
			rec := idempotency.New(allocScope, allocKey(r.ID), allocHash(r.ID), idempotency.Response{Status: 200, Headers: allocHeaders, Body: body}, now)
			return &rec, nil
		}
		st := dynamostore.Step{ID: r.ID, To: referral.Allocated, Period: allocYear, ActorRole: "officer", Actor: "bench-officer", Nonce: "a" + r.ID}
		res, replay, err := s.store.Move(ctx, st, record, now)
		if err != nil {
			return err
		}
		if replay != nil || res.Referral.Status != referral.Allocated {
			return fmt.Errorf("landed in %s (replay %v)", res.Referral.Status, replay != nil)
		}
		return nil
	}
}

// rawIdem mirrors the stored idempotency record (dynamostore's idemItem).
type rawIdem struct {
	PK         string               `dynamodbav:"pk"`
	SK         string               `dynamodbav:"sk"`
	Hash       string               `dynamodbav:"hash"`
	Done       bool                 `dynamodbav:"done"`
	Response   idempotency.Response `dynamodbav:"response"`
	SealedBody []byte               `dynamodbav:"sealed_body,omitempty"`
	ExpiresAt  int64                `dynamodbav:"expires_at"`
}

// rawEvent mirrors the stored audit event (dynamostore's eventItem).
type rawEvent struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	At           string `dynamodbav:"at"`
	Action       string `dynamodbav:"action"`
	FromStatus   string `dynamodbav:"from_status,omitempty"`
	ToStatus     string `dynamodbav:"to_status,omitempty"`
	PersonsDelta int    `dynamodbav:"persons_delta"`
	ActorRole    string `dynamodbav:"actor_role"`
	Actor        string `dynamodbav:"actor,omitempty"`
}

func sAttr(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }
func nAttr(n int) ddb.AttributeValue    { return &ddb.AttributeValueMemberN{Value: strconv.Itoa(n)} }

func keyAttrs(pk string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"pk": sAttr(pk), "sk": sAttr("A")}
}

// rawAllocate is the same transaction written directly with the SDK, knowing
// the referral's status, version and persons without reading it: the
// idempotency Put (same condition, a sealed body of the size Haven writes,
// sealed once beforehand), the referral Update (status, version, updated_at,
// period; conditional on status and version), the period Update (the same
// counter expressions, per-partner if_not_exists counters, version bump and
// remaining >= :need condition) and the audit event Put.
func rawAllocate(s *allocSetup, sealedBody []byte) func(context.Context, referral.Referral, time.Time) error {
	return func(ctx context.Context, r referral.Referral, now time.Time) error {
		stamp := now.Format(time.RFC3339Nano)
		idem, err := attributevalue.MarshalMap(rawIdem{
			PK: "IDEM#" + allocScope + "#" + allocKey(r.ID), SK: "A", Hash: allocHash(r.ID), Done: true,
			Response: idempotency.Response{Status: 200, Headers: allocHeaders}, SealedBody: sealedBody,
			ExpiresAt: now.Add(idempotency.TTL).Unix(),
		})
		if err != nil {
			return err
		}
		ev, err := attributevalue.MarshalMap(rawEvent{
			PK: "REF#" + r.ID, SK: "EV#" + now.Format("2006-01-02T15:04:05.000000000Z") + "#b" + r.ID, At: stamp,
			Action: referral.ActionAllocated, FromStatus: string(referral.Eligible), ToStatus: string(referral.Allocated),
			PersonsDelta: r.Persons, ActorRole: "officer", Actor: "bench-officer",
		})
		if err != nil {
			return err
		}
		items := []ddb.TransactWriteItem{
			{Put: &ddb.Put{
				TableName: aws.String(s.env.Table), Item: idem,
				ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires_at < :now"),
				ExpressionAttributeValues: map[string]ddb.AttributeValue{":now": nAttr(int(now.Unix()))},
			}},
			{Update: &ddb.Update{
				TableName: aws.String(s.env.Table), Key: keyAttrs("REF#" + r.ID),
				UpdateExpression:         aws.String("SET #st = :to, #ver = :nv, #upd = :now, #per = :per"),
				ConditionExpression:      aws.String("#st = :from AND #ver = :v"),
				ExpressionAttributeNames: map[string]string{"#st": "status", "#ver": "version", "#upd": "updated_at", "#per": "period"},
				ExpressionAttributeValues: map[string]ddb.AttributeValue{
					":to": sAttr(string(referral.Allocated)), ":from": sAttr(string(referral.Eligible)),
					":v": nAttr(r.Version), ":nv": nAttr(r.Version + 1), ":now": sAttr(stamp), ":per": nAttr(allocYear),
				},
			}},
			{Update: &ddb.Update{
				TableName: aws.String(s.env.Table), Key: keyAttrs("PERIOD#hrd#" + strconv.Itoa(allocYear)),
				UpdateExpression: aws.String("SET #res = #res + :dr, #arr = #arr + :da, #rem = #rem - :dt, #wl = #wl + :dw, #ver = #ver + :one, #g1pk = :g1pk, #g1sk = :g1sk" +
					", #pr = if_not_exists(#pr, :zero) + :dr, #pa = if_not_exists(#pa, :zero) + :da"),
				ConditionExpression: aws.String("attribute_exists(pk) AND #rem >= :need"),
				ExpressionAttributeNames: map[string]string{
					"#res": "reserved", "#arr": "arrived", "#rem": "remaining", "#wl": "waitlisted_persons", "#ver": "version",
					"#g1pk": "gsi1pk", "#g1sk": "gsi1sk", "#pr": "reserved#" + r.Partner, "#pa": "arrived#" + r.Partner,
				},
				ExpressionAttributeValues: map[string]ddb.AttributeValue{
					":dr": nAttr(r.Persons), ":da": nAttr(0), ":dt": nAttr(r.Persons), ":dw": nAttr(0),
					":one": nAttr(1), ":need": nAttr(r.Persons), ":zero": nAttr(0),
					":g1pk": sAttr("PERIODS"), ":g1sk": sAttr("hrd#" + strconv.Itoa(allocYear)),
				},
			}},
			{Put: &ddb.Put{
				TableName: aws.String(s.env.Table), Item: ev,
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}},
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	}
}

func medianOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkAllocationThroughput measures, in one run, Haven's allocation
// (Store.Move: GetItem then one TransactWriteItems of 4 items, idempotency
// record included) by 32 concurrent clients, each allocating distinct
// eligible referrals, against raw TransactWriteItems of the same shape issued
// directly with the SDK by 32 concurrent clients on distinct referrals.
//
// Every round sets up two fresh embedded servers the same way (one per arm:
// same table, referrals, period), then runs the arms in alternating chunks
// of allocChunk allocations (32 clients × 2), the order flipping every
// chunk, so that the machine's noise falls on both; an arm's throughput is
// its referrals over the sum of its chunks' wall times. After each round
// both servers are checked: all referrals allocated, the period counters
// equal to the allocated persons (overall and per partner), nothing
// overbooked. Reported: the medians over the rounds of each arm's ops/s,
// ratio = haven-ops/s ÷ raw-ops/s (target ≥ 0.8), the median of the rounds'
// own ratios, and DynamoDB calls and attempts per allocation of each arm.
func BenchmarkAllocationThroughput(b *testing.B) {
	var havenOps, rawOps, ratios []float64
	var havenCalls, rawCalls, havenAttempts, rawAttempts float64
	for b.Loop() {
		for round := 0; round < allocRounds; round++ {
			hs, rs := newAllocSetup(b), newAllocSetup(b)
			// A sealed response body of the size Haven writes for these
			// referrals, sealed once: the raw arm does no Haven work.
			body, err := json.Marshal(rs.refs[len(rs.refs)-1])
			if err != nil {
				b.Fatal(err)
			}
			sealed, err := rs.env.Sealer.Seal(body, []byte("haven/idempotency/bench"))
			if err != nil {
				b.Fatal(err)
			}
			haven, raw := havenAllocate(hs), rawAllocate(rs, sealed)
			hs.calls.reset()
			rs.calls.reset()
			var ht, rt time.Duration
			for k, from := 0, 0; from < allocReferrals; k, from = k+1, from+allocChunk {
				to := min(from+allocChunk, allocReferrals)
				if (k+round)%2 == 0 {
					ht += hs.run(b, from, to, haven)
					rt += rs.run(b, from, to, raw)
				} else {
					rt += rs.run(b, from, to, raw)
					ht += hs.run(b, from, to, haven)
				}
			}
			hc, hn, ha := hs.calls.snapshot()
			rc, rn, ra := rs.calls.snapshot()
			hs.verify(b, "haven")
			rs.verify(b, "raw")
			for _, s := range []*allocSetup{hs, rs} {
				if s.env.Dynamo != nil {
					s.env.Dynamo.Close()
				}
			}
			n := float64(allocReferrals)
			h, r := n/ht.Seconds(), n/rt.Seconds()
			havenOps, rawOps, ratios = append(havenOps, h), append(rawOps, r), append(ratios, h/r)
			havenCalls, rawCalls = float64(hn)/n, float64(rn)/n
			havenAttempts, rawAttempts = float64(ha)/n, float64(ra)/n
			b.Logf("round %d: haven %.1f ops/s (%v), raw %.1f ops/s (%v), ratio %.3f; calls haven %v (%d attempts), raw %v (%d attempts)",
				round+1, h, ht.Round(time.Millisecond), r, rt.Round(time.Millisecond), h/r, hc, ha, rc, ra)
		}
	}
	b.ReportMetric(medianOf(havenOps), "haven-ops/s")
	b.ReportMetric(medianOf(rawOps), "raw-ops/s")
	b.ReportMetric(medianOf(havenOps)/medianOf(rawOps), "ratio")
	b.ReportMetric(medianOf(ratios), "ratio-median-of-rounds")
	b.ReportMetric(havenCalls, "haven-calls/op")
	b.ReportMetric(rawCalls, "raw-calls/op")
	b.ReportMetric(havenAttempts, "haven-attempts/op")
	b.ReportMetric(rawAttempts, "raw-attempts/op")
}
