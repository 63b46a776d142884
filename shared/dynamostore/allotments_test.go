package dynamostore_test

import (
	"context"
	"fmt"
	"testing"

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

const (
	fld   = "front-line-defenders"
	unhcr = "unhcr"
)

func setPlan(t testing.TB, s *dynamostore.Store, capacity int, allotments map[string]int) (quota.Period, error) {
	t.Helper()
	c := dynamostore.CapacityChange{Stream: "hrd", Year: lcYear, Capacity: capacity, Allotments: allotments, ActorRole: "admin", Actor: "a", Nonce: "plan" + tick().String()}
	p, _, err := s.SetCapacity(context.Background(), c, func(quota.Period) (dynamostore.Idem, error) { return nil, nil }, tick())
	return p, err
}

// TestAllotmentsDoneWhen is the scenario: capacity 10 with
// allotments FLD 4 and UNHCR 6. FLD family of 3 → allocated; FLD family of
// 2 → waitlisted partner-allotment-full although 7 remain; UNHCR family of
// 6 → allocated. FLD withdraws its 3 → its 2 is promoted.
func TestAllotmentsDoneWhen(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 10)
	ctx := context.Background()
	if _, err := setPlan(t, e.Store, 10, map[string]int{fld: 4, unhcr: 6}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []referral.Referral{
		lcReferral("F3", fld, referral.Normal, 2, tick()),
		lcReferral("F2", fld, referral.Normal, 1, tick()),
		lcReferral("U6", unhcr, referral.Normal, 5, tick()),
	} {
		mustCreate(t, e.Store, r)
		drive(t, e.Store, r.ID, referral.Eligible)
	}
	drive(t, e.Store, "F3", referral.Allocated)
	res, err := move(ctx, e.Store, "F2", referral.Allocated, tick())
	if err != nil {
		t.Fatal(err)
	}
	if res.Referral.Status != referral.Waitlisted || res.Referral.WaitlistReason != quota.WaitAllotmentFull {
		t.Fatalf("FLD family of 2: %s %q, want waitlisted %s", res.Referral.Status, res.Referral.WaitlistReason, quota.WaitAllotmentFull)
	}
	if p := period(t, e.Store); p.Remaining != 7 {
		t.Fatalf("remaining %d, want 7", p.Remaining)
	}
	stored, _ := e.Store.Get(ctx, "F2", "", dynamostore.Bare)
	if stored.WaitlistReason != quota.WaitAllotmentFull {
		t.Errorf("stored waitlist reason %q", stored.WaitlistReason)
	}
	drive(t, e.Store, "U6", referral.Allocated)
	// Lowering FLD's allotment below what it holds is refused, nothing changed.
	if _, err := setPlan(t, e.Store, 10, map[string]int{fld: 2, unhcr: 6}); problem.KindOf(err) != problem.CapacityBelowCommitted {
		t.Errorf("allotment below held: %v, want capacity-below-committed", err)
	}
	res, err = move(ctx, e.Store, "F3", referral.Withdrawn, tick())
	if err != nil || !res.Released {
		t.Fatalf("withdraw: %+v %v", res, err)
	}
	if n, err := e.Store.Promote(ctx, "hrd", lcYear, tick); err != nil || n != 1 {
		t.Fatalf("promote: %d %v", n, err)
	}
	got, _ := e.Store.Get(ctx, "F2", "", dynamostore.Bare)
	if got.Status != referral.Allocated || got.WaitlistReason != "" {
		t.Errorf("F2 after promotion: %s %q", got.Status, got.WaitlistReason)
	}
	p := period(t, e.Store)
	want := quota.Period{Stream: "hrd", Year: lcYear, Capacity: 10, Reserved: 8, Remaining: 2, Pool: 0,
		Partners:   map[string]quota.PartnerCount{fld: {Reserved: 2}, unhcr: {Reserved: 6}},
		Allotments: map[string]int{fld: 4, unhcr: 6}, Left: map[string]int{fld: 2, unhcr: 0}}
	if diff := cmp.Diff(want, p, cmpPeriod); diff != "" {
		t.Errorf("period (-want +got):\n%s", diff)
	}
	if !p.Consistent() {
		t.Errorf("inconsistent %+v", p)
	}
}

// cmpPeriod leaves out the version, which counts every write.
var cmpPeriod = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Version" }, cmp.Ignore())

// TestAllotmentsStreamFull: a partner without an allotment shares what is
// not allotted, and waits with stream-full when that is gone even if an
// allotted partner has room; a promotion never gives it allotted spaces.
func TestAllotmentsStreamFull(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 10)
	ctx := context.Background()
	if _, err := setPlan(t, e.Store, 10, map[string]int{fld: 4}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []referral.Referral{
		lcReferral("U5", unhcr, referral.Normal, 4, tick()),
		lcReferral("U2", unhcr, referral.Emergency, 1, tick()),
		lcReferral("F1", fld, referral.Normal, 0, tick()),
	} {
		mustCreate(t, e.Store, r)
		drive(t, e.Store, r.ID, referral.Eligible)
	}
	drive(t, e.Store, "U5", referral.Allocated)
	res, err := move(ctx, e.Store, "U2", referral.Allocated, tick())
	if err != nil || res.Referral.Status != referral.Waitlisted || res.Referral.WaitlistReason != quota.WaitStreamFull {
		t.Fatalf("U2: %+v %v", res.Referral.Status, err)
	}
	// Raising FLD's allotment does not help UNHCR; removing it does.
	if _, err := setPlan(t, e.Store, 10, map[string]int{fld: 5}); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.Store.Promote(ctx, "hrd", lcYear, tick); n != 0 {
		t.Errorf("promoted %d into allotted spaces", n)
	}
	drive(t, e.Store, "F1", referral.Allocated)
	if _, err := setPlan(t, e.Store, 10, map[string]int{}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Store.Promote(ctx, "hrd", lcYear, tick); n != 1 || err != nil {
		t.Errorf("promoted %d %v, want 1", n, err)
	}
	p := period(t, e.Store)
	if !p.Consistent() || p.Pool != 2 || len(p.Allotments) != 0 || len(p.Left) != 0 {
		t.Errorf("period %+v", p)
	}
}

// TestLegacyPeriodGetsItsPool: a period written before allotments existed
// (no pool attribute) gets its pool on first read and allocates as before.
func TestLegacyPeriodGetsItsPool(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, lcYear, 5)
	ctx := context.Background()
	k := map[string]ddb.AttributeValue{
		"pk": &ddb.AttributeValueMemberS{Value: fmt.Sprintf("PERIOD#hrd#%d", lcYear)}, "sk": &ddb.AttributeValueMemberS{Value: "A"}}
	out, err := e.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Table), Key: k})
	if err != nil {
		t.Fatal(err)
	}
	// The period as it was written before allotments: no pool.
	delete(out.Item, "pool")
	if _, err := e.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.Table), Item: out.Item}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e.Store, lcReferral("L1", unhcr, referral.Normal, 1, tick()))
	drive(t, e.Store, "L1", referral.Eligible, referral.Allocated)
	if p := period(t, e.Store); p.Pool != 3 || !p.Consistent() {
		t.Errorf("legacy period after an allocation: %+v", p)
	}
}
