package websession

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"sync"
	"time"
)

// jwk is one key of the provider's JWKS (RFC 7517); only RSA and P-256 EC
// signing keys are read.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

type publicKey struct {
	alg string // "RS256" or "ES256": the only algorithm this key verifies
	key any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// jwksCache keeps the provider's signing keys per process for oidcCacheTTL,
// and fetches them again, once per verification, when a token names a key
// it does not hold (the provider has rotated its keys).
type jwksCache struct {
	mu      sync.Mutex
	uri     string
	keys    map[string]publicKey
	fetched time.Time
	fetches int // for tests
}

func (c *jwksCache) key(ctx context.Context, o OIDC, uri, kid, alg string, now time.Time) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fresh := c.keys != nil && c.uri == uri && now.Sub(c.fetched) < oidcCacheTTL
	if !fresh {
		if err := c.fetch(ctx, o, uri, now); err != nil {
			return nil, err
		}
	}
	k, ok := c.lookup(kid)
	if !ok && fresh {
		if err := c.fetch(ctx, o, uri, now); err != nil {
			return nil, err
		}
		k, ok = c.lookup(kid)
	}
	if !ok {
		return nil, errUnknownKey
	}
	if k.alg != alg {
		return nil, errKeyAlg
	}
	return k.key, nil
}

// lookup finds kid; a token without kid is accepted only when the set holds a
// single key.
func (c *jwksCache) lookup(kid string) (publicKey, bool) {
	if kid == "" {
		if len(c.keys) == 1 {
			for _, k := range c.keys {
				return k, true
			}
		}
		return publicKey{}, false
	}
	k, ok := c.keys[kid]
	return k, ok
}

func (c *jwksCache) fetch(ctx context.Context, o OIDC, uri string, now time.Time) error {
	c.fetches++
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := o.getJSON(ctx, uri, &set); err != nil {
		return errJWKS
	}
	keys := map[string]publicKey{}
	for _, j := range set.Keys {
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		k, err := j.publicKey()
		if err != nil {
			continue // a key of another kind is no reason to refuse the others
		}
		keys[j.Kid] = k
	}
	c.keys, c.uri, c.fetched = keys, uri, now
	return nil
}

func (j jwk) publicKey() (publicKey, error) {
	b64 := base64.RawURLEncoding
	switch j.Kty {
	case "RSA":
		if j.Alg != "" && j.Alg != "RS256" {
			return publicKey{}, errors.New("jwk: alg")
		}
		n, err1 := b64.DecodeString(j.N)
		e, err2 := b64.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return publicKey{}, errors.New("jwk: rsa")
		}
		pk := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pk.N.BitLen() < 2048 || pk.E < 3 {
			return publicKey{}, errors.New("jwk: weak rsa")
		}
		return publicKey{alg: "RS256", key: pk}, nil
	case "EC":
		if j.Crv != "P-256" || (j.Alg != "" && j.Alg != "ES256") {
			return publicKey{}, errors.New("jwk: ec")
		}
		x, err1 := b64.DecodeString(j.X)
		y, err2 := b64.DecodeString(j.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return publicKey{}, errors.New("jwk: ec")
		}
		// ParseUncompressedPublicKey checks that the point is on the curve.
		raw := append(append([]byte{4}, x...), y...)
		pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			return publicKey{}, errors.New("jwk: ec point")
		}
		return publicKey{alg: "ES256", key: pk}, nil
	}
	return publicKey{}, errors.New("jwk: kty")
}
