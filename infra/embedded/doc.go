// Package embedded runs the DynamoDB API (minidyn) and S3 API (gofakes3)
// servers that stand in for AWS on a developer's machine and in tests, and
// creates in them the tables and buckets that template.yaml declares. The
// DynamoDB server refuses what DynamoDB refuses (its limits: limits.go) and
// answers the table calls the AWS CLI and the SDK's waiters make (tables.go).
//
// Clients reach them only through the real AWS SDK over HTTP, so the code
// under test is the code that runs in Lambda.
package embedded
