package webform

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/testenv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oklog/ulid/v2"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/websession"
)

const (
	testClientID = "haven-web"
	testEmail    = "caseworker@partner.example"
)

// fakeProvider is an in-process OIDC provider: discovery, JWKS, and a token
// endpoint that checks the code, the PKCE verifier (S256), the redirect URI
// and the client id, then returns an ID token signed as the test says.
type fakeProvider struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	rsaKey     *rsa.PrivateKey
	ecKey      *ecdsa.PrivateKey
	extraKeys  map[string]*rsa.PrivateKey // published under their kid as well
	grants     map[string]grant
	reuseCodes bool // let a code be redeemed twice (to test Haven's own replay guard)
	tokenFail  bool
	jwksHits   int
	tokenHits  int
	idToken    func(g grant) string // called with mu held
}

type grant struct {
	nonce, challenge, redirectURI, clientID string
	used                                    bool
}

func newFakeProvider(t *testing.T) *fakeProvider {
	p := &fakeProvider{t: t, grants: map[string]grant{}, extraKeys: map[string]*rsa.PrivateKey{}}
	var err error
	if p.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if p.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/jwks",
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.jwksHits++
		// Uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
		pt, err := p.ecKey.PublicKey.Bytes()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		keys := []map[string]string{rsaJWK("rsa-1", &p.rsaKey.PublicKey), {
			"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
			"x": b64(pt[1:33]), "y": b64(pt[33:65]),
		}}
		for kid, k := range p.extraKeys {
			keys = append(keys, rsaJWK(kid, &k.PublicKey))
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	// /authorize plays the provider's sign-in page for a browser: a button
	// that posts to the provider, which sends the user back with a code (so
	// the return is started by the provider's page, as in real life).
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><title>Provider</title><form method="post" action="/login?%s"><button id="approve">Sign in</button></form>`,
			html.EscapeString(r.URL.RawQuery))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := "code-" + randomToken()
		p.mu.Lock()
		p.grants[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
			redirectURI: q.Get("redirect_uri"), clientID: q.Get("client_id")}
		p.mu.Unlock()
		back := url.Values{"code": {code}, "state": {q.Get("state")}}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.tokenHits++
		r.ParseForm()
		g, ok := p.grants[r.PostForm.Get("code")]
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case p.tokenFail:
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		case r.PostForm.Get("grant_type") != "authorization_code", !ok, g.used && !p.reuseCodes,
			b64(sum[:]) != g.challenge, r.PostForm.Get("redirect_uri") != g.redirectURI,
			r.PostForm.Get("client_id") != g.clientID, r.PostForm.Get("client_secret") != "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		g.used = true
		p.grants[r.PostForm.Get("code")] = g
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id_token": p.idToken(g), "access_token": "at-" + randomToken(), "token_type": "Bearer"})
	})
	p.srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

// authorize plays the provider's sign-in page: it checks the authorization
// request and hands out a code.
func (p *fakeProvider) authorize(t *testing.T, location string) (code, state string) {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil || !strings.HasPrefix(location, p.srv.URL+"/authorize?") {
		t.Fatalf("redirect to %q", location)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("scope") != "openid" ||
		q.Get("client_id") != testClientID || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request %v", q)
	}
	code = "code-" + randomToken()
	p.mu.Lock()
	p.grants[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
		redirectURI: q.Get("redirect_uri"), clientID: q.Get("client_id")}
	p.mu.Unlock()
	return code, q.Get("state")
}

// claims are those of a good ID token for g.
func (p *fakeProvider) claims(g grant) jwt.MapClaims {
	now := testenv.Now()
	return jwt.MapClaims{
		"iss": p.srv.URL, "aud": testClientID, "sub": "user-1234", "email": testEmail,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce,
		"custom:role": "partner", "custom:partner": "front-line-defenders",
	}
}

func sign(t *testing.T, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ---------------------------------------------------------------- the form side

type oidcHarness struct {
	p       *fakeProvider
	form    *Form
	handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	logs    *testenv.LogBuffer
}

func newOIDCHarness(t *testing.T, p *fakeProvider) *oidcHarness {
	logs := &testenv.LogBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	form, err := New(Config{
		SessionKey: []byte(strings.Repeat("s", 32)),
		Create: func(context.Context, *apigw.Request) (apigw.Response, error) {
			return apigw.Response{Status: http.StatusCreated}, nil
		},
		OIDC: OIDC{Issuer: p.srv.URL, ClientID: testClientID, HTTP: p.srv.Client()},
		Log:  log,
		Now:  testenv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &oidcHarness{p: p, form: form, logs: logs,
		handler: apigw.Wrap(apigw.Options{Log: log, Public: true}, form.Step)}
}

func (h *oidcHarness) get(t *testing.T, host, path string, query map[string]string, cookies ...string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET " + path, RawPath: path, QueryStringParameters: query, Cookies: cookies,
		Headers: map[string]string{"host": host, "accept": "text/html"},
	}
	ev.RequestContext.HTTP.Method = http.MethodGet
	ev.RequestContext.RequestID = "req-" + randomToken()[:8]
	resp, err := h.handler(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// pair turns a Set-Cookie value into the name=value a browser sends back.
func pair(setCookie string) string {
	p, _, _ := strings.Cut(setCookie, ";")
	return p
}

// start is GET /sign-in up to the provider: the state cookie and the code.
func (h *oidcHarness) start(t *testing.T, host, lang string) (stateCookie, code, state string) {
	t.Helper()
	resp := h.get(t, host, SignInPath, map[string]string{"lang": lang})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /sign-in = %d %s", resp.StatusCode, resp.Body)
	}
	sc := resp.Headers["Set-Cookie"]
	if !strings.Contains(sc, "SameSite=Lax") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "Max-Age=600") {
		t.Errorf("state cookie %q", sc)
	}
	code, state = h.p.authorize(t, resp.Headers["Location"])
	return pair(sc), code, state
}

func TestOIDCSignIn(t *testing.T) {
	type tc struct {
		name  string
		host  string
		setup func(p *fakeProvider)
		// token builds the ID token the provider returns (nil: a good RS256 one).
		token func(t *testing.T, p *fakeProvider, g grant) string
		// tamper changes the return request (state, cookie).
		tamper     func(code, state, cookie string) (string, string, string)
		replay     bool
		status     int
		text       string // on the refusal page
		jwksHits   int    // when not 0: the JWKS fetches expected
		warm       bool   // fetch the JWKS before the sign-in
		wantReason string
	}
	good := func(t *testing.T, p *fakeProvider, g grant) string {
		return sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsaKey, p.claims(g))
	}
	with := func(change func(c jwt.MapClaims)) func(t *testing.T, p *fakeProvider, g grant) string {
		return func(t *testing.T, p *fakeProvider, g grant) string {
			c := p.claims(g)
			change(c)
			return sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsaKey, c)
		}
	}
	cases := []tc{
		{name: "success off loopback", host: "forms.example.org", status: 200},
		{name: "success on loopback", host: "127.0.0.1:3000", status: 200},
		{name: "success ES256 with role array", host: "forms.example.org", status: 200,
			token: func(t *testing.T, p *fakeProvider, g grant) string {
				c := p.claims(g)
				c["custom:role"] = []string{"officer", "partner"}
				return sign(t, jwt.SigningMethodES256, "ec-1", p.ecKey, c)
			}},
		{name: "success after key rotation (one JWKS refetch)", host: "forms.example.org", status: 200, jwksHits: 2, warm: true,
			token: func(t *testing.T, p *fakeProvider, g grant) string {
				k, _ := rsa.GenerateKey(rand.Reader, 2048)
				p.extraKeys["rsa-2"] = k // the token endpoint holds p.mu
				return sign(t, jwt.SigningMethodRS256, "rsa-2", k, p.claims(g))
			}},
		{name: "bad state", host: "forms.example.org", status: 403, text: "did not come from this form", wantReason: "state",
			tamper: func(code, state, cookie string) (string, string, string) { return code, state + "x", cookie }},
		{name: "no state cookie", host: "forms.example.org", status: 403, text: "did not come from this form", wantReason: "state",
			tamper: func(code, state, cookie string) (string, string, string) { return code, state, "" }},
		{name: "replayed state", host: "forms.example.org", status: 403, replay: true, text: "did not come from this form", wantReason: "state_replayed"},
		{name: "wrong nonce", host: "forms.example.org", status: 403, wantReason: "nonce", text: "could not be completed",
			token: with(func(c jwt.MapClaims) { c["nonce"] = "another" })},
		{name: "no nonce", host: "forms.example.org", status: 403, wantReason: "nonce",
			token: with(func(c jwt.MapClaims) { delete(c, "nonce") })},
		{name: "wrong issuer", host: "forms.example.org", status: 403, wantReason: "id_token:issuer",
			token: with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })},
		{name: "wrong audience", host: "forms.example.org", status: 403, wantReason: "id_token:audience",
			token: with(func(c jwt.MapClaims) { c["aud"] = "another-client" })},
		{name: "audience list without azp", host: "forms.example.org", status: 403, wantReason: "azp",
			token: with(func(c jwt.MapClaims) { c["aud"] = []string{testClientID, "another-client"} })},
		{name: "expired", host: "forms.example.org", status: 403, wantReason: "id_token:expired",
			token: with(func(c jwt.MapClaims) {
				c["exp"] = testenv.Now().Add(-2 * time.Minute).Unix()
				c["iat"] = testenv.Now().Add(-time.Hour).Unix()
			})},
		{name: "not yet valid", host: "forms.example.org", status: 403, wantReason: "id_token:not_yet_valid",
			token: with(func(c jwt.MapClaims) { c["nbf"] = testenv.Now().Add(5 * time.Minute).Unix() })},
		{name: "issued in the future", host: "forms.example.org", status: 403, wantReason: "id_token:issued_in_future",
			token: with(func(c jwt.MapClaims) { c["iat"] = testenv.Now().Add(5 * time.Minute).Unix() })},
		{name: "no exp", host: "forms.example.org", status: 403, wantReason: "id_token:claim_missing",
			token: with(func(c jwt.MapClaims) { delete(c, "exp") })},
		{name: "bad signature", host: "forms.example.org", status: 403, wantReason: "id_token:signature",
			token: func(t *testing.T, p *fakeProvider, g grant) string {
				other, _ := rsa.GenerateKey(rand.Reader, 2048)
				return sign(t, jwt.SigningMethodRS256, "rsa-1", other, p.claims(g))
			}},
		{name: "alg none", host: "forms.example.org", status: 403, wantReason: "alg",
			token: func(t *testing.T, p *fakeProvider, g grant) string {
				return sign(t, jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType, p.claims(g))
			}},
		{name: "alg HS256 keyed with the public key", host: "forms.example.org", status: 403, wantReason: "alg",
			token: func(t *testing.T, p *fakeProvider, g grant) string {
				return sign(t, jwt.SigningMethodHS256, "rsa-1", p.rsaKey.PublicKey.N.Bytes(), p.claims(g))
			}},
		{name: "RS256 token naming the EC key", host: "forms.example.org", status: 403, wantReason: "key_alg",
			token: func(t *testing.T, p *fakeProvider, g grant) string {
				return sign(t, jwt.SigningMethodRS256, "ec-1", p.rsaKey, p.claims(g))
			}},
		{name: "unknown kid (after one JWKS refetch)", host: "forms.example.org", status: 403, wantReason: "unknown_kid", jwksHits: 2, warm: true,
			token: func(t *testing.T, p *fakeProvider, g grant) string {
				other, _ := rsa.GenerateKey(rand.Reader, 2048)
				return sign(t, jwt.SigningMethodRS256, "rsa-9", other, p.claims(g))
			}},
		{name: "officer role", host: "forms.example.org", status: 403, wantReason: "not_partner",
			text:  "This form is for caseworkers of referral partners",
			token: with(func(c jwt.MapClaims) { c["custom:role"] = "officer" })},
		{name: "no role", host: "forms.example.org", status: 403, wantReason: "not_partner", text: "partner caseworker",
			token: with(func(c jwt.MapClaims) { delete(c, "custom:role") })},
		{name: "missing partner", host: "forms.example.org", status: 403, wantReason: "not_partner", text: "partner caseworker",
			token: with(func(c jwt.MapClaims) { delete(c, "custom:partner") })},
		{name: "malformed partner", host: "forms.example.org", status: 403, wantReason: "not_partner",
			token: with(func(c jwt.MapClaims) { c["custom:partner"] = "Front Line/../x" })},
		{name: "no subject", host: "forms.example.org", status: 403, wantReason: "no_subject",
			token: with(func(c jwt.MapClaims) { delete(c, "sub") })},
		{name: "token endpoint error", host: "forms.example.org", status: 502, wantReason: "token_endpoint", text: "could not be completed",
			setup: func(p *fakeProvider) { p.mu.Lock(); p.tokenFail = true; p.mu.Unlock() }},
		{name: "code refused by the token endpoint", host: "forms.example.org", status: 502, wantReason: "token_endpoint",
			tamper: func(code, state, cookie string) (string, string, string) { return code + "x", state, cookie }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newFakeProvider(t)
			p.idToken = func(g grant) string { return good(t, p, g) }
			h := newOIDCHarness(t, p)
			if c.warm {
				// The JWKS cache holds the keys from an earlier sign-in.
				ck, code, state := h.start(t, c.host, "en")
				if first := h.get(t, c.host, SignInPath, map[string]string{"code": code, "state": state}, ck); first.StatusCode != 200 {
					t.Fatalf("warm-up sign-in = %d", first.StatusCode)
				}
			}
			if c.token != nil {
				p.idToken = func(g grant) string { return c.token(t, p, g) }
			}
			if c.setup != nil {
				c.setup(p)
			}
			cookie, code, state := h.start(t, c.host, "en")
			if c.tamper != nil {
				code, state, cookie = c.tamper(code, state, cookie)
			}
			var cookies []string
			if cookie != "" {
				cookies = []string{cookie}
			}
			query := map[string]string{"code": code, "state": state}
			if c.replay {
				p.mu.Lock()
				p.reuseCodes = true
				p.mu.Unlock()
				if first := h.get(t, c.host, SignInPath, query, cookies...); first.StatusCode != 200 {
					t.Fatalf("first return = %d", first.StatusCode)
				}
			}
			resp := h.get(t, c.host, SignInPath, query, cookies...)
			if resp.StatusCode != c.status {
				t.Fatalf("return = %d, want %d; body %s\nlogs %s", resp.StatusCode, c.status, resp.Body, h.logs.String())
			}
			if resp.Headers["Cache-Control"] != "no-store" || resp.Headers["Location"] != "" {
				t.Errorf("headers %v", resp.Headers)
			}
			p.mu.Lock()
			hits := p.jwksHits
			p.mu.Unlock()
			if c.jwksHits != 0 && hits != c.jwksHits {
				t.Errorf("JWKS fetched %d times, want %d", hits, c.jwksHits)
			}
			if c.text != "" && !strings.Contains(resp.Body, c.text) {
				t.Errorf("page does not say %q:\n%s", c.text, resp.Body)
			}
			if c.wantReason != "" && !strings.Contains(h.logs.String(), `"reason":"`+c.wantReason+`"`) {
				t.Errorf("log lacks reason %q:\n%s", c.wantReason, h.logs.String())
			}
			checkNoSecretsLogged(t, h.logs.String(), code, state, p)

			spec := websession.For(c.host)
			sc := resp.Headers["Set-Cookie"]
			if c.status != 200 {
				if strings.HasPrefix(sc, spec.Name(sessionCookieName)+"=") || strings.Contains(sc, "haven_session") {
					t.Fatalf("refusal set a session: %s", sc)
				}
				// Whatever the browser holds now, the form sends it to sign-in.
				if got := h.get(t, c.host, FormPath, nil, cookies...); got.StatusCode != http.StatusSeeOther ||
					!strings.HasPrefix(got.Headers["Location"], SignInPath) {
					t.Errorf("GET / after refusal = %d %v", got.StatusCode, got.Headers)
				}
				return
			}
			checkSessionCookie(t, c.host, sc)
			if !strings.Contains(resp.Body, `<meta http-equiv="refresh" content="0; url=/?lang=en">`) ||
				!strings.Contains(resp.Body, `href="/?lang=en"`) || resp.Headers["Referrer-Policy"] != "no-referrer" {
				t.Errorf("signed-in page does not continue to the form:\n%s", resp.Body)
			}
			if strings.Contains(resp.Body, code) || strings.Contains(resp.Body, state) {
				t.Error("the signed-in page repeats the code or state")
			}
			form := h.get(t, c.host, FormPath, map[string]string{"lang": "en"}, pair(sc), cookie)
			if form.StatusCode != 200 || !strings.Contains(form.Body, "Front Line Defenders") || !strings.Contains(form.Body, `name="csrf_token"`) {
				t.Fatalf("GET / = %d\n%s", form.StatusCode, form.Body)
			}
			if clear := form.Headers["Set-Cookie"]; !strings.HasPrefix(clear, spec.Name(oidcCookieName)+"=;") || !strings.Contains(clear, "Max-Age=0") {
				t.Errorf("the form did not clear the state cookie: %q", clear)
			}
			var s session
			if err := h.form.keys().Open(spec.Name(sessionCookieName), strings.TrimPrefix(pair(sc), spec.Name(sessionCookieName)+"="), &s); err != nil ||
				s.Partner != "front-line-defenders" || s.Subject != "user-1234" {
				t.Errorf("session %+v, %v", s, err)
			}
		})
	}
}

func checkSessionCookie(t *testing.T, host, sc string) {
	t.Helper()
	secure := websession.For(host).Secure
	name := "haven_session="
	if secure {
		name = "__Host-haven_session="
	}
	if !strings.HasPrefix(sc, name) || !strings.Contains(sc, "; HttpOnly") || !strings.Contains(sc, "; SameSite=Strict") ||
		!strings.Contains(sc, "; Path=/") || strings.Contains(sc, "Domain=") || strings.Contains(sc, "; Secure") != secure {
		t.Errorf("%s: session cookie %q", host, sc)
	}
}

func checkNoSecretsLogged(t *testing.T, logs, code, state string, p *fakeProvider) {
	t.Helper()
	for _, secret := range []string{code, state, testEmail, "eyJ", "user-1234"} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line != "" && !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}

// TestOIDCSessionContinuation: the answer to the provider's cross-site
// redirect is a page of this origin, not a redirect, so the navigation to
// the form that follows is same-site and carries the SameSite=Strict cookie.
func TestOIDCSessionContinuation(t *testing.T) {
	p := newFakeProvider(t)
	p.idToken = func(g grant) string { return sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsaKey, p.claims(g)) }
	h := newOIDCHarness(t, p)
	cookie, code, state := h.start(t, "forms.example.org", "fr")
	resp := h.get(t, "forms.example.org", SignInPath, map[string]string{"code": code, "state": state}, cookie)
	if resp.StatusCode != http.StatusOK || resp.Headers["Location"] != "" {
		t.Fatalf("return = %d %v", resp.StatusCode, resp.Headers)
	}
	if resp.Headers["Content-Type"] != "text/html; charset=utf-8" || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers %v", resp.Headers)
	}
	// The language chosen before leaving for the provider is kept.
	for _, want := range []string{`<html lang="fr">`, `content="0; url=/?lang=fr"`, `href="/?lang=fr"`, "Continuer vers le formulaire",
		`<meta name="referrer" content="no-referrer">`} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("page lacks %q:\n%s", want, resp.Body)
		}
	}
	checkSessionCookie(t, "forms.example.org", resp.Headers["Set-Cookie"])
	// The language switch of the page does not carry the code or state on.
	if strings.Contains(resp.Body, "code=") || strings.Contains(resp.Body, "state=") {
		t.Errorf("page links carry the provider's query:\n%s", resp.Body)
	}
}

// TestOIDCProviderError: ?error= from the provider (the user cancelled)
// refuses, and the page is bilingual.
func TestOIDCProviderError(t *testing.T) {
	p := newFakeProvider(t)
	h := newOIDCHarness(t, p)
	cookie, _, state := h.start(t, "forms.example.org", "fr")
	resp := h.get(t, "forms.example.org", SignInPath, map[string]string{"error": "access_denied", "state": state}, cookie)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, "n’a pas pu être terminée") || p.tokenHits != 0 {
		t.Fatalf("= %d, token calls %d\n%s", resp.StatusCode, p.tokenHits, resp.Body)
	}
	if !strings.Contains(h.logs.String(), `"reason":"provider_error:access_denied"`) {
		t.Errorf("logs %s", h.logs.String())
	}
}

// TestOIDCPartnersOnlyFrench: the refusal for a non-partner in French.
func TestOIDCPartnersOnlyFrench(t *testing.T) {
	p := newFakeProvider(t)
	p.idToken = func(g grant) string {
		c := p.claims(g)
		c["custom:role"] = "[officer admin]"
		return sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsaKey, c)
	}
	h := newOIDCHarness(t, p)
	cookie, code, state := h.start(t, "forms.example.org", "fr")
	resp := h.get(t, "forms.example.org", SignInPath, map[string]string{"code": code, "state": state}, cookie)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, "Ce formulaire est réservé aux intervenants des partenaires") ||
		!strings.Contains(resp.Body, `<html lang="fr">`) {
		t.Fatalf("= %d\n%s", resp.StatusCode, resp.Body)
	}
}

// TestOIDCDiscoveryIssuer: a discovery document naming another issuer is
// refused.
func TestOIDCDiscoveryIssuer(t *testing.T) {
	p := newFakeProvider(t)
	h := newOIDCHarness(t, p)
	h.form.cfg.OIDC.Issuer = p.srv.URL + "/"
	h.form.oidc = websession.NewProvider(h.form.cfg.OIDC, h.form.cfg.Now)
	resp := h.get(t, "forms.example.org", SignInPath, nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("= %d", resp.StatusCode)
	}
}

// TestFormPagesHSTS: the form's pages carry HSTS off loopback, not on it.
func TestFormPagesHSTS(t *testing.T) {
	h := newOIDCHarness(t, newFakeProvider(t))
	for host, want := range map[string]string{
		"forms.example.org": "max-age=63072000; includeSubDomains",
		"127.0.0.1:3000":    "",
		"localhost:3000":    "",
	} {
		for _, path := range []string{"/", SignInPath} {
			if got := h.get(t, host, path, nil).Headers["Strict-Transport-Security"]; got != want {
				t.Errorf("%s%s: Strict-Transport-Security = %q, want %q", host, path, got, want)
			}
		}
	}
}

func randomToken() string { return ulid.Make().String() }
