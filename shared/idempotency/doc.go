// Package idempotency holds the rules of Haven's Idempotency-Key contract: which
// keys are valid, how a request is fingerprinted, what is kept of the first
// response, and how a later request with the same key is answered.
//
// It does no I/O. The DynamoDB store writes a Record in the same transaction
// as the effect it guards (exactly once, one round trip) and hands back the
// stored Record when that write finds one already there; Resolve then decides,
// on that path too, whether to replay, refuse a reused key, or report a request
// still in progress. Checking the payload hash on every path is the point:
// Powertools users once hit a bug where the conditional-failure path skipped it.
package idempotency
