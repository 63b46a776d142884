// Package conformance proves openapi.yaml against the running service, in
// both directions. Its test starts the local runner (infra/local) on a fresh
// data directory and, for every operation of the document, generates requests
// from the document's own schemas with rapid:
//
//   - a schema-valid request is never answered 400;
//   - a request that breaks one constraint of one property (type, required,
//     enum, pattern, lengths, items, minimum/maximum, additionalProperties,
//     format, anyOf, or a rule the document states in prose) is answered 400
//     with errors[].field naming that property;
//   - every response validates against the document (infra/apicontract).
//
// Nothing in it names a field of the API: what it sends is read from the
// document, and what it reuses (referral ids, list cursors, the seeded
// streams) is state the runner created or was seeded with. The package has no
// code outside its test.
package conformance
