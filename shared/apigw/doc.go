// Package apigw adapts API Gateway HTTP API (v2) events to Haven's steps: it
// decodes the body, reads the caller from the JWT claims the authorizer
// passed, picks the language, renders every error as RFC 9457
// problem+json in English or French, sets the headers every answer carries
// (no-store, nosniff, HSTS off loopback), and writes one JSON log line per request
// with its id, route, status and latency — never a body, a query string or a
// claim other than the role.
package apigw
