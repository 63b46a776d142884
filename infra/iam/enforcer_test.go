package iam

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/samtemplate"
)

// TestBucketPolicyDenyWins: a bucket policy's Deny for every principal binds
// the functions too and wins over their Allow; the template's
// DenyInsecureTransport lets the SDK's HTTPS calls through.
func TestBucketPolicyDenyWins(t *testing.T) {
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(tpl, LocalRefs(tpl, nil))
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, st := range s.BucketDenies["reportsbucket"] {
		sids = append(sids, st.Sid)
	}
	if diff := cmp.Diff([]string{"DenyInsecureTransport"}, sids); diff != "" {
		t.Fatalf("reports bucket denies (-want +got):\n%s", diff)
	}
	e := &Enforcer{Stack: s}
	put := func(key string) error {
		return e.Authorize("DailyReportFunction", "S3", "PutObject", &s3.PutObjectInput{Bucket: aws.String("reportsbucket"), Key: aws.String(key)})
	}
	if err := put("reports/a.json"); err != nil {
		t.Fatalf("report upload over HTTPS: %v", err)
	}
	s.BucketDenies["reportsbucket"] = append(s.BucketDenies["reportsbucket"], Statement{
		Effect: "Deny", Action: []string{"s3:PutObject"}, Resource: []string{"arn:aws:s3:::reportsbucket/frozen/*"}})
	err = put("frozen/a.json")
	if err == nil || !strings.Contains(err.Error(), "s3:PutObject on resource: arn:aws:s3:::reportsbucket/frozen/a.json with an explicit deny in a resource-based policy") {
		t.Fatalf("upload under a bucket Deny: %v, want an explicit deny", err)
	}
	if err := put("reports/b.json"); err != nil {
		t.Fatalf("upload outside the Deny: %v", err)
	}
}
