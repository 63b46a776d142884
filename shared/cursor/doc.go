// Package cursor makes the opaque "next page" tokens of Haven's list
// endpoints.
//
// A list query resumes from DynamoDB's last evaluated key. Handing that key to
// a client as is would let the client edit it and start a query anywhere in the
// index, including among another partner's referrals. So the key travels
// signed (HMAC-SHA256) together with a scope the server recomputes on every
// request (the caller and the list's filters): a token that was altered, made
// with another key, or issued for another partner's or filter's list is
// rejected as a malformed cursor, a validation error of the "cursor" field.
//
// Tokens are signed, not encrypted: the key values inside can be decoded by
// anyone holding the token. Index keys must therefore never carry personal
// data (Haven's keys hold only ids, statuses, streams and dates).
package cursor
