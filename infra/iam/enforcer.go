package iam

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/oklog/ulid/v2"

	"github.com/haven-hrd/haven/infra/samtemplate"
)

// Enforcer authorises the AWS calls of a stack's functions against their
// policies, and records each decision in Log.
type Enforcer struct {
	Stack *Stack
	// Log records every (function, action, resource) decided; nil records
	// nothing (tests that provoke denials on purpose).
	Log *Log
}

// Local is the enforcer of a local run of tpl (see LocalRefs for physical),
// recording into the directory HAVEN_IAM_RECORD names when it is set.
func Local(tpl *samtemplate.Template, physical map[string]string) (*Enforcer, error) {
	s, err := Load(tpl, LocalRefs(tpl, physical))
	if err != nil {
		return nil, err
	}
	log, err := LogFromEnv()
	if err != nil {
		return nil, err
	}
	return &Enforcer{Stack: s, Log: log}, nil
}

// Authorize decides every request of one call of function, as IAM would
// before the service does anything: the first denied one fails the call
// with the error AWS returns (see Denied).
func (e *Enforcer) Authorize(function, service, operation string, input any) error {
	pol, ok := e.Stack.Policies[function]
	if !ok {
		return fmt.Errorf("iam: no function %s in the template", function)
	}
	for _, r := range e.Stack.Requests(service, operation, input) {
		d := pol.Evaluate(r)
		if bucket, ok := strings.CutPrefix(r.Resource, "arn:aws:s3:::"); ok {
			bucket, _, _ = strings.Cut(bucket, "/")
			if (Policy{Statements: e.Stack.BucketDenies[bucket]}).Evaluate(r) == ExplicitDeny {
				d = ResourceDeny
			}
		}
		e.Log.add(Call{Function: function, Action: r.Action, Resource: r.Resource, Allowed: d == Allowed})
		if d != Allowed {
			return Denied(function, service, r, d)
		}
	}
	return nil
}

// APIOptions are the SDK API options that enforce function's policy on
// every call of a client: put them on aws.Config.APIOptions so that every
// client built from the configuration (DynamoDB, S3, KMS) carries them. The
// check runs in the Initialize step, once per call, before any retry or
// network I/O, with the operation's input as the caller wrote it.
func (e *Enforcer) APIOptions(function string) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("HavenLocalIAM",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if err := e.Authorize(function, middleware.GetServiceID(ctx), middleware.GetOperationName(ctx), in.Parameters); err != nil {
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}}
}

// Denied is the error the SDK gives for a call AWS refuses with r: for
// DynamoDB and KMS an AccessDeniedException (HTTP 400), for S3 AccessDenied
// (HTTP 403), with AWS's message naming the function's role session, the
// action and the resource. The client wraps it in a *smithy.OperationError
// as it wraps a response from AWS.
func Denied(function, service string, r Request, d Decision) error {
	code, status := "AccessDeniedException", http.StatusBadRequest
	if service == "S3" {
		code, status = "AccessDenied", http.StatusForbidden
	}
	why := "because no identity-based policy allows the " + r.Action + " action"
	switch d {
	case ExplicitDeny:
		why = "with an explicit deny in an identity-based policy"
	case ResourceDeny:
		why = "with an explicit deny in a resource-based policy"
	}
	msg := fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/%sRole/%s is not authorized to perform: %s on resource: %s %s",
		Account, function, function, r.Action, r.Resource, why)
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody}},
			Err:      &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient},
		},
		RequestID: ulid.Make().String(),
	}
}

// RecordEnv names the directory into which every process of the test suite
// records the calls it decided (one file per process); Check reads them.
const RecordEnv = "HAVEN_IAM_RECORD"

// LogFromEnv is the process's log in the directory RecordEnv names (one
// file per process, however many environments a test builds), or nil when
// it is unset.
func LogFromEnv() (*Log, error) {
	return processLog()
}

var processLog = sync.OnceValues(func() (*Log, error) {
	dir := os.Getenv(RecordEnv)
	if dir == "" {
		return nil, nil
	}
	return OpenLog(dir)
})

// KeysetCheck is the check a local run gives a function's sealer
// (seal.Sealer.Guarded): each use of a keyset is authorised as the KMS
// Decrypt that unwraps it in AWS — SealingKey, with the keyset's purpose as
// encryption context (seal's "haven:keyset") — against the function's
// policy, and recorded for the least-privilege measure. Locally the keysets
// sit in a file and no KMS call happens, so without it a step could use a
// keyset its function is not granted and only AWS would tell.
func (e *Enforcer) KeysetCheck(function string) func(purpose string) error {
	key := e.Stack.Refs["SealingKey.Arn"]
	return func(purpose string) error {
		return e.Authorize(function, "KMS", "Decrypt", &kms.DecryptInput{
			KeyId: &key, EncryptionContext: map[string]string{"haven:keyset": purpose},
		})
	}
}
