package iam_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/samtemplate"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/s3store"
)

// TestProxy: through a function's proxy, the real SDK gets AWS's own
// answers: what the role allows reaches the server, what it does not comes
// back as DynamoDB's AccessDeniedException or S3's 403 AccessDenied.
func TestProxy(t *testing.T) {
	ctx := context.Background()
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := iam.Load(tpl, iam.LocalRefs(tpl, nil))
	if err != nil {
		t.Fatal(err)
	}
	enf := &iam.Enforcer{Stack: st, Log: &iam.Log{}} // denials on purpose: not recorded
	d, err := embedded.StartDynamoDB("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	s, err := embedded.StartS3("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	admin, err := awsconn.New(ctx, awsconn.Options{DynamoDBEndpoint: d.URL, S3Endpoint: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := embedded.CreateTables(ctx, admin.DynamoDB, tpl.Tables()); err != nil {
		t.Fatal(err)
	}
	if err := embedded.CreateBuckets(ctx, s3store.NewClient(admin.Config, s.URL), tpl.Buckets()); err != nil {
		t.Fatal(err)
	}
	proxy := func(function, service, target string) string {
		u, _ := url.Parse(target)
		srv := httptest.NewServer(enf.Proxy(function, service, u))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	table := aws.String(embedded.TableName("HavenTable"))
	key := map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "x"}, "sk": &ddb.AttributeValueMemberS{Value: "y"}}
	history, err := awsconn.New(ctx, awsconn.Options{DynamoDBEndpoint: proxy("ReferralHistoryFunction", "DynamoDB", d.URL)})
	if err != nil {
		t.Fatal(err)
	}
	report, err := awsconn.New(ctx, awsconn.Options{S3Endpoint: "set"})
	if err != nil {
		t.Fatal(err)
	}
	reportS3 := s3store.NewClient(report.Config, proxy("DailyReportFunction", "S3", s.URL))
	denied := func(err error, code string) bool {
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == code && strings.Contains(api.ErrorMessage(), "is not authorized to perform")
	}
	for _, tc := range []struct {
		name     string
		call     func() error
		wantCode string // "" when allowed
	}{
		{"query allowed", func() error {
			_, err := history.DynamoDB.Query(ctx, &dynamodb.QueryInput{TableName: table, KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": &ddb.AttributeValueMemberS{Value: "x"}}})
			return err
		}, ""},
		{"get denied", func() error {
			_, err := history.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key})
			return err
		}, "AccessDeniedException"},
		{"transaction item denied", func() error {
			_, err := history.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{{Delete: &ddb.Delete{TableName: table, Key: key}}}})
			return err
		}, "AccessDeniedException"},
		{"put report allowed", func() error {
			_, err := reportS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(embedded.BucketName("ReportsBucket")), Key: aws.String("r.json"), Body: strings.NewReader("{}")})
			return err
		}, ""},
		{"put export denied", func() error {
			_, err := reportS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(embedded.BucketName("ExportsBucket")), Key: aws.String("e.csv"), Body: strings.NewReader("x")})
			return err
		}, "AccessDenied"},
		{"read report denied", func() error {
			_, err := reportS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(embedded.BucketName("ReportsBucket")), Key: aws.String("r.json")})
			return err
		}, "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.wantCode == "" && err != nil {
				t.Fatalf("allowed call failed: %v", err)
			}
			if tc.wantCode != "" && !denied(err, tc.wantCode) {
				t.Fatalf("got %v, want %s from AWS's answer", err, tc.wantCode)
			}
		})
	}
}
