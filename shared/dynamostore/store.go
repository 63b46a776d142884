package dynamostore

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
)

// Sealer encrypts personal data bound to its place (associated data), and
// makes and unwraps the data keys of single referrals (keys.go).
type Sealer interface {
	Seal(plaintext, associatedData []byte) ([]byte, error)
	Open(ciphertext, associatedData []byte) ([]byte, error)
	NewRecordKey(associatedData []byte) (key cipher.AEAD, wrapped []byte, err error)
	OpenRecordKey(wrapped, associatedData []byte) (cipher.AEAD, error)
}

// Store is Haven's DynamoDB adapter. It is safe for concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string
	keys  string // the key table (WithKeyTable), "" for none
	// refuseLegacy refuses to open a referral without a key of its own
	// (RefusingLegacy).
	refuseLegacy bool
	sealer       Sealer
}

// New returns a Store over table. The client is built by the caller (main or
// a test) so one client is shared per process.
func New(db *dynamodb.Client, table string, sealer Sealer) *Store {
	return &Store{db: db, table: table, sealer: sealer}
}

// Table is the table name, for tests and diagnostics.
func (s *Store) Table() string { return s.table }

const (
	attrPK = "pk"
	attrSK = "sk"
	skMain = "A"
)

func key(pk, sk string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{
		attrPK: &ddb.AttributeValueMemberS{Value: pk},
		attrSK: &ddb.AttributeValueMemberS{Value: sk},
	}
}

func str(v string) ddb.AttributeValue  { return &ddb.AttributeValueMemberS{Value: v} }
func num(n int) ddb.AttributeValue     { return &ddb.AttributeValueMemberN{Value: fmt.Sprint(n)} }
func num64(n int64) ddb.AttributeValue { return &ddb.AttributeValueMemberN{Value: fmt.Sprint(n)} }

// classify turns an SDK error into a Haven error. Outages and throttling
// become Unavailable (503 with Retry-After): the client retries with the same
// Idempotency-Key and the write happens exactly once. Anything else, such as
// AccessDeniedException (a grant missing from the function's role, which the
// local runner and tests reproduce: infra/iam), is Internal: no retry helps.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *problem.Error
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &problem.Error{Kind: problem.Unavailable, RetryAfter: 2, Cause: err}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return &problem.Error{Kind: problem.Unavailable, RetryAfter: 2, Cause: err}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "TransactionConflictException",
			"TransactionInProgressException", "LimitExceededException":
			return &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: err}
		}
		if api.ErrorFault() == smithy.FaultServer {
			return &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: err}
		}
	}
	var rerr interface{ HTTPStatusCode() int }
	if errors.As(err, &rerr) && rerr.HTTPStatusCode() >= 500 {
		return &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: err}
	}
	return problem.Wrap(problem.Internal, err)
}

// cancelReasons returns the per-item cancellation codes of a cancelled
// transaction ("" for items that did not fail), or nil when err is not one.
func cancelReasons(err error) []string {
	var tce *ddb.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	out := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		if r.Code != nil && *r.Code != "None" {
			out[i] = *r.Code
		}
	}
	return out
}

// failedAt reports whether the item at index i of a cancelled transaction
// failed its condition.
func failedAt(reasons []string, i int) bool {
	return i < len(reasons) && reasons[i] == "ConditionalCheckFailed"
}

// onlyConflicts reports whether a cancellation came from contention rather
// than a condition: the caller should see 503 and retry.
func onlyConflicts(reasons []string) bool {
	conflict := false
	for _, r := range reasons {
		switch r {
		case "":
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			conflict = true
		default:
			return false
		}
	}
	return conflict
}

// idemItem is the stored form of an idempotency record.
type idemItem struct {
	PK       string               `dynamodbav:"pk"`
	SK       string               `dynamodbav:"sk"`
	Hash     string               `dynamodbav:"hash"`
	Done     bool                 `dynamodbav:"done"`
	Response idempotency.Response `dynamodbav:"response"`
	// SealedBody is the response body, sealed: a replayed referral view holds
	// names and contacts like the referral itself.
	SealedBody []byte `dynamodbav:"sealed_body,omitempty"`
	// ReferralID names the referral whose data key sealed the body, when
	// one did: shredding that key makes the stored response unreadable with
	// the rest of the referral.
	ReferralID string `dynamodbav:"referral_id,omitempty"`
	ExpiresAt  int64  `dynamodbav:"expires_at"`
}

// owner is the referral a change is about, and its data key: the
// idempotency record's stored response (the referral's view) is sealed
// under that key. nil when the change is about no referral, or the
// referral has no key of its own.
type owner struct {
	id string
	k  cipher.AEAD
}

func ownerOf(id string, k cipher.AEAD) *owner {
	if k == nil {
		return nil
	}
	return &owner{id, k}
}

func idemAAD(scope, k string) []byte { return []byte("haven/idempotency/" + scope + "/" + k) }

func idemPK(scope, k string) string { return "IDEM#" + scope + "#" + k }

// idemPut is the transaction item that records a request's response; its
// condition lets a new record replace one that expired but was not yet
// deleted by TTL.
func (s *Store) idemPut(r idempotency.Record, o *owner, now time.Time) (ddb.TransactWriteItem, error) {
	it := idemItem{PK: idemPK(r.Scope, r.Key), SK: skMain, Hash: r.Hash, Done: r.Done, Response: r.Response, ExpiresAt: r.ExpiresAt.Unix()}
	if len(r.Response.Body) > 0 {
		var sealed []byte
		if o != nil {
			sealed, it.ReferralID = o.k.Seal(nil, nil, r.Response.Body, idemAAD(r.Scope, r.Key)), o.id
		} else {
			var err error
			if sealed, err = s.sealer.Seal(r.Response.Body, idemAAD(r.Scope, r.Key)); err != nil {
				return ddb.TransactWriteItem{}, err
			}
		}
		it.SealedBody, it.Response.Body = sealed, nil
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Put: &ddb.Put{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires_at < :now"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":now": num64(now.Unix())},
	}}, nil
}

// loadIdem reads a live idempotency record; ok is false when there is none.
func (s *Store) loadIdem(ctx context.Context, scope, k string, now time.Time) (idempotency.Record, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(idemPK(scope, k), skMain), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return idempotency.Record{}, false, classify(err)
	}
	if out.Item == nil {
		return idempotency.Record{}, false, nil
	}
	var it idemItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return idempotency.Record{}, false, problem.Wrap(problem.Internal, err)
	}
	if len(it.SealedBody) > 0 {
		body, err := s.openIdemBody(ctx, it, idemAAD(scope, k))
		if err != nil {
			return idempotency.Record{}, false, err
		}
		it.Response.Body = body
	}
	r := idempotency.Record{Scope: scope, Key: k, Hash: it.Hash, Done: it.Done, Response: it.Response, ExpiresAt: time.Unix(it.ExpiresAt, 0)}
	if !r.Live(now) {
		return idempotency.Record{}, false, nil
	}
	return r, true, nil
}

// openIdemBody opens a stored response: under its referral's data key
// (one read of the key table; a replay is rare), or by the data keyset.
func (s *Store) openIdemBody(ctx context.Context, it idemItem, ad []byte) ([]byte, error) {
	if it.ReferralID == "" {
		body, err := s.sealer.Open(it.SealedBody, ad)
		if err != nil {
			return nil, problem.Wrap(problem.Internal, err)
		}
		return body, nil
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.keys), Key: keyTableKey(it.ReferralID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, classify(err)
	}
	k, err := s.openKey(it.ReferralID, out.Item)
	if err == nil && k == nil {
		err = fmt.Errorf("the data key of referral %s is gone (shredded)", it.ReferralID)
	}
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	body, err := k.Open(nil, nil, it.SealedBody, ad)
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	return body, nil
}

// Replay answers a request whose key is already recorded: the stored
// response, or a reused-key / in-progress error. found is false when no live
// record exists.
func (s *Store) Replay(ctx context.Context, scope, k, hash string, now time.Time) (resp idempotency.Response, found bool, err error) {
	r, ok, err := s.loadIdem(ctx, scope, k, now)
	if err != nil || !ok {
		return idempotency.Response{}, false, err
	}
	resp, err = idempotency.Resolve(r, hash, now)
	return resp, true, err
}

// Idem is an idempotency record to write with a change, or nil.
type Idem = *idempotency.Record

// transact runs items as one transaction. When the idempotency record (always
// item 0 when present) already exists, the stored answer is checked against
// the request's hash and returned as replay; the caller must then answer with
// it and do nothing else.
func (s *Store) transact(ctx context.Context, idem Idem, now time.Time, items []ddb.TransactWriteItem) (replay *idempotency.Response, reasons []string, err error) {
	return s.transactOwned(ctx, idem, nil, now, items)
}

// transactOwned is transact for a change about a referral (o): its
// idempotency record's response is sealed under the referral's key.
func (s *Store) transactOwned(ctx context.Context, idem Idem, o *owner, now time.Time, items []ddb.TransactWriteItem) (replay *idempotency.Response, reasons []string, err error) {
	if idem != nil {
		put, err := s.idemPut(*idem, o, now)
		if err != nil {
			return nil, nil, problem.Wrap(problem.Internal, err)
		}
		items = append([]ddb.TransactWriteItem{put}, items...)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil, nil, nil
	}
	reasons = cancelReasons(err)
	if reasons == nil {
		return nil, nil, classify(err)
	}
	if onlyConflicts(reasons) {
		return nil, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: err}
	}
	if idem != nil {
		if failedAt(reasons, 0) {
			resp, found, rerr := s.Replay(ctx, idem.Scope, idem.Key, idem.Hash, now)
			if rerr != nil {
				return nil, nil, rerr
			}
			if found {
				return &resp, nil, nil
			}
			// Expired between the write and the read: the caller's retry
			// will find a clean slate.
			return nil, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: err}
		}
		reasons = reasons[1:]
	}
	return nil, reasons, nil
}

// respLinkSK is the key, in a referral's partition, of the link to a stored
// response about it: disposition finds the idempotency records to delete
// there (they are keyed by caller and key, not by referral). It sorts after
// READ#, out of the history's range.
func respLinkSK(scope, k string) string { return "RESP#" + idemPK(scope, k) }

// transactFor is transact for a change of referral id: the idempotency
// record, when there is one, is linked from the referral's partition in
// the same transaction, and expires with it; its response is sealed under
// the referral's key k when the change has it (nil: the data keyset).
func (s *Store) transactFor(ctx context.Context, id string, k cipher.AEAD, idem Idem, now time.Time, items []ddb.TransactWriteItem) (*idempotency.Response, []string, error) {
	if idem != nil {
		items = append(items, ddb.TransactWriteItem{Put: &ddb.Put{
			TableName: aws.String(s.table),
			Item: map[string]ddb.AttributeValue{
				attrPK: str(refPK(id)), attrSK: str(respLinkSK(idem.Scope, idem.Key)), "expires_at": num64(idem.ExpiresAt.Unix()),
			},
		}})
	}
	return s.transactOwned(ctx, idem, ownerOf(id, k), now, items)
}
