package embedded_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/awsconn"
)

// startApart starts a journaled server on dir with the template's tables,
// KeyTable kept apart in keys.json as the runner keeps it.
func startApart(t *testing.T, dir string) (*dynamodb.Client, *embedded.Journal, *embedded.DynamoDB) {
	t.Helper()
	j := embedded.NewJournal(dir, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	j.Apart = map[string]string{"KeyTable": "keys.json"}
	d, err := embedded.StartDynamoDB("127.0.0.1:0", j.Wrap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	clients, err := awsconn.New(context.Background(), awsconn.Options{DynamoDBEndpoint: d.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range testenv.Template(t).Tables() {
		if err := embedded.CreateTable(context.Background(), clients.DynamoDB, tb, tb.LogicalID); err != nil {
			t.Fatal(err)
		}
		names = append(names, tb.LogicalID)
	}
	if _, err := j.Recover(names); err != nil {
		t.Fatal(err)
	}
	return clients.DynamoDB, j, d
}

func putBoth(t *testing.T, db *dynamodb.Client, id string) {
	t.Helper()
	_, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
		{Put: &ddb.Put{TableName: aws.String("HavenTable"), Item: key("REF#" + id)}},
		{Put: &ddb.Put{TableName: aws.String("KeyTable"), Item: map[string]ddb.AttributeValue{"pk": s("KEY#" + id)}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func keyItems(t *testing.T, db *dynamodb.Client) []string {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("KeyTable")})
	if err != nil {
		t.Fatal(err)
	}
	var pks []string
	for _, it := range out.Items {
		pks = append(pks, it["pk"].(*ddb.AttributeValueMemberS).Value)
	}
	return pks
}

// TestJournalKeepsKeysApart: the key table's items are snapshotted into a
// file of their own, never into dynamodb.json; a restart restores both;
// and a crash between replacing keys.json and dynamodb.json recovers from
// the keys file that matches (the one kept as keys.json.prev) and the
// journal, losing and repeating nothing.
func TestJournalKeepsKeysApart(t *testing.T) {
	dir := t.TempDir()
	db, j, d := startApart(t, dir)
	putBoth(t, db, "1")
	if err := j.Fold(); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if main, keys := read("dynamodb.json"), read("keys.json"); strings.Contains(main, "KEY#1") || !strings.Contains(keys, "KEY#1") || !strings.Contains(main, "REF#1") {
		t.Fatalf("after a fold: dynamodb.json %s\nkeys.json %s", main, keys)
	}
	oldMain, oldKeys := read("dynamodb.json"), read("keys.json")
	putBoth(t, db, "2")
	journal := read("dynamodb.journal")
	if err := j.Fold(); err != nil {
		t.Fatal(err)
	}
	newKeys := read("keys.json")
	d.Close()

	restarted, _, _ := startApart(t, dir)
	if diff := cmp.Diff([]string{"KEY#1", "KEY#2"}, slices.Sorted(slices.Values(keyItems(t, restarted)))); diff != "" {
		t.Errorf("keys after a restart (-want +got):\n%s", diff)
	}

	crashed := t.TempDir()
	for name, body := range map[string]string{
		"dynamodb.json": oldMain, "keys.json": newKeys, "keys.json.prev": oldKeys, "dynamodb.journal": journal,
	} {
		if err := os.WriteFile(filepath.Join(crashed, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	recovered, _, _ := startApart(t, crashed)
	if diff := cmp.Diff([]string{"KEY#1", "KEY#2"}, slices.Sorted(slices.Values(keyItems(t, recovered)))); diff != "" {
		t.Errorf("keys after a crash between the two snapshots (-want +got):\n%s", diff)
	}
}
