// Package embedded runs the DynamoDB API (minidyn) and S3 API (gofakes3)
// servers that stand in for AWS on a developer's machine and in tests, and
// creates in them the tables and buckets that template.yaml declares. The
// DynamoDB server refuses what DynamoDB refuses (its limits: limits.go) and
// answers the table calls the AWS CLI and the SDK's waiters make (tables.go).
//
// Clients reach them only through the real AWS SDK over HTTP, so the code
// under test is the code that runs in Lambda.
//
// minidyn keeps everything in memory; a Journal, put in front of it with
// StartDynamoDB's Wrap option, makes each item write durable before it is
// answered and replays the writes at the next start (journal.go, on top of
// the snapshot of snapshot.go). gofakes3's bbolt backend commits, and so
// fsyncs, every object write before answering. Only the parts of a
// multipart upload in progress live in memory until it completes: a crash
// loses the unfinished upload, never a completed object.
package embedded
