package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/truora/minidyn/server"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

const lcYear = 2026

// lcT0 has a fraction: audit keys are RFC 3339 with trimmed fractions, which
// sort a whole second after its fractions (reported; eventSK is not ours).
var lcT0 = time.Date(2026, 11, 27, 12, 0, 0, 123_456_789, time.UTC)

// lcReferral is a referral of 1 + family persons.
func lcReferral(id, partner string, u referral.Urgency, family int, created time.Time) referral.Referral {
	r := referral.Referral{
		Input: referral.Input{
			Stream: "hrd", PartnerReference: "REF-" + id, Urgency: u,
			Principal:         referral.Person{GivenName: "Minh", FamilyName: "Khai", DateOfBirth: "1985-03-14", Sex: "F", Nationality: "VNM"},
			CountryOfAsylum:   "THA",
			DefenderProfile:   referral.Profile{RightsAreas: []string{"land"}, Summary: "s"},
			Contact:           referral.Contact{Email: "a@example.org"},
			PreferredLanguage: "en", Consent: referral.Consent{Given: true, Date: "2026-11-01"},
		},
		ID: id, Partner: partner, Status: referral.Submitted, CreatedAt: created, UpdatedAt: created, Version: 1,
	}
	r.FamilyMembers = members(family)
	r.Persons = r.Input.Persons()
	return r
}

func members(n int) []referral.Person {
	var out []referral.Person
	for i := 0; i < n; i++ {
		out = append(out, referral.Person{GivenName: "Kid", FamilyName: "Khai", DateOfBirth: "2015-06-01", Sex: "M", Relationship: "child"})
	}
	return out
}

func mustCreate(t testing.TB, s *dynamostore.Store, r referral.Referral) {
	t.Helper()
	ev := referral.Event{At: r.CreatedAt, Action: referral.ActionCreated, ToStatus: referral.Submitted, ActorRole: "partner", Actor: "sub"}
	if _, err := s.Create(context.Background(), r, ev, nil, r.CreatedAt); err != nil {
		t.Fatalf("create %s: %v", r.ID, err)
	}
}

func noRecord(referral.Referral) (dynamostore.Idem, error) { return nil, nil }

var (
	nonces  int
	clockMu sync.Mutex
	clockAt = lcT0
)

// tick is the tests' clock: later on every call, so that audit events
// order as they happened.
func tick() time.Time {
	clockMu.Lock()
	defer clockMu.Unlock()
	clockAt = clockAt.Add(time.Millisecond)
	return clockAt
}

func step(id string, to referral.Status) dynamostore.Step {
	clockMu.Lock()
	nonces++
	n := nonces
	clockMu.Unlock()
	return dynamostore.Step{ID: id, To: to, Period: lcYear, ActorRole: "officer", Actor: "off-1", Nonce: fmt.Sprint("n", n)}
}

func move(ctx context.Context, s *dynamostore.Store, id string, to referral.Status, now time.Time) (dynamostore.Result, error) {
	res, _, err := s.Move(ctx, step(id, to), noRecord, now)
	return res, err
}

// drive moves a referral along the given statuses, failing the test if one
// move does not land where asked.
func drive(t testing.TB, s *dynamostore.Store, id string, path ...referral.Status) {
	t.Helper()
	for _, to := range path {
		res, err := move(context.Background(), s, id, to, tick())
		if err != nil {
			t.Fatalf("%s → %s: %v", id, to, err)
		}
		if res.Referral.Status != to {
			t.Fatalf("%s → %s: landed in %s", id, to, res.Referral.Status)
		}
	}
}

func lcKind(err error) problem.Kind {
	if err == nil {
		return ""
	}
	return problem.KindOf(err)
}

// rawTable is every item of the table, as stored.
func rawTable(t testing.TB, db *dynamodb.Client, table string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			m := map[string]any{}
			for k, v := range it {
				m[k] = plain(v)
			}
			out[fmt.Sprint(m["pk"], "|", m["sk"])] = m
		}
	}
	return out
}

func plain(v ddb.AttributeValue) any {
	switch x := v.(type) {
	case *ddb.AttributeValueMemberS:
		return x.Value
	case *ddb.AttributeValueMemberN:
		return "N:" + x.Value
	case *ddb.AttributeValueMemberB:
		return fmt.Sprintf("B:%x", x.Value)
	case *ddb.AttributeValueMemberBOOL:
		return x.Value
	case *ddb.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			l[i] = plain(e)
		}
		return l
	case *ddb.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range x.Value {
			m[k] = plain(e)
		}
		return m
	}
	return fmt.Sprintf("%T", v)
}

// counters is the part of a period the invariants are about.
type counters struct {
	Capacity, Reserved, Arrived, Remaining, Waitlisted int
	Partners                                           map[string]quota.PartnerCount
}

func countersOf(p quota.Period) counters {
	c := counters{Capacity: p.Capacity, Reserved: p.Reserved, Arrived: p.Arrived, Remaining: p.Remaining, Waitlisted: p.WaitlistedPersons, Partners: map[string]quota.PartnerCount{}}
	for k, v := range p.Partners {
		if v != (quota.PartnerCount{}) {
			c.Partners[k] = v
		}
	}
	return c
}

// recount recomputes a period's counters from the referrals themselves.
func recount(t testing.TB, s *dynamostore.Store, ids []string, capacity int) counters {
	t.Helper()
	var refs []quota.Counted
	for _, id := range ids {
		r, err := s.Get(context.Background(), id, "", dynamostore.Bare)
		if err != nil {
			t.Fatal(err)
		}
		if r.Period == lcYear {
			refs = append(refs, quota.Counted{Partner: r.Partner, Status: r.Status, Persons: r.Persons})
		}
	}
	return countersOf(quota.Recount("hrd", lcYear, capacity, nil, refs))
}

func period(t testing.TB, s *dynamostore.Store) quota.Period {
	t.Helper()
	p, err := s.GetPeriod(context.Background(), "hrd", lcYear)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func statusOf(t testing.TB, s *dynamostore.Store, id string) referral.Status {
	t.Helper()
	r, err := s.Get(context.Background(), id, "", dynamostore.Bare)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

type histLine struct {
	Action   string
	From, To referral.Status
	Delta    int
	Role     string
}

func history(t testing.TB, s *dynamostore.Store, id string) []histLine {
	t.Helper()
	evs, err := s.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []histLine
	for _, e := range evs {
		out = append(out, histLine{e.Action, e.FromStatus, e.ToStatus, e.PersonsDelta, e.ActorRole})
	}
	return out
}

// TestLifecycleDoneWhen is the scenario at the store: a period of
// 10, families of 6 and 4 allocated, a family of 3 waitlisted; withdrawing
// the family of 4 lets the family of 3 in at the next promotion.
func TestLifecycleDoneWhen(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 10)
	ctx := context.Background()
	for i, fam := range []int{5, 3, 2} {
		mustCreate(t, e.Store, lcReferral(fmt.Sprint("F", fam+1), testenv.Partners[i], referral.Normal, fam, tick()))
		drive(t, e.Store, fmt.Sprint("F", fam+1), referral.Eligible)
	}
	for _, c := range []struct {
		id   string
		want referral.Status
	}{{"F6", referral.Allocated}, {"F4", referral.Allocated}, {"F3", referral.Waitlisted}} {
		res, err := move(ctx, e.Store, c.id, referral.Allocated, tick())
		if err != nil || res.Referral.Status != c.want {
			t.Fatalf("allocate %s: %v, %s; want %s", c.id, err, res.Referral.Status, c.want)
		}
	}
	if got, want := countersOf(period(t, e.Store)), (counters{Capacity: 10, Reserved: 10, Remaining: 0, Waitlisted: 3,
		Partners: map[string]quota.PartnerCount{"unhcr": {Reserved: 6}, "front-line-defenders": {Reserved: 4}}}); !cmp.Equal(got, want) {
		t.Fatalf("period after allocation (-got +want):\n%s", cmp.Diff(got, want))
	}
	res, err := move(ctx, e.Store, "F4", referral.Withdrawn, tick())
	if err != nil || !res.Released {
		t.Fatalf("withdraw: %v released=%v", err, res.Released)
	}
	n, err := e.Store.Promote(ctx, "hrd", lcYear, tick)
	if err != nil || n != 1 {
		t.Fatalf("promote: %d, %v", n, err)
	}
	want := counters{Capacity: 10, Reserved: 9, Remaining: 1, Partners: map[string]quota.PartnerCount{"unhcr": {Reserved: 6}, "protectdefenders-eu": {Reserved: 3}}}
	if diff := cmp.Diff(countersOf(period(t, e.Store)), want); diff != "" {
		t.Errorf("period (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(recount(t, e.Store, []string{"F6", "F4", "F3"}, 10), want); diff != "" {
		t.Errorf("recount (-got +want):\n%s", diff)
	}
	created := histLine{"created", "", referral.Submitted, 0, "partner"}
	screened := histLine{"screened", referral.Submitted, referral.Eligible, 0, "officer"}
	for id, want := range map[string][]histLine{
		"F6": {created, screened, {"allocated", referral.Eligible, referral.Allocated, 6, "officer"}},
		"F4": {created, screened, {"allocated", referral.Eligible, referral.Allocated, 4, "officer"}, {"withdrawn", referral.Allocated, referral.Withdrawn, -4, "officer"}},
		"F3": {created, screened, {"waitlisted", referral.Eligible, referral.Waitlisted, 0, "officer"}, {"allocated", referral.Waitlisted, referral.Allocated, 3, "system"}},
	} {
		if diff := cmp.Diff(history(t, e.Store, id), want); diff != "" {
			t.Errorf("history of %s (-got +want):\n%s", id, diff)
		}
	}
	if q, err := e.Store.Waitlist(ctx, "hrd", lcYear); err != nil || len(q) != 0 {
		t.Errorf("waitlist after promotion: %v, %v", q, err)
	}
}

// pathTo drives a fresh referral to each status.
var pathTo = map[referral.Status][]referral.Status{
	referral.Submitted:  nil,
	referral.Eligible:   {referral.Eligible},
	referral.Ineligible: {referral.Ineligible},
	referral.Allocated:  {referral.Eligible, referral.Allocated},
	referral.Approved:   {referral.Eligible, referral.Allocated, referral.Approved},
	referral.Refused:    {referral.Eligible, referral.Allocated, referral.Refused},
	referral.Arrived:    {referral.Eligible, referral.Allocated, referral.Approved, referral.Arrived},
	referral.Withdrawn:  {referral.Withdrawn},
}

// TestLifecycleInvalidTransitions tries every move the status machine does
// not allow, from every status: each is InvalidTransition and leaves every
// item of the table as it was.
func TestLifecycleInvalidTransitions(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 20)
	ctx := context.Background()
	ids := map[referral.Status]string{}
	for from, path := range pathTo {
		id := "S-" + string(from)
		mustCreate(t, e.Store, lcReferral(id, "unhcr", referral.Normal, 0, tick()))
		drive(t, e.Store, id, path...)
		ids[from] = id
	}
	// A waitlisted referral needs a full period: fill what remains.
	mustCreate(t, e.Store, lcReferral("FULL", "unhcr", referral.Normal, period(t, e.Store).Remaining-1, tick()))
	drive(t, e.Store, "FULL", referral.Eligible, referral.Allocated)
	mustCreate(t, e.Store, lcReferral("S-waitlisted", "unhcr", referral.Normal, 0, tick()))
	drive(t, e.Store, "S-waitlisted", referral.Eligible)
	if res, err := move(ctx, e.Store, "S-waitlisted", referral.Allocated, tick()); err != nil || res.Referral.Status != referral.Waitlisted {
		t.Fatalf("waitlist: %v %s (period %+v)", err, res.Referral.Status, period(t, e.Store))
	}
	ids[referral.Waitlisted] = "S-waitlisted"
	tried := 0
	for _, from := range referral.AllStatuses() {
		for _, to := range referral.AllStatuses() {
			if referral.CanTransition(from, to) {
				continue
			}
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				before := rawTable(t, e.DB, e.Table)
				_, _, err := e.Store.Move(ctx, step(ids[from], to), func(referral.Referral) (dynamostore.Idem, error) {
					rec := idempotency.New("officer::off-1", "k-"+string(from)+string(to), "h", idempotency.Response{Status: 200}, lcT0)
					return &rec, nil
				}, tick())
				if got := lcKind(err); got != problem.InvalidTransition {
					t.Fatalf("got %q (%v), want invalid-transition", got, err)
				}
				if diff := cmp.Diff(before, rawTable(t, e.DB, e.Table)); diff != "" {
					t.Errorf("table changed (-before +after):\n%s", diff)
				}
			})
			tried++
		}
	}
	// Terminal referrals' families cannot change either.
	for _, from := range []referral.Status{referral.Ineligible, referral.Refused, referral.Arrived, referral.Withdrawn} {
		before := rawTable(t, e.DB, e.Table)
		_, _, err := e.Store.ChangeFamily(ctx, dynamostore.FamilyChange{ID: ids[from], Members: members(2), ActorRole: "officer", Nonce: "f"}, noRecord, tick())
		if got := lcKind(err); got != problem.InvalidTransition {
			t.Errorf("family of %s: got %q, want invalid-transition", from, got)
		}
		if diff := cmp.Diff(before, rawTable(t, e.DB, e.Table)); diff != "" {
			t.Errorf("family of %s changed the table:\n%s", from, diff)
		}
	}
	if tried < 60 {
		t.Errorf("tried only %d invalid moves", tried)
	}
}

// TestLifecycleFamily checks that spaces follow a family change: growth
// that does not fit is QuotaExhausted with nothing changed, shrinking gives
// spaces back, a waitlisted family's entry follows.
func TestLifecycleFamily(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 10)
	ctx := context.Background()
	mustCreate(t, e.Store, lcReferral("A", "unhcr", referral.Normal, 3, tick())) // 4
	drive(t, e.Store, "A", referral.Eligible, referral.Allocated)
	mustCreate(t, e.Store, lcReferral("B", "front-line-defenders", referral.Urgent, 4, tick())) // 5
	drive(t, e.Store, "B", referral.Eligible, referral.Allocated, referral.Approved)
	mustCreate(t, e.Store, lcReferral("W", "unhcr", referral.Normal, 2, tick())) // 3, does not fit in 1
	drive(t, e.Store, "W", referral.Eligible)
	if res, _ := move(ctx, e.Store, "W", referral.Allocated, tick()); res.Referral.Status != referral.Waitlisted {
		t.Fatalf("W: %s", res.Referral.Status)
	}
	ids := []string{"A", "B", "W"}
	fam := func(id string, n int) (dynamostore.Result, error) {
		res, _, err := e.Store.ChangeFamily(ctx, dynamostore.FamilyChange{ID: id, Members: members(n), ActorRole: "officer", Actor: "o", Nonce: fmt.Sprint(id, n)}, noRecord, tick())
		return res, err
	}
	tests := []struct {
		name     string
		id       string
		family   int
		wantErr  problem.Kind
		released bool
		want     counters
	}{
		{"grow held beyond remaining", "A", 5, problem.QuotaExhausted, false,
			counters{10, 9, 0, 1, 3, map[string]quota.PartnerCount{"unhcr": {Reserved: 4}, "front-line-defenders": {Reserved: 5}}}},
		{"grow held within remaining", "A", 4, "", false,
			counters{10, 10, 0, 0, 3, map[string]quota.PartnerCount{"unhcr": {Reserved: 5}, "front-line-defenders": {Reserved: 5}}}},
		{"shrink approved gives back", "B", 1, "", true,
			counters{10, 7, 0, 3, 3, map[string]quota.PartnerCount{"unhcr": {Reserved: 5}, "front-line-defenders": {Reserved: 2}}}},
		{"grow waitlisted follows", "W", 5, "", false,
			counters{10, 7, 0, 3, 6, map[string]quota.PartnerCount{"unhcr": {Reserved: 5}, "front-line-defenders": {Reserved: 2}}}},
		{"shrink waitlisted may let it in", "W", 1, "", true,
			counters{10, 7, 0, 3, 2, map[string]quota.PartnerCount{"unhcr": {Reserved: 5}, "front-line-defenders": {Reserved: 2}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := rawTable(t, e.DB, e.Table)
			res, err := fam(tc.id, tc.family)
			if lcKind(err) != tc.wantErr {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if err != nil {
				if diff := cmp.Diff(before, rawTable(t, e.DB, e.Table)); diff != "" {
					t.Errorf("refused change wrote (-before +after):\n%s", diff)
				}
			} else if res.Released != tc.released || res.Referral.Persons != tc.family+1 {
				t.Errorf("released %v persons %d, want %v %d", res.Released, res.Referral.Persons, tc.released, tc.family+1)
			}
			if diff := cmp.Diff(countersOf(period(t, e.Store)), tc.want); diff != "" {
				t.Errorf("period (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(recount(t, e.Store, ids, 10), tc.want); diff != "" {
				t.Errorf("recount (-got +want):\n%s", diff)
			}
		})
	}
	// The waitlist entry followed the shrink: W (2) now fits in 3.
	if n, err := e.Store.Promote(ctx, "hrd", lcYear, tick); err != nil || n != 1 {
		t.Fatalf("promote: %d %v", n, err)
	}
	r, err := e.Store.Get(ctx, "W", "", dynamostore.Whole)
	if err != nil || r.Status != referral.Allocated || len(r.FamilyMembers) != 1 {
		t.Fatalf("W after promotion: %v %s %d members", err, r.Status, len(r.FamilyMembers))
	}
}

// TestLifecyclePromotionOrder checks the fairness rule: emergency, urgent,
// normal, oldest first, and a family that does not fit is skipped, not a
// wall, and keeps its place.
func TestLifecyclePromotionOrder(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 6)
	ctx := context.Background()
	mustCreate(t, e.Store, lcReferral("HOLD", "unhcr", referral.Normal, 5, tick()))
	drive(t, e.Store, "HOLD", referral.Eligible, referral.Allocated)
	waiting := []struct {
		id     string
		u      referral.Urgency
		family int
	}{
		{"N-OLD-2", referral.Normal, 1},
		{"N-NEW-1", referral.Normal, 0},
		{"E-BIG-5", referral.Emergency, 4},
		{"U-1", referral.Urgent, 0},
		{"E-2", referral.Emergency, 1},
	}
	for _, w := range waiting {
		mustCreate(t, e.Store, lcReferral(w.id, "front-line-defenders", w.u, w.family, tick()))
		drive(t, e.Store, w.id, referral.Eligible)
		if res, err := move(ctx, e.Store, w.id, referral.Allocated, tick()); err != nil || res.Referral.Status != referral.Waitlisted {
			t.Fatalf("%s: %v %s", w.id, err, res.Referral.Status)
		}
	}
	q, err := e.Store.Waitlist(ctx, "hrd", lcYear)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, w := range q {
		order = append(order, w.ID)
	}
	if diff := cmp.Diff(order, []string{"E-BIG-5", "E-2", "U-1", "N-OLD-2", "N-NEW-1"}); diff != "" {
		t.Fatalf("waitlist order (-got +want):\n%s", diff)
	}
	// 6 free: E-BIG-5 (5) fits first; then E-2 (2) does not fit in 1, U-1 (1) does.
	drive(t, e.Store, "HOLD", referral.Withdrawn)
	if n, err := e.Store.Promote(ctx, "hrd", lcYear, tick); err != nil || n != 2 {
		t.Fatalf("promote: %d %v", n, err)
	}
	got := map[string]referral.Status{}
	for _, w := range waiting {
		got[w.id] = statusOf(t, e.Store, w.id)
	}
	want := map[string]referral.Status{"E-BIG-5": referral.Allocated, "U-1": referral.Allocated,
		"E-2": referral.Waitlisted, "N-OLD-2": referral.Waitlisted, "N-NEW-1": referral.Waitlisted}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("after first promotion (-got +want):\n%s", diff)
	}
	// E-BIG-5 withdraws: 5 free; E-2 (2) keeps its place ahead of the normals,
	// then N-OLD-2 (2) and N-NEW-1 (1) fit.
	drive(t, e.Store, "E-BIG-5", referral.Withdrawn)
	if n, err := e.Store.Promote(ctx, "hrd", lcYear, tick); err != nil || n != 3 {
		t.Fatalf("second promote: %d %v", n, err)
	}
	if p := period(t, e.Store); p.Remaining != 0 || p.WaitlistedPersons != 0 || !p.Consistent() {
		t.Errorf("period %+v", p)
	}
}

// TestLifecycleOutage: while DynamoDB fails, a move is Unavailable and
// changes nothing; the retry with the same idempotency record commits once,
// and a second retry replays the first answer.
func TestLifecycleOutage(t *testing.T) {
	e := testenv.New(t, testenv.Options{MaxAttempts: 1})
	e.Seed(t, lcYear, 10)
	ctx := context.Background()
	mustCreate(t, e.Store, lcReferral("O", "unhcr", referral.Normal, 2, tick()))
	drive(t, e.Store, "O", referral.Eligible)
	rec := func(next referral.Referral) (dynamostore.Idem, error) {
		r := idempotency.New("officer::off-1", "key-1", "hash-1", idempotency.Response{Status: 200, Body: []byte(next.Status)}, lcT0)
		return &r, nil
	}
	before := rawTable(t, e.DB, e.Table)
	e.Dynamo.Server.EmulateFailure(server.FailureConditionInternalServerError)
	_, _, err := e.Store.Move(ctx, step("O", referral.Allocated), rec, tick())
	e.Dynamo.Server.EmulateFailure(server.FailureConditionNone)
	var pe *problem.Error
	if lcKind(err) != problem.Unavailable || !errorsAs(err, &pe) || pe.RetryAfter <= 0 {
		t.Fatalf("during outage: %v, want unavailable with Retry-After", err)
	}
	if diff := cmp.Diff(before, rawTable(t, e.DB, e.Table)); diff != "" {
		t.Fatalf("outage left a change (-before +after):\n%s", diff)
	}
	res, replay, err := e.Store.Move(ctx, step("O", referral.Allocated), rec, tick())
	if err != nil || replay != nil || res.Referral.Status != referral.Allocated {
		t.Fatalf("retry: %v %v %s", err, replay, res.Referral.Status)
	}
	// The same request again: the record answers (the referral is no longer
	// eligible, so only the record can).
	resp, found, err := e.Store.Replay(ctx, "officer::off-1", "key-1", "hash-1", lcT0.Add(time.Minute))
	if err != nil || !found || string(resp.Body) != "allocated" {
		t.Fatalf("replay: %v %v %q", err, found, resp.Body)
	}
	// And if a retry raced past the replay check, the transaction's record
	// item stops it: nothing is written twice.
	_, replay, err = e.Store.Move(ctx, step("O", referral.Approved), rec, lcT0.Add(time.Minute))
	if err != nil || replay == nil || string(replay.Body) != "allocated" {
		t.Fatalf("raced retry: %v %v", err, replay)
	}
	if got := statusOf(t, e.Store, "O"); got != referral.Allocated {
		t.Fatalf("status %s after raced retry", got)
	}
	if diff := cmp.Diff(countersOf(period(t, e.Store)), counters{10, 3, 0, 7, 0, map[string]quota.PartnerCount{"unhcr": {Reserved: 3}}}); diff != "" {
		t.Errorf("period (-got +want):\n%s", diff)
	}
	if n := len(history(t, e.Store, "O")); n != 3 {
		t.Errorf("history has %d events, want 3 (created, screened, allocated once)", n)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
