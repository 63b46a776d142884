// Package budget holds the DynamoDB round-trip budget test: every step runs
// its testdata event against the embedded DynamoDB through an SDK client
// whose middleware counts the calls, and fails when a step makes more calls
// than its budget (see budget_test.go and BENCHMARKS.md).
package budget
