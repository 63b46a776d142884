package dynamostore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// TestStoreShreddedReferralUnreadableInCopies: once a referral's data key
// is shredded, a copy of the referral table taken before can no longer be
// opened for that referral with the current keys, while the other
// referrals in the same copy still open; the live table neither.
func TestStoreShreddedReferralUnreadableInCopies(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	gone, kept := sample("SHRED1", "unhcr", "REF-SH1", "Dinara"), sample("KEEP1", "unhcr", "REF-KP1", "Erlan")
	for _, r := range []referral.Referral{gone, kept} {
		if _, err := e.Store.Create(ctx, r, created(t0), nil, t0); err != nil {
			t.Fatal(err)
		}
	}
	backup := dynamostore.New(e.DB, e.CopyTable(t, e.Table+"-backup"), e.Sealer).WithKeyTable(e.KeyTable)
	if _, err := backup.Get(ctx, gone.ID, "", dynamostore.Whole); err != nil {
		t.Fatalf("the copy, before shredding: %v", err)
	}

	shred, ok := e.Store.ShredReferralKey(gone.ID)
	if !ok {
		t.Fatal("the store has no key table")
	}
	// As the disposition does: the shredding rides in a transaction that
	// changes the referral's table too.
	if _, err := e.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
		shred,
		{Update: &ddb.Update{
			TableName: aws.String(e.Table), Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "REF#" + gone.ID}, "sk": &ddb.AttributeValueMemberS{Value: "A"}},
			UpdateExpression: aws.String("SET #s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]ddb.AttributeValue{":s": &ddb.AttributeValueMemberS{Value: string(gone.Status)}},
		}},
	}}); err != nil {
		t.Fatal(err)
	}
	again, _ := e.Store.ShredReferralKey(gone.ID)
	if _, err := e.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{again}}); err != nil {
		t.Errorf("shredding a key already shredded: %v, want nothing to change", err)
	}
	out, err := e.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.KeyTable), Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "KEY#" + gone.ID}}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item != nil {
		t.Errorf("key item after shredding: %v, %v; want none", out.Item, err)
	}

	type result struct{ CopyWhole, CopyListing, LiveWhole, CopyBare problem.Kind }
	_, copyWhole := backup.Get(ctx, gone.ID, "", dynamostore.Whole)
	_, copyListing := backup.Get(ctx, gone.ID, "", dynamostore.Listing)
	_, liveWhole := e.Store.Get(ctx, gone.ID, "", dynamostore.Whole)
	_, copyBare := backup.Get(ctx, gone.ID, "", dynamostore.Bare)
	got := result{kind(copyWhole), kind(copyListing), kind(liveWhole), kind(copyBare)}
	if diff := cmp.Diff(result{problem.Internal, problem.Internal, problem.Internal, ""}, got); diff != "" {
		t.Errorf("the shredded referral (-want +got):\n%s", diff)
	}
	other, err := backup.Get(ctx, kept.ID, "", dynamostore.Whole)
	if err != nil {
		t.Fatalf("another referral of the same copy: %v", err)
	}
	if diff := cmp.Diff(kept, other, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("another referral of the same copy (-want +got):\n%s", diff)
	}
	if _, err := backup.List(ctx, dynamostore.Filter{Partner: "unhcr"}, 10, nil); kind(err) != problem.Internal {
		t.Errorf("a list of the copy that shows the shredded referral: %v, want an internal error", err)
	}
}

// TestStoreMigrateReferralKeys: referrals sealed before per-referral keys
// are re-sealed under keys of their own, a page at a time; a second run
// changes nothing; every referral opens as it was (its version one higher),
// and now shreds like any other.
func TestStoreMigrateReferralKeys(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	var old []referral.Referral
	for i := range 5 {
		old = append(old, sample(fmt.Sprintf("OLD%d", i), "unhcr", fmt.Sprintf("REF-OLD%d", i), "Gulnara"))
	}
	if err := e.Store.PutReferralsRaw(ctx, old); err != nil { // sealed by the data keyset, no key
		t.Fatal(err)
	}
	run := func() (total dynamostore.Migration) {
		t.Helper()
		var from map[string]string
		for {
			m, err := e.Store.MigrateReferralKeys(ctx, from, 2)
			if err != nil {
				t.Fatal(err)
			}
			total.Seen, total.Migrated, total.Skipped = total.Seen+m.Seen, total.Migrated+m.Migrated, total.Skipped+m.Skipped
			if m.Next == nil {
				return total
			}
			from = m.Next
		}
	}
	if diff := cmp.Diff(dynamostore.Migration{Seen: 5, Migrated: 5}, run()); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(dynamostore.Migration{Seen: 5}, run()); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
	for _, r := range old {
		got, err := e.Store.Get(ctx, r.ID, "unhcr", dynamostore.Whole)
		if err != nil {
			t.Fatalf("%s after migration: %v", r.ID, err)
		}
		want := r
		want.Version++
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s after migration (-want +got):\n%s", r.ID, diff)
		}
	}
	backup := dynamostore.New(e.DB, e.CopyTable(t, e.Table+"-migrated"), e.Sealer).WithKeyTable(e.KeyTable)
	shred, _ := e.Store.ShredReferralKey(old[0].ID)
	if _, err := e.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{shred}}); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Get(ctx, old[0].ID, "", dynamostore.Whole); kind(err) != problem.Internal {
		t.Errorf("a migrated, shredded referral in a copy: %v, want unreadable", err)
	}
	if _, err := backup.Get(ctx, old[1].ID, "", dynamostore.Whole); err != nil {
		t.Errorf("another migrated referral in the copy: %v", err)
	}
}

// TestStoreStoredResponseShreddedWithReferral: the response an
// idempotency record keeps for replay (the referral's view) is sealed under
// the referral's own key: it replays while the key exists, and once the key
// is shredded it can no longer be opened, from the table or any copy.
func TestStoreStoredResponseShreddedWithReferral(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	resp := idempotency.Response{Status: 201, Headers: map[string]string{"Location": "/referrals/IDS1"}, Body: []byte(`{"given_name":"Farida"}`)}
	rec := idempotency.New("partner:unhcr:s", "kk", "hash-1", resp, t0)
	if _, err := e.Store.Create(ctx, sample("IDS1", "unhcr", "R-IDS1", "Farida"), created(t0), &rec, t0); err != nil {
		t.Fatal(err)
	}
	raw, err := e.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Table), Key: map[string]ddb.AttributeValue{
		"pk": &ddb.AttributeValueMemberS{Value: "IDEM#partner:unhcr:s#kk"}, "sk": &ddb.AttributeValueMemberS{Value: "A"}}})
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := raw.Item["sealed_body"].(*ddb.AttributeValueMemberB); !ok || len(b.Value) == 0 || b.Value[0] != 0x02 {
		t.Fatalf("stored response %v is not sealed under a referral key", raw.Item["sealed_body"])
	}
	got, found, err := e.Store.Replay(ctx, "partner:unhcr:s", "kk", "hash-1", t0)
	if err != nil || !found {
		t.Fatalf("replay: %v %v", found, err)
	}
	if diff := cmp.Diff(resp, got); diff != "" {
		t.Errorf("replayed (-want +got):\n%s", diff)
	}
	shred, _ := e.Store.ShredReferralKey("IDS1")
	if _, err := e.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{shred}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Store.Replay(ctx, "partner:unhcr:s", "kk", "hash-1", t0); kind(err) != problem.Internal {
		t.Errorf("replay after shredding: %v, want unreadable", err)
	}
}

// TestStoreRefusingLegacy: once every referral has a key of its own, a
// store that refuses legacy referrals opens keyed ones as before but not
// one without a key — such as a migrated referral whose key was deleted and
// whose fields were put back from a copy taken before the migration — so
// the fallback to the data keyset cannot reopen it.
func TestStoreRefusingLegacy(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	keyed, old := sample("KEYED1", "unhcr", "REF-KY1", "Hasan"), sample("OLD9", "unhcr", "REF-OLD9", "Ilyas")
	if _, err := e.Store.Create(ctx, keyed, created(t0), nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.PutReferralsRaw(ctx, []referral.Referral{old}); err != nil {
		t.Fatal(err)
	}
	before := e.CopyTable(t, e.Table+"-premigration")
	if _, err := e.Store.MigrateReferralKeys(ctx, nil, 10); err != nil {
		t.Fatal(err)
	}
	// Put the pre-migration item back and delete the key the migration made.
	out, err := e.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(before), Key: map[string]ddb.AttributeValue{
		"pk": &ddb.AttributeValueMemberS{Value: "REF#" + old.ID}, "sk": &ddb.AttributeValueMemberS{Value: "A"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.Table), Item: out.Item}); err != nil {
		t.Fatal(err)
	}
	shred, _ := e.Store.ShredReferralKey(old.ID)
	if _, err := e.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{shred}}); err != nil {
		t.Fatal(err)
	}
	strict := e.Store.RefusingLegacy()
	type result struct{ Keyed, Restored, RestoredLenient problem.Kind }
	_, k := strict.Get(ctx, keyed.ID, "", dynamostore.Whole)
	_, r := strict.Get(ctx, old.ID, "", dynamostore.Whole)
	_, l := e.Store.Get(ctx, old.ID, "", dynamostore.Whole)
	if diff := cmp.Diff(result{"", problem.Internal, ""}, result{kind(k), kind(r), kind(l)}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
