// Package api holds Haven's steps: one handler per Lambda function, each
// parsing its request, calling the domain and the store, and mapping the
// result. Steps is the registry that both the Lambda binaries
// (functions/<dir>) and the local runner use, keyed by the function's code
// directory in template.yaml, so a route is declared once, in the template.
package api
