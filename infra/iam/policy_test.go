package iam

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/samtemplate"
)

const (
	table = "arn:aws:dynamodb:ca-central-1:000000000000:table/HavenTable"
	key   = "arn:aws:kms:ca-central-1:000000000000:key/k1"
)

func TestEvaluate(t *testing.T) {
	writer := Policy{Statements: []Statement{
		{Effect: "Allow", Action: []string{"dynamodb:GetItem", "dynamodb:Put*"}, Resource: []string{table, table + "/index/*"}},
		{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{key}, Condition: []Condition{
			{Operator: "StringEquals", Key: "kms:EncryptionContext:haven:keyset", Values: []string{"haven/seal/data", "haven/seal/fingerprint"}}}},
		{Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{key}, Condition: []Condition{
			{Operator: "StringEquals", Key: "kms:ViaService", Values: []string{"s3.ca-central-1.amazonaws.com"}}}},
		{Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{"arn:aws:s3:::b"}, Condition: []Condition{
			{Operator: "StringLike", Key: "s3:prefix", Values: []string{"unhcr/", "unhcr/*"}}}},
		{Effect: "Allow", Action: []string{"kms:Encrypt"}, Resource: []string{key}, Condition: []Condition{
			{Operator: "ForAllValues:StringEquals", Key: "kms:EncryptionContextKeys", Values: []string{"a", "b"}}}},
		{Effect: "Allow", Action: []string{"kms:ReEncrypt*"}, Resource: []string{key}, Condition: []Condition{
			{Operator: "ForAnyValue:StringEquals", Key: "kms:EncryptionContextKeys", Values: []string{"a"}}}},
		{Effect: "Allow", Action: []string{"kms:DescribeKey"}, Resource: []string{key}, Condition: []Condition{
			{Operator: "StringEqualsIfExists", Key: "kms:ViaService", Values: []string{"s3.ca-central-1.amazonaws.com"}}}},
		{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/?/*"}},
		{Effect: "Allow", Action: []string{"kms:Sign"}, Resource: []string{key}, Condition: []Condition{
			{Operator: "Null", Key: "kms:ViaService", Values: []string{"true"}}}},
		{Effect: "Allow", Action: []string{"kms:Verify"}, Resource: []string{key}, Condition: []Condition{
			{Operator: "StringNotEquals", Key: "kms:ViaService", Values: []string{"s3.ca-central-1.amazonaws.com"}}}},
		{Effect: "Deny", Action: []string{"dynamodb:PutItem"}, Resource: []string{table}, Condition: []Condition{
			{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}}}},
	}}
	via := map[string][]string{"kms:ViaService": {"s3.ca-central-1.amazonaws.com"}}
	for _, tc := range []struct {
		name string
		r    Request
		want Decision
	}{
		{"allowed action", Request{Action: "dynamodb:GetItem", Resource: table}, Allowed},
		{"action case ignored", Request{Action: "DynamoDB:getitem", Resource: table}, Allowed},
		{"action wildcard", Request{Action: "dynamodb:PutItem", Resource: table}, Allowed},
		{"action not granted", Request{Action: "dynamodb:DeleteItem", Resource: table}, ImplicitDeny},
		{"no TransactWriteItems shortcut", Request{Action: "dynamodb:TransactWriteItems", Resource: table}, ImplicitDeny},
		{"index by wildcard", Request{Action: "dynamodb:GetItem", Resource: table + "/index/gsi1"}, Allowed},
		{"other table", Request{Action: "dynamodb:GetItem", Resource: table + "2"}, ImplicitDeny},
		{"resource case kept", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:ca-central-1:000000000000:table/haventable"}, ImplicitDeny},
		{"explicit deny wins", Request{Action: "dynamodb:PutItem", Resource: table, Context: map[string][]string{"aws:SecureTransport": {"false"}}}, ExplicitDeny},
		{"encryption context in list", Request{Action: "kms:Decrypt", Resource: key, Context: map[string][]string{"kms:EncryptionContext:haven:keyset": {"haven/seal/data"}}}, Allowed},
		{"condition key case ignored", Request{Action: "kms:Decrypt", Resource: key, Context: map[string][]string{"KMS:encryptioncontext:haven:keyset": {"haven/seal/fingerprint"}}}, Allowed},
		{"encryption context other", Request{Action: "kms:Decrypt", Resource: key, Context: map[string][]string{"kms:EncryptionContext:haven:keyset": {"other"}}}, ImplicitDeny},
		{"encryption context missing", Request{Action: "kms:Decrypt", Resource: key}, ImplicitDeny},
		{"via S3", Request{Action: "kms:GenerateDataKey", Resource: key, Context: via}, Allowed},
		{"direct, not via S3", Request{Action: "kms:GenerateDataKey", Resource: key}, ImplicitDeny},
		{"prefix like", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: map[string][]string{"s3:prefix": {"unhcr/2026/"}}}, Allowed},
		{"prefix of another partner", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: map[string][]string{"s3:prefix": {"fld/"}}}, ImplicitDeny},
		{"no prefix", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b"}, ImplicitDeny},
		{"for all values: subset", Request{Action: "kms:Encrypt", Resource: key, Context: map[string][]string{"kms:EncryptionContextKeys": {"a"}}}, Allowed},
		{"for all values: absent", Request{Action: "kms:Encrypt", Resource: key}, Allowed},
		{"for all values: one outside", Request{Action: "kms:Encrypt", Resource: key, Context: map[string][]string{"kms:EncryptionContextKeys": {"a", "c"}}}, ImplicitDeny},
		{"for any value: one inside", Request{Action: "kms:ReEncryptFrom", Resource: key, Context: map[string][]string{"kms:EncryptionContextKeys": {"c", "a"}}}, Allowed},
		{"for any value: absent", Request{Action: "kms:ReEncryptFrom", Resource: key}, ImplicitDeny},
		{"if exists: absent", Request{Action: "kms:DescribeKey", Resource: key}, Allowed},
		{"if exists: other", Request{Action: "kms:DescribeKey", Resource: key, Context: map[string][]string{"kms:ViaService": {"dynamodb.ca-central-1.amazonaws.com"}}}, ImplicitDeny},
		{"? is one character", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/x/report.json"}, Allowed},
		{"? is not two", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/xy/report.json"}, ImplicitDeny},
		{"null true: absent", Request{Action: "kms:Sign", Resource: key}, Allowed},
		{"null true: present", Request{Action: "kms:Sign", Resource: key, Context: via}, ImplicitDeny},
		{"negated: absent holds", Request{Action: "kms:Verify", Resource: key}, Allowed},
		{"negated: equal fails", Request{Action: "kms:Verify", Resource: key, Context: via}, ImplicitDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := writer.Evaluate(tc.r); got != tc.want {
				t.Errorf("%v: %v, want %v", tc.r, got, tc.want)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	s := &Stack{BucketKeys: map[string]string{"reports": key}}
	tbl := aws.String("HavenTable")
	via := map[string][]string{
		"kms:ViaService": {"s3.ca-central-1.amazonaws.com"}, "kms:CallerAccount": {Account},
		"kms:EncryptionContext:aws:s3:arn": {"arn:aws:s3:::reports"}, "kms:EncryptionContextKeys": {"aws:s3:arn"},
	}
	obj := "arn:aws:s3:::reports/r/a.json"
	sec := map[string][]string{"aws:SecureTransport": {"true"}}
	for _, tc := range []struct {
		name, service, op string
		in                any
		want              []Request
	}{
		{"get", "DynamoDB", "GetItem", &dynamodb.GetItemInput{TableName: tbl}, []Request{{Action: "dynamodb:GetItem", Resource: table}}},
		{"query on the table", "DynamoDB", "Query", &dynamodb.QueryInput{TableName: tbl}, []Request{{Action: "dynamodb:Query", Resource: table}}},
		{"query on an index", "DynamoDB", "Query", &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("gsi1")}, []Request{{Action: "dynamodb:Query", Resource: table + "/index/gsi1"}}},
		{"transaction item by item", "DynamoDB", "TransactWriteItems", &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
			{Put: &ddb.Put{TableName: tbl}}, {Update: &ddb.Update{TableName: tbl}}, {Delete: &ddb.Delete{TableName: tbl}}, {ConditionCheck: &ddb.ConditionCheck{TableName: tbl}},
		}}, []Request{
			{Action: "dynamodb:PutItem", Resource: table}, {Action: "dynamodb:UpdateItem", Resource: table},
			{Action: "dynamodb:DeleteItem", Resource: table}, {Action: "dynamodb:ConditionCheckItem", Resource: table},
		}},
		{"batch write per table", "DynamoDB", "BatchWriteItem", &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{"HavenTable": nil}},
			[]Request{{Action: "dynamodb:BatchWriteItem", Resource: table}}},
		{"list tables", "DynamoDB", "ListTables", &dynamodb.ListTablesInput{}, []Request{{Action: "dynamodb:ListTables", Resource: "*"}}},
		{"describe table", "DynamoDB", "DescribeTable", &dynamodb.DescribeTableInput{TableName: tbl}, []Request{{Action: "dynamodb:DescribeTable", Resource: table}}},
		{"put object, SSE-KMS", "S3", "PutObject", &s3.PutObjectInput{Bucket: aws.String("reports"), Key: aws.String("r/a.json")},
			[]Request{{Action: "s3:PutObject", Resource: obj, Context: sec}, {Action: "kms:GenerateDataKey", Resource: key, Context: via}}},
		{"multipart create", "S3", "CreateMultipartUpload", &s3.CreateMultipartUploadInput{Bucket: aws.String("reports"), Key: aws.String("r/a.json")},
			[]Request{{Action: "s3:PutObject", Resource: obj, Context: sec}, {Action: "kms:GenerateDataKey", Resource: key, Context: via}}},
		{"multipart part", "S3", "UploadPart", &s3.UploadPartInput{Bucket: aws.String("reports"), Key: aws.String("r/a.json")},
			[]Request{{Action: "s3:PutObject", Resource: obj, Context: sec}, {Action: "kms:Decrypt", Resource: key, Context: via}}},
		{"multipart abort", "S3", "AbortMultipartUpload", &s3.AbortMultipartUploadInput{Bucket: aws.String("reports"), Key: aws.String("r/a.json")},
			[]Request{{Action: "s3:AbortMultipartUpload", Resource: obj, Context: sec}}},
		{"list parts", "S3", "ListParts", &s3.ListPartsInput{Bucket: aws.String("plain"), Key: aws.String("k")},
			[]Request{{Action: "s3:ListMultipartUploadParts", Resource: "arn:aws:s3:::plain/k", Context: sec}}},
		{"put object, no SSE-KMS", "S3", "PutObject", &s3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String("k")},
			[]Request{{Action: "s3:PutObject", Resource: "arn:aws:s3:::plain/k", Context: sec}}},
		{"list with prefix", "S3", "ListObjectsV2", &s3.ListObjectsV2Input{Bucket: aws.String("plain"), Prefix: aws.String("unhcr/")},
			[]Request{{Action: "s3:ListBucket", Resource: "arn:aws:s3:::plain", Context: map[string][]string{"s3:prefix": {"unhcr/"}, "aws:SecureTransport": {"true"}}}}},
		{"delete objects", "S3", "DeleteObjects", &s3.DeleteObjectsInput{Bucket: aws.String("plain"), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("a")}}}},
			[]Request{{Action: "s3:DeleteObject", Resource: "arn:aws:s3:::plain/a", Context: sec}}},
		{"kms decrypt", "KMS", "Decrypt", &kms.DecryptInput{KeyId: aws.String(key), EncryptionContext: map[string]string{"haven:keyset": "haven/seal/data"}},
			[]Request{{Action: "kms:Decrypt", Resource: key, Context: map[string][]string{
				"kms:CallerAccount": {Account}, "kms:EncryptionContext:haven:keyset": {"haven/seal/data"}, "kms:EncryptionContextKeys": {"haven:keyset"},
			}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, s.Requests(tc.service, tc.op, tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestDeniedLooksLikeAWS: what the SDK returns for a denied call is what
// it returns for AWS's answer: an API error with AWS's code, HTTP status and
// message, which Haven's error mapping treats as it would in AWS.
func TestDeniedLooksLikeAWS(t *testing.T) {
	r := Request{Action: "dynamodb:DeleteItem", Resource: table}
	for _, tc := range []struct {
		service, code string
		status        int
	}{
		{"DynamoDB", "AccessDeniedException", 400},
		{"KMS", "AccessDeniedException", 400},
		{"S3", "AccessDenied", 403},
	} {
		err := Denied("WithdrawReferralFunction", tc.service, r, ImplicitDeny)
		var api smithy.APIError
		var resp *awshttp.ResponseError
		if !errors.As(err, &api) || !errors.As(err, &resp) {
			t.Fatalf("%s: %T is not an API error with a response", tc.service, err)
		}
		want := "User: arn:aws:sts::000000000000:assumed-role/WithdrawReferralFunctionRole/WithdrawReferralFunction is not authorized to perform: dynamodb:DeleteItem on resource: " + table + " because no identity-based policy allows the dynamodb:DeleteItem action"
		if api.ErrorCode() != tc.code || resp.HTTPStatusCode() != tc.status || api.ErrorMessage() != want || api.ErrorFault() != smithy.FaultClient {
			t.Errorf("%s: %s %d %q", tc.service, api.ErrorCode(), resp.HTTPStatusCode(), api.ErrorMessage())
		}
	}
}

func TestPolicyTemplates(t *testing.T) {
	refs := map[string]string{"AWS::Partition": "aws", "AWS::Region": Region, "AWS::AccountId": Account, "Tbl": "HavenTable", "Tbl.Arn": table}
	for _, tc := range []struct {
		name     string
		policies string
		want     []Statement
		wantErr  string
	}{
		{"SAM template expanded", "[{DynamoDBReadPolicy: {TableName: !Ref Tbl}}]", []Statement{{Effect: "Allow",
			Action:   []string{"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"},
			Resource: []string{table, table + "/index/*"}}}, ""},
		{"unknown SAM template", "[{DynamoDBEverythingPolicy: {TableName: !Ref Tbl}}]", nil, "unknown SAM policy template DynamoDBEverythingPolicy"},
		{"missing parameter", "[{DynamoDBReadPolicy: {}}]", nil, "parameter TableName is missing"},
		{"managed policy", "[AmazonDynamoDBFullAccess]", nil, "managed policy"},
		{"unknown name", "[{Statement: [{Effect: Allow, Action: s3:GetObject, Resource: !GetAtt Nope.Arn}]}]", nil, `unknown name "Nope.Arn"`},
		{"unmodelled operator", "[{Statement: [{Effect: Allow, Action: s3:GetObject, Resource: '*', Condition: {DateGreaterThan: {aws:CurrentTime: x}}}]}]", nil, "not modelled"},
		{"inline, NoValue dropped", "[{Statement: [{Sid: S, Effect: Allow, Action: [kms:Decrypt, !Ref AWS::NoValue], Resource: !GetAtt Tbl.Arn}]}]",
			[]Statement{{Sid: "S", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{table}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := samtemplate.Parse([]byte("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies: " + tc.policies + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Load(tpl, refs)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, s.Policies["F"].Statements); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
