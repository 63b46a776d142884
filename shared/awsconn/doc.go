// Package awsconn builds the AWS SDK clients Haven uses, once per process, for
// the real services in Lambda or for the embedded servers of the local runner
// and the tests. Everything talks to DynamoDB and S3 through the real SDK over
// HTTP; only the endpoint differs. It builds the configuration and the
// DynamoDB client only: every function links it, and only the scheduled jobs
// need S3 (shared/s3store.NewClient, from Clients.Config). The configuration
// is built from Lambda's environment rather than by the SDK's config package,
// whose default credential chain (STS, SSO, IMDS) no function uses. Options.APIOptions
// lets the local runner and the tests put a function's IAM policy (infra/iam) on
// every client built from the configuration.
package awsconn
