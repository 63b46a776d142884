// Package steps maps a function's code directory in template.yaml to its
// handler constructor; used by the local runner and tests — never by a Lambda
// binary, which names its own constructor so it links nothing else.
package steps
