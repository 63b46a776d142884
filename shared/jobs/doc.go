// Package jobs holds the scheduled functions that write files to S3: the
// daily report (shared/report) and the partner export (shared/export). They
// are apart from shared/api so that only their two binaries link the S3 SDK,
// the report renderer and Toronto's zone data; each builds its S3 client
// from api.Deps (AWS, S3Endpoint) when its handler is constructed.
package jobs
