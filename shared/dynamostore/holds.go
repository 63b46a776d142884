package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/retention"
)

// HoldChange sets (Hold) or lifts a hold on a referral's disposition; see
// retention.ChangeHolds for what a lift without a Reason lifts.
type HoldChange struct {
	ID        string
	Hold      bool
	Reason    string
	ActorRole string
	Actor     string
	Nonce     string
}

// HoldResult is a hold change as committed: the referral (Bare) with its
// holds as they are now, and what changed (both empty: nothing was written).
type HoldResult struct {
	Referral    referral.Referral
	Set, Lifted []string
}

// ChangeHolds applies a hold change in one transaction: the referral's
// holds and version (conditional on the version read, so that a
// disposition that read the referral before the hold fails its own
// condition), one audit event per hold set or lifted, and the idempotency
// record. updated_at is left as it was: a hold is not a change of the
// referral, and retention runs from its last one.
func (s *Store) ChangeHolds(ctx context.Context, c HoldChange, record func(holds []string) (Idem, error), now time.Time) (HoldResult, *Replay, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, err := s.Get(ctx, c.ID, "", Bare)
		if err != nil {
			return HoldResult{}, nil, err
		}
		if !cur.DisposedAt.IsZero() {
			// Nothing is left to hold.
			return HoldResult{}, nil, &problem.Error{Kind: problem.Disposed, Tombstone: referral.TombstoneOf(cur)}
		}
		next, set, lifted := retention.ChangeHolds(cur.Holds, c.Hold, c.Reason)
		res := HoldResult{Referral: cur, Set: set, Lifted: lifted}
		res.Referral.Holds = next
		if len(set)+len(lifted) == 0 {
			return res, nil, nil
		}
		res.Referral.Version = cur.Version + 1
		items := []ddb.TransactWriteItem{s.holdsUpdate(cur, next)}
		for i, e := range holdEvents(set, lifted, now, c) {
			put, err := eventPut(s.table, refPK(c.ID), eventSK("EV#", now, c.Nonce+"-"+strconv.Itoa(i)), e)
			if err != nil {
				return HoldResult{}, nil, problem.Wrap(problem.Internal, err)
			}
			items = append(items, put)
		}
		idem, err := record(next)
		if err != nil {
			return HoldResult{}, nil, err
		}
		replay, reasons, err := s.transactFor(ctx, c.ID, nil, idem, now, items)
		if err != nil || replay != nil {
			return HoldResult{}, replay, err
		}
		if reasons == nil {
			return res, nil, nil
		}
		if !failedAt(reasons, 0) {
			return HoldResult{}, nil, problem.Wrap(problem.Internal, fmt.Errorf("hold cancelled: %v", reasons))
		}
		// The referral changed since it was read: read it again.
	}
	return HoldResult{}, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("referral kept changing")}
}

func holdEvents(set, lifted []string, now time.Time, c HoldChange) []referral.Event {
	var evs []referral.Event
	for _, h := range set {
		evs = append(evs, referral.Event{At: now, Action: referral.ActionHoldSet, Reason: h, ActorRole: c.ActorRole, Actor: c.Actor})
	}
	for _, h := range lifted {
		evs = append(evs, referral.Event{At: now, Action: referral.ActionHoldLifted, Reason: h, ActorRole: c.ActorRole, Actor: c.Actor})
	}
	return evs
}

// holdsUpdate writes a referral's holds and bumps its version, on
// condition that the version is the one read.
func (s *Store) holdsUpdate(cur referral.Referral, holds []string) ddb.TransactWriteItem {
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:                aws.String(s.table),
		Key:                      key(refPK(cur.ID), skMain),
		UpdateExpression:         aws.String("SET #holds = :h, #ver = :nv"),
		ConditionExpression:      aws.String("#ver = :v"),
		ExpressionAttributeNames: map[string]string{"#holds": "holds", "#ver": "version"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":h": str(strings.Join(holds, " ")), ":nv": num(cur.Version + 1), ":v": num(cur.Version),
		},
	}}
}
