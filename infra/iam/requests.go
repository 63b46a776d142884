package iam

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Requests are the IAM requests one SDK call makes, in the order IAM would
// meet them. service is the SDK's service id ("DynamoDB", "S3", "KMS"),
// operation its operation name and input the operation's input.
//
// DynamoDB: a transaction is authorised item by item by the action of each
// item (PutItem, UpdateItem, DeleteItem, ConditionCheckItem; GetItem for
// TransactGetItems), a batch by its own action on each table; Query and Scan
// on an index need the index's ARN (table/X/index/Y). S3: the multipart
// calls need s3:PutObject, except AbortMultipartUpload
// (s3:AbortMultipartUpload) and ListParts (s3:ListMultipartUploadParts);
// ListObjects carries s3:prefix. An object write or read in a bucket whose
// default encryption is SSE-KMS also needs the KMS action S3 calls for the
// caller (kms:GenerateDataKey to write, kms:Decrypt to read or to continue a
// multipart upload), with kms:ViaService s3.<region>.amazonaws.com and the
// bucket's ARN as encryption context (S3 Bucket Keys). KMS: the key's ARN,
// with kms:EncryptionContext:<key> and kms:EncryptionContextKeys.
//
// An operation not listed here needs "<service>:<operation>" on the table,
// bucket (and key) or KMS key its input names, or on "*".
func (s *Stack) Requests(service, operation string, input any) []Request {
	switch service {
	case "DynamoDB":
		return s.dynamoDB(operation, input)
	case "S3":
		return s.s3(operation, input)
	case "KMS":
		return s.kms(operation, input)
	}
	return []Request{{Action: prefixOf(service) + ":" + operation, Resource: "*"}}
}

func prefixOf(service string) string {
	switch service {
	case "DynamoDB":
		return "dynamodb"
	case "S3":
		return "s3"
	case "KMS":
		return "kms"
	}
	return service
}

func (s *Stack) table(name string) string { return tableARN(Region, Account, name) }

func (s *Stack) dynamoDB(op string, input any) []Request {
	req := func(action, resource string) Request {
		return Request{Action: "dynamodb:" + action, Resource: resource}
	}
	switch in := input.(type) {
	case *dynamodb.QueryInput:
		if in.IndexName != nil {
			return []Request{req(op, indexARN(Region, Account, aws.ToString(in.TableName), *in.IndexName))}
		}
		return []Request{req(op, s.table(aws.ToString(in.TableName)))}
	case *dynamodb.ScanInput:
		if in.IndexName != nil {
			return []Request{req(op, indexARN(Region, Account, aws.ToString(in.TableName), *in.IndexName))}
		}
		return []Request{req(op, s.table(aws.ToString(in.TableName)))}
	case *dynamodb.TransactWriteItemsInput:
		var out []Request
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, req("PutItem", s.table(aws.ToString(it.Put.TableName))))
			case it.Update != nil:
				out = append(out, req("UpdateItem", s.table(aws.ToString(it.Update.TableName))))
			case it.Delete != nil:
				out = append(out, req("DeleteItem", s.table(aws.ToString(it.Delete.TableName))))
			case it.ConditionCheck != nil:
				out = append(out, req("ConditionCheckItem", s.table(aws.ToString(it.ConditionCheck.TableName))))
			}
		}
		return out
	case *dynamodb.TransactGetItemsInput:
		var out []Request
		for _, it := range in.TransactItems {
			if it.Get != nil {
				out = append(out, req("GetItem", s.table(aws.ToString(it.Get.TableName))))
			}
		}
		return out
	case *dynamodb.BatchWriteItemInput:
		return perTable(in.RequestItems, func(t string) Request { return req(op, s.table(t)) })
	case *dynamodb.BatchGetItemInput:
		return perTable(in.RequestItems, func(t string) Request { return req(op, s.table(t)) })
	case *dynamodb.ListTablesInput:
		return []Request{req(op, "*")}
	}
	if t := field(input, "TableName"); t != "" {
		return []Request{req(op, s.table(t))}
	}
	return []Request{req(op, "*")}
}

func perTable[V any](items map[string]V, f func(string) Request) []Request {
	tables := make([]string, 0, len(items))
	for t := range items {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	out := make([]Request, len(tables))
	for i, t := range tables {
		out[i] = f(t)
	}
	return out
}

// s3Actions maps S3 operations on an object to their IAM action and the
// KMS action SSE-KMS adds ("" for none).
var s3Actions = map[string][2]string{
	"PutObject":               {"s3:PutObject", "kms:GenerateDataKey"},
	"CreateMultipartUpload":   {"s3:PutObject", "kms:GenerateDataKey"},
	"UploadPart":              {"s3:PutObject", "kms:Decrypt"},
	"UploadPartCopy":          {"s3:PutObject", "kms:Decrypt"},
	"CompleteMultipartUpload": {"s3:PutObject", "kms:Decrypt"},
	"AbortMultipartUpload":    {"s3:AbortMultipartUpload", ""},
	"ListParts":               {"s3:ListMultipartUploadParts", ""},
	"GetObject":               {"s3:GetObject", "kms:Decrypt"},
	"HeadObject":              {"s3:GetObject", "kms:Decrypt"},
	"DeleteObject":            {"s3:DeleteObject", ""},
	"GetObjectAttributes":     {"s3:GetObjectAttributes", ""},
}

func (s *Stack) s3(op string, input any) []Request {
	bucket, key := field(input, "Bucket"), field(input, "Key")
	if a, ok := s3Actions[op]; ok {
		out := []Request{{Action: a[0], Resource: objectARN(bucket, key), Context: secure()}}
		if k := s.BucketKeys[bucket]; k != "" && a[1] != "" {
			out = append(out, Request{Action: a[1], Resource: k, Context: map[string][]string{
				"kms:ViaService":                   {"s3." + Region + ".amazonaws.com"},
				"kms:CallerAccount":                {Account},
				"kms:EncryptionContext:aws:s3:arn": {bucketARN(bucket)},
				"kms:EncryptionContextKeys":        {"aws:s3:arn"},
			}})
		}
		return out
	}
	out := s.s3Bucket(op, bucket, input)
	for i := range out {
		if out[i].Context == nil {
			out[i].Context = map[string][]string{}
		}
		out[i].Context["aws:SecureTransport"] = []string{"true"}
	}
	return out
}

// secure is the context every S3 request carries: the SDK calls AWS over
// HTTPS, whatever endpoint a local run uses.
func secure() map[string][]string {
	return map[string][]string{"aws:SecureTransport": {"true"}}
}

func (s *Stack) s3Bucket(op, bucket string, input any) []Request {
	switch in := input.(type) {
	case *s3.ListObjectsV2Input:
		return []Request{listBucket(bucket, in.Prefix)}
	case *s3.ListObjectsInput:
		return []Request{listBucket(bucket, in.Prefix)}
	case *s3.HeadBucketInput:
		return []Request{{Action: "s3:ListBucket", Resource: bucketARN(bucket)}}
	case *s3.ListMultipartUploadsInput:
		return []Request{{Action: "s3:ListBucketMultipartUploads", Resource: bucketARN(bucket)}}
	case *s3.DeleteObjectsInput:
		var out []Request
		if in.Delete != nil {
			for _, o := range in.Delete.Objects {
				out = append(out, Request{Action: "s3:DeleteObject", Resource: objectARN(bucket, aws.ToString(o.Key))})
			}
		}
		return out
	}
	if bucket == "" {
		return []Request{{Action: "s3:" + op, Resource: "*"}}
	}
	return []Request{{Action: "s3:" + op, Resource: bucketARN(bucket)}}
}

func listBucket(bucket string, prefix *string) Request {
	r := Request{Action: "s3:ListBucket", Resource: bucketARN(bucket)}
	if prefix != nil {
		r.Context = map[string][]string{"s3:prefix": {*prefix}}
	}
	return r
}

func (s *Stack) kms(op string, input any) []Request {
	r := Request{Action: "kms:" + op, Resource: "*", Context: map[string][]string{"kms:CallerAccount": {Account}}}
	if id := field(input, "KeyId"); id != "" {
		r.Resource = keyARN(Region, Account, id)
	}
	var ec map[string]string
	switch in := input.(type) {
	case *kms.DecryptInput:
		ec = in.EncryptionContext
	case *kms.EncryptInput:
		ec = in.EncryptionContext
	case *kms.GenerateDataKeyInput:
		ec = in.EncryptionContext
	case *kms.GenerateDataKeyWithoutPlaintextInput:
		ec = in.EncryptionContext
	case *kms.ReEncryptInput:
		ec = in.DestinationEncryptionContext
	}
	if len(ec) > 0 {
		names := make([]string, 0, len(ec))
		for k, v := range ec {
			r.Context["kms:EncryptionContext:"+k] = []string{v}
			names = append(names, k)
		}
		sort.Strings(names)
		r.Context["kms:EncryptionContextKeys"] = names
	}
	return []Request{r}
}

// field is the string field name of the struct *input points to ("" when
// there is none).
func field(input any, name string) string {
	v := reflect.ValueOf(input)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName(name)
	switch {
	case !f.IsValid():
		return ""
	case f.Kind() == reflect.String:
		return f.String()
	case f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String:
		return f.Elem().String()
	}
	return ""
}

func (r Request) String() string { return fmt.Sprintf("%s on %s", r.Action, r.Resource) }
