package webform

import (
	"context"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
)

// Step is the web-form function (functions/web-form names it): Haven's own
// referral form. Its routes are public in the template (a browser cannot pass
// the JWT authorizer); the form checks its own session and CSRF token, then
// runs the create step of POST /referrals (api.Deps.CreateReferralStep) as
// the signed-in partner caseworker.
//
// The session keys come from d.Web.SessionKey (SESSION_KEY: the local runner,
// tests) or, when it is empty, from the sealer's session keyset
// (d.Web.SessionKeys), unwrapped on the first request so that no session
// secret sits in the function's environment and the cold start calls no KMS.
func Step(d *api.Deps) any {
	cfg := Config{
		SessionKey: d.Web.SessionKey,
		DevSignIn:  d.Web.DevSignIn,
		OIDC:       OIDC{Issuer: d.Web.OIDCIssuer, ClientID: d.Web.OIDCClientID, Claims: d.Claims},
		Create:     d.CreateReferralStep,
		Now:        d.Now,
		Log:        d.Log,
	}
	if len(cfg.SessionKey) == 0 {
		cfg.SessionSecrets = d.Web.SessionKeys
	}
	form, err := New(cfg)
	if err != nil {
		// A short SESSION_KEY, or neither it nor a sealer: every page
		// answers 500 and the log says why, rather than the function
		// failing to start unseen.
		d.Log.Error("web form misconfigured", "error", err.Error())
		return d.Public(func(context.Context, *apigw.Request) (apigw.Response, error) {
			return apigw.Response{}, problem.Wrap(problem.Internal, err)
		})
	}
	return d.Public(form.Step)
}
