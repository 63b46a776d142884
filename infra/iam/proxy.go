package iam

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/oklog/ulid/v2"
)

// Proxy is an endpoint for one function in front of the DynamoDB or S3
// server at target: it decides each request as APIOptions does and answers
// a denied one as AWS does (DynamoDB's JSON AccessDeniedException, S3's XML
// 403 AccessDenied), forwarding the rest. It is for binaries that carry no
// middleware of this package: the built functions the aws-lambda-rie test
// runs. service is "DynamoDB" or "S3" (path-style requests).
func (e *Enforcer) Proxy(function, service string, target *url.URL) http.Handler {
	fwd := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			op    string
			input any
			err   error
		)
		if service == "DynamoDB" {
			op, input, err = dynamoDBCall(r)
		} else {
			op, input = s3Call(r)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := e.Authorize(function, service, op, input); err != nil {
			var api smithy.APIError
			errors.As(err, &api)
			writeDenied(w, service, api.ErrorCode(), api.ErrorMessage())
			return
		}
		fwd.ServeHTTP(w, r)
	})
}

// dynamoDBCall reads the operation (X-Amz-Target) and the parts of its JSON
// input Requests needs, leaving the body for the server.
func dynamoDBCall(r *http.Request) (string, any, error) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return "", nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	type tabled struct{ TableName *string }
	var in struct {
		TableName     *string
		IndexName     *string
		RequestItems  map[string]json.RawMessage
		TransactItems []struct{ Put, Update, Delete, ConditionCheck, Get *tabled }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return "", nil, err
	}
	switch op {
	case "Query":
		return op, &dynamodb.QueryInput{TableName: in.TableName, IndexName: in.IndexName}, nil
	case "Scan":
		return op, &dynamodb.ScanInput{TableName: in.TableName, IndexName: in.IndexName}, nil
	case "TransactWriteItems":
		out := &dynamodb.TransactWriteItemsInput{}
		for _, it := range in.TransactItems {
			var item ddb.TransactWriteItem
			switch {
			case it.Put != nil:
				item.Put = &ddb.Put{TableName: it.Put.TableName}
			case it.Update != nil:
				item.Update = &ddb.Update{TableName: it.Update.TableName}
			case it.Delete != nil:
				item.Delete = &ddb.Delete{TableName: it.Delete.TableName}
			case it.ConditionCheck != nil:
				item.ConditionCheck = &ddb.ConditionCheck{TableName: it.ConditionCheck.TableName}
			}
			out.TransactItems = append(out.TransactItems, item)
		}
		return op, out, nil
	case "TransactGetItems":
		out := &dynamodb.TransactGetItemsInput{}
		for _, it := range in.TransactItems {
			if it.Get != nil {
				out.TransactItems = append(out.TransactItems, ddb.TransactGetItem{Get: &ddb.Get{TableName: it.Get.TableName}})
			}
		}
		return op, out, nil
	case "BatchWriteItem":
		out := &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{}}
		for t := range in.RequestItems {
			out.RequestItems[t] = nil
		}
		return op, out, nil
	case "BatchGetItem":
		out := &dynamodb.BatchGetItemInput{RequestItems: map[string]ddb.KeysAndAttributes{}}
		for t := range in.RequestItems {
			out.RequestItems[t] = ddb.KeysAndAttributes{}
		}
		return op, out, nil
	case "ListTables":
		return op, &dynamodb.ListTablesInput{}, nil
	}
	return op, &tabled{TableName: in.TableName}, nil
}

// s3Call names the operation of a path-style S3 request
// (/bucket/key?query) and its input.
func s3Call(r *http.Request) (string, any) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	b, k := aws.String(bucket), aws.String(key)
	has := func(name string) bool { _, ok := q[name]; return ok }
	if key == "" {
		switch {
		case r.Method == http.MethodGet && q.Get("list-type") == "2":
			in := &s3.ListObjectsV2Input{Bucket: b}
			if has("prefix") {
				in.Prefix = aws.String(q.Get("prefix"))
			}
			return "ListObjectsV2", in
		case r.Method == http.MethodGet && has("uploads"):
			return "ListMultipartUploads", &s3.ListMultipartUploadsInput{Bucket: b}
		case r.Method == http.MethodGet:
			in := &s3.ListObjectsInput{Bucket: b}
			if has("prefix") {
				in.Prefix = aws.String(q.Get("prefix"))
			}
			return "ListObjects", in
		case r.Method == http.MethodHead:
			return "HeadBucket", &s3.HeadBucketInput{Bucket: b}
		case r.Method == http.MethodPut:
			return "CreateBucket", &s3.CreateBucketInput{Bucket: b}
		}
		return "Unknown" + r.Method, &s3.HeadBucketInput{Bucket: b}
	}
	switch {
	case r.Method == http.MethodPut && has("uploadId"):
		return "UploadPart", &s3.UploadPartInput{Bucket: b, Key: k}
	case r.Method == http.MethodPut:
		return "PutObject", &s3.PutObjectInput{Bucket: b, Key: k}
	case r.Method == http.MethodPost && has("uploads"):
		return "CreateMultipartUpload", &s3.CreateMultipartUploadInput{Bucket: b, Key: k}
	case r.Method == http.MethodPost && has("uploadId"):
		return "CompleteMultipartUpload", &s3.CompleteMultipartUploadInput{Bucket: b, Key: k}
	case r.Method == http.MethodDelete && has("uploadId"):
		return "AbortMultipartUpload", &s3.AbortMultipartUploadInput{Bucket: b, Key: k}
	case r.Method == http.MethodGet && has("uploadId"):
		return "ListParts", &s3.ListPartsInput{Bucket: b, Key: k}
	case r.Method == http.MethodGet:
		return "GetObject", &s3.GetObjectInput{Bucket: b, Key: k}
	case r.Method == http.MethodHead:
		return "HeadObject", &s3.HeadObjectInput{Bucket: b, Key: k}
	case r.Method == http.MethodDelete:
		return "DeleteObject", &s3.DeleteObjectInput{Bucket: b, Key: k}
	}
	return "Unknown" + r.Method, &s3.GetObjectInput{Bucket: b, Key: k}
}

// writeDenied answers as the service does when IAM refuses a call.
func writeDenied(w http.ResponseWriter, service, code, msg string) {
	id := ulid.Make().String()
	w.Header().Set("X-Amzn-Requestid", id)
	if service == "S3" {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("X-Amz-Request-Id", id)
		w.WriteHeader(http.StatusForbidden)
		xml.NewEncoder(w).Encode(struct {
			XMLName   xml.Name `xml:"Error"`
			Code      string
			Message   string
			RequestID string `xml:"RequestId"`
		}{Code: code, Message: msg, RequestID: id})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazon.coral.service#" + code, "message": msg})
}
