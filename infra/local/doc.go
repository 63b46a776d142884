// Command local is Haven's local runner, the project's `sam local
// start-api`: it reads template.yaml for functions, routes, tables and
// buckets, starts embedded DynamoDB-API and S3 servers (or uses external ones),
// seeds streams and partners, issues development tokens, verifies them as the
// HttpApi JWT authorizer does, and hands each request to the function's real
// handler as the API Gateway v2 event AWS would send. Each function's AWS
// clients carry its IAM policy from the template (infra/iam): a call its role
// could not make in AWS fails here with AWS's AccessDenied error.
//
// It hands any role's token to whoever asks, so it stays closed to all but
// this machine: it listens on loopback unless -listen-anywhere is given (and
// then warns), its own endpoints (/_local/*) answer only a loopback Host
// header (DNS rebinding) and an application/json body (cross-site forms),
// and its local secrets come from crypto/rand.
//
// Data lives in the data directory across restarts and crashes: the embedded
// DynamoDB's journal (dynamodb.journal, fsynced before each write is
// answered) and snapshot (dynamodb.json), and the S3 objects' bbolt file
// (s3.bolt). A write the API acknowledged survives kill -9.
//
//	go run ./infra/local [-addr 127.0.0.1:3000] [-data .haven] [-listen-anywhere]
package main
