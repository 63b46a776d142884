package workspace

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/websession"
)

// Paths of the workspace. The template declares the same routes.
const (
	HomePath    = "/officer"
	SignInPath  = "/officer/sign-in"
	SignOutPath = "/officer/sign-out"
	LookupPath  = "/officer/lookup"
	CasesPath   = "/officer/cases/"
	PeriodsPath = "/officer/periods/"
)

// SessionTTL is how long a sign-in lasts (absolute, not sliding).
const SessionTTL = 8 * time.Hour

// sessionSecretLabel derives the workspace's session secrets from the
// session keyset's (HKDF), so that the web form's keys, derived from the
// same keyset, never open an officer's cookie even before the cookie names
// differ.
const sessionSecretLabel = "haven/officer-session-key/v1"

const (
	sessionCookieName = "haven_officer"
	oidcCookieName    = "haven_officer_oidc"
)

// session is everything the cookie holds: the subject, the staff roles and
// the expiry; no name, no token.
type session struct {
	Subject string   `json:"s"`
	Roles   []string `json:"r"`
	Expires int64    `json:"e"`
}

func (s session) valid(now time.Time) bool {
	return s.Subject != "" && len(s.Roles) > 0 && now.Unix() < s.Expires
}

func (s session) caller() apigw.Caller {
	c := apigw.Caller{Subject: s.Subject}
	for _, r := range s.Roles {
		c.Roles = append(c.Roles, apigw.Role(r))
	}
	return c
}

func (s session) admin() bool { return slices.Contains(s.Roles, string(apigw.Admin)) }

func (s session) officer() bool { return slices.Contains(s.Roles, string(apigw.Officer)) }

// staffSession keeps the staff roles of the claims: only an officer or an
// admin gets a session.
func staffSession(claims jwt.MapClaims, names apigw.ClaimNames) (session, bool) {
	var roles []string
	for _, role := range websession.ClaimStrings(claims[names.Role]) {
		if (role == string(apigw.Officer) || role == string(apigw.Admin)) && !slices.Contains(roles, role) {
			roles = append(roles, role)
		}
	}
	sub, _ := claims.GetSubject()
	if len(roles) == 0 || sub == "" {
		return session{}, false
	}
	return session{Subject: sub, Roles: roles}, true
}

// Workspace is the officers' workspace function.
type Workspace struct {
	d       *api.Deps
	steps   api.OfficerSteps
	streams streamList
	sess    websession.Lazy
	oidc    *websession.Provider
	dev     bool
}

// Step is the officer-workspace function (functions/officer-workspace names
// it). Its routes are public in the template (a browser cannot pass the JWT
// authorizer); the workspace checks its own session and CSRF token, then
// runs the API's own steps as the signed-in officer or admin.
func Step(d *api.Deps) any {
	w, err := New(d)
	if err != nil {
		d.Log.Error("officers' workspace misconfigured", "error", err.Error())
		return d.Public(func(context.Context, *apigw.Request) (apigw.Response, error) {
			return apigw.Response{}, problem.Wrap(problem.Internal, err)
		})
	}
	return d.Public(w.Step)
}

// New returns the workspace over d. The session keys come from
// d.Web.SessionKey (SESSION_KEY: the local runner, tests) or, when it is
// empty, from the sealer's session keyset (current and retired secrets),
// on the first request.
func New(d *api.Deps) (*Workspace, error) {
	w := &Workspace{d: d, steps: d.OfficerSteps(), dev: d.Web.DevSignIn,
		oidc: websession.NewProvider(websession.OIDC{Issuer: d.Web.OIDCIssuer, ClientID: d.Web.OIDCClientID, Claims: d.Claims}, d.Now)}
	switch {
	case len(d.Web.SessionKey) > 0:
		k, err := websession.NewKeys(d.Web.SessionKey)
		if err != nil {
			return nil, err
		}
		w.sess.Set(k)
	case d.Web.SessionKeys != nil:
		w.sess.Secret = func() ([][]byte, error) {
			secrets, err := d.Web.SessionKeys()
			if err != nil {
				return nil, fmt.Errorf("workspace: the sealer's session keyset: %w", err)
			}
			out := make([][]byte, 0, len(secrets))
			for _, s := range secrets {
				k, err := hkdf.Key(sha256.New, s, nil, sessionSecretLabel, 32)
				if err != nil {
					return nil, err
				}
				out = append(out, k)
			}
			return out, nil
		}
	default:
		return nil, fmt.Errorf("workspace: no SESSION_KEY and no sealer")
	}
	return w, nil
}

func (w *Workspace) keys() *websession.Keys { return w.sess.Load() }

// Step routes one request by its route key.
func (w *Workspace) Step(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	r.Lang = pageLang(r)
	if r.Method() == http.MethodPost && !sameOrigin(r) {
		return w.errorPage(r, nil, http.StatusForbidden, "error.forbidden"), nil
	}
	if _, err := w.sess.Get(); err != nil {
		r.Log.Error("officer session keys unavailable", "error", err.Error())
		return w.errorPage(r, nil, http.StatusServiceUnavailable, "error.unavailable"), nil
	}
	route := r.Event.RouteKey
	switch route {
	case "GET " + SignInPath:
		return w.signInPage(ctx, r)
	case "POST " + SignInPath:
		return w.signIn(r)
	case "POST " + SignOutPath:
		return w.signOut(r)
	}
	s, raw, ok := w.current(r)
	if !ok {
		return redirect(withLang(SignInPath, r.Lang)), nil
	}
	if r.Method() == http.MethodPost {
		v, err := url.ParseQuery(string(r.Body))
		if err != nil || !w.keys().CheckCSRF(raw, v.Get("csrf_token")) {
			return w.errorPage(r, &s, http.StatusForbidden, "error.forbidden"), nil
		}
	}
	p := w.newPage(r, &s, raw)
	var resp apigw.Response
	var err error
	switch route {
	case "GET " + HomePath:
		resp, err = w.queues(ctx, r, p)
	case "POST " + LookupPath:
		resp, err = w.lookup(ctx, r, p)
	case "GET " + CasesPath + "{id}":
		resp, err = w.casePage(ctx, r, p, nil)
	case "POST " + CasesPath + "{id}":
		resp, err = w.act(ctx, r, p)
	case "GET " + PeriodsPath + "{stream}/{year}":
		resp, err = w.dashboard(ctx, r, p, nil)
	case "POST " + PeriodsPath + "{stream}/{year}":
		resp, err = w.setCapacity(ctx, r, p)
	default:
		return w.errorPage(r, &s, http.StatusNotFound, "error.not_found"), nil
	}
	if err != nil {
		// Whatever a page could not show is a page, not JSON: a missing
		// referral or period is 404, anything else says nothing changed.
		e := problem.As(err)
		switch e.Kind {
		case problem.NotFound, problem.Validation:
			return w.errorPage(r, &s, http.StatusNotFound, "error.not_found"), nil
		case problem.Unavailable:
			return w.errorPage(r, &s, http.StatusServiceUnavailable, "error.unavailable"), nil
		}
		r.Log.Error("officer page failed", "problem", string(e.Kind))
		return w.errorPage(r, &s, e.Kind.Status(), "error.internal"), nil
	}
	return resp, nil
}

// current returns the signed-in session and the raw cookie value.
func (w *Workspace) current(r *apigw.Request) (s session, raw string, ok bool) {
	c := websession.For(r.Header("Host"))
	raw = websession.Value(r.Event.Cookies, c.Name(sessionCookieName))
	if raw == "" {
		return session{}, "", false
	}
	if err := w.keys().Open(c.Name(sessionCookieName), raw, &s); err != nil || !s.valid(w.d.Now()) {
		return session{}, "", false
	}
	return s, raw, true
}

// ---------------------------------------------------------------- sign-in

// devRoles are the development sign-in's choices: the partner choice is
// there to show the refusal a partner gets.
var devRoles = []string{string(apigw.Officer), string(apigw.Admin), string(apigw.Partner)}

func (w *Workspace) signInPage(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if !w.dev {
		return w.oidcSignIn(ctx, r)
	}
	p := w.newPage(r, nil, "")
	p.Title = T(r.Lang, "title.sign_in")
	p.Expired = r.Event.QueryStringParameters["expired"] == "1"
	return w.render(p, signInView, http.StatusOK)
}

func (w *Workspace) signIn(r *apigw.Request) (apigw.Response, error) {
	if !w.dev {
		return w.errorPage(r, nil, http.StatusNotFound, "error.not_found"), nil
	}
	v, _ := url.ParseQuery(string(r.Body))
	role := v.Get("role")
	switch role {
	case string(apigw.Officer), string(apigw.Admin):
		return w.startSession(r, session{Subject: "local-" + role, Roles: []string{role}})
	case string(apigw.Partner):
		return w.staffOnly(r), nil
	}
	p := w.newPage(r, nil, "")
	p.Title = T(r.Lang, "error.prefix") + " " + T(r.Lang, "title.sign_in")
	p.Errors = []pageError{{ID: "role-officer", Text: T(r.Lang, "signin.role") + frenchIf(r.Lang, ": ") + fieldMessage(r.Lang, problem.FieldError{Field: "role", Code: problem.CodeRequired})}}
	p.FieldErrors = map[string]string{"role": fieldMessage(r.Lang, problem.FieldError{Field: "role", Code: problem.CodeRequired})}
	return w.render(p, signInView, http.StatusBadRequest)
}

func (w *Workspace) sessionCookie(r *apigw.Request, s session) (string, error) {
	s.Expires = w.d.Now().Add(SessionTTL).Unix()
	c := websession.For(r.Header("Host"))
	val, err := w.keys().Seal(c.Name(sessionCookieName), s)
	if err != nil {
		return "", problem.Wrap(problem.Internal, err)
	}
	return c.Set(c.Name(sessionCookieName), val, int(SessionTTL/time.Second), "Strict"), nil
}

func (w *Workspace) startSession(r *apigw.Request, s session) (apigw.Response, error) {
	cookie, err := w.sessionCookie(r, s)
	if err != nil {
		return apigw.Response{}, err
	}
	resp := redirect(withLang(HomePath, r.Lang))
	resp.Headers["Set-Cookie"] = cookie
	return resp, nil
}

func (w *Workspace) signOut(r *apigw.Request) (apigw.Response, error) {
	s, raw, ok := w.current(r)
	v, _ := url.ParseQuery(string(r.Body))
	if ok && !w.keys().CheckCSRF(raw, v.Get("csrf_token")) {
		return w.errorPage(r, &s, http.StatusForbidden, "error.forbidden"), nil
	}
	c := websession.For(r.Header("Host"))
	resp := redirect(withLang(SignInPath, r.Lang))
	resp.Headers["Set-Cookie"] = c.Set(c.Name(sessionCookieName), "", -1, "Strict")
	return resp, nil
}

// oidcSignIn is GET /officer/sign-in in AWS: the redirect to the provider
// or, on the way back, the return (register
// https://<api-host>/officer/sign-in with the provider).
func (w *Workspace) oidcSignIn(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	o := w.oidc.Config()
	if !o.Configured() {
		return w.errorPage(r, nil, http.StatusServiceUnavailable, "signin.unavailable"), nil
	}
	c := websession.For(r.Header("Host"))
	q := r.Event.QueryStringParameters
	if !websession.Returning(q) {
		loc, cookie, err := w.oidc.Begin(ctx, w.keys(), c, c.Name(oidcCookieName), o.ReturnURL(r, SignInPath), r.Lang)
		if err != nil {
			r.Log.Error("oidc discovery failed", "cause_type", "discovery")
			return w.errorPage(r, nil, http.StatusServiceUnavailable, "error.unavailable"), nil
		}
		resp := redirect(loc)
		resp.Headers["Set-Cookie"] = cookie
		return resp, nil
	}
	// Nothing from the provider's query goes into the pages rendered below.
	r.Event.QueryStringParameters = map[string]string{}
	if l := q["lang"]; l != "" {
		r.Event.QueryStringParameters["lang"] = l
	}
	clearState := c.Set(c.Name(oidcCookieName), "", -1, "Lax")
	claims, lang, refusal := w.oidc.Finish(ctx, w.keys(), c.Name(oidcCookieName), o.ReturnURL(r, SignInPath), q, r.Event.Cookies)
	if q["lang"] == "" && lang != "" {
		r.Lang = lang
	}
	var resp apigw.Response
	if refusal != nil {
		r.Log.Warn("oidc sign-in refused", "reason", refusal.Reason)
		resp = w.errorPage(r, nil, refusal.Status, refusal.Key)
	} else if s, ok := staffSession(claims, o.ClaimNames()); !ok {
		r.Log.Warn("oidc sign-in refused", "reason", "not_staff")
		resp = w.staffOnly(r)
	} else {
		cookie, err := w.sessionCookie(r, s)
		if err != nil {
			return apigw.Response{}, err
		}
		r.Log.Info("oidc sign-in", "roles", strings.Join(s.Roles, " "))
		// A same-origin page sets the Strict cookie and moves on: a cookie
		// set on the provider's cross-site redirect is not sent on a
		// redirect chained to it.
		p := w.newPage(r, nil, "")
		p.Title = T(r.Lang, "title.signed_in")
		p.Refresh = withLang(HomePath, r.Lang)
		if resp, err = w.render(p, signedInView, http.StatusOK); err != nil {
			return apigw.Response{}, err
		}
		resp.Headers["Set-Cookie"] = cookie
		resp.Headers["Referrer-Policy"] = "no-referrer"
		return resp, nil
	}
	resp.Headers["Set-Cookie"] = clearState
	resp.Headers["Referrer-Policy"] = "no-referrer"
	return resp, nil
}

// staffOnly is the bilingual 403 a partner (or anyone without a staff role)
// gets.
func (w *Workspace) staffOnly(r *apigw.Request) apigw.Response {
	p := w.newPage(r, nil, "")
	p.Title = T(r.Lang, "title.staff_only")
	p.Message = T(r.Lang, "staff_only")
	p.Both = true
	resp, err := w.render(p, noticeView, http.StatusForbidden)
	if err != nil {
		return apigw.Response{Status: http.StatusInternalServerError}
	}
	return resp
}

var (
	pageLang   = websession.PageLang
	sameOrigin = websession.SameOrigin
	withLang   = websession.WithLang
)

// redirect is a 303 that no cache keeps.
func redirect(to string) apigw.Response {
	resp := websession.Redirect(to)
	resp.Headers["Cache-Control"] = "no-store"
	return resp
}
