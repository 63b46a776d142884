// Package samtemplate reads the project's AWS SAM template (template.yaml): the
// functions with their code directories, environment, HTTP routes and schedules, the
// DynamoDB tables and the S3 buckets. The local runner and the tests derive everything
// from it, so nothing is declared twice.
//
// It is a reader, not a CloudFormation engine: YAML short-form intrinsics (!Ref,
// !GetAtt, !Sub, ...) become their long-form maps ({"Ref": ...}, {"Fn::GetAtt": [...]}),
// SAM's Globals are merged into each function the way the SAM transform merges them,
// and [ResolveEnv] resolves the few intrinsics an environment variable uses against
// values the caller supplies. It never calls AWS.
package samtemplate
