package webform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
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
// lives in the function (register the client as public, e.g. a Cognito app
// client without a secret, an Entra ID "mobile and desktop"/SPA-less public
// client, with the redirect URL https://<api-host>/sign-in).
//
// GET /sign-in sends the browser to the provider with state, nonce and a PKCE
// challenge; the state, nonce and verifier travel in a sealed, 10-minute,
// SameSite=Lax cookie. On the way back (?code=&state=) the function checks
// the state (once per process: a state is never accepted twice), exchanges
// the code at the token endpoint with the verifier, verifies the ID token
// (oidc_callback.go) and reads the role and partner claims (Claims). Only a
// partner caseworker with a valid partner id gets the same sealed session the
// development sign-in makes; the answer is a small same-origin page that sets
// the SameSite=Strict cookie and continues to the form, so the next request is
// same-site and carries it.
type OIDC struct {
	Issuer   string
	ClientID string
	// RedirectURL is this function's GET /sign-in URL as registered with the
	// provider; empty means https://<Host of the request>/sign-in (the
	// template cannot name the API's URL in the function without a cycle,
	// and the provider refuses any redirect URL not registered with it).
	RedirectURL string
	// Claims name the role and partner claims of the ID token (CLAIM_ROLE,
	// CLAIM_PARTNER); empty means apigw.DefaultClaims.
	Claims apigw.ClaimNames
	// HTTP fetches the discovery document and the JWKS and calls the token
	// endpoint; nil means a client with short timeouts that follows no
	// redirects.
	HTTP *http.Client
}

type discovery struct {
	Issuer                string `json:"issuer"`
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

func (o OIDC) claims() apigw.ClaimNames {
	c := o.Claims
	if c.Role == "" {
		c.Role = apigw.DefaultClaims.Role
	}
	if c.Partner == "" {
		c.Partner = apigw.DefaultClaims.Partner
	}
	return c
}

// formAction is added to the CSP form-action so that a form may post to the
// provider (none does yet; redirects are not restricted by form-action in
// every browser, so the origin is listed).
func (o OIDC) formAction() string {
	if u, err := url.Parse(o.Issuer); err == nil && u.Scheme == "https" && u.Host != "" {
		return " https://" + u.Host
	}
	return ""
}

// defaultOIDCClient bounds every step of a call to the provider; it follows
// no redirects, so a code or token is only ever sent where discovery said.
var defaultOIDCClient = &http.Client{
	Timeout: 8 * time.Second,
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		TLSHandshakeTimeout:   3 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
		MaxIdleConns:          4,
		IdleConnTimeout:       60 * time.Second,
		ForceAttemptHTTP2:     true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (o OIDC) client() *http.Client {
	if o.HTTP != nil {
		return o.HTTP
	}
	return defaultOIDCClient
}

// oidcCacheTTL is how long discovery and the JWKS are kept per process.
const oidcCacheTTL = time.Hour

// discoveryCache keeps the provider's endpoints for oidcCacheTTL.
type discoveryCache struct {
	mu      sync.Mutex
	d       *discovery
	fetched time.Time
}

// getJSON fetches a provider document (at most 1 MiB) into v.
func (o OIDC) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("oidc: status " + resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

func (f *Form) endpoints(ctx context.Context) (*discovery, error) {
	f.disc.mu.Lock()
	defer f.disc.mu.Unlock()
	now := f.cfg.Now()
	if f.disc.d != nil && now.Sub(f.disc.fetched) < oidcCacheTTL {
		return f.disc.d, nil
	}
	o := f.cfg.OIDC
	var d discovery
	if err := o.getJSON(ctx, strings.TrimRight(o.Issuer, "/")+"/.well-known/openid-configuration", &d); err != nil {
		if f.disc.d != nil {
			return f.disc.d, nil // a stale document beats none while the provider is briefly away
		}
		return nil, err
	}
	if d.Issuer != o.Issuer {
		return nil, errors.New("oidc discovery: issuer differs from the configured one")
	}
	for _, u := range []string{d.AuthorizationEndpoint, d.TokenEndpoint, d.JWKSURI} {
		if !strings.HasPrefix(u, "https://") {
			return nil, errors.New("oidc discovery: an endpoint is missing or not https")
		}
	}
	f.disc.d, f.disc.fetched = &d, now
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
	if q["code"] != "" || q["error"] != "" || q["state"] != "" {
		return f.oidcReturn(ctx, r, spec)
	}
	d, err := f.endpoints(ctx)
	if err != nil {
		r.Log.Error("oidc discovery failed", "cause_type", "discovery")
		return apigw.Response{}, problem.Wrap(problem.Unavailable, err)
	}
	st := oidcState{State: randomToken(), Nonce: randomToken(), Verifier: randomToken(), Lang: string(r.Lang),
		Expires: f.cfg.Now().Add(10 * time.Minute).Unix()}
	sealed, err := f.keys().seal(spec.oidcCookie(), st)
	if err != nil {
		return apigw.Response{}, problem.Wrap(problem.Internal, err)
	}
	redirectURL := o.redirectURL(r)
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

func (o OIDC) redirectURL(r *apigw.Request) string {
	if o.RedirectURL != "" {
		return o.RedirectURL
	}
	return "https://" + r.Header("Host") + SignInPath
}
