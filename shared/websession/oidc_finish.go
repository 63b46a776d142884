package websession

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

// Refusal is a sign-in refused: the HTTP status and the page's catalog key
// of the message to show ("error.forbidden", "signin.failed"), and the
// reason the log names (a fixed word, never a token, code, claim value or a
// provider's free text).
type Refusal struct {
	Status int
	Key    string
	Reason string
}

// Finish is the provider sending the browser back (GET <sign-in>?code=&state=,
// or ?error=&state=): q is the query, cookies the request's cookies. It
// checks the sealed state cookie against the state (once per process),
// exchanges the code with the PKCE verifier and verifies the ID token. It
// returns the token's claims and the language the sign-in started in, or a
// refusal. The caller clears the state cookie either way.
func (p *Provider) Finish(ctx context.Context, keys *Keys, stateCookie, redirectURL string, q map[string]string, cookies []string) (jwt.MapClaims, problem.Lang, *Refusal) {
	code, state, provErr := q["code"], q["state"], q["error"]
	var st oidcState
	raw := Value(cookies, stateCookie)
	now := p.now()
	if raw == "" || keys.Open(stateCookie, raw, &st) != nil || st.Expires < now.Unix() ||
		state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(st.State)) != 1 {
		return nil, "", &Refusal{http.StatusForbidden, "error.forbidden", "state"}
	}
	lang := problem.Lang("")
	if st.Lang == string(problem.English) || st.Lang == string(problem.French) {
		lang = problem.Lang(st.Lang)
	}
	// A state is good for one return only, whatever happens next.
	if !p.used.claim(st.State, st.Expires, now.Unix()) {
		return nil, lang, &Refusal{http.StatusForbidden, "error.forbidden", "state_replayed"}
	}
	if provErr != "" || code == "" {
		reason := "provider_error"
		if providerErrorCode.MatchString(provErr) {
			reason += ":" + provErr
		}
		return nil, lang, &Refusal{http.StatusForbidden, "signin.failed", reason}
	}
	d, err := p.endpoints(ctx)
	if err != nil {
		return nil, lang, &Refusal{http.StatusBadGateway, "signin.failed", "discovery"}
	}
	idToken, err := p.cfg.exchange(ctx, d, code, st.Verifier, redirectURL)
	if err != nil {
		return nil, lang, &Refusal{http.StatusBadGateway, "signin.failed", reasonOf(err)}
	}
	claims, err := p.verifyIDToken(ctx, d, idToken, st.Nonce)
	if err != nil {
		return nil, lang, &Refusal{http.StatusForbidden, "signin.failed", reasonOf(err)}
	}
	return claims, lang, nil
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
func (p *Provider) verifyIDToken(ctx context.Context, d *discovery, raw, nonce string) (jwt.MapClaims, error) {
	o := p.cfg
	parser := jwt.NewParser(
		jwt.WithValidMethods(oidcAlgs),
		jwt.WithIssuer(o.Issuer),
		jwt.WithAudience(o.ClientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(oidcLeeway),
		jwt.WithTimeFunc(p.now),
	)
	// The parser refuses other algorithms too; this names the reason.
	if hdr, err := tokenHeader(raw); err != nil || !slices.Contains(oidcAlgs, hdr.Alg) {
		return nil, errAlg
	}
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return p.jwks.key(ctx, o, d.JWKSURI, kid, t.Method.Alg(), p.now())
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

// ClaimStrings reads a claim that may be a string ("partner", "partner
// officer", "[partner,officer]") or an array of strings.
func ClaimStrings(v any) []string {
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
