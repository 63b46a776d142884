package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Local tokens: the runner plays the identity provider and the HttpApi JWT
// authorizer. Only these issuer and audience values are accepted.
const (
	localIssuer   = "https://haven.local/issuer"
	localAudience = "haven-local"
	tokenTTL      = time.Hour
)

// authority signs and verifies local tokens with an ES256 key kept in the
// data directory, so tokens survive a restart.
type authority struct {
	key    *ecdsa.PrivateKey
	claims claimNames
	now    func() time.Time
	// scopes are the template authorizer's AuthorizationScopes: a token must
	// carry one of them, as in AWS.
	scopes []string
}

// errScope is a valid token without a required scope: API Gateway answers 403.
var errScope = errors.New("token lacks a required scope")

type claimNames struct{ Role, Partner string }

func loadAuthority(dataDir string, names claimNames, now func() time.Time) (*authority, error) {
	path := filepath.Join(dataDir, "token-key.pem")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
		return &authority{key: key, claims: names, now: now}, nil
	}
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: not PEM", path)
	}
	key, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	return &authority{key: key, claims: names, now: now}, nil
}

// tokenRequest is the body of POST /_local/tokens.
type tokenRequest struct {
	Role    string   `json:"role"`
	Roles   []string `json:"roles"`
	Partner string   `json:"partner"`
	Subject string   `json:"sub"`
	// TTLSeconds may be negative to mint an expired token for tests.
	TTLSeconds *int `json:"ttl_seconds"`
	// Scope overrides the token's scope claim (default: the scopes the
	// template's authorizer requires).
	Scope *string `json:"scope"`
}

func (a *authority) issue(req tokenRequest) (string, error) {
	roles := req.Roles
	if req.Role != "" {
		roles = append([]string{req.Role}, roles...)
	}
	if len(roles) == 0 {
		return "", errors.New("role is required")
	}
	for _, r := range roles {
		if r != "partner" && r != "officer" && r != "admin" {
			return "", fmt.Errorf("unknown role %q (partner, officer or admin)", r)
		}
		if r == "partner" && req.Partner == "" {
			return "", errors.New("a partner token needs partner")
		}
	}
	now := a.now()
	ttl := tokenTTL
	if req.TTLSeconds != nil {
		ttl = time.Duration(*req.TTLSeconds) * time.Second
	}
	sub := req.Subject
	if sub == "" {
		sub = "local-" + strings.Join(roles, "-")
		if req.Partner != "" {
			sub += "-" + req.Partner
		}
	}
	claims := jwt.MapClaims{
		"iss": localIssuer, "aud": localAudience, "sub": sub,
		"iat": now.Unix(), "nbf": now.Add(-time.Second).Unix(), "exp": now.Add(ttl).Unix(),
	}
	if len(roles) == 1 {
		claims[a.claims.Role] = roles[0]
	} else {
		claims[a.claims.Role] = roles
	}
	if req.Partner != "" {
		claims[a.claims.Partner] = req.Partner
	}
	scope := strings.Join(a.scopes, " ")
	if req.Scope != nil {
		scope = *req.Scope
	}
	if scope != "" {
		claims["scope"] = scope
	}
	return jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(a.key)
}

// verify checks a bearer token as the HttpApi JWT authorizer does
// (signature, exp, nbf, iss, aud) and returns the claims as API Gateway passes
// them to Lambda: every value a string.
func (a *authority) verify(header string) (map[string]string, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return nil, errors.New("no bearer token")
	}
	tok, err := jwt.Parse(raw, func(t *jwt.Token) (any, error) { return &a.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithIssuer(localIssuer),
		jwt.WithAudience(localAudience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now),
	)
	if err != nil {
		return nil, err
	}
	mc, ok := tok.Claims.(jwt.MapClaims)
	if !ok {
		return nil, errors.New("bad claims")
	}
	claims := claimStrings(mc)
	if len(a.scopes) > 0 && !hasScope(claims["scope"]+" "+claims["scp"], a.scopes) {
		return nil, errScope
	}
	return claims, nil
}

// claimStrings flattens claims the way API Gateway does: arrays become
// "[a b]", numbers their decimal text.
func claimStrings(mc map[string]any) map[string]string {
	out := make(map[string]string, len(mc))
	for k, v := range mc {
		out[k] = claimString(v)
	}
	return out
}

func claimString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10)
		}
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case nil:
		return ""
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// hasScope reports whether the space-separated granted scopes (scp may come
// flattened as "[a b]") include one of required.
func hasScope(granted string, required []string) bool {
	for _, g := range strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(granted)) {
		for _, r := range required {
			if g == r {
				return true
			}
		}
	}
	return false
}
