// Package lambdamain is what every functions/<dir>/main.go calls: it reads
// the function's environment (names from template.yaml), builds the DynamoDB
// client and the sealer (with its KMS client) once per execution
// environment, and starts the handler of the step constructor main names
// (lambdamain.Run(api.GetPeriod)). It looks nothing up in a registry and
// builds no S3 client (the scheduled jobs build their own), so a binary links
// its own step only. Nothing here calls the network at init: credentials and
// keys resolve on first use, to keep cold starts short.
package lambdamain
