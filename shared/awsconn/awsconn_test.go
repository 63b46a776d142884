package awsconn_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/middleware"

	"github.com/haven-hrd/haven/shared/awsconn"
)

// TestLambdaEnvironment: without endpoints the region and credentials are
// Lambda's environment variables, read again at every Retrieve.
func TestLambdaEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "ca-central-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	c, err := awsconn.New(context.Background(), awsconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Config.Region != "ca-central-1" || c.DynamoDB.Options().Region != "ca-central-1" {
		t.Errorf("region %q / %q", c.Config.Region, c.DynamoDB.Options().Region)
	}
	got, err := c.Config.Credentials.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != "AKIDEXAMPLE" || got.SecretAccessKey != "secret" || got.SessionToken != "token" || got.Expires != (aws.Credentials{}).Expires {
		t.Errorf("credentials %+v, %v", got, err)
	}
	t.Setenv("AWS_SESSION_TOKEN", "token2")
	if got, _ := c.Config.Credentials.Retrieve(context.Background()); got.SessionToken != "token2" {
		t.Errorf("session token %q after the environment changed, want token2", got.SessionToken)
	}
	// No retryer in the configuration: each client keeps its own standard
	// one, DynamoDB's with 4 attempts.
	if c.Config.Retryer != nil {
		t.Error("config carries a retryer; the client's default should apply")
	}
	if n := c.DynamoDB.Options().Retryer.MaxAttempts(); n != 4 {
		t.Errorf("DynamoDB retryer: %d attempts, want 4", n)
	}
}

// TestLambdaEnvironmentMissing: a missing region or credentials fail at
// once (in the init phase), not at the first request.
func TestLambdaEnvironmentMissing(t *testing.T) {
	for _, unset := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Run(unset, func(t *testing.T) {
			t.Setenv("AWS_REGION", "ca-central-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv(unset, "")
			if _, err := awsconn.New(context.Background(), awsconn.Options{}); err == nil || !strings.Contains(err.Error(), unset) {
				t.Errorf("error %v, want one naming %s", err, unset)
			}
		})
	}
}

// TestLocal: an endpoint means fixed local credentials and region whatever
// the environment holds, and MaxAttempts bounds the retries.
func TestLocal(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDREAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "real")
	c, err := awsconn.New(context.Background(), awsconn.Options{DynamoDBEndpoint: "http://127.0.0.1:1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Config.Credentials.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != "local" || c.Config.Region != awsconn.LocalRegion {
		t.Errorf("credentials %+v (%v), region %q; want the local ones", got, err, c.Config.Region)
	}
	if ep := c.DynamoDB.Options().BaseEndpoint; ep == nil || *ep != "http://127.0.0.1:1" {
		t.Errorf("endpoint %v", ep)
	}
	if n := c.DynamoDB.Options().Retryer.MaxAttempts(); n != 1 {
		t.Errorf("retryer: %d attempts, want 1", n)
	}
}

// TestAPIOptionsReachEveryClient: the API options given (a function's IAM
// policy, locally) are on the configuration, so the DynamoDB client and
// every client built later from Config (KMS, S3) run them.
func TestAPIOptionsReachEveryClient(t *testing.T) {
	opt := func(*middleware.Stack) error { return nil }
	c, err := awsconn.New(context.Background(), awsconn.Options{DynamoDBEndpoint: "http://127.0.0.1:1", APIOptions: []func(*middleware.Stack) error{opt}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Config.APIOptions) != 1 || len(c.DynamoDB.Options().APIOptions) != 1 {
		t.Fatalf("config has %d API options, DynamoDB client %d; want 1 each", len(c.Config.APIOptions), len(c.DynamoDB.Options().APIOptions))
	}
	if n := len(kms.NewFromConfig(c.Config).Options().APIOptions); n != 1 {
		t.Errorf("a KMS client from Config has %d API options, want 1", n)
	}
}
