package dynamostore_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
)

// relabel rewrites a referral's partner attribute (and its partner index
// key) straight in the table, as a role that may write the table but not
// unwrap the keysets could.
func relabel(t *testing.T, e *testenv.Env, id, partner string) {
	t.Helper()
	_, err := e.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                 aws.String(e.Table),
		Key:                       map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "REF#" + id}, "sk": &ddb.AttributeValueMemberS{Value: "A"}},
		UpdateExpression:          aws.String("SET #p = :p, gsi1pk = :g"),
		ExpressionAttributeNames:  map[string]string{"#p": "partner"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": &ddb.AttributeValueMemberS{Value: partner}, ":g": &ddb.AttributeValueMemberS{Value: "PARTNER#" + partner}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStorePartnerBoundToSealedFields: the partner is part of every sealed
// field's associated data, so a referral relabelled to another partner in
// the table opens for no one — not for the partner it was moved to, not in
// that partner's list, not for an officer — while its bare view (no
// personal data) still reads.
func TestStorePartnerBoundToSealedFields(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	r := sample("RELABEL1", "unhcr", "REF-RL1", "Aigerim")
	if _, err := e.Store.Create(ctx, r, created(t0), nil, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Get(ctx, r.ID, "unhcr", dynamostore.Whole); err != nil {
		t.Fatalf("before relabelling: %v", err)
	}
	relabel(t, e, r.ID, "front-line-defenders")
	type result struct{ Whole, Listing, OtherPartner, List, Bare problem.Kind }
	_, whole := e.Store.Get(ctx, r.ID, "", dynamostore.Whole)
	_, listing := e.Store.Get(ctx, r.ID, "", dynamostore.Listing)
	_, other := e.Store.Get(ctx, r.ID, "front-line-defenders", dynamostore.Whole)
	_, list := e.Store.List(ctx, dynamostore.Filter{Partner: "front-line-defenders"}, 10, nil)
	_, bare := e.Store.Get(ctx, r.ID, "front-line-defenders", dynamostore.Bare)
	got := result{Whole: kind(whole), Listing: kind(listing), OtherPartner: kind(other), List: kind(list), Bare: kind(bare)}
	want := result{Whole: problem.Internal, Listing: problem.Internal, OtherPartner: problem.Internal, List: problem.Internal}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after relabelling to another partner (-want +got):\n%s", diff)
	}
}

// TestStoreOpensFieldsSealedBeforePartnerBinding: a referral whose fields
// were sealed before the partner was bound (associated data
// "haven/referral/<id>/<attr>", by the data keyset, no key of its own)
// still opens.
func TestStoreOpensFieldsSealedBeforePartnerBinding(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	r := sample("LEGACY1", "unhcr", "REF-LG1", "Bolat")
	if _, err := e.Store.Create(ctx, r, created(t0), nil, t0); err != nil {
		t.Fatal(err)
	}
	// Re-seal every field the old way, straight in the table.
	fields := map[string]any{
		"pii_people":  map[string]any{"principal": r.Principal, "family_members": r.FamilyMembers},
		"pii_asylum":  r.CountryOfAsylum,
		"pii_profile": r.DefenderProfile,
		"pii_contact": r.Contact,
	}
	values := map[string]ddb.AttributeValue{}
	names := map[string]string{}
	expr := "SET "
	i := 0
	for attr, v := range fields {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := e.Sealer.Seal(b, []byte("haven/referral/"+r.ID+"/"+attr[len("pii_"):]))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			expr += ", "
		}
		n, v := "#a"+string(rune('0'+i)), ":v"+string(rune('0'+i))
		expr += n + " = " + v
		names[n], values[v] = attr, &ddb.AttributeValueMemberB{Value: ct}
		i++
	}
	if _, err := e.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(e.Table),
		Key:              map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "REF#" + r.ID}, "sk": &ddb.AttributeValueMemberS{Value: "A"}},
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}); err != nil {
		t.Fatal(err)
	}
	// ...and without a key of its own, as before per-referral keys.
	if _, err := e.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(e.KeyTable),
		Key:       map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "KEY#" + r.ID}},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := e.Store.Get(ctx, r.ID, "unhcr", dynamostore.Whole)
	if err != nil {
		t.Fatalf("a referral sealed the old way: %v", err)
	}
	if diff := cmp.Diff(r, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
