package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/shared/awsconn"
)

// startLimited serves an embedded DynamoDB and returns a client of it. The
// client keeps the SDK's retries: a refusal (ValidationException) is not
// retried, and a connection the transport dropped while draining an error
// body (seen under load) is.
func startLimited(t *testing.T) *dynamodb.Client {
	t.Helper()
	d, err := embedded.StartDynamoDB("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c, err := awsconn.New(context.Background(), awsconn.Options{DynamoDBEndpoint: d.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c.DynamoDB
}

// createTable makes a table shaped as Haven's: pk/sk, and gsi1 on
// gsi1pk/gsi1sk projecting everything.
func createTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	s := func(n string) ddb.AttributeDefinition {
		return ddb.AttributeDefinition{AttributeName: aws.String(n), AttributeType: ddb.ScalarAttributeTypeS}
	}
	key := func(h, r string) []ddb.KeySchemaElement {
		return []ddb.KeySchemaElement{
			{AttributeName: aws.String(h), KeyType: ddb.KeyTypeHash},
			{AttributeName: aws.String(r), KeyType: ddb.KeyTypeRange},
		}
	}
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddb.BillingModePayPerRequest,
		AttributeDefinitions: []ddb.AttributeDefinition{s("pk"), s("sk"), s("gsi1pk"), s("gsi1sk")},
		KeySchema:            key("pk", "sk"),
		GlobalSecondaryIndexes: []ddb.GlobalSecondaryIndex{{
			IndexName: aws.String("gsi1"), KeySchema: key("gsi1pk", "gsi1sk"),
			Projection: &ddb.Projection{ProjectionType: ddb.ProjectionTypeAll},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func str(s string) *ddb.AttributeValueMemberS { return &ddb.AttributeValueMemberS{Value: s} }

func pkSK(pk, sk string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

// sized is the item pk/sk padded with attribute "pad" to exactly size
// bytes, as DynamoDB counts them.
func sized(pk, sk string, size int) map[string]ddb.AttributeValue {
	it := pkSK(pk, sk)
	it["pad"] = str(strings.Repeat("x", size-embedded.ItemSize(it)-len("pad")))
	if got := embedded.ItemSize(it); got != size {
		panic(fmt.Sprintf("sized: %d bytes, want %d", got, size))
	}
	return it
}

// errorOf is how a test sees a refusal: the code and message the SDK
// surfaces ("" when the call succeeded).
func errorOf(err error) string {
	if err == nil {
		return ""
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err.Error()
	}
	out := api.ErrorCode() + ": " + api.ErrorMessage()
	var tce *ddb.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if r.Message != nil {
				out += "; " + aws.ToString(r.Code) + ": " + aws.ToString(r.Message)
			}
		}
	}
	return out
}

// contents is every item of a table, in key order.
func contents(t *testing.T, db *dynamodb.Client, table string) []map[string]string {
	t.Helper()
	var out []map[string]string
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			row := map[string]string{}
			for k, v := range it {
				row[k] = fmt.Sprintf("%T:%d", v, sizeOf(v))
				if s, ok := v.(*ddb.AttributeValueMemberS); ok && len(s.Value) < 64 {
					row[k] = s.Value
				}
			}
			out = append(out, row)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["pk"]+out[i]["sk"] < out[j]["pk"]+out[j]["sk"] })
	return out
}

func sizeOf(v ddb.AttributeValue) int { return embedded.ItemSize(map[string]ddb.AttributeValue{"": v}) }

func put(t *testing.T, db *dynamodb.Client, table string, item map[string]ddb.AttributeValue) {
	t.Helper()
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

const (
	validation    = "ValidationException: "
	tooLarge      = validation + "Item size has exceeded the maximum allowed size"
	updateTooBig  = validation + "Item size to update has exceeded the maximum allowed size"
	hashTooLarge  = validation + "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
	rangeTooLarge = validation + "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
	txTooLarge    = validation + "Transaction request size has exceeded the maximum allowed size of 4 MB"
)

// TestLimits: each call at a limit is served; each call past it is refused
// as DynamoDB refuses it, and leaves the table as it was.
func TestLimits(t *testing.T) {
	ctx := context.Background()
	const big = 300 << 10 // an item of 300 KB: two fit in neither 400 KB nor a page
	setValue := func(table string, k map[string]ddb.AttributeValue, size int) *dynamodb.UpdateItemInput {
		return &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: k, UpdateExpression: aws.String("SET more = :v"),
			ExpressionAttributeValues: map[string]ddb.AttributeValue{":v": str(strings.Repeat("y", size))},
		}
	}
	puts := func(table string, n, size int) []ddb.TransactWriteItem {
		var items []ddb.TransactWriteItem
		for i := range n {
			items = append(items, ddb.TransactWriteItem{Put: &ddb.Put{TableName: aws.String(table), Item: sized("T", fmt.Sprint(i), size)}})
		}
		return items
	}
	// fill puts items of 400 KB, and one of the rest, adding up to total.
	fill := func(table string, total int) []ddb.TransactWriteItem {
		var items []ddb.TransactWriteItem
		for i := 0; total > 0; i++ {
			size := min(total, embedded.MaxItemSize)
			items = append(items, ddb.TransactWriteItem{Put: &ddb.Put{TableName: aws.String(table), Item: sized("T", fmt.Sprint(i), size)}})
			total -= size
		}
		return items
	}
	nested := func(depth int) ddb.AttributeValue {
		var v ddb.AttributeValue = str("leaf")
		for range depth {
			v = &ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{v}}
		}
		return v
	}
	withAttr := func(it map[string]ddb.AttributeValue, name string, v ddb.AttributeValue) map[string]ddb.AttributeValue {
		it[name] = v
		return it
	}
	tests := []struct {
		name string
		// setup puts the items that are there before the call.
		setup func(t *testing.T, db *dynamodb.Client, table string)
		call  func(db *dynamodb.Client, table string) error
		want  string
	}{
		{
			name: "put of 400 KB",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: sized("P", "A", embedded.MaxItemSize)})
				return err
			},
		},
		{
			name: "put of 400 KB + 1 byte",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: sized("P", "A", embedded.MaxItemSize+1)})
				return err
			},
			want: tooLarge,
		},
		{
			name: "put of 400 KB + 1 byte over an existing item",
			setup: func(t *testing.T, db *dynamodb.Client, table string) {
				put(t, db, table, sized("P", "A", 1000))
			},
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: sized("P", "A", embedded.MaxItemSize+1)})
				return err
			},
			want: tooLarge,
		},
		{
			name: "partition key of 2048 bytes",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: pkSK(strings.Repeat("p", 2048), "A")})
				return err
			},
		},
		{
			name: "partition key of 2049 bytes",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: pkSK(strings.Repeat("p", 2049), "A")})
				return err
			},
			want: hashTooLarge,
		},
		{
			name: "sort key of 1025 bytes (UTF-8 bytes, not characters)",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: pkSK("P", strings.Repeat("é", 512)+"x")})
				return err
			},
			want: rangeTooLarge,
		},
		{
			name: "index partition key of 2049 bytes",
			call: func(db *dynamodb.Client, table string) error {
				it := withAttr(withAttr(pkSK("P", "A"), "gsi1pk", str(strings.Repeat("g", 2049))), "gsi1sk", str("s"))
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
				return err
			},
			want: hashTooLarge,
		},
		{
			name: "get with a sort key of 1025 bytes",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: pkSK("P", strings.Repeat("s", 1025))})
				return err
			},
			want: rangeTooLarge,
		},
		{
			name: "lists nested 32 deep",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttr(pkSK("P", "A"), "deep", nested(32))})
				return err
			},
		},
		{
			name: "lists nested 33 deep",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttr(pkSK("P", "A"), "deep", nested(33))})
				return err
			},
			want: validation + "Nesting Levels have exceeded supported limits",
		},
		{
			name: "attribute name of 65535 bytes",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttr(pkSK("P", "A"), strings.Repeat("n", 65535), str("v"))})
				return err
			},
		},
		{
			name: "attribute name of 65536 bytes",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttr(pkSK("P", "A"), strings.Repeat("n", 65536), str("v"))})
				return err
			},
			want: validation + "1 validation error detected: Value at 'item' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 65535]",
		},
		{
			name: "update to 400 KB",
			setup: func(t *testing.T, db *dynamodb.Client, table string) {
				put(t, db, table, sized("U", "A", big))
			},
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.UpdateItem(ctx, setValue(table, pkSK("U", "A"), embedded.MaxItemSize-big-len("more")))
				return err
			},
		},
		{
			name: "update past 400 KB",
			setup: func(t *testing.T, db *dynamodb.Client, table string) {
				put(t, db, table, sized("U", "A", big))
			},
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.UpdateItem(ctx, setValue(table, pkSK("U", "A"), embedded.MaxItemSize-big-len("more")+1))
				return err
			},
			want: updateTooBig,
		},
		{
			name: "update creating an item past 400 KB",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.UpdateItem(ctx, setValue(table, pkSK("U", "A"), embedded.MaxItemSize))
				return err
			},
			want: updateTooBig,
		},
		{
			name: "transaction of 100 actions",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: puts(table, 100, 100)})
				return err
			},
		},
		{
			name: "transaction of 101 actions",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: puts(table, 101, 100)})
				return err
			},
			want: validation + "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
		},
		{
			name: "transaction with two actions on one item",
			call: func(db *dynamodb.Client, table string) error {
				items := puts(table, 2, 100)
				items[1] = ddb.TransactWriteItem{ConditionCheck: &ddb.ConditionCheck{
					TableName: aws.String(table), Key: pkSK("T", "0"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
				}}
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
				return err
			},
			want: validation + "Transaction request cannot include multiple operations on one item",
		},
		{
			name: "transaction putting an item past 400 KB",
			call: func(db *dynamodb.Client, table string) error {
				items := puts(table, 2, 100)
				items[1].Put.Item = sized("T", "1", embedded.MaxItemSize+1)
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
				return err
			},
			want: tooLarge,
		},
		{
			name: "transaction of 4 MB",
			call: func(db *dynamodb.Client, table string) error {
				items := fill(table, embedded.MaxTransactionSize)
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
				return err
			},
		},
		{
			name: "transaction of 4 MB + 1 byte",
			call: func(db *dynamodb.Client, table string) error {
				items := fill(table, embedded.MaxTransactionSize+1)
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
				return err
			},
			want: txTooLarge,
		},
		{
			name: "transaction whose update grows an item past 400 KB",
			setup: func(t *testing.T, db *dynamodb.Client, table string) {
				put(t, db, table, sized("U", "A", big))
				put(t, db, table, sized("D", "A", 100))
			},
			call: func(db *dynamodb.Client, table string) error {
				u := setValue(table, pkSK("U", "A"), embedded.MaxItemSize-big)
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
					{Put: &ddb.Put{TableName: aws.String(table), Item: sized("N", "A", 100)}},
					{Delete: &ddb.Delete{TableName: aws.String(table), Key: pkSK("D", "A")}},
					{Update: &ddb.Update{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ExpressionAttributeValues: u.ExpressionAttributeValues}},
				}})
				return err
			},
			want: "TransactionCanceledException: Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, ValidationError]; " +
				"ValidationError: Item size to update has exceeded the maximum allowed size",
		},
		{
			name: "transaction whose updates make it past 4 MB",
			call: func(db *dynamodb.Client, table string) error {
				var items []ddb.TransactWriteItem
				for i := range 11 {
					u := setValue(table, pkSK("U", fmt.Sprint(i)), 390<<10)
					items = append(items, ddb.TransactWriteItem{Update: &ddb.Update{
						TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ExpressionAttributeValues: u.ExpressionAttributeValues,
					}})
				}
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
				return err
			},
			want: txTooLarge,
		},
		{
			name: "batch write of 25",
			call: func(db *dynamodb.Client, table string) error {
				return batchWrite(ctx, db, table, 25, 100)
			},
		},
		{
			name: "batch write of 26",
			call: func(db *dynamodb.Client, table string) error {
				return batchWrite(ctx, db, table, 26, 100)
			},
			want: validation + "Too many items requested for the BatchWriteItem call",
		},
		{
			name: "batch write with an item past 400 KB",
			call: func(db *dynamodb.Client, table string) error {
				return batchWrite(ctx, db, table, 3, embedded.MaxItemSize+1)
			},
			want: tooLarge,
		},
		{
			name: "batch get of 101 keys",
			call: func(db *dynamodb.Client, table string) error {
				var keys []map[string]ddb.AttributeValue
				for i := range 101 {
					keys = append(keys, pkSK("B", fmt.Sprint(i)))
				}
				_, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddb.KeysAndAttributes{table: {Keys: keys}}})
				return err
			},
			want: validation + "Too many items requested for the BatchGetItem call",
		},
		{
			name: "condition of 4 KB",
			call: func(db *dynamodb.Client, table string) error {
				return conditionalPut(ctx, db, table, "attribute_not_exists(pk)"+strings.Repeat(" ", 4096-24))
			},
		},
		{
			name: "condition of 4 KB + 1 byte",
			call: func(db *dynamodb.Client, table string) error {
				return conditionalPut(ctx, db, table, "attribute_not_exists(pk)"+strings.Repeat(" ", 4097-24))
			},
			want: validation + "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097",
		},
		{
			name: "IN of 101 operands",
			call: func(db *dynamodb.Client, table string) error {
				vals := map[string]ddb.AttributeValue{}
				var ops []string
				for i := range 101 {
					vals[fmt.Sprintf(":v%d", i)] = str(fmt.Sprint(i))
					ops = append(ops, fmt.Sprintf(":v%d", i))
				}
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
					TableName: aws.String(table), Item: pkSK("C", "A"), ExpressionAttributeValues: vals,
					ConditionExpression: aws.String("attribute_not_exists(pk) OR sk IN (" + strings.Join(ops, ", ") + ")"),
				})
				return err
			},
			want: validation + "Invalid ConditionExpression: The expression contains too many operands for the IN comparator; number of operands: 101",
		},
		{
			name: "update of 301 operators",
			call: func(db *dynamodb.Client, table string) error {
				_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(table), Key: pkSK("C", "A"),
					UpdateExpression:          aws.String("SET n = :one" + strings.Repeat(" + :one", 301)),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":one": &ddb.AttributeValueMemberN{Value: "1"}},
				})
				return err
			},
			want: validation + "Invalid UpdateExpression: The expression contains too many operators; operator count: 301",
		},
		{
			name: "placeholder of 256 bytes",
			call: func(db *dynamodb.Client, table string) error {
				long := "#" + strings.Repeat("n", 255)
				_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(table), Key: pkSK("C", "A"), UpdateExpression: aws.String("SET " + long + " = :v"),
					ExpressionAttributeNames:  map[string]string{long: "name"},
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":v": str("v")},
				})
				return err
			},
			want: validation + "ExpressionAttributeNames contains invalid key: key too long; size of key: 256",
		},
		{
			name: "substitutions past 2 MB",
			call: func(db *dynamodb.Client, table string) error {
				huge := str(strings.Repeat("z", 1<<20))
				_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(table), Key: pkSK("C", "A"), UpdateExpression: aws.String("SET a = :a"),
					ConditionExpression:       aws.String("attribute_not_exists(pk) OR (:b = :c)"),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":a": str("a"), ":b": huge, ":c": huge},
				})
				return err
			},
			want: validation + "ExpressionAttributeNames and ExpressionAttributeValues exceed the maximum allowed size of 2 MB",
		},
	}
	db := startLimited(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := fmt.Sprintf("limits-%d", i)
			createTable(t, db, table)
			if tt.setup != nil {
				tt.setup(t, db, table)
			}
			before := contents(t, db, table)
			err := tt.call(db, table)
			if diff := cmp.Diff(tt.want, errorOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if tt.want == "" {
				return
			}
			if diff := cmp.Diff(before, contents(t, db, table)); diff != "" {
				t.Errorf("a refused call changed the table (-before +after):\n%s", diff)
			}
		})
	}
}

func batchWrite(ctx context.Context, db *dynamodb.Client, table string, n, lastSize int) error {
	var reqs []ddb.WriteRequest
	for i := range n {
		size := 100
		if i == n-1 {
			size = lastSize
		}
		reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: sized("B", fmt.Sprint(i), size)}})
	}
	_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{table: reqs}})
	return err
}

func conditionalPut(ctx context.Context, db *dynamodb.Client, table, cond string) error {
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: pkSK("C", "A"), ConditionExpression: aws.String(cond)})
	return err
}

// TestPages: a Query or Scan page holds at most 1 MB of data read, up to
// and including the item that passes it, and its LastEvaluatedKey (with
// the index key on an index) leads to the rest.
func TestPages(t *testing.T) {
	ctx := context.Background()
	db := startLimited(t)
	createTable(t, db, "pages")
	// Five items of 300 KB: 1 MB is passed by the fourth.
	var want []string
	for i := range 5 {
		it := sized("P", fmt.Sprint(i), 300<<10)
		it["gsi1pk"], it["gsi1sk"] = str("G"), str(fmt.Sprint(9-i))
		put(t, db, "pages", it)
		want = append(want, fmt.Sprint(i))
	}
	small := []string{"S0", "S1", "S2"}
	for _, sk := range small {
		put(t, db, "pages", pkSK("Q", sk))
	}
	type page struct {
		Items   []string
		LastKey []string
	}
	keysOf := func(items []map[string]ddb.AttributeValue, lek map[string]ddb.AttributeValue) page {
		var p page
		for _, it := range items {
			p.Items = append(p.Items, it["sk"].(*ddb.AttributeValueMemberS).Value)
		}
		for k, v := range lek {
			p.LastKey = append(p.LastKey, k+"="+v.(*ddb.AttributeValueMemberS).Value)
		}
		sort.Strings(p.LastKey)
		return p
	}
	// pages calls read from each page's LastEvaluatedKey until there is none.
	pages := func(t *testing.T, read func(start map[string]ddb.AttributeValue) ([]map[string]ddb.AttributeValue, map[string]ddb.AttributeValue, error)) []page {
		var out []page
		var start map[string]ddb.AttributeValue
		for {
			items, last, err := read(start)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, keysOf(items, last))
			if len(last) == 0 {
				return out
			}
			start = last
		}
	}
	query := func(t *testing.T, in dynamodb.QueryInput) []page {
		return pages(t, func(start map[string]ddb.AttributeValue) ([]map[string]ddb.AttributeValue, map[string]ddb.AttributeValue, error) {
			in.ExclusiveStartKey = start
			out, err := db.Query(ctx, &in)
			if err != nil {
				return nil, nil, err
			}
			return out.Items, out.LastEvaluatedKey, nil
		})
	}
	tablePages := []page{{Items: want[:4], LastKey: []string{"pk=P", "sk=3"}}, {Items: want[4:]}}
	tests := []struct {
		name string
		got  func(t *testing.T) []page
		want []page
	}{
		{
			name: "query",
			got: func(t *testing.T) []page {
				return query(t, dynamodb.QueryInput{TableName: aws.String("pages"), KeyConditionExpression: aws.String("pk = :p"),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str("P")}})
			},
			want: tablePages,
		},
		{
			name: "query with a projection: the data read is the whole items",
			got: func(t *testing.T) []page {
				return query(t, dynamodb.QueryInput{TableName: aws.String("pages"), KeyConditionExpression: aws.String("#p = :p"),
					ProjectionExpression: aws.String("#p, sk"), ExpressionAttributeNames: map[string]string{"#p": "pk"},
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str("P")}})
			},
			want: tablePages,
		},
		{
			name: "query with a smaller Limit",
			got: func(t *testing.T) []page {
				return query(t, dynamodb.QueryInput{TableName: aws.String("pages"), KeyConditionExpression: aws.String("pk = :p"), Limit: aws.Int32(3),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str("P")}})
			},
			want: []page{{Items: want[:3], LastKey: []string{"pk=P", "sk=2"}}, {Items: want[3:]}},
		},
		{
			name: "query of small items",
			got: func(t *testing.T) []page {
				return query(t, dynamodb.QueryInput{TableName: aws.String("pages"), KeyConditionExpression: aws.String("pk = :p"),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": str("Q")}})
			},
			want: []page{{Items: small}},
		},
		{
			name: "index query: the key names the index key too",
			got: func(t *testing.T) []page {
				return query(t, dynamodb.QueryInput{TableName: aws.String("pages"), IndexName: aws.String("gsi1"),
					KeyConditionExpression:    aws.String("gsi1pk = :g"),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":g": str("G")}})
			},
			want: []page{{Items: []string{"4", "3", "2", "1"}, LastKey: []string{"gsi1pk=G", "gsi1sk=8", "pk=P", "sk=1"}}, {Items: []string{"0"}}},
		},
		{
			name: "scan",
			got: func(t *testing.T) []page {
				return pages(t, func(start map[string]ddb.AttributeValue) ([]map[string]ddb.AttributeValue, map[string]ddb.AttributeValue, error) {
					out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("pages"), ExclusiveStartKey: start})
					if err != nil {
						return nil, nil, err
					}
					return out.Items, out.LastEvaluatedKey, nil
				})
			},
			want: []page{{Items: want[:4], LastKey: []string{"pk=P", "sk=3"}}, {Items: append(want[4:], small...)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got(t)); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})
	}
}
