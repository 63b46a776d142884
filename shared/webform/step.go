package webform

import (
	"context"
	"fmt"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
)

// SessionSecretLabel is what the sealer's fingerprint PRF hashes to give the
// web form its session secret when SESSION_KEY is not set (in AWS). A
// defender's normalised identity always holds two "|" (identity.Normalise),
// this label none, so no stored fingerprint can equal the secret.
const SessionSecretLabel = "haven/web-session-key/v1"

// Step is the web-form function (functions/web-form names it): Haven's own
// referral form. Its routes are public in the template (a browser cannot pass
// the JWT authorizer); the form checks its own session and CSRF token, then
// runs the create step of POST /referrals (api.Deps.CreateReferralStep) as
// the signed-in partner caseworker.
//
// The session keys come from d.Web.SessionKey (SESSION_KEY: the local runner,
// tests) or, when it is empty, from the sealer's PRF (d.Finger), derived on
// the first request so that no session secret sits in the function's
// environment and the cold start calls no KMS.
func Step(d *api.Deps) any {
	cfg := Config{
		SessionKey: d.Web.SessionKey,
		DevSignIn:  d.Web.DevSignIn,
		OIDC:       OIDC{Issuer: d.Web.OIDCIssuer, ClientID: d.Web.OIDCClientID, Claims: d.Claims},
		Create:     d.CreateReferralStep,
		Now:        d.Now,
		Log:        d.Log,
	}
	if len(cfg.SessionKey) == 0 && d.Finger != nil {
		cfg.SessionSecret = SealerSecret(d.Finger)
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

// SealerSecret returns the Config.SessionSecret that derives the session
// secret from f's PRF (SessionSecretLabel). Each call computes it afresh;
// the form calls it once, on its first request, and again only after a
// failure.
func SealerSecret(f api.Fingerprinter) func() ([]byte, error) {
	return func() ([]byte, error) {
		k, err := f.Fingerprint(SessionSecretLabel)
		if err != nil {
			return nil, fmt.Errorf("webform: derive the session secret from the sealer: %w", err)
		}
		return []byte(k), nil
	}
}
