package embedded_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/awsconn"
)

// node is one start of the embedded DynamoDB on a data directory. A test
// "crashes" it by dropping it without Close: nothing is folded or flushed
// beyond what each write did before it was answered.
type node struct {
	// db writes without retries: a retried write whose first answer was
	// lost would fail its own condition and miscount. reader reads (the
	// table's items) with the SDK's retries, which a read can take safely.
	db      *dynamodb.Client
	reader  *dynamodb.Client
	journal *embedded.Journal
	server  *embedded.DynamoDB
	rec     embedded.Recovery
}

func start(t *testing.T, dir string, log io.Writer) (*node, error) {
	t.Helper()
	if log == nil {
		log = io.Discard
	}
	j := embedded.NewJournal(dir, slog.New(slog.NewJSONHandler(log, nil)))
	d, err := embedded.StartDynamoDB("127.0.0.1:0", j.Wrap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	clients, err := awsconn.New(context.Background(), awsconn.Options{DynamoDBEndpoint: d.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := embedded.CreateTable(context.Background(), clients.DynamoDB, testenv.Template(t).Tables()[0], "HavenTable"); err != nil {
		t.Fatal(err)
	}
	reader, err := awsconn.New(context.Background(), awsconn.Options{DynamoDBEndpoint: d.URL})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := j.Recover([]string{"HavenTable"})
	return &node{db: clients.DynamoDB, reader: reader.DynamoDB, journal: j, server: d, rec: rec}, err
}

func mustStart(t *testing.T, dir string) *node {
	t.Helper()
	n, err := start(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// crash stops serving without folding the journal.
func (n *node) crash() { n.server.Close() }

// items is the whole table, in key order.
func (n *node) items(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	p := dynamodb.NewScanPaginator(n.reader, &dynamodb.ScanInput{TableName: aws.String("HavenTable")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var items []map[string]any
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			t.Fatal(err)
		}
		out = append(out, items...)
	}
	sort.Slice(out, func(i, j int) bool {
		return fmt.Sprint(out[i]["pk"], out[i]["sk"]) < fmt.Sprint(out[j]["pk"], out[j]["sk"])
	})
	return out
}

func s(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }

func key(pk string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{"pk": s(pk), "sk": s("A")}
}

// writes are one of each kind of write the journal keeps, each followed by
// the state it leaves. Conditional writes that fail change nothing and are
// in the list too; so is a BatchWriteItem the server fails half way, having
// applied its first request.
func writes(t *testing.T, n *node) (states [][]map[string]any) {
	t.Helper()
	ctx := context.Background()
	tbl := aws.String("HavenTable")
	add := func(pk string) *dynamodb.UpdateItemInput {
		return &dynamodb.UpdateItemInput{TableName: tbl, Key: key(pk), UpdateExpression: aws.String("ADD n :one"),
			ExpressionAttributeValues: map[string]ddb.AttributeValue{":one": &ddb.AttributeValueMemberN{Value: "1"}}}
	}
	steps := []struct {
		name    string
		do      func() error
		wantErr bool
	}{
		{"put", func() error {
			_, err := n.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: map[string]ddb.AttributeValue{
				"pk": s("A"), "sk": s("A"), "b": &ddb.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
				"l": &ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{s("x"), &ddb.AttributeValueMemberNULL{Value: true}}},
				"m": &ddb.AttributeValueMemberM{Value: map[string]ddb.AttributeValue{"ss": &ddb.AttributeValueMemberSS{Value: []string{"a", "b"}}}},
			}})
			return err
		}, false},
		{"counter", func() error { _, err := n.db.UpdateItem(ctx, add("C")); return err }, false},
		{"counter again", func() error { _, err := n.db.UpdateItem(ctx, add("C")); return err }, false},
		{"failed condition", func() error {
			_, err := n.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key("A"), ConditionExpression: aws.String("attribute_not_exists(pk)")})
			return err
		}, true},
		{"transaction", func() error {
			_, err := n.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
				{Put: &ddb.Put{TableName: tbl, Item: key("D"), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
				{Update: &ddb.Update{TableName: tbl, Key: key("C"), UpdateExpression: aws.String("ADD n :one"),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":one": &ddb.AttributeValueMemberN{Value: "1"}}}},
			}})
			return err
		}, false},
		{"cancelled transaction", func() error {
			_, err := n.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
				{Update: &ddb.Update{TableName: tbl, Key: key("C"), UpdateExpression: aws.String("ADD n :one"),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":one": &ddb.AttributeValueMemberN{Value: "1"}}}},
				{Put: &ddb.Put{TableName: tbl, Item: key("D"), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			}})
			return err
		}, true},
		{"delete", func() error {
			_, err := n.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key("A")})
			return err
		}, false},
		{"batch", func() error {
			_, err := n.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{
				"HavenTable": {{PutRequest: &ddb.PutRequest{Item: key("E")}}, {PutRequest: &ddb.PutRequest{Item: key("F")}}},
			}})
			return err
		}, false},
		{"batch failing half way", func() error {
			_, err := n.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{
				"HavenTable": {{PutRequest: &ddb.PutRequest{Item: key("G")}}, {PutRequest: &ddb.PutRequest{Item: map[string]ddb.AttributeValue{"pk": s("H")}}}},
			}})
			return err
		}, true},
		{"counter after", func() error { _, err := n.db.UpdateItem(ctx, add("C")); return err }, false},
	}
	for _, st := range steps {
		if err := st.do(); (err != nil) != st.wantErr {
			t.Fatalf("%s: error %v, want error %t", st.name, err, st.wantErr)
		}
		states = append(states, n.items(t))
	}
	return states
}

// TestJournalKeepsEveryAnsweredWrite writes, crashes, restarts, and finds
// exactly the state the last answered write left; twice, so that a replayed
// journal is itself kept.
func TestJournalKeepsEveryAnsweredWrite(t *testing.T) {
	dir := t.TempDir()
	n := mustStart(t, dir)
	states := writes(t, n)
	want := states[len(states)-1]
	n.crash()
	for round := range 2 {
		n = mustStart(t, dir)
		if diff := cmp.Diff(want, n.items(t)); diff != "" {
			t.Fatalf("round %d: after a crash (-want +got):\n%s", round, diff)
		}
		if n.rec.Replayed == 0 || n.rec.Items != 0 {
			t.Errorf("round %d: recovery %+v, want journal records and no snapshot", round, n.rec)
		}
		n.crash()
	}
	// A clean stop folds the journal into the snapshot.
	n = mustStart(t, dir)
	if err := n.journal.Close(); err != nil {
		t.Fatal(err)
	}
	n.crash()
	n = mustStart(t, dir)
	if diff := cmp.Diff(want, n.items(t)); diff != "" {
		t.Fatalf("after a clean stop (-want +got):\n%s", diff)
	}
	if got := (embedded.Recovery{Items: len(want)}); n.rec != got {
		t.Errorf("recovery %+v, want %+v", n.rec, got)
	}
}

// TestJournalFoldAppliesNothingTwice folds with the journal's old content
// left behind, as a crash between writing the snapshot and emptying the
// journal leaves it: the counters must not count twice.
func TestJournalFoldAppliesNothingTwice(t *testing.T) {
	dir := t.TempDir()
	n := mustStart(t, dir)
	states := writes(t, n)
	journal := filepath.Join(dir, "dynamodb.journal")
	before, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.journal.Fold(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(journal); fi.Size() != 0 {
		t.Fatalf("journal has %d bytes after a fold", fi.Size())
	}
	// One more write after the fold, then the crash.
	ctx := context.Background()
	if _, err := n.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("HavenTable"), Item: key("Z")}); err != nil {
		t.Fatal(err)
	}
	want := n.items(t)
	n.crash()
	after, _ := os.ReadFile(journal)
	tests := []struct {
		name    string
		journal []byte
	}{
		{"journal emptied", after},
		{"journal not emptied yet", before},
		{"journal not emptied, then written", append(append([]byte{}, before...), after...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			copyFile(t, filepath.Join(dir, "dynamodb.json"), filepath.Join(d, "dynamodb.json"))
			if err := os.WriteFile(filepath.Join(d, "dynamodb.journal"), tt.journal, 0o600); err != nil {
				t.Fatal(err)
			}
			got := mustStart(t, d).items(t)
			w := want
			if tt.name == "journal not emptied yet" {
				w = states[len(states)-1] // without Z, whose record is not there
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestJournalTornTail damages the journal as a crash or a power loss can,
// and as they cannot.
func TestJournalTornTail(t *testing.T) {
	dir := t.TempDir()
	n := mustStart(t, dir)
	states := writes(t, n)
	n.crash()
	whole, err := os.ReadFile(filepath.Join(dir, "dynamodb.journal"))
	if err != nil {
		t.Fatal(err)
	}
	last, prev := states[len(states)-1], states[len(states)-2]
	tests := []struct {
		name    string
		damage  func([]byte) []byte
		want    []map[string]any
		torn    bool
		wantErr string
	}{
		{"intact", func(b []byte) []byte { return b }, last, false, ""},
		{"last record cut short", func(b []byte) []byte { return b[:len(b)-3] }, prev, true, ""},
		{"a header cut short after the last record", func(b []byte) []byte { return append(b, 7, 0, 0) }, last, true, ""},
		{"zeros after the last record", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, last, true, ""},
		{"last record's checksum wrong", func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }, prev, true, ""},
		{"a record in the middle damaged", func(b []byte) []byte {
			second := 8 + int(binary.LittleEndian.Uint32(b)) // the second record's header
			b[second+8+12] ^= 0xff                           // a byte of its payload
			return b
		}, nil, false, "damaged record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "dynamodb.journal"), tt.damage(append([]byte{}, whole...)), 0o600); err != nil {
				t.Fatal(err)
			}
			log := &testenv.LogBuffer{}
			n, err := start(t, d, log)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, n.items(t)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got := n.rec.Torn > 0; got != tt.torn {
				t.Errorf("torn %d bytes, want torn %t", n.rec.Torn, tt.torn)
			}
			if got := strings.Contains(log.String(), "dropped an incomplete record"); got != tt.torn {
				t.Errorf("log says so: %t, want %t:\n%s", got, tt.torn, log)
			}
			// What was kept is kept: writing on and crashing again loses nothing.
			if _, err := n.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("HavenTable"), Item: key("Y")}); err != nil {
				t.Fatal(err)
			}
			want := n.items(t)
			n.crash()
			if diff := cmp.Diff(want, mustStart(t, d).items(t)); diff != "" {
				t.Errorf("after writing on (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCorruptSnapshotRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dynamodb.json"), []byte(`{"journal":3,"tables":{"HavenTable":[{"pk":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := start(t, dir, nil); err == nil || !strings.Contains(err.Error(), "read snapshot") {
		t.Fatalf("error %v, want one about the snapshot", err)
	}
}

// TestJournalConcurrentWrites checks, under -race, that concurrent
// conditional writes are journaled in the order they were applied: replay
// must reach the same state, and every answered increment is there.
func TestJournalConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	n := mustStart(t, dir)
	n.journal.FoldBytes = 4 << 10 // fold often, under the writes
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				// A conditional increment: replayed out of order, the
				// conditions would fail.
				_, err := n.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
					{Update: &ddb.Update{TableName: aws.String("HavenTable"), Key: key("COUNTER"),
						UpdateExpression:          aws.String("SET n = if_not_exists(n, :zero) + :one"),
						ExpressionAttributeValues: map[string]ddb.AttributeValue{":one": &ddb.AttributeValueMemberN{Value: "1"}, ":zero": &ddb.AttributeValueMemberN{Value: "0"}}}},
					{Put: &ddb.Put{TableName: aws.String("HavenTable"), Item: key(fmt.Sprintf("W%d-%d", w, i)), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
				}})
				if err == nil {
					mu.Lock()
					answered++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	want := n.items(t)
	n.crash()
	got := mustStart(t, dir).items(t)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(got) != answered+1 || fmt.Sprint(got[0]["n"]) != fmt.Sprint(answered) {
		t.Errorf("%d items, counter %v; want %d and %d", len(got), got[0]["n"], answered+1, answered)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
