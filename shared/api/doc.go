// Package api holds Haven's steps: one handler per Lambda function, each
// parsing its request, calling the domain and the store, and mapping the
// result. Each step has an exported constructor (CreateReferral, GetPeriod,
// ...) that its functions/<dir>/main.go names, so a binary links its own step
// only; shared/steps maps the template's code directories to the
// constructors for the local runner and the tests. The scheduled report and
// export live in shared/jobs, the personal-data step (which reads export
// manifests) in shared/access and the web form's step in shared/webform, so
// that api imports neither S3 nor html/template. The disposition job is here:
// it needs DynamoDB only.
package api
