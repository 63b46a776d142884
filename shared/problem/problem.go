package problem

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind names one class of failure. Its string is the problem slug clients see.
type Kind string

const (
	Validation             Kind = "validation-failed"
	Unauthenticated        Kind = "unauthenticated"
	Forbidden              Kind = "forbidden"
	NotFound               Kind = "not-found"
	InvalidTransition      Kind = "invalid-transition"
	QuotaExhausted         Kind = "quota-exhausted"
	DuplicateReferral      Kind = "duplicate-referral"
	RequestInProgress      Kind = "request-in-progress"
	CapacityBelowCommitted Kind = "capacity-below-committed"
	PeriodClosed           Kind = "period-closed"
	WaitlistNotEmpty       Kind = "waitlist-not-empty"
	PayloadTooLarge        Kind = "payload-too-large"
	UnsupportedMediaType   Kind = "unsupported-media-type"
	IdempotencyKeyReused   Kind = "idempotency-key-reused"
	RateLimited            Kind = "rate-limited"
	// Disposed: the referral's personal data was destroyed at the end of
	// its retention period; only a tombstone is left (shared/retention).
	Disposed    Kind = "disposed"
	Internal    Kind = "internal"
	Unavailable Kind = "unavailable"
)

// statuses is the one table from kind to HTTP status.
var statuses = map[Kind]int{
	Validation:             http.StatusBadRequest,
	Unauthenticated:        http.StatusUnauthorized,
	Forbidden:              http.StatusForbidden,
	NotFound:               http.StatusNotFound,
	InvalidTransition:      http.StatusConflict,
	QuotaExhausted:         http.StatusConflict,
	DuplicateReferral:      http.StatusConflict,
	RequestInProgress:      http.StatusConflict,
	CapacityBelowCommitted: http.StatusConflict,
	PeriodClosed:           http.StatusConflict,
	WaitlistNotEmpty:       http.StatusConflict,
	PayloadTooLarge:        http.StatusRequestEntityTooLarge,
	UnsupportedMediaType:   http.StatusUnsupportedMediaType,
	IdempotencyKeyReused:   http.StatusUnprocessableEntity,
	RateLimited:            http.StatusTooManyRequests,
	Disposed:               http.StatusGone,
	Internal:               http.StatusInternalServerError,
	Unavailable:            http.StatusServiceUnavailable,
}

// Kinds lists every kind, in the contract's order.
func Kinds() []Kind {
	return []Kind{Validation, Unauthenticated, Forbidden, NotFound, InvalidTransition,
		QuotaExhausted, DuplicateReferral, RequestInProgress, CapacityBelowCommitted, PeriodClosed, WaitlistNotEmpty,
		PayloadTooLarge, UnsupportedMediaType, IdempotencyKeyReused, RateLimited, Disposed,
		Internal, Unavailable}
}

// Status is the HTTP status of k; unknown kinds are internal errors.
func (k Kind) Status() int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// FieldError is one failed validation rule. Field is a dotted path into the
// request body (family_members.1.date_of_birth); Code is a stable machine code
// whose human message comes from the catalog.
//
// Allowed, for a value outside a closed list, is that list: the one thing a
// client needs to correct it, so the rendered error names it.
type FieldError struct {
	Field   string
	Code    string
	Allowed []string
}

// MaxFieldErrors is how many field errors a problem body lists; the body
// gives the total too. A 64 KiB body can hold tens of thousands of mistakes,
// and listing them all would make a bad request cost megabytes to answer.
const MaxFieldErrors = 50

// Error is the error every Haven package returns for an expected failure.
type Error struct {
	Kind   Kind
	Fields []FieldError
	// Extra holds safe, non-personal members added to the problem body, such as
	// the existing referral id of a duplicate-referral.
	Extra map[string]string
	// Tombstone is what is left of a disposed referral (Disposed only):
	// fields that identify no one, rendered as the body's tombstone.
	Tombstone any
	// RetryAfter is the seconds a client should wait (unavailable, rate-limited).
	RetryAfter int
	// Cause is the internal error, for logs only; never rendered to clients.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %v", e.Kind, e.Cause)
	}
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %d field errors (first %s %s)", e.Kind, len(e.Fields), e.Fields[0].Field, e.Fields[0].Code)
	}
	return string(e.Kind)
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an Error of kind k.
func New(k Kind) *Error { return &Error{Kind: k} }

// Wrap returns an Error of kind k whose cause is err.
func Wrap(k Kind, err error) *Error { return &Error{Kind: k, Cause: err} }

// Invalid returns a validation error listing fields.
func Invalid(fields ...FieldError) *Error { return &Error{Kind: Validation, Fields: fields} }

// KindOf reports the kind of err: the kind of the first *Error in its chain,
// else Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// As returns the *Error in err's chain, or an Internal one wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(Internal, err)
}
