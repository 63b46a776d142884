package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

func waitPK(stream string, year int) string { return "WAIT#" + stream + "#" + strconv.Itoa(year) }

// waitTime is fixed-width so that the sort key orders by time (RFC 3339
// with trimmed fractions does not sort as text).
const waitTime = "2006-01-02T15:04:05.000000000Z"

// waitSK orders a period's waitlist: rank (0 emergency, 1 urgent, 2 normal),
// then creation time, then id — the order quota.Before defines.
func waitSK(r referral.Referral) string {
	return strconv.Itoa(r.Urgency.Rank()) + "#" + r.CreatedAt.UTC().Format(waitTime) + "#" + r.ID
}

// waitPut puts r's waitlist entry: no personal data, what promotion needs
// without reading the referral (and its reference, for the queue entry
// promotion puts).
func (s *Store) waitPut(r referral.Referral) (ddb.TransactWriteItem, error) {
	it := entryOf(r)
	it.PK, it.SK = waitPK(r.Stream, r.Period), waitSK(r)
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Put: &ddb.Put{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

func (s *Store) waitDelete(r referral.Referral) ddb.TransactWriteItem {
	return ddb.TransactWriteItem{Delete: &ddb.Delete{
		TableName: aws.String(s.table), Key: key(waitPK(r.Stream, r.Period), waitSK(r)),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}}
}

func (s *Store) waitResize(r referral.Referral, persons int) ddb.TransactWriteItem {
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName: aws.String(s.table), Key: key(waitPK(r.Stream, r.Period), waitSK(r)),
		UpdateExpression:          aws.String("SET #pers = :p"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#pers": "persons"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":p": num(persons)},
	}}
}

// Waitlist returns a period's waitlist in order.
func (s *Store) Waitlist(ctx context.Context, stream string, year int) ([]quota.Waiting, error) {
	entries, err := s.waitEntries(ctx, stream, year)
	if err != nil {
		return nil, err
	}
	return waitingOf(entries)
}

// waitingOf is the waitlist order of entries, for quota's rules.
func waitingOf(entries []queueItem) ([]quota.Waiting, error) {
	out := make([]quota.Waiting, 0, len(entries))
	for _, it := range entries {
		created, err := time.Parse(waitTime, it.CreatedAt)
		if err != nil {
			return nil, problem.Wrap(problem.Internal, err)
		}
		out = append(out, quota.Waiting{ID: it.ReferralID, Partner: it.Partner, Urgency: referral.Urgency(it.Urgency), Created: created, Persons: it.Persons})
	}
	// The sort key already orders them; sorting again guards the rule
	// against a key format change.
	quota.Sort(out)
	return out, nil
}

// waitEntries reads a period's waitlist entries in key order.
func (s *Store) waitEntries(ctx context.Context, stream string, year int) ([]queueItem, error) {
	var out []queueItem
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(waitPK(stream, year))},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(err)
		}
		for _, raw := range page.Items {
			var it queueItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, problem.Wrap(problem.Internal, err)
			}
			out = append(out, it)
		}
	}
	return out, nil
}

// maxPromoteRounds bounds one promotion's re-reads when other writers keep
// changing the period; the sweep finishes what is left.
const maxPromoteRounds = 20

// Promote allocates the waitlisted referrals of a period that fit, in the
// waitlist order, skipping (not stopping at) those that do not fit the
// stream or their partner's limit (quota.Promotable). Each allocation is
// quota.Decide's change for that referral, written as one transaction: the
// period (its conditions) first, then the referral (still waitlisted, same
// persons and period), the waitlist entry's removal and the audit event.
// A conflict re-reads the period and the list. It returns how many
// referrals it allocated.
func (s *Store) Promote(ctx context.Context, stream string, year int, now func() time.Time) (int, error) {
	promoted := 0
	for round := 0; round < maxPromoteRounds; round++ {
		p, err := s.periodToChange(ctx, stream, year)
		if problem.KindOf(err) == problem.NotFound {
			return promoted, nil
		}
		if err != nil {
			return promoted, err
		}
		if p.Closed || p.Remaining <= 0 || p.WaitlistedPersons <= 0 {
			return promoted, nil
		}
		entries, err := s.waitEntries(ctx, stream, year)
		if err != nil {
			return promoted, err
		}
		q, err := waitingOf(entries)
		if err != nil {
			return promoted, err
		}
		refs := make(map[string]string, len(entries))
		for _, e := range entries {
			refs[e.ReferralID] = e.PartnerReference
		}
		picks := quota.Promotable(p, q)
		if len(picks) == 0 {
			return promoted, nil
		}
		conflict := false
		for _, w := range picks {
			d, ok, err := s.promoteOne(ctx, stream, year, p, w, refs[w.ID], now())
			if err != nil {
				return promoted, err
			}
			if !ok {
				conflict = true
				break
			}
			p = p.After(w.Partner, d.Delta)
			promoted++
		}
		if !conflict {
			return promoted, nil
		}
	}
	return promoted, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("waitlist kept changing")}
}

// promoteOne allocates one waitlisted referral, as decided from p; ok is
// false when a condition failed (someone else changed the period or the
// referral).
func (s *Store) promoteOne(ctx context.Context, stream string, year int, p quota.Period, w quota.Waiting, ref string, now time.Time) (quota.Decision, bool, error) {
	subject := quota.Subject{ID: w.ID, Partner: w.Partner, Status: referral.Waitlisted, Persons: w.Persons, Period: year, Urgency: w.Urgency}
	d, err := quota.Decide(subject, &p, quota.Move{To: referral.Allocated})
	if err != nil || d.Unchanged {
		// Promotable picked it from the same period: it fits.
		return d, false, err
	}
	r := referral.Referral{ID: w.ID, Partner: w.Partner, Status: referral.Waitlisted, Persons: w.Persons, Period: year, CreatedAt: w.Created}
	r.Stream, r.Urgency, r.PartnerReference = stream, w.Urgency, ref
	ev, err := eventPut(s.table, refPK(w.ID), eventSK("EV#", now, nonce()), referral.Event{
		At: now, Action: referral.ActionAllocated, FromStatus: referral.Waitlisted, ToStatus: d.To,
		PersonsDelta: d.Delta.Taken(), ActorRole: SystemRole, Actor: "waitlist",
	})
	if err != nil {
		return d, false, problem.Wrap(problem.Internal, err)
	}
	wait, err := s.waitItems(r, r, d.Wait)
	if err != nil {
		return d, false, problem.Wrap(problem.Internal, err)
	}
	next := r
	next.Status = d.To
	queue, err := s.queueItems(r, next)
	if err != nil {
		return d, false, problem.Wrap(problem.Internal, err)
	}
	wait = append(wait, queue...)
	items := []ddb.TransactWriteItem{
		s.periodUpdate(stream, year, w.Partner, d.Delta, d.Condition),
		{Update: &ddb.Update{
			TableName:           aws.String(s.table),
			Key:                 key(refPK(w.ID), skMain),
			UpdateExpression:    aws.String("SET #st = :to, #ver = #ver + :one, #upd = :now, #wr = :nowait"),
			ConditionExpression: aws.String("#st = :from AND #pers = :n AND #per = :y"),
			ExpressionAttributeNames: map[string]string{
				"#st": "status", "#ver": "version", "#upd": "updated_at", "#pers": "persons", "#per": "period", "#wr": "waitlist_reason",
			},
			ExpressionAttributeValues: map[string]ddb.AttributeValue{
				":to": str(string(d.To)), ":from": str(string(referral.Waitlisted)), ":one": num(1),
				":now": str(now.UTC().Format(time.RFC3339Nano)), ":n": num(w.Persons), ":y": num(year),
				":nowait": str(""),
			},
		}},
	}
	items = append(append(items, wait...), ev)
	_, reasons, err := s.transact(ctx, nil, now, items)
	if err != nil {
		return d, false, err
	}
	return d, reasons == nil, nil
}

// SystemRole is the actor role of changes Haven makes by itself (waitlist
// promotion).
const SystemRole = "system"
