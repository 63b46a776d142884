package webform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
)

// OIDC is the identity provider partner caseworkers sign in with in AWS (the
// same issuer whose tokens the HttpApi JWT authorizer accepts): an
// authorization-code flow with PKCE for a public client, so no client secret
// lives in the function.
//
// Done: discovery, the authorization request (state, nonce and PKCE verifier
// sealed in a short-lived cookie), and the state check on return.
// Left (see the README's web form section): exchanging the code at the token
// endpoint, verifying the ID token (signature against the JWKS, iss, aud,
// exp, nonce) and reading the role and partner claims (CLAIM_ROLE,
// CLAIM_PARTNER) before startSession. Until then the return step answers
// 501 with a plain message, and no session is ever made from the provider.
type OIDC struct {
	Issuer   string
	ClientID string
	// RedirectURL is this function's GET /sign-in URL as registered with the
	// provider; empty means https://<Host of the request>/sign-in (the
	// template cannot name the API's URL in the function without a cycle,
	// and the provider refuses any redirect URL not registered with it).
	RedirectURL string
	// HTTP fetches the discovery document; nil means a 5-second client.
	HTTP *http.Client
}

type discovery struct {
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// oidcState is what the browser carries between the redirect and the return.
type oidcState struct {
	State    string `json:"st"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Lang     string `json:"l"`
	Expires  int64  `json:"e"`
}

func (o OIDC) configured() bool { return o.Issuer != "" && o.ClientID != "" }

// formAction is added to the CSP form-action so that a form may post to the
// provider (none does yet; redirects are not restricted by form-action in
// every browser, so the origin is listed).
func (o OIDC) formAction() string {
	if u, err := url.Parse(o.Issuer); err == nil && u.Scheme == "https" && u.Host != "" {
		return " https://" + u.Host
	}
	return ""
}

// discoveryCache keeps the provider's endpoints for the life of the process.
type discoveryCache struct {
	mu sync.Mutex
	d  *discovery
}

func (f *Form) endpoints(ctx context.Context) (*discovery, error) {
	f.disc.mu.Lock()
	defer f.disc.mu.Unlock()
	if f.disc.d != nil {
		return f.disc.d, nil
	}
	o := f.cfg.OIDC
	c := o.HTTP
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(o.Issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("oidc discovery: status " + resp.Status)
	}
	var d discovery
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&d); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(d.AuthorizationEndpoint, "https://") {
		return nil, errors.New("oidc discovery: no https authorization_endpoint")
	}
	f.disc.d = &d
	return &d, nil
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// oidcStart is GET /sign-in in AWS: the redirect to the provider, or, on the
// way back (?code=&state=), the return step.
func (f *Form) oidcStart(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	o := f.cfg.OIDC
	if !o.configured() {
		return f.errorPage(r, http.StatusServiceUnavailable, "signin.unavailable"), nil
	}
	spec := specFor(r.Header("Host"))
	q := r.Event.QueryStringParameters
	if q["code"] != "" || q["error"] != "" {
		var st oidcState
		raw := cookieValue(r.Event.Cookies, spec.oidcCookie())
		if raw == "" || f.keys.open(spec.oidcCookie(), raw, &st) != nil || st.Expires < f.cfg.Now().Unix() ||
			q["state"] == "" || q["state"] != st.State {
			return f.errorPage(r, http.StatusForbidden, "error.forbidden"), nil
		}
		resp := f.errorPage(r, http.StatusNotImplemented, "signin.oidc_todo")
		resp.Headers["Set-Cookie"] = spec.set(spec.oidcCookie(), "", -1, "Lax")
		return resp, nil
	}
	d, err := f.endpoints(ctx)
	if err != nil {
		r.Log.Error("oidc discovery failed", "cause_type", "discovery")
		return apigw.Response{}, problem.Wrap(problem.Unavailable, err)
	}
	st := oidcState{State: randomToken(), Nonce: randomToken(), Verifier: randomToken(), Lang: string(r.Lang),
		Expires: f.cfg.Now().Add(10 * time.Minute).Unix()}
	sealed, err := f.keys.seal(spec.oidcCookie(), st)
	if err != nil {
		return apigw.Response{}, problem.Wrap(problem.Internal, err)
	}
	redirectURL := o.RedirectURL
	if redirectURL == "" {
		redirectURL = "https://" + r.Header("Host") + SignInPath
	}
	challenge := sha256.Sum256([]byte(st.Verifier))
	v := url.Values{
		"response_type": {"code"}, "client_id": {o.ClientID}, "redirect_uri": {redirectURL},
		"scope": {"openid"}, "state": {st.State}, "nonce": {st.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
		"ui_locales": {string(r.Lang)},
	}
	sep := "?"
	if strings.Contains(d.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	resp := redirect(d.AuthorizationEndpoint + sep + v.Encode())
	// Lax, not Strict: the provider sends the browser back with a cross-site
	// top-level GET, which must carry this cookie.
	resp.Headers["Set-Cookie"] = spec.set(spec.oidcCookie(), sealed, 600, "Lax")
	return resp, nil
}
