package webform

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/websession"
)

// OIDC is the identity provider partner caseworkers sign in with in AWS
// (shared/websession); the redirect URL to register is
// https://<api-host>/sign-in.
type OIDC = websession.OIDC

// MinSessionKeyBytes is the shortest SESSION_KEY accepted.
const MinSessionKeyBytes = websession.MinKeyBytes

// Cookie names (websession.Cookies.Name adds __Host- when Secure).
const (
	sessionCookieName = "haven_session"
	oidcCookieName    = "haven_oidc"
)

// session is everything the cookie holds: no name, no token, no role list.
type session struct {
	Partner string `json:"p"`
	Subject string `json:"s"`
	Expires int64  `json:"e"` // Unix seconds
}

func (s session) valid(now time.Time) bool {
	return s.Partner != "" && s.Subject != "" && now.Unix() < s.Expires
}

// partnerSession reads the role and partner claims: only a caller holding the
// partner role with a well-formed partner id gets a form session.
func partnerSession(claims jwt.MapClaims, names apigw.ClaimNames) (session, bool) {
	isPartner := false
	for _, role := range websession.ClaimStrings(claims[names.Role]) {
		if role == string(apigw.Partner) {
			isPartner = true
		}
	}
	partner, _ := claims[names.Partner].(string)
	partner = strings.TrimSpace(partner)
	sub, _ := claims.GetSubject()
	if !isPartner || !apigw.ValidPartner(partner) || sub == "" {
		return session{}, false
	}
	return session{Partner: partner, Subject: sub}, true
}

// oidcStart is GET /sign-in in AWS: the redirect to the provider, or, on the
// way back (?code=&state=), the return step.
func (f *Form) oidcStart(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	o := f.cfg.OIDC
	if !o.Configured() {
		return f.errorPage(r, http.StatusServiceUnavailable, "signin.unavailable"), nil
	}
	c := websession.For(r.Header("Host"))
	if websession.Returning(r.Event.QueryStringParameters) {
		return f.oidcReturn(ctx, r, c)
	}
	loc, cookie, err := f.oidc.Begin(ctx, f.keys(), c, c.Name(oidcCookieName), o.ReturnURL(r, SignInPath), r.Lang)
	if err != nil {
		if problem.KindOf(err) == problem.Unavailable {
			r.Log.Error("oidc discovery failed", "cause_type", "discovery")
		}
		return apigw.Response{}, err
	}
	resp := redirect(loc)
	resp.Headers["Set-Cookie"] = cookie
	return resp, nil
}

// oidcReturn is GET /sign-in?code=&state= (or ?error=&state=): the provider
// sending the browser back.
func (f *Form) oidcReturn(ctx context.Context, r *apigw.Request, c websession.Cookies) (apigw.Response, error) {
	q := r.Event.QueryStringParameters
	// Nothing from the provider's query goes into the pages rendered below
	// (the language switch copies the query).
	r.Event.QueryStringParameters = map[string]string{}
	if l := q["lang"]; l != "" {
		r.Event.QueryStringParameters["lang"] = l
	}
	clearState := c.Set(c.Name(oidcCookieName), "", -1, "Lax")
	refuse := func(status int, key, reason string) (apigw.Response, error) {
		r.Log.Warn("oidc sign-in refused", "reason", reason)
		resp := f.noticePage(r, status, key)
		resp.Headers["Set-Cookie"] = clearState
		return resp, nil
	}
	claims, lang, refusal := f.oidc.Finish(ctx, f.keys(), c.Name(oidcCookieName), f.cfg.OIDC.ReturnURL(r, SignInPath), q, r.Event.Cookies)
	if q["lang"] == "" && lang != "" {
		r.Lang = lang
	}
	if refusal != nil {
		return refuse(refusal.Status, refusal.Key, refusal.Reason)
	}
	s, ok := partnerSession(claims, f.cfg.OIDC.ClaimNames())
	if !ok {
		return refuse(http.StatusForbidden, "signin.partners_only", "not_partner")
	}
	cookie, err := f.sessionCookie(r, s)
	if err != nil {
		return apigw.Response{}, err
	}
	r.Log.Info("oidc sign-in", "partner", s.Partner)
	return f.signedInPage(r, cookie)
}

// signedInPage answers the provider's cross-site redirect with a same-origin
// page (200, no-store) that sets the session cookie and continues to the
// form. A SameSite=Strict cookie set on a cross-site navigation is stored but
// not sent on a redirect chained to it; the refresh below is a new navigation
// started by this origin's own page, so it is same-site and carries it.
func (f *Form) signedInPage(r *apigw.Request, cookie string) (apigw.Response, error) {
	p := f.newPage(r, "title.signed_in")
	p.Refresh = withLang(FormPath, r.Lang)
	resp, err := f.render(p, signedInView, http.StatusOK)
	if err != nil {
		return apigw.Response{}, err
	}
	// The address of this page holds the (now redeemed) code: it goes
	// nowhere, not even to this origin.
	resp.Headers["Referrer-Policy"] = "no-referrer"
	resp.Headers["Set-Cookie"] = cookie
	return resp, nil
}

// noticePage is a refusal: its title and heading say what happened.
func (f *Form) noticePage(r *apigw.Request, status int, key string) apigw.Response {
	title := "title.error"
	if key == "signin.partners_only" {
		title = "title.partners_only"
	}
	p := f.newPage(r, title)
	p.Message = T(r.Lang, key)
	p.Back = key != "signin.partners_only"
	resp, err := f.render(p, noticeView, status)
	if err != nil {
		return apigw.Response{Status: http.StatusInternalServerError, Headers: map[string]string{}}
	}
	resp.Headers["Referrer-Policy"] = "no-referrer"
	return resp
}
