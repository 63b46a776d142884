package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// Closure is an admin's request to close a period, carrying its waitlist
// over to the open period CarryTo (0: none; then the waitlist must be
// empty).
type Closure struct {
	Stream    string
	Year      int
	CarryTo   int
	ActorRole string
	Actor     string
	Nonce     string
}

// ClosureResult is what a closure did.
type ClosureResult struct {
	Period quota.Period
	// Carried lists the referrals carried over, in waitlist order.
	Carried []string
}

// ClosePeriod closes a period and carries its waitlist over, in order: the
// period is marked closed first (so nothing new takes spaces or waits in
// it), then each waiting referral is moved by quota.Decide's carry-over, one
// transaction each (referral, both periods' waitlisted persons, the
// waitlist entry re-put under the target with the same sort key — rank,
// creation time, id — so it keeps its place, and the audit event
// carried-over). Interrupted, it is resumed by calling it again: a closed
// period is not closed twice, and what still waits is carried.
func (s *Store) ClosePeriod(ctx context.Context, c Closure, now func() time.Time) (ClosureResult, error) {
	p, err := s.GetPeriod(ctx, c.Stream, c.Year)
	if err != nil {
		return ClosureResult{}, err
	}
	q, err := s.Waitlist(ctx, c.Stream, c.Year)
	if err != nil {
		return ClosureResult{}, err
	}
	var target *quota.Period
	switch {
	case c.CarryTo == c.Year:
		// Carrying a period's waitlist into itself is no move at all.
		return ClosureResult{}, problem.New(problem.InvalidTransition)
	case c.CarryTo != 0:
		t, err := s.periodToChange(ctx, c.Stream, c.CarryTo)
		if err != nil {
			// A target that does not exist is 404, as for an allocation.
			return ClosureResult{}, err
		}
		if t.Closed {
			return ClosureResult{}, problem.New(problem.PeriodClosed)
		}
		target = &t
	case len(q) > 0:
		return ClosureResult{}, problem.New(problem.WaitlistNotEmpty)
	}
	if !p.Closed {
		if err := s.markClosed(ctx, c, now()); err != nil {
			return ClosureResult{}, err
		}
	}
	// Read again once closed: a referral may have started waiting between
	// the first read and the closure; none can now.
	if q, err = s.Waitlist(ctx, c.Stream, c.Year); err != nil {
		return ClosureResult{}, err
	}
	if len(q) > 0 && target == nil {
		// Closed with a waitlist: calling again with a target carries it.
		return ClosureResult{}, problem.New(problem.WaitlistNotEmpty)
	}
	var res ClosureResult
	for _, w := range q {
		if err := s.carryOne(ctx, c, w.ID, target, now); err != nil {
			return res, err
		}
		res.Carried = append(res.Carried, w.ID)
	}
	res.Period, err = s.GetPeriod(ctx, c.Stream, c.Year)
	return res, err
}

// markClosed sets the period's closed flag with its audit entry.
func (s *Store) markClosed(ctx context.Context, c Closure, now time.Time) error {
	ev, err := attributevalue.MarshalMap(periodEventItem{
		PK: periodPK(c.Stream, c.Year), SK: eventSK("EV#", now, c.Nonce), At: now.UTC().Format(time.RFC3339Nano),
		Action: "closed", CarryTo: c.CarryTo, ActorRole: c.ActorRole, Actor: c.Actor,
	})
	if err != nil {
		return problem.Wrap(problem.Internal, err)
	}
	items := []ddb.TransactWriteItem{
		{Update: &ddb.Update{
			TableName:                 aws.String(s.table),
			Key:                       key(periodPK(c.Stream, c.Year), skMain),
			UpdateExpression:          aws.String("SET #closed = :true, #ver = #ver + :one"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(#closed)"),
			ExpressionAttributeNames:  map[string]string{"#closed": "closed", "#ver": "version"},
			ExpressionAttributeValues: map[string]ddb.AttributeValue{":true": &ddb.AttributeValueMemberBOOL{Value: true}, ":one": num(1)},
		}},
		{Put: &ddb.Put{TableName: aws.String(s.table), Item: ev}},
	}
	_, reasons, err := s.transact(ctx, nil, now, items)
	if err != nil {
		return err
	}
	if reasons != nil && !failedAt(reasons, 0) {
		return problem.Wrap(problem.Internal, fmt.Errorf("closure cancelled: %v", reasons))
	}
	// A failed condition is a closure that got there first: resume.
	return nil
}

// carryOne carries one waitlisted referral over, re-reading it when it
// changed under the write.
func (s *Store) carryOne(ctx context.Context, c Closure, id string, target *quota.Period, now func() time.Time) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, err := s.Get(ctx, id, "", Bare)
		if err != nil {
			return err
		}
		if cur.Status != referral.Waitlisted || cur.Period != c.Year {
			// Withdrawn or promoted meanwhile, or already carried.
			return nil
		}
		d, err := quota.Decide(quota.Subject{ID: cur.ID, Partner: cur.Partner, Status: cur.Status, Persons: cur.Persons, Period: cur.Period, Urgency: cur.Urgency},
			target, quota.Move{CarryTo: c.CarryTo})
		if err != nil {
			return err
		}
		at := now()
		next := applied(cur, d, at)
		items, err := s.changeItems(cur, next, d, s.referralUpdate(cur, next, at, "", nil), referral.Event{
			At: at, Action: referral.ActionCarriedOver, FromStatus: cur.Status, ToStatus: next.Status,
			ActorRole: c.ActorRole, Actor: c.Actor,
		}, c.Nonce+"-"+cur.ID)
		if err != nil {
			return err
		}
		_, reasons, err := s.transact(ctx, nil, at, items)
		if err != nil {
			return err
		}
		switch {
		case reasons == nil:
			return nil
		case failedAt(reasons, 0):
			continue
		case failedAt(reasons, 1):
			return problem.New(problem.PeriodClosed)
		}
		return problem.Wrap(problem.Internal, fmt.Errorf("carry-over cancelled: %v", reasons))
	}
	return &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("referral kept changing")}
}

// Remember writes an idempotency record on its own, for a change made of
// many transactions (a closure): a replay if one was written meanwhile.
func (s *Store) Remember(ctx context.Context, idem Idem, now time.Time) (*Replay, error) {
	replay, reasons, err := s.transact(ctx, idem, now, nil)
	if err == nil && reasons != nil {
		err = problem.Wrap(problem.Internal, fmt.Errorf("idempotency record cancelled: %v", reasons))
	}
	return replay, err
}
