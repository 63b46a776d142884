package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/oklog/ulid/v2"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/webform"
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
// local runner, or a test).
type Deps struct {
	Store   *dynamostore.Store
	Finger  Fingerprinter
	Cursors Cursors
	S3      *s3.Client
	// ReportsBucket and ExportsBucket are bucket names.
	ReportsBucket string
	ExportsBucket string
	Log           *slog.Logger
	Claims        apigw.ClaimNames
	// Now is the clock; tests fix it.
	Now func() time.Time
	// NewID returns a new opaque, time-ordered id.
	NewID func() string
	// Web configures the web-form function (session key, sign-in).
	Web webform.Config
	// Promote allocates waitlisted referrals of a period that now fit.
	Promote func(ctx context.Context, stream string, year int) error
}

// WithDefaults fills the clock and id source when unset.
func (d *Deps) WithDefaults() *Deps {
	if d.Now == nil {
		d.Now = func() time.Time { return time.Now().UTC() }
	}
	if d.NewID == nil {
		d.NewID = func() string { return ulid.Make().String() }
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
	return apigw.Wrap(apigw.Options{Log: d.Log, Claims: d.Claims}, step)
}

func (d *Deps) public(step apigw.Step) any {
	return apigw.Wrap(apigw.Options{Log: d.Log, Claims: d.Claims, Public: true}, step)
}

// Steps maps a function's code directory (functions/<dir> in template.yaml)
// to its handler, ready for lambda.Start or lambda.NewHandler.
var Steps = map[string]func(d *Deps) any{
	"create-referral":   func(d *Deps) any { return d.http(d.createReferral) },
	"web-form":          func(d *Deps) any { return d.webForm() },
	"get-referral":      func(d *Deps) any { return d.http(d.getReferral) },
	"list-referrals":    func(d *Deps) any { return d.http(d.listReferrals) },
	"referral-history":  func(d *Deps) any { return d.http(d.referralHistory) },
	"get-period":        func(d *Deps) any { return d.http(d.getPeriod) },
	"put-period":        func(d *Deps) any { return d.http(d.putPeriod) },
	"screen-referral":   func(d *Deps) any { return d.http(d.screenReferral) },
	"allocate-referral": func(d *Deps) any { return d.http(d.allocateReferral) },
	"decide-referral":   func(d *Deps) any { return d.http(d.decideReferral) },
	"record-arrival":    func(d *Deps) any { return d.http(d.recordArrival) },
	"withdraw-referral": func(d *Deps) any { return d.http(d.withdrawReferral) },
	"change-family":     func(d *Deps) any { return d.http(d.changeFamily) },
	"waitlist-sweep":    func(d *Deps) any { return d.sweep },
	"daily-report":      func(d *Deps) any { return d.dailyReport },
	"partner-export":    func(d *Deps) any { return d.partnerExport },
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
