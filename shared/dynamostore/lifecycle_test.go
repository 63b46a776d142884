package dynamostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
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
			Principal:       referral.Person{GivenName: "Minh", FamilyName: "Khai", DateOfBirth: "1985-03-14", Sex: "F", Nationality: "VNM"},
			CountryOfAsylum: "THA",
			DefenderProfile: referral.Profile{RightsAreas: []string{"land"}, Summary: "s"},
			Contact:         referral.Contact{Email: "a@example.org"},
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
	return countersOf(quota.Recount("hrd", lcYear, capacity, refs))
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
