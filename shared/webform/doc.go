// Package webform is Haven's own referral form for partner caseworkers: the
// pages of the web-form function (GET /, GET and POST /sign-in, POST
// /sign-out, POST /form/referrals, GET /confirmation), in English and French.
//
// The pages sit outside the HttpApi JWT authorizer (a browser holding a
// cookie cannot pass it), so this package is its own gate, with
// shared/websession's sealed session cookie (holding only the partner id,
// the subject and the expiry; keys derived from SESSION_KEY locally, in AWS
// from the sealer's session keyset on the first request), its CSRF token per session,
// and an Origin check on every POST. No token ever travels in a URL or sits
// where JavaScript can read it.
//
// Sign-in in AWS is websession's OpenID Connect code flow with PKCE
// (signin.go); only a caller holding the partner role with a valid partner
// id gets a session; anyone else sees a bilingual 403 page. The provider's
// cross-site return is answered with a same-origin page that sets the
// SameSite=Strict cookie and moves on to the form, so the next navigation is
// same-site and carries it. The log names a refusal's reason in a fixed
// word, never a token, code or claim.
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
