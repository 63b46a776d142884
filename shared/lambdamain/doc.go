// Package lambdamain is what every functions/<dir>/main.go calls: it reads
// the function's environment (names from template.yaml), builds the AWS
// clients and the sealer once per execution environment, and starts the step
// registered for that directory. Nothing here calls the network at init:
// credentials and keys resolve on first use, to keep cold starts short.
package lambdamain
