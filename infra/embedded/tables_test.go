package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

// TestListTables pages through the tables in name order, as DynamoDB does,
// and leaves out a deleted one.
func TestListTables(t *testing.T) {
	ctx := context.Background()
	db := startLimited(t)
	for _, name := range []string{"charlie", "alpha", "delta", "bravo"} {
		createTable(t, db, name)
	}
	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("delta")}); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Names []string
		Last  string
	}
	tests := []struct {
		name  string
		limit *int32
		want  []page
	}{
		{name: "default limit", want: []page{{Names: []string{"alpha", "bravo", "charlie"}}}},
		{name: "limit 2", limit: aws.Int32(2), want: []page{{Names: []string{"alpha", "bravo"}, Last: "bravo"}, {Names: []string{"charlie"}}}},
		{name: "limit 3: no next page", limit: aws.Int32(3), want: []page{{Names: []string{"alpha", "bravo", "charlie"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []page
			in := &dynamodb.ListTablesInput{Limit: tt.limit}
			for {
				out, err := db.ListTables(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page{Names: out.TableNames, Last: aws.ToString(out.LastEvaluatedTableName)})
				if out.LastEvaluatedTableName == nil {
					break
				}
				in.ExclusiveStartTableName = out.LastEvaluatedTableName
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})
	}
	_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(101)})
	if diff := cmp.Diff(validation+"1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", errorOf(err)); diff != "" {
		t.Errorf("limit 101 (-want +got):\n%s", diff)
	}
}

// TestDescribeTable reports what the AWS CLI and the SDK's waiters read:
// an ACTIVE table and indexes, its ARN, keys and attribute definitions.
func TestDescribeTable(t *testing.T) {
	ctx := context.Background()
	db := startLimited(t)
	createTable(t, db, "described")
	put(t, db, "described", pkSK("P", "A"))

	// The waiter's first check finds the table ACTIVE: it returns at once.
	began := time.Now()
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("described")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(began); waited > 5*time.Second {
		t.Errorf("the table-exists waiter took %v", waited)
	}

	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("described")})
	if err != nil {
		t.Fatal(err)
	}
	type index struct {
		Name, Status, Arn string
		Keys              []string
	}
	type table struct {
		Status, Arn, Billing string
		Items                int64
		Keys, Definitions    []string
		Indexes              []index
		Created              bool
	}
	keys := func(ks []ddb.KeySchemaElement) []string {
		var out []string
		for _, k := range ks {
			out = append(out, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		return out
	}
	d := out.Table
	got := table{
		Status: string(d.TableStatus), Arn: aws.ToString(d.TableArn), Items: aws.ToInt64(d.ItemCount),
		Keys: keys(d.KeySchema), Created: d.CreationDateTime != nil && !d.CreationDateTime.IsZero(),
	}
	if d.BillingModeSummary != nil {
		got.Billing = string(d.BillingModeSummary.BillingMode)
	}
	for _, a := range d.AttributeDefinitions {
		got.Definitions = append(got.Definitions, aws.ToString(a.AttributeName)+" "+string(a.AttributeType))
	}
	for _, g := range d.GlobalSecondaryIndexes {
		got.Indexes = append(got.Indexes, index{Name: aws.ToString(g.IndexName), Status: string(g.IndexStatus), Arn: aws.ToString(g.IndexArn), Keys: keys(g.KeySchema)})
	}
	arn := "arn:aws:dynamodb:ca-central-1:000000000000:table/described"
	want := table{
		Status: "ACTIVE", Arn: arn, Billing: "PAY_PER_REQUEST", Items: 1, Created: true,
		Keys:        []string{"pk HASH", "sk RANGE"},
		Definitions: []string{"pk S", "sk S", "gsi1pk S", "gsi1sk S"},
		Indexes:     []index{{Name: "gsi1", Status: "ACTIVE", Arn: arn + "/index/gsi1", Keys: []string{"gsi1pk HASH", "gsi1sk RANGE"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("description (-want +got):\n%s", diff)
	}
}
