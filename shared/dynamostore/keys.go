package dynamostore

import (
	"context"
	"crypto/cipher"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
)

// Each referral's personal fields are sealed under a data key of its own,
// stored wrapped by the data keyset in the key table (KEY_TABLE_NAME), not
// in the referral's table: a backup, export or copy of the referral table
// holds no key that opens it, and deleting the key (ShredReferralKey)
// makes every copy of that referral's sealed fields unreadable at once.
// Referrals sealed before keys existed have no key item: their fields were
// sealed by the data keyset directly and open as before (seal/doc.go), until
// MigrateReferralKeys re-seals them under keys of their own.

// keyItem is one referral's wrapped data key.
type keyItem struct {
	PK      string `dynamodbav:"pk"`
	Wrapped []byte `dynamodbav:"wrapped_key"`
}

func keyPK(id string) string { return "KEY#" + id }

// keyAAD binds a wrapped key to its referral, so a key item copied to
// another referral's place does not unwrap.
func keyAAD(id string) []byte { return []byte("haven/referral-key/" + id) }

func keyTableKey(id string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{attrPK: str(keyPK(id))}
}

// WithKeyTable returns a Store that seals each new referral under a data
// key of its own, kept in the key table name. Without one (functions that
// never open a referral, some tests) referrals are sealed by the data
// keyset directly, as before per-referral keys.
func (s *Store) WithKeyTable(name string) *Store {
	c := *s
	c.keys = name
	return &c
}

// RefusingLegacy returns a Store that opens no referral without a data key
// of its own: for after MigrateReferralKeys has re-sealed every referral.
// Until then a referral without a key opens by the data keyset (seal/doc.go),
// and so would one whose sealed fields were put back from an old backup and
// whose key was deleted; with this, such a referral is refused instead.
func (s *Store) RefusingLegacy() *Store {
	c := *s
	c.refuseLegacy = true
	return &c
}

// KeyTable is the key table's name ("" when there is none).
func (s *Store) KeyTable() string { return s.keys }

// newKey makes a referral's data key and the transaction item that stores
// it (only where none is: a key is never replaced, or what it sealed would
// be lost). It returns nil, nil when the store has no key table.
func (s *Store) newKey(id string) (cipher.AEAD, *ddb.TransactWriteItem, error) {
	if s.keys == "" {
		return nil, nil, nil
	}
	k, wrapped, err := s.sealer.NewRecordKey(keyAAD(id))
	if err != nil {
		return nil, nil, err
	}
	item, err := attributevalue.MarshalMap(keyItem{PK: keyPK(id), Wrapped: wrapped})
	if err != nil {
		return nil, nil, err
	}
	return k, &ddb.TransactWriteItem{Put: &ddb.Put{
		TableName: aws.String(s.keys), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// openKey unwraps a key item read from the key table (nil when the
// referral has none).
func (s *Store) openKey(id string, raw map[string]ddb.AttributeValue) (cipher.AEAD, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var it keyItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return nil, err
	}
	return s.sealer.OpenRecordKey(it.Wrapped, keyAAD(id))
}

// keysOf reads and unwraps the data keys of ids: one BatchGetItem (ids
// number at most a page, 100, BatchGetItem's bound), plus one per round of
// keys DynamoDB left unprocessed. A referral without a key is absent from
// the map.
func (s *Store) keysOf(ctx context.Context, ids []string) (map[string]cipher.AEAD, error) {
	out := map[string]cipher.AEAD{}
	if s.keys == "" || len(ids) == 0 {
		return out, nil
	}
	ka := &ddb.KeysAndAttributes{ConsistentRead: aws.Bool(true)}
	for _, id := range ids {
		ka.Keys = append(ka.Keys, keyTableKey(id))
	}
	req := map[string]ddb.KeysAndAttributes{s.keys: *ka}
	for round := 0; len(req) > 0; round++ {
		if round == maxAttempts {
			return nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("referral keys left unprocessed")}
		}
		got, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, classify(err)
		}
		for _, raw := range got.Responses[s.keys] {
			var it keyItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, problem.Wrap(problem.Internal, err)
			}
			id := it.PK[len("KEY#"):]
			k, err := s.sealer.OpenRecordKey(it.Wrapped, keyAAD(id))
			if err != nil {
				return nil, problem.Wrap(problem.Internal, err)
			}
			out[id] = k
		}
		req = got.UnprocessedKeys
	}
	return out, nil
}

// ShredReferralKey is the transaction item that deletes referral id's data
// key from the key table: put it in the transaction that disposes of the
// referral (TransactWriteItems may span the referral's table and the key
// table). Once it commits, the referral's sealed fields — in the table, in
// every backup and copy of it, in stored idempotency responses — can no
// longer be opened with the current keys; only a restore of the key table
// itself, within its recovery window (KeyTableRecoveryDays), brings the key
// back. Deleting a key that is not there succeeds (a second disposition run
// changes nothing); a legacy referral without a key has nothing to shred,
// and its fields must be removed from the table instead. It returns false
// when the store has no key table.
func (s *Store) ShredReferralKey(id string) (ddb.TransactWriteItem, bool) {
	if s.keys == "" {
		return ddb.TransactWriteItem{}, false
	}
	return ddb.TransactWriteItem{Delete: &ddb.Delete{TableName: aws.String(s.keys), Key: keyTableKey(id)}}, true
}

// Migration is one step of MigrateReferralKeys.
type Migration struct {
	// Next is where the next step starts; nil once every referral was seen.
	Next map[string]string
	// Seen counts the referrals read, Migrated those re-sealed under a key
	// of their own; Skipped those that changed while being re-sealed (the
	// next run takes them).
	Seen, Migrated, Skipped int
}

// MigrateReferralKeys re-seals, under a data key of its own, each referral
// of one page (up to limit, in the order of the all-referrals index,
// starting after from) that was sealed before per-referral keys: its
// fields are opened with the data keyset (and the associated data of
// before the partner was bound, if need be) and sealed again under a new
// key bound to its partner, and the key is stored, in one transaction
// conditional on the referral's version, which it increments so that a
// change read before it retries. Referrals that already have a key are
// left alone, so the migration is resumable and idempotent: run it again
// from the start, or from the last Next, until Next is nil and a run
// migrates none. Its stored idempotency responses stay sealed by the data
// keyset (they expire within a day).
func (s *Store) MigrateReferralKeys(ctx context.Context, from map[string]string, limit int) (Migration, error) {
	if s.keys == "" {
		return Migration{}, problem.Wrap(problem.Internal, fmt.Errorf("no key table"))
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String("gsi2"),
		KeyConditionExpression:    aws.String("gsi2pk = :pk"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(allReferralsGSI)},
		Limit:                     aws.Int32(int32(limit)),
	}
	if from != nil {
		in.ExclusiveStartKey = map[string]ddb.AttributeValue{}
		for k, v := range from {
			in.ExclusiveStartKey[k] = str(v)
		}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return Migration{}, classify(err)
	}
	var m Migration
	if len(out.LastEvaluatedKey) > 0 {
		m.Next = map[string]string{}
		for k, v := range out.LastEvaluatedKey {
			if sv, ok := v.(*ddb.AttributeValueMemberS); ok {
				m.Next[k] = sv.Value
			}
		}
	}
	var ids []string
	items := map[string]referralItem{}
	for _, raw := range out.Items {
		var it referralItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return m, problem.Wrap(problem.Internal, err)
		}
		ids, items[it.ID] = append(ids, it.ID), it
	}
	m.Seen = len(ids)
	keys, err := s.keysOf(ctx, ids)
	if err != nil {
		return m, err
	}
	for _, id := range ids {
		if keys[id] != nil {
			continue
		}
		migrated, err := s.migrate(ctx, items[id])
		if err != nil {
			return m, err
		}
		if migrated {
			m.Migrated++
		} else {
			m.Skipped++
		}
	}
	return m, nil
}

// migrate re-seals one referral under a new key of its own; false when it
// changed since it was read.
func (s *Store) migrate(ctx context.Context, stored referralItem) (bool, error) {
	r, err := s.fromItem(stored, Whole, nil)
	if err != nil {
		return false, problem.Wrap(problem.Internal, fmt.Errorf("referral %s: %w", stored.ID, err))
	}
	k, keyPut, err := s.newKey(r.ID)
	if err != nil {
		return false, problem.Wrap(problem.Internal, err)
	}
	it, err := s.toItem(r, k)
	if err != nil {
		return false, problem.Wrap(problem.Internal, err)
	}
	update := ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:                aws.String(s.table),
		Key:                      key(refPK(r.ID), skMain),
		UpdateExpression:         aws.String("SET pii_people = :pp, pii_asylum = :pa, pii_profile = :pr, pii_contact = :pc, #ver = :nv"),
		ConditionExpression:      aws.String("#ver = :v"),
		ExpressionAttributeNames: map[string]string{"#ver": "version"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":pp": &ddb.AttributeValueMemberB{Value: it.SealedPeople}, ":pa": &ddb.AttributeValueMemberB{Value: it.SealedAsylum},
			":pr": &ddb.AttributeValueMemberB{Value: it.SealedProfile}, ":pc": &ddb.AttributeValueMemberB{Value: it.SealedContact},
			":v": num(stored.Version), ":nv": num(stored.Version + 1),
		},
	}}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{update, *keyPut}})
	if reasons := cancelReasons(err); reasons != nil {
		if failedAt(reasons, 0) || failedAt(reasons, 1) || onlyConflicts(reasons) {
			return false, nil
		}
	}
	if err != nil {
		return false, classify(err)
	}
	return true, nil
}
