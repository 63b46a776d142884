package dynamostore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// Disposal asks for one referral's disposition.
type Disposal struct {
	ID string
	// Due decides, from the referral as read now (Bare, holds included),
	// whether it is still due: the list it was picked from is an
	// eventually consistent index.
	Due func(referral.Referral) bool
	// Nonce makes the audit event's key unique.
	Nonce string
}

// maxTransactItems is DynamoDB's limit of actions in one transaction.
const maxTransactItems = 100

// Dispose destroys a due referral's personal data and keeps its tombstone.
// One transaction replaces the referral item by its tombstone (condition:
// the version read, and not yet disposed — a hold set after the read bumps
// the version and wins), deletes its fingerprint entry, its read audit,
// the idempotency records that stored answers about it and their links, its
// partner-reference claim when still its own, the data key (the
// key table's item), and writes the disposed audit event. Its history
// (EV#) stays: it names no one.
//
// A referral read more often than one transaction can delete is cleared
// of its oldest reads first, in transactions of their own that each check
// the version read; a run that dies between them leaves a referral that
// the next run finishes. disposed is false when nothing was due (a second
// run, a hold, a change since the list was read).
func (s *Store) Dispose(ctx context.Context, d Disposal, now time.Time) (disposed bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(refPK(d.ID), skMain), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return false, classify(err)
	}
	var it referralItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return false, problem.Wrap(problem.Internal, err)
	}
	cur, err := s.fromItem(it, Bare, nil)
	if err != nil {
		return false, problem.Wrap(problem.Internal, err)
	}
	if !cur.DisposedAt.IsZero() || !d.Due(cur) {
		return false, nil
	}
	deletes, err := s.disposable(ctx, it)
	if err != nil {
		return false, err
	}
	final, err := s.tombstoneItems(it, cur, d, now)
	if err != nil {
		return false, err
	}
	versionCheck := ddb.TransactWriteItem{ConditionCheck: &ddb.ConditionCheck{
		TableName: aws.String(s.table), Key: key(refPK(d.ID), skMain),
		ConditionExpression:       aws.String("#ver = :v AND attribute_not_exists(#disp)"),
		ExpressionAttributeNames:  map[string]string{"#ver": "version", "#disp": "disposed_at"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":v": num(it.Version)},
	}}
	for len(deletes) > 0 && len(final)+len(deletes) > maxTransactItems {
		n := min(len(deletes), maxTransactItems-1)
		items := append([]ddb.TransactWriteItem{versionCheck}, deletes[:n]...)
		if _, reasons, err := s.transact(ctx, nil, now, items); err != nil || reasons != nil {
			return false, notDisposed(err, reasons)
		}
		deletes = deletes[n:]
	}
	_, reasons, err := s.transact(ctx, nil, now, append(final, deletes...))
	if err != nil || reasons != nil {
		return false, notDisposed(err, reasons)
	}
	return true, nil
}

// notDisposed turns a failed disposition write into its answer: a changed
// referral (its condition, item 0) is left for the next run, anything else
// is an error.
func notDisposed(err error, reasons []string) error {
	if err != nil {
		return err
	}
	if failedAt(reasons, 0) {
		return nil
	}
	return problem.Wrap(problem.Internal, fmt.Errorf("disposition cancelled: %v", reasons))
}

// disposable lists the deletions of a disposition beside the referral
// item: its reads and stored-answer links (one Query of its partition from
// READ#), the stored answers, its fingerprint entry and, when the claim is
// still its own, its partner-reference claim.
func (s *Store) disposable(ctx context.Context, it referralItem) ([]ddb.TransactWriteItem, error) {
	del := func(pk, sk string) ddb.TransactWriteItem {
		return ddb.TransactWriteItem{Delete: &ddb.Delete{TableName: aws.String(s.table), Key: key(pk, sk)}}
	}
	var out []ddb.TransactWriteItem
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk AND sk >= :reads"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(it.PK), ":reads": str("READ#")},
		ProjectionExpression:      aws.String("pk, sk"),
		ConsistentRead:            aws.Bool(true),
	}, func(raw map[string]ddb.AttributeValue) error {
		if sk, ok := raw[attrSK].(*ddb.AttributeValueMemberS); ok {
			out = append(out, del(it.PK, sk.Value))
			if idem, ok := strings.CutPrefix(sk.Value, "RESP#"); ok {
				out = append(out, del(idem, skMain))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if it.Fingerprint != "" {
		out = append(out, del(fingerprintPK(it.Fingerprint), refPK(it.ID)))
	}
	// Its work-queue entry, if a move left one (a referral whose work ended
	// has none): a disposed referral is no one's work. Deleting an item
	// that is not there changes nothing.
	out = append(out, del(it.PK, skQueue))
	if it.PartnerReference != "" {
		claim, err := s.referenceClaim(ctx, it.Partner, it.PartnerReference)
		if err != nil {
			return nil, err
		}
		if claim.ReferralID == it.ID {
			out = append(out, ddb.TransactWriteItem{Delete: &ddb.Delete{
				TableName: aws.String(s.table), Key: key(prefPK(it.Partner, it.PartnerReference), skMain),
				ConditionExpression:       aws.String("#rid = :id"),
				ExpressionAttributeNames:  map[string]string{"#rid": "referral_id"},
				ExpressionAttributeValues: map[string]ddb.AttributeValue{":id": str(it.ID)},
			}})
		}
	}
	return out, nil
}

// tombstoneItems are the items every disposition writes: the tombstone in
// place of the referral item (first: its condition is the one a changed
// referral fails), the disposed event and the data key's deletion.
func (s *Store) tombstoneItems(it referralItem, cur referral.Referral, d Disposal, now time.Time) ([]ddb.TransactWriteItem, error) {
	tomb := referralItem{
		PK: it.PK, SK: it.SK, GSI1PK: it.GSI1PK, GSI1SK: it.GSI1SK, GSI2PK: it.GSI2PK, GSI2SK: it.GSI2SK,
		ID: it.ID, Partner: it.Partner, Stream: it.Stream, Urgency: it.Urgency, Status: it.Status,
		Persons: it.Persons, Period: it.Period, Reasons: it.Reasons, ArrivedOn: it.ArrivedOn,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Version: it.Version + 1,
		DisposedAt: now.UTC().Format(time.RFC3339Nano),
	}
	item, err := attributevalue.MarshalMap(tomb)
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	// Only what identifies no one: no sealed attribute, no partner
	// reference, fingerprint, language or consent.
	for _, a := range []string{"pii_people", "pii_asylum", "pii_profile", "pii_contact", "partner_reference", "consent_given", "consent_date"} {
		delete(item, a)
	}
	items := []ddb.TransactWriteItem{{Put: &ddb.Put{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("#ver = :v AND attribute_not_exists(#disp)"),
		ExpressionAttributeNames:  map[string]string{"#ver": "version", "#disp": "disposed_at"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":v": num(it.Version)},
	}}}
	ev, err := eventPut(s.table, it.PK, eventSK("EV#", now, d.Nonce), referral.Event{
		At: now, Action: referral.ActionDisposed, FromStatus: cur.Status, ToStatus: cur.Status, ActorRole: "disposition",
	})
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	items = append(items, ev)
	// The referral's data key goes in the same transaction: with the data
	// or not at all. Once it is gone, every copy of the sealed fields (a
	// backup, an export version) is unreadable.
	if shred, ok := s.ShredReferralKey(it.ID); ok {
		items = append(items, shred)
	}
	return items, nil
}

// disposedError is the answer about a tombstone: 410 with what is kept.
func (s *Store) disposedError(it referralItem) error {
	r, err := s.fromItem(it, Bare, nil)
	if err != nil {
		return problem.Wrap(problem.Internal, err)
	}
	return &problem.Error{Kind: problem.Disposed, Tombstone: referral.TombstoneOf(r)}
}
