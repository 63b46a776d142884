package testenv

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/haven-hrd/haven/infra/embedded"
)

// CopyTable copies every item of e's referral table into a new table named
// name, as a backup, an export or a snapshot of it would, and returns the
// name. The key table is not copied: crypto-shredding is proven against
// copies of the referral table made before a key was destroyed.
func (e *Env) CopyTable(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	for _, tb := range Template(t).Tables() {
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
