package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/haven-hrd/haven/shared/problem"
)

// TTL is how long a first response is kept for replay.
const TTL = 24 * time.Hour

// MaxKeyLen is the longest accepted key.
const MaxKeyLen = 255

// ValidKey reports whether k is 1–255 visible ASCII characters.
func ValidKey(k string) bool {
	if len(k) == 0 || len(k) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// CheckKey returns a validation error for an invalid key, naming field.
func CheckKey(field, k string) error {
	if !ValidKey(k) {
		return problem.Invalid(problem.FieldError{Field: field, Code: problem.CodeMalformed})
	}
	return nil
}

// Hash fingerprints what a request asks for: its method, route and body. The
// same key with a different hash is a reused key, not a retry.
func Hash(method, path string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Response is what is replayed, byte for byte.
type Response struct {
	Status  int               `dynamodbav:"status"`
	Headers map[string]string `dynamodbav:"headers"`
	Body    []byte            `dynamodbav:"body"`
}

// Record is the stored answer to the first request made with a key.
type Record struct {
	// Scope is the caller the key belongs to: keys are per caller.
	Scope string
	Key   string
	Hash  string
	// Done is false while the first request is still running (only for steps
	// whose effect is not a single transaction).
	Done      bool
	Response  Response
	ExpiresAt time.Time
}

// New returns the record of a completed request.
func New(scope, key, hash string, resp Response, now time.Time) Record {
	return Record{Scope: scope, Key: key, Hash: hash, Done: true, Response: resp, ExpiresAt: now.Add(TTL)}
}

// InProgress returns a record guarding work that is not one transaction; it
// expires with the function's deadline so a crashed attempt does not lock the
// key for a day.
func InProgress(scope, key, hash string, deadline time.Time) Record {
	return Record{Scope: scope, Key: key, Hash: hash, ExpiresAt: deadline}
}

// Resolve decides what to answer when a record for the key already exists.
// It returns the response to replay, or an error of kind
// IdempotencyKeyReused or RequestInProgress.
func Resolve(existing Record, hash string, now time.Time) (Response, error) {
	if existing.Hash != hash {
		return Response{}, problem.New(problem.IdempotencyKeyReused)
	}
	if !existing.Done {
		return Response{}, &problem.Error{Kind: problem.RequestInProgress, RetryAfter: 1}
	}
	return existing.Response, nil
}

// Live reports whether a stored record still counts at now. DynamoDB's TTL
// deletes expired items lazily (up to days later), so expiry is also checked
// in every condition and read.
func (r Record) Live(now time.Time) bool { return now.Before(r.ExpiresAt) }
