// Package webform is Haven's own referral form for partner caseworkers: the
// pages of the web-form function (GET /, GET and POST /sign-in, POST
// /sign-out, POST /form/referrals, GET /confirmation), in English and French.
//
// The pages sit outside the HttpApi JWT authorizer (a browser holding a
// cookie cannot pass it), so this package is its own gate: a sealed session
// cookie (AES-256-GCM from Go's crypto, keys derived with HKDF from the
// function's SESSION_KEY) holding only the partner id, the subject and the
// expiry; HttpOnly, SameSite=Strict, Secure except on loopback; a CSRF token
// per session (an HMAC of the cookie, sent back in a hidden field); and an
// Origin check on every POST. No token ever travels in a URL or sits where
// JavaScript can read it.
//
// Posting a referral runs exactly the create step of POST /referrals (the
// Create function in Config), as the signed-in partner caseworker.
//
// The form works without JavaScript (form-encoded posts, server-side rows for
// family members, the error summary and messages rendered by the server);
// with JavaScript, assets/form.js adds and removes rows in place, checks the
// same rules before sending, posts with fetch and maps the problem+json
// errors[].field to the same places.
package webform
