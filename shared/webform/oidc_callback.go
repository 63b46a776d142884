package webform

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
)

// oidcLeeway is the clock skew allowed on exp, nbf and iat.
const oidcLeeway = 30 * time.Second

// oidcAlgs are the only ID-token signatures accepted (never none or HMAC:
// a public client has no shared secret).
var oidcAlgs = []string{"RS256", "ES256"}

// Reasons a sign-in is refused. They are what the log says: fixed words,
// never a token, a code, a claim value or a provider's free text.
var (
	errTokenEndpoint = errors.New("token_endpoint")
	errNoIDToken     = errors.New("no_id_token")
	errNonce         = errors.New("nonce")
	errAZP           = errors.New("azp")
	errNoSubject     = errors.New("no_subject")
	errNoIAT         = errors.New("no_iat")
	errUnknownKey    = errors.New("unknown_kid")
	errKeyAlg        = errors.New("key_alg")
	errJWKS          = errors.New("jwks")
	errAlg           = errors.New("alg")
)

// oidcReturn is GET /sign-in?code=&state= (or ?error=&state=): the provider
// sending the browser back.
func (f *Form) oidcReturn(ctx context.Context, r *apigw.Request, spec cookieSpec) (apigw.Response, error) {
	o := f.cfg.OIDC
	q := r.Event.QueryStringParameters
	code, state, provErr := q["code"], q["state"], q["error"]
	// Nothing from the provider's query goes into the pages rendered below
	// (the language switch copies the query).
	r.Event.QueryStringParameters = map[string]string{}
	if l := q["lang"]; l != "" {
		r.Event.QueryStringParameters["lang"] = l
	}
	clearState := spec.set(spec.oidcCookie(), "", -1, "Lax")
	refuse := func(status int, key, reason string) (apigw.Response, error) {
		r.Log.Warn("oidc sign-in refused", "reason", reason)
		resp := f.noticePage(r, status, key)
		resp.Headers["Set-Cookie"] = clearState
		return resp, nil
	}

	var st oidcState
	raw := cookieValue(r.Event.Cookies, spec.oidcCookie())
	now := f.cfg.Now()
	if raw == "" || f.keys().open(spec.oidcCookie(), raw, &st) != nil || st.Expires < now.Unix() ||
		state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(st.State)) != 1 {
		return refuse(http.StatusForbidden, "error.forbidden", "state")
	}
	if q["lang"] == "" && (st.Lang == string(problem.English) || st.Lang == string(problem.French)) {
		r.Lang = problem.Lang(st.Lang)
	}
	// A state is good for one return only, whatever happens next.
	if !f.used.claim(st.State, st.Expires, now.Unix()) {
		return refuse(http.StatusForbidden, "error.forbidden", "state_replayed")
	}
	if provErr != "" || code == "" {
		reason := "provider_error"
		if providerErrorCode.MatchString(provErr) {
			reason += ":" + provErr
		}
		return refuse(http.StatusForbidden, "signin.failed", reason)
	}

	d, err := f.endpoints(ctx)
	if err != nil {
		return refuse(http.StatusBadGateway, "signin.failed", "discovery")
	}
	idToken, err := o.exchange(ctx, d, code, st.Verifier, o.redirectURL(r))
	if err != nil {
		return refuse(http.StatusBadGateway, "signin.failed", reasonOf(err))
	}
	claims, err := f.verifyIDToken(ctx, d, idToken, st.Nonce)
	if err != nil {
		return refuse(http.StatusForbidden, "signin.failed", reasonOf(err))
	}
	s, ok := partnerSession(claims, o.claims())
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

var providerErrorCode = regexp.MustCompile(`^[a-z_]{1,40}$`)

// reasonOf maps an exchange or verification error to a fixed word.
func reasonOf(err error) string {
	for _, e := range []error{errAlg, errTokenEndpoint, errNoIDToken, errNonce, errAZP, errNoSubject, errNoIAT,
		errUnknownKey, errKeyAlg, errJWKS} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	for e, word := range map[error]string{
		jwt.ErrTokenExpired: "expired", jwt.ErrTokenNotValidYet: "not_yet_valid",
		jwt.ErrTokenUsedBeforeIssued: "issued_in_future", jwt.ErrTokenInvalidIssuer: "issuer",
		jwt.ErrTokenInvalidAudience: "audience", jwt.ErrTokenSignatureInvalid: "signature",
		jwt.ErrTokenMalformed: "malformed", jwt.ErrTokenRequiredClaimMissing: "claim_missing",
	} {
		if errors.Is(err, e) {
			return "id_token:" + word
		}
	}
	if errors.Is(err, jwt.ErrTokenUnverifiable) {
		return "id_token:unverifiable"
	}
	return "id_token"
}

// exchange redeems the code at the token endpoint (a public client: the
// client id and the PKCE verifier, no secret) and returns the ID token.
func (o OIDC) exchange(ctx context.Context, d *discovery, code, verifier, redirectURL string) (string, error) {
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURL},
		"client_id": {o.ClientID}, "code_verifier": {verifier},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", errTokenEndpoint
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := o.client().Do(req)
	if err != nil {
		return "", errTokenEndpoint
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", errTokenEndpoint
	}
	var body struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", errTokenEndpoint
	}
	if body.IDToken == "" {
		return "", errNoIDToken
	}
	return body.IDToken, nil
}

// verifyIDToken checks the signature against the provider's JWKS (RS256 or
// ES256 only), iss, aud (and azp), exp, nbf and iat with a small leeway, and
// the nonce; it returns the token's claims.
func (f *Form) verifyIDToken(ctx context.Context, d *discovery, raw, nonce string) (jwt.MapClaims, error) {
	o := f.cfg.OIDC
	p := jwt.NewParser(
		jwt.WithValidMethods(oidcAlgs),
		jwt.WithIssuer(o.Issuer),
		jwt.WithAudience(o.ClientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(oidcLeeway),
		jwt.WithTimeFunc(f.cfg.Now),
	)
	// The parser refuses other algorithms too; this names the reason.
	if hdr, err := tokenHeader(raw); err != nil || !slices.Contains(oidcAlgs, hdr.Alg) {
		return nil, errAlg
	}
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return f.jwks.key(ctx, o, d.JWKSURI, kid, t.Method.Alg(), f.cfg.Now())
	})
	if err != nil {
		return nil, err
	}
	if _, ok := claims["iat"].(float64); !ok {
		return nil, errNoIAT
	}
	got, _ := claims["nonce"].(string)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, errNonce
	}
	aud, _ := claims.GetAudience()
	azp, hasAZP := claims["azp"].(string)
	if (hasAZP || len(aud) > 1) && azp != o.ClientID {
		return nil, errAZP
	}
	if sub, _ := claims.GetSubject(); sub == "" {
		return nil, errNoSubject
	}
	return claims, nil
}

func tokenHeader(raw string) (h struct {
	Alg string `json:"alg"`
}, err error) {
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return h, err
	}
	err = json.Unmarshal(b, &h)
	return h, err
}

// partnerSession reads the role and partner claims: only a caller holding the
// partner role with a well-formed partner id gets a form session.
func partnerSession(claims jwt.MapClaims, names apigw.ClaimNames) (session, bool) {
	isPartner := false
	for _, role := range claimStrings(claims[names.Role]) {
		if role == string(apigw.Partner) {
			isPartner = true
		}
	}
	partner, _ := claims[names.Partner].(string)
	partner = strings.TrimSpace(partner)
	sub, _ := claims.GetSubject()
	if !isPartner || !validPartnerID(partner) || sub == "" {
		return session{}, false
	}
	return session{Partner: partner, Subject: sub}, true
}

// claimStrings reads a claim that may be a string ("partner", "partner
// officer", "[partner,officer]") or an array of strings.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.FieldsFunc(v, func(r rune) bool {
			return r == ' ' || r == ',' || r == '"' || r == '[' || r == ']'
		})
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	}
	return nil
}

// validPartnerID is the rule the API applies to the partner claim
// (apigw.CallerFrom): lower-case letters, digits and hyphens, 1–64.
func validPartnerID(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// usedStates remembers, per process, the states already returned, until
// their cookie would have expired anyway. (A state replayed at another
// instance still needs the same code, which the provider redeems once.)
//
// It holds at most maxUsedStates. Under a flood of sign-ins it forgets the
// oldest state rather than refusing new ones: refusing would let anyone who
// can complete sign-ins lock everyone out of an instance, while a forgotten
// state only loses this per-process check for a code the provider has most
// likely redeemed already.
type usedStates struct {
	mu sync.Mutex
	m  map[string]int64
	// order holds the states of m oldest first; all cookies live equally
	// long, so the oldest claimed expires first.
	order []string
}

const maxUsedStates = 10000

// claim records state and reports whether it was new.
func (u *usedStates) claim(state string, expires, now int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]int64{}
	}
	if _, seen := u.m[state]; seen {
		return false
	}
	for len(u.order) > 0 && (u.m[u.order[0]] < now || len(u.order) >= maxUsedStates) {
		delete(u.m, u.order[0])
		u.order = u.order[1:]
	}
	u.m[state] = expires
	u.order = append(u.order, state)
	return true
}

// ---------------------------------------------------------------- pages

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
