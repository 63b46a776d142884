// Package lambdamain is what every functions/<dir>/main.go calls: it reads
// the function's environment (names from template.yaml), builds the DynamoDB
// client once per execution environment, and starts the handler of the step
// constructor main names. It looks nothing up in a registry and builds no S3
// client (the scheduled jobs build their own), so a binary links its own step
// only. Nothing here calls the network at init: credentials and keys resolve
// on first use, to keep cold starts short.
//
// There are two entry points. A function whose step handles no personal data
// calls lambdamain.RunWithoutSealer(api.GetPeriod): this package imports no
// sealer, so the binary links neither shared/seal nor a KMS client, and the store's
// sealer refuses every call (ErrNoPersonalData) so a wrong declaration fails
// loudly. A function that seals, opens or fingerprints — including every
// step that takes an Idempotency-Key, whose stored response is sealed —
// calls sealing.Run(api.CreateReferral) (shared/lambdamain/sealing), which
// opens the sealer (a local keyset file, or KMS-wrapped keysets in AWS).
// shared/steps records which function is which and tests each main.go
// against it.
package lambdamain
