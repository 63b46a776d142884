package api

import (
	"context"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/webform"
)

// webForm is the web-form function: Haven's own referral form. Its routes
// are public in the template (a browser cannot pass the JWT authorizer); the
// form checks its own session and CSRF token, then runs createReferral, the
// very step behind POST /referrals, as the signed-in partner caseworker.
func (d *Deps) webForm() any {
	cfg := d.Web
	cfg.Create = d.createReferral
	cfg.Now = d.Now
	cfg.Log = d.Log
	form, err := webform.New(cfg)
	if err != nil {
		// A missing or short SESSION_KEY: every page answers 500 and the log
		// says why, rather than the function failing to start unseen.
		d.Log.Error("web form misconfigured", "error", err.Error())
		return d.public(func(context.Context, *apigw.Request) (apigw.Response, error) {
			return apigw.Response{}, problem.Wrap(problem.Internal, err)
		})
	}
	return d.public(form.Step)
}
