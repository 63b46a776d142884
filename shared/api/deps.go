package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/oklog/ulid/v2"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
)

// Fingerprinter computes the keyed hash that flags a defender referred twice.
type Fingerprinter interface {
	Fingerprint(normalised string) (string, error)
}

// Cursors sign and check list cursors.
type Cursors interface {
	Encode(scope string, key map[string]string) string
	Decode(scope, token string) (map[string]string, error)
}

// Deps is everything a step needs, built once per process by main (or the
// local runner, or a test). It names no SDK client but DynamoDB's (inside
// Store) and no type of the web form, so that a binary linking api links
// neither S3 nor html/template: the scheduled jobs (shared/jobs) build their
// S3 client from AWS and S3Endpoint, the web form (shared/webform.Step) its
// configuration from Web.
type Deps struct {
	Store   *dynamostore.Store
	Finger  Fingerprinter
	Cursors Cursors
	// AWS is the SDK configuration the process loaded (region, credentials,
	// retries), for the clients a step builds itself.
	AWS aws.Config
	// S3Endpoint is the S3 endpoint of the embedded server (path-style);
	// empty means the real S3.
	S3Endpoint string
	// ReportsBucket and ExportsBucket are bucket names.
	ReportsBucket string
	ExportsBucket string
	Log           *slog.Logger
	Claims        apigw.ClaimNames
	// Now is the clock (shared/clock): the machine's in AWS, the runner's
	// or the test's otherwise.
	Now func() time.Time
	// NewID returns a new opaque id, ordered by Now.
	NewID func() string
	// Web configures the web-form function (session key, sign-in).
	Web WebConfig
	// CallerHash is the keyed hash of a caller's subject for the request
	// log (apigw.CallerHash); nil leaves the log without a caller field.
	CallerHash func(subject string) string
	// Promote allocates waitlisted referrals of a period that now fit.
	Promote func(ctx context.Context, stream string, year int) error
}

// WithDefaults fills the clock and id source when unset.
func (d *Deps) WithDefaults() *Deps {
	if d.Now == nil {
		d.Now = clock.System
	}
	if d.NewID == nil {
		// Ids are ordered by the steps' clock, so that a test or a runner
		// set to another date orders its records as they happened.
		now := d.Now
		d.NewID = func() string { return ulid.MustNew(ulid.Timestamp(now()), ulid.DefaultEntropy()).String() }
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Claims.Role == "" {
		d.Claims = apigw.DefaultClaims
	}
	if d.Promote == nil && d.Store != nil {
		d.Promote = d.promote
	}
	return d
}

func (d *Deps) http(step apigw.Step) any {
	return apigw.Wrap(apigw.Options{Log: d.Log, Claims: d.Claims, CallerHash: d.CallerHash}, step)
}

// Authorized wraps a step of another package whose routes have the JWT
// authorizer (shared/access), as http does the steps of this one.
func (d *Deps) Authorized(step apigw.Step) any { return d.http(step) }

// Public wraps a step whose routes have no JWT authorizer (the web form),
// ready for lambda.Start or lambda.NewHandler.
func (d *Deps) Public(step apigw.Step) any {
	return apigw.Wrap(apigw.Options{Log: d.Log, Claims: d.Claims, Public: true, CallerHash: d.CallerHash}, step)
}

// WebConfig configures the web-form function. It holds plain values only:
// shared/webform.Step turns it into the form's own configuration.
type WebConfig struct {
	// SessionKey seals session cookies and keys CSRF tokens (SESSION_KEY,
	// set by the local runner and tests). Empty in AWS: the form takes its
	// secrets from SessionKeys (the sealer's session keyset) on its first
	// request.
	SessionKey []byte
	// SessionKeys returns the session secrets, the current one first.
	SessionKeys func() ([][]byte, error)
	// DevSignIn enables the development sign-in (local runner only).
	DevSignIn bool
	// OIDCIssuer and OIDCClientID name the identity provider used in AWS
	// (OIDC_ISSUER, OIDC_CLIENT_ID).
	OIDCIssuer   string
	OIDCClientID string
}

// afterRelease runs after spaces may have come back to a period: waitlisted
// referrals that now fit are allocated at once. Failure here loses nothing
// (the scheduled sweep repairs it), so it is logged, not returned.
func (d *Deps) afterRelease(ctx context.Context, r *apigw.Request, stream string, year int) {
	if d.Promote == nil {
		return
	}
	if err := d.Promote(ctx, stream, year); err != nil {
		r.Log.Warn("waitlist promotion deferred to sweep", "problem", string(problem.KindOf(err)))
	}
}
