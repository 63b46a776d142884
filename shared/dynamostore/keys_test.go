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

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// copyTable copies every item of e's referral table into a new table, as
// a backup, an export or a snapshot of it would, and returns its name.
func copyTable(t *testing.T, e *testenv.Env, name string) string {
	t.Helper()
	ctx := context.Background()
	for _, tb := range testenv.Template(t).Tables() {
		if tb.LogicalID == "HavenTable" {
			if err := embedded.CreateTable(ctx, e.DB, tb, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := dynamodb.NewScanPaginator(e.DB, &dynamodb.ScanInput{TableName: aws.String(e.Table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if _, err := e.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: it}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return name
}

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
	backup := dynamostore.New(e.DB, copyTable(t, e, "HavenTable-backup"), e.Sealer).WithKeyTable(e.KeyTable)
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
	backup := dynamostore.New(e.DB, copyTable(t, e, "HavenTable-migrated"), e.Sealer).WithKeyTable(e.KeyTable)
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
