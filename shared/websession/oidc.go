package websession

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

// OIDC is the identity provider Haven's pages sign in with in AWS (the same
// issuer whose tokens the HttpApi JWT authorizer accepts): an
// authorization-code flow with PKCE for a public client, so no client secret
// lives in the function (register the client as public, e.g. a Cognito app
// client without a secret, an Entra ID "mobile and desktop"/SPA-less public
// client, with each page's redirect URL, e.g. https://<api-host>/sign-in).
//
// Begin sends the browser to the provider with state, nonce and a PKCE
// challenge; the state, nonce and verifier travel in a sealed, 10-minute,
// SameSite=Lax cookie. On the way back (?code=&state=) Finish checks the
// state (once per process: a state is never accepted twice), exchanges the
// code at the token endpoint with the verifier and verifies the ID token
// (oidc_finish.go). The page then reads the role and partner claims
// (ClaimNames) and decides who gets its session.
type OIDC struct {
	Issuer   string
	ClientID string
	// RedirectURL is the page's sign-in URL as registered with the
	// provider; empty means https://<Host of the request><sign-in path> (the
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

// Configured reports whether an issuer and a client id are set.
func (o OIDC) Configured() bool { return o.Issuer != "" && o.ClientID != "" }

// ClaimNames are the role and partner claims to read (the defaults when
// unset).
func (o OIDC) ClaimNames() apigw.ClaimNames {
	c := o.Claims
	if c.Role == "" {
		c.Role = apigw.DefaultClaims.Role
	}
	if c.Partner == "" {
		c.Partner = apigw.DefaultClaims.Partner
	}
	return c
}

// FormAction is added to a page's CSP form-action so that a form may post
// to the provider (none does yet; redirects are not restricted by
// form-action in every browser, so the origin is listed).
func (o OIDC) FormAction() string {
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

// Provider is one page's client of the identity provider: its
// configuration, the discovery document and JWKS it keeps, and the states
// already returned.
type Provider struct {
	cfg  OIDC
	now  func() time.Time
	disc discoveryCache
	jwks jwksCache
	used usedStates
}

// NewProvider returns the client of cfg on the clock now.
func NewProvider(cfg OIDC, now func() time.Time) *Provider {
	return &Provider{cfg: cfg, now: now}
}

// Config is the provider's configuration.
func (p *Provider) Config() OIDC { return p.cfg }

func (p *Provider) endpoints(ctx context.Context) (*discovery, error) {
	p.disc.mu.Lock()
	defer p.disc.mu.Unlock()
	now := p.now()
	if p.disc.d != nil && now.Sub(p.disc.fetched) < oidcCacheTTL {
		return p.disc.d, nil
	}
	o := p.cfg
	var d discovery
	if err := o.getJSON(ctx, strings.TrimRight(o.Issuer, "/")+"/.well-known/openid-configuration", &d); err != nil {
		if p.disc.d != nil {
			return p.disc.d, nil // a stale document beats none while the provider is briefly away
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
	p.disc.d, p.disc.fetched = &d, now
	return &d, nil
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// StateCookieTTL is how long a sign-in may take at the provider.
const StateCookieTTL = 10 * time.Minute

// Begin starts a sign-in: the provider's authorization URL to send the
// browser to, and the Set-Cookie value of the sealed state cookie
// (stateCookie, SameSite=Lax: the provider sends the browser back with a
// cross-site top-level GET, which must carry it). An unreachable provider
// is Unavailable.
func (p *Provider) Begin(ctx context.Context, keys *Keys, c Cookies, stateCookie, redirectURL string, lang problem.Lang) (location, setCookie string, err error) {
	d, err := p.endpoints(ctx)
	if err != nil {
		return "", "", problem.Wrap(problem.Unavailable, err)
	}
	st := oidcState{State: randomToken(), Nonce: randomToken(), Verifier: randomToken(), Lang: string(lang),
		Expires: p.now().Add(StateCookieTTL).Unix()}
	sealed, err := keys.Seal(stateCookie, st)
	if err != nil {
		return "", "", problem.Wrap(problem.Internal, err)
	}
	challenge := sha256.Sum256([]byte(st.Verifier))
	v := url.Values{
		"response_type": {"code"}, "client_id": {p.cfg.ClientID}, "redirect_uri": {redirectURL},
		"scope": {"openid"}, "state": {st.State}, "nonce": {st.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
		"ui_locales": {string(lang)},
	}
	sep := "?"
	if strings.Contains(d.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	return d.AuthorizationEndpoint + sep + v.Encode(), c.Set(stateCookie, sealed, int(StateCookieTTL/time.Second), "Lax"), nil
}

// ReturnURL is the URL the provider sends the browser back to: the
// configured RedirectURL, else https://<Host of r><path>.
func (o OIDC) ReturnURL(r *apigw.Request, path string) string {
	if o.RedirectURL != "" {
		return o.RedirectURL
	}
	return "https://" + r.Header("Host") + path
}

// Returning reports whether a sign-in request is the provider's return
// (?code=, ?error= or ?state=).
func Returning(q map[string]string) bool {
	return q["code"] != "" || q["error"] != "" || q["state"] != ""
}
