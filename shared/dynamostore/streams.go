package dynamostore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

func streamPK(stream string) string { return "STREAM#" + stream }
func periodPK(stream string, year int) string {
	return "PERIOD#" + stream + "#" + strconv.Itoa(year)
}

// Stream is a pathway: its own partners and, per year, its own capacity.
type Stream struct {
	ID       string   `dynamodbav:"id" json:"id"`
	Name     string   `dynamodbav:"name" json:"name"`
	Open     bool     `dynamodbav:"open" json:"open"`
	Partners []string `dynamodbav:"partners" json:"partners"`
}

type streamItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
	Stream
}

// PutStream creates or replaces a stream (configuration, from the seed file
// or an admin).
func (s *Store) PutStream(ctx context.Context, st Stream) error {
	if len(st.Partners) == 0 {
		// An empty list would not survive every DynamoDB implementation intact.
		return problem.Invalid(problem.FieldError{Field: "partners", Code: problem.CodeRequired})
	}
	item, err := attributevalue.MarshalMap(streamItem{PK: streamPK(st.ID), SK: skMain, Stream: st})
	if err != nil {
		return problem.Wrap(problem.Internal, err)
	}
	// Membership is also kept as one flat attribute per partner so that a
	// transaction can check it with attribute_exists: contains() on a
	// missing item is an error on the embedded server, not false.
	for _, p := range st.Partners {
		item[memberAttr(p)] = &ddb.AttributeValueMemberBOOL{Value: true}
	}
	// Listed on gsi1 under STREAMS (see reporting.go).
	item["gsi1pk"], item["gsi1sk"] = str(streamsGSI), str(st.ID)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return classify(err)
}

// GetStream reads a stream; NotFound when there is none.
func (s *Store) GetStream(ctx context.Context, id string) (Stream, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(streamPK(id), skMain)})
	if err != nil {
		return Stream{}, classify(err)
	}
	if out.Item == nil {
		return Stream{}, problem.New(problem.NotFound)
	}
	var it streamItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Stream{}, problem.Wrap(problem.Internal, err)
	}
	return it.Stream, nil
}

// streamCheck is the transaction item that lets a referral in only through
// an open stream its partner belongs to, without a read first.
func (s *Store) streamCheck(stream, partner string) ddb.TransactWriteItem {
	return ddb.TransactWriteItem{ConditionCheck: &ddb.ConditionCheck{
		TableName:                 aws.String(s.table),
		Key:                       key(streamPK(stream), skMain),
		ConditionExpression:       aws.String("attribute_exists(pk) AND #open = :true AND attribute_exists(#member)"),
		ExpressionAttributeNames:  map[string]string{"#open": "open", "#member": memberAttr(partner)},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":true": &ddb.AttributeValueMemberBOOL{Value: true}},
	}}
}

func memberAttr(partner string) string { return "member#" + partner }

// streamRefusal explains a failed streamCheck as a field error.
func (s *Store) streamRefusal(ctx context.Context, stream, partner string) error {
	if err := s.streamAdmits(ctx, stream, partner); err != nil {
		return err
	}
	// The check failed on the membership attribute the list did not show.
	return problem.Invalid(problem.FieldError{Field: "stream", Code: problem.CodeNotAllowed})
}

// streamAdmits is what streamCheck checks, read: nil when partner may refer
// to stream, else the field error a client can act on.
func (s *Store) streamAdmits(ctx context.Context, stream, partner string) error {
	st, err := s.GetStream(ctx, stream)
	if problem.KindOf(err) == problem.NotFound {
		return problem.Invalid(problem.FieldError{Field: "stream", Code: problem.CodeUnknownStream})
	}
	if err != nil {
		return err
	}
	if !st.Open {
		return problem.Invalid(problem.FieldError{Field: "stream", Code: problem.CodeStreamClosed})
	}
	for _, p := range st.Partners {
		if p == partner {
			return nil
		}
	}
	// The stream exists but this partner may not refer to it.
	return problem.Invalid(problem.FieldError{Field: "stream", Code: problem.CodeNotAllowed})
}

// Attribute names of the per-partner counters: flat, because real DynamoDB
// cannot create a nested map and set a key in it in one update.
func reservedAttr(partner string) string { return "reserved#" + partner }
func arrivedAttr(partner string) string  { return "arrived#" + partner }

// GetPeriod reads a stream's period and its counters.
func (s *Store) GetPeriod(ctx context.Context, stream string, year int) (quota.Period, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(periodPK(stream, year), skMain), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return quota.Period{}, classify(err)
	}
	if out.Item == nil {
		return quota.Period{}, problem.New(problem.NotFound)
	}
	return decodePeriod(out.Item)
}

func decodePeriod(raw map[string]ddb.AttributeValue) (quota.Period, error) {
	var m map[string]any
	if err := attributevalue.UnmarshalMap(raw, &m); err != nil {
		return quota.Period{}, problem.Wrap(problem.Internal, err)
	}
	p := quota.Period{Partners: map[string]quota.PartnerCount{}}
	p.Stream, _ = m["stream"].(string)
	for k, v := range m {
		f, ok := v.(float64)
		if !ok {
			continue
		}
		n := int(f)
		switch {
		case k == "period":
			p.Year = n
		case k == "capacity":
			p.Capacity = n
		case k == "reserved":
			p.Reserved = n
		case k == "arrived":
			p.Arrived = n
		case k == "remaining":
			p.Remaining = n
		case k == "waitlisted_persons":
			p.WaitlistedPersons = n
		case k == "version":
			p.Version = n
		case strings.HasPrefix(k, "reserved#"):
			c := p.Partners[k[len("reserved#"):]]
			c.Reserved = n
			p.Partners[k[len("reserved#"):]] = c
		case strings.HasPrefix(k, "arrived#"):
			c := p.Partners[k[len("arrived#"):]]
			c.Arrived = n
			p.Partners[k[len("arrived#"):]] = c
		}
	}
	return p, nil
}

// periodEvent is an audit entry of a period (capacity changes).
type periodEventItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	At        string `dynamodbav:"at"`
	Action    string `dynamodbav:"action"`
	From      int    `dynamodbav:"from_capacity"`
	To        int    `dynamodbav:"to_capacity"`
	ActorRole string `dynamodbav:"actor_role"`
	Actor     string `dynamodbav:"actor"`
}

// CapacityChange is an admin's request to set a period's capacity.
type CapacityChange struct {
	Stream    string
	Year      int
	Capacity  int
	ActorRole string
	Actor     string
	Nonce     string
}

// SetCapacity creates a period or changes its capacity, never below what is
// committed (reserved + arrived). The change, its audit entry and the
// idempotency record are one transaction, conditional on the capacity read,
// so two admins racing cannot undo each other silently: the loser re-reads.
//
// The period that will be committed is known before the write (every change
// to a period bumps its version, and the write is conditional on it), so
// record builds the idempotency record, response included, from it.
func (s *Store) SetCapacity(ctx context.Context, c CapacityChange, record func(quota.Period) (Idem, error), now time.Time) (quota.Period, *Replay, error) {
	for attempt := 0; attempt < 5; attempt++ {
		cur, err := s.GetPeriod(ctx, c.Stream, c.Year)
		exists := err == nil
		if err != nil && problem.KindOf(err) != problem.NotFound {
			return quota.Period{}, nil, err
		}
		var write ddb.TransactWriteItem
		next := cur
		next.Capacity, next.Remaining = c.Capacity, cur.Remaining+c.Capacity-cur.Capacity
		next.Version = cur.Version + 1
		if !exists {
			next = quota.Period{Stream: c.Stream, Year: c.Year, Capacity: c.Capacity, Remaining: c.Capacity, Version: 1, Partners: map[string]quota.PartnerCount{}}
			item := map[string]ddb.AttributeValue{
				"pk": str(periodPK(c.Stream, c.Year)), "sk": str(skMain),
				"stream": str(c.Stream), "period": num(c.Year), "capacity": num(c.Capacity),
				"reserved": num(0), "arrived": num(0), "remaining": num(c.Capacity),
				"waitlisted_persons": num(0), "version": num(1),
				// Listed on gsi1 under PERIODS (see reporting.go).
				"gsi1pk": str(periodsGSI), "gsi1sk": str(periodGSISK(c.Stream, c.Year)),
			}
			write = ddb.TransactWriteItem{Put: &ddb.Put{
				TableName: aws.String(s.table), Item: item,
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}}
		} else {
			if err := quota.CheckCapacity(cur, c.Capacity); err != nil {
				return quota.Period{}, nil, err
			}
			delta := c.Capacity - cur.Capacity
			write = ddb.TransactWriteItem{Update: &ddb.Update{
				TableName:                aws.String(s.table),
				Key:                      key(periodPK(c.Stream, c.Year), skMain),
				UpdateExpression:         aws.String("SET #cap = :new, remaining = remaining + :delta, version = version + :one"),
				ConditionExpression:      aws.String("version = :v AND remaining >= :min"),
				ExpressionAttributeNames: map[string]string{"#cap": "capacity"},
				ExpressionAttributeValues: map[string]ddb.AttributeValue{
					":new": num(c.Capacity), ":delta": num(delta), ":one": num(1),
					":v": num(cur.Version), ":min": num(max(0, -delta)),
				},
			}}
		}
		ev, err := attributevalue.MarshalMap(periodEventItem{
			PK: periodPK(c.Stream, c.Year), SK: eventSK("EV#", now, c.Nonce), At: now.UTC().Format(time.RFC3339Nano),
			Action: "capacity-set", From: cur.Capacity, To: c.Capacity, ActorRole: c.ActorRole, Actor: c.Actor,
		})
		if err != nil {
			return quota.Period{}, nil, problem.Wrap(problem.Internal, err)
		}
		items := []ddb.TransactWriteItem{
			{ConditionCheck: &ddb.ConditionCheck{
				TableName: aws.String(s.table), Key: key(streamPK(c.Stream), skMain),
				ConditionExpression: aws.String("attribute_exists(pk)"),
			}},
			write,
			{Put: &ddb.Put{TableName: aws.String(s.table), Item: ev}},
		}
		idem, err := record(next)
		if err != nil {
			return quota.Period{}, nil, err
		}
		replay, reasons, err := s.transact(ctx, idem, now, items)
		if err != nil || replay != nil {
			return quota.Period{}, replay, err
		}
		if reasons == nil {
			return next, nil, nil
		}
		if failedAt(reasons, 0) {
			return quota.Period{}, nil, problem.New(problem.NotFound)
		}
		// The period changed between read and write: read again.
	}
	return quota.Period{}, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("capacity change kept conflicting")}
}

// CapacityEvent is one audited capacity change.
type CapacityEvent struct {
	At        time.Time
	From, To  int
	ActorRole string
	Actor     string
}

// CapacityHistory lists a period's capacity changes, oldest first.
func (s *Store) CapacityHistory(ctx context.Context, stream string, year int) ([]CapacityEvent, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":pk": str(periodPK(stream, year)), ":p": str("EV#"),
		},
	})
	if err != nil {
		return nil, classify(err)
	}
	var evs []CapacityEvent
	for _, raw := range out.Items {
		var it periodEventItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, problem.Wrap(problem.Internal, err)
		}
		at, _ := time.Parse(time.RFC3339Nano, it.At)
		evs = append(evs, CapacityEvent{At: at, From: it.From, To: it.To, ActorRole: it.ActorRole, Actor: it.Actor})
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	return evs, nil
}

var _ = referral.Submitted
