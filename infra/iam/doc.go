// Package iam applies each function's IAM policy from template.yaml to its
// AWS calls wherever a function runs outside AWS: the local runner, the
// handler tests (infra/testenv's FunctionDeps) and, through them, every test
// that runs a step, and the aws-lambda-rie test (infra/rie). What AWS would
// refuse is refused here first.
//
// Load resolves each function's Policies (inline statements, and SAM policy
// templates expanded from aws-sam-translator's own definitions; an unknown
// template or a managed policy is refused) with the intrinsics the runner
// resolves, in a fixed local account and region (LocalRefs). Evaluate decides
// a request as IAM decides an identity policy: action and resource
// wildcards, the condition operators the template uses
// (String*/Arn*/Bool/Null, ForAnyValue/ForAllValues, IfExists), an explicit
// Deny winning — including a bucket policy's Deny for every principal, such
// as DenyInsecureTransport (the SDK reaches AWS over HTTPS, so S3 requests
// carry aws:SecureTransport true). Requests maps an SDK call to what IAM checks: a
// transaction item by item by each item's own action (there is no
// dynamodb:TransactWriteItems action), an index by its ARN, the S3 multipart
// calls by their actions, SSE-KMS's kms:GenerateDataKey/kms:Decrypt via S3,
// and the KMS encryption context.
//
// Enforcer.APIOptions is SDK middleware for aws.Config.APIOptions (so every
// client built from the configuration carries it): in the Initialize step,
// with the operation's input, it fails a denied call with the error AWS
// gives (AccessDeniedException, or S3's 403 AccessDenied), naming the
// function's role, the action and the resource. The built binaries the
// aws-lambda-rie test runs carry no such middleware: there each function
// reaches DynamoDB and S3 through a Proxy of its own, which decides the same
// way and answers as AWS does.
//
// Least privilege is measured: with HAVEN_IAM_RECORD set, each process
// records the (function, action, resource) decided, and TestLeastPrivilege
// (run last by infra/ci/test.sh) fails on any denial and on any grant no
// test exercised, unless Unexercised excuses it with a reason.
package iam
