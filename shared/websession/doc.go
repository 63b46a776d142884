// Package websession is what Haven's own browser pages (the partners'
// referral form, shared/webform; the officers' workspace, shared/workspace)
// share to keep their sessions: sealed session cookies, CSRF tokens and the
// Origin check, the OpenID Connect sign-in they use in AWS, and the page
// language (?lang=, else Accept-Language) their links carry, with the French
// typography of their text (FrenchTypography).
//
// A page outside the HttpApi JWT authorizer (a browser holding a cookie
// cannot pass it) is its own gate. Its session travels in a cookie sealed
// with AES-256-GCM (Go's crypto; the key derived with HKDF from a session
// secret, the cookie's name bound as additional data so a value cannot move
// from one cookie to another); HttpOnly, SameSite=Strict, Secure with the
// __Host- prefix except on loopback. A CSRF token per session is an HMAC of
// the cookie's value under a second derived key.
//
// OpenID Connect (oidc.go, jwks.go) is the authorization-code flow with
// PKCE for a public client (no client secret): the state, nonce and
// verifier travel in a sealed 10-minute SameSite=Lax cookie; a state is
// accepted once per process; the ID token is verified against the
// provider's JWKS (RS256 or ES256 only; iss, aud, azp, exp, nbf, iat,
// nonce). Which claims earn a session is the page's decision: Finish hands
// back the verified claims, or a refusal whose reason is a fixed word for
// the log, never a token, code or claim.
package websession
