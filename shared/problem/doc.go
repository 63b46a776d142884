// Package problem is Haven's one set of error kinds and the one table from a
// kind to its HTTP status and RFC 9457 problem slug, with the English and French
// titles and details clients see.
//
// Domain code returns *Error values; adapters render them. Nothing in an Error
// that a client sees comes from an internal error's text: Cause is for logs
// (and even there only the kind and a redacted summary are written).
package problem
