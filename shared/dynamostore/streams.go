package dynamostore

import (
	"context"
	"errors"
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
	"github.com/haven-hrd/haven/shared/retention"
)

func streamPK(stream string) string { return "STREAM#" + stream }
func periodPK(stream string, year int) string {
	return "PERIOD#" + stream + "#" + strconv.Itoa(year)
}

// Stream is a pathway: its own partners, per year its own capacity, and
// its retention schedule (shared/retention; an absent period keeps).
type Stream struct {
	ID       string   `dynamodbav:"id" json:"id"`
	Name     string   `dynamodbav:"name" json:"name"`
	Open     bool     `dynamodbav:"open" json:"open"`
	Partners []string `dynamodbav:"partners" json:"partners"`
	// RetentionEndedDays and RetentionArrivedDays are the stream's
	// retention_days after a referral ended and after arrival.
	RetentionEndedDays   *int `dynamodbav:"retention_ended_days,omitempty" json:"-"`
	RetentionArrivedDays *int `dynamodbav:"retention_arrived_days,omitempty" json:"-"`
}

// Retention is the stream's retention schedule.
func (st Stream) Retention() retention.Schedule {
	return retention.Schedule{Ended: st.RetentionEndedDays, Arrived: st.RetentionArrivedDays}
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
	if fields := st.Retention().Check("retention_days"); fields != nil {
		return problem.Invalid(fields...)
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

// The allotment of a partner that has one, and what is left of it
// (allotment − reserved − arrived: a condition cannot subtract). A removed
// allotment is set to noAllotment rather than removed: the embedded server
// ignores REMOVE, and one spelling everywhere is simpler than two.
func allotAttr(partner string) string { return "allot#" + partner }
func leftAttr(partner string) string  { return "left#" + partner }

const noAllotment = -1

// GetPeriod reads a stream's period and its counters.
func (s *Store) GetPeriod(ctx context.Context, stream string, year int) (quota.Period, error) {
	raw, err := s.periodItem(ctx, stream, year)
	if err != nil {
		return quota.Period{}, err
	}
	return decodePeriod(raw)
}

func (s *Store) periodItem(ctx context.Context, stream string, year int) (map[string]ddb.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(periodPK(stream, year), skMain), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, classify(err)
	}
	if out.Item == nil {
		return nil, problem.New(problem.NotFound)
	}
	return out.Item, nil
}

// periodToChange reads a period that a change will be conditioned on. A
// period written before allotments existed has no pool attribute, which
// the conditions need: it is given one first (only the writing steps do
// this, so the read-only ones keep read-only permissions).
func (s *Store) periodToChange(ctx context.Context, stream string, year int) (quota.Period, error) {
	raw, err := s.periodItem(ctx, stream, year)
	if err != nil {
		return quota.Period{}, err
	}
	if _, ok := raw["pool"]; !ok {
		if err := s.backfillPool(ctx, stream, year); err != nil {
			return quota.Period{}, err
		}
		if raw, err = s.periodItem(ctx, stream, year); err != nil {
			return quota.Period{}, err
		}
	}
	return decodePeriod(raw)
}

// backfillPool sets the unallotted pool of a period written before
// allotments existed. Nothing was allotted then, so the pool is what
// remains; copying remaining in one conditional update keeps it exact
// whatever ran meanwhile.
func (s *Store) backfillPool(ctx context.Context, stream string, year int) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(periodPK(stream, year), skMain),
		UpdateExpression:         aws.String("SET #pool = #rem"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND attribute_not_exists(#pool)"),
		ExpressionAttributeNames: map[string]string{"#pool": "pool", "#rem": "remaining"},
	})
	var ccf *ddb.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // someone else did it
	}
	return classify(err)
}

func decodePeriod(raw map[string]ddb.AttributeValue) (quota.Period, error) {
	var m map[string]any
	if err := attributevalue.UnmarshalMap(raw, &m); err != nil {
		return quota.Period{}, problem.Wrap(problem.Internal, err)
	}
	p := quota.Period{Partners: map[string]quota.PartnerCount{}}
	p.Stream, _ = m["stream"].(string)
	p.Closed, _ = m["closed"].(bool)
	pool, hasPool := m["pool"].(float64)
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
		case strings.HasPrefix(k, "allot#"):
			if n == noAllotment {
				continue
			}
			if p.Allotments == nil {
				p.Allotments = map[string]int{}
			}
			p.Allotments[k[len("allot#"):]] = n
		case strings.HasPrefix(k, "left#"):
			if p.Left == nil {
				p.Left = map[string]int{}
			}
			p.Left[k[len("left#"):]] = n
		}
	}
	for id := range p.Left {
		if _, ok := p.Allotments[id]; !ok {
			delete(p.Left, id)
		}
	}
	if len(p.Left) == 0 {
		p.Left = nil
	}
	p.Pool = int(pool)
	if !hasPool {
		// Written before allotments existed: nothing is allotted, so the
		// pool is what remains (periodToChange writes it).
		p.Pool = p.Remaining
	}
	return p, nil
}

// periodEvent is an audit entry of a period (capacity changes).
type periodEventItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	At     string `dynamodbav:"at"`
	Action string `dynamodbav:"action"`
	From   int    `dynamodbav:"from_capacity"`
	To     int    `dynamodbav:"to_capacity"`
	// CarryTo is a closure's target period.
	CarryTo   int    `dynamodbav:"carry_over_to,omitempty"`
	ActorRole string `dynamodbav:"actor_role"`
	Actor     string `dynamodbav:"actor"`
	// Allotments are the partners' allotments once the change is made,
	// as "partner=persons" pairs.
	Allotments []string `dynamodbav:"allotments,omitempty"`
}

// CapacityChange is an admin's request to set a period's capacity and,
// when Allotments is not nil, to replace its partners' allotments (an empty
// map removes them; nil keeps them).
type CapacityChange struct {
	Stream     string
	Year       int
	Capacity   int
	Allotments map[string]int
	ActorRole  string
	Actor      string
	Nonce      string
}

// SetCapacity creates a period or changes its capacity and allotments,
// never below what is committed (quota.CheckPlan). Every derived counter
// (remaining, pool, left#<partner>) is written whole from the period read,
// on condition that its version is unchanged, so the change, its audit
// entry and the idempotency record are one transaction and two admins
// racing cannot undo each other silently: the loser re-reads.
//
// The period that will be committed is known before the write, so record
// builds the idempotency record, response included, from it.
func (s *Store) SetCapacity(ctx context.Context, c CapacityChange, record func(quota.Period) (Idem, error), now time.Time) (quota.Period, *Replay, error) {
	for attempt := 0; attempt < 5; attempt++ {
		cur, err := s.GetPeriod(ctx, c.Stream, c.Year)
		exists := err == nil
		if err != nil && problem.KindOf(err) != problem.NotFound {
			return quota.Period{}, nil, err
		}
		if !exists {
			cur = quota.Period{Stream: c.Stream, Year: c.Year, Partners: map[string]quota.PartnerCount{}}
		}
		allotments := c.Allotments
		if allotments == nil {
			allotments = cur.Allotments
		}
		if err := quota.CheckPlan(cur, c.Capacity, allotments); err != nil {
			return quota.Period{}, nil, err
		}
		next := quota.Plan(cur, c.Capacity, allotments)
		write := s.planWrite(cur, next, exists)
		ev, err := attributevalue.MarshalMap(periodEventItem{
			PK: periodPK(c.Stream, c.Year), SK: eventSK("EV#", now, c.Nonce), At: now.UTC().Format(time.RFC3339Nano),
			Action: "capacity-set", From: cur.Capacity, To: c.Capacity, ActorRole: c.ActorRole, Actor: c.Actor,
			Allotments: allotmentPairs(next.Allotments),
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

// planWrite is the period item's write for a plan: a Put of a new period,
// else an Update of capacity and every derived counter, conditional on the
// version read; the allotments of partners no longer allotted are set to
// noAllotment.
func (s *Store) planWrite(cur, next quota.Period, exists bool) ddb.TransactWriteItem {
	if !exists {
		item := map[string]ddb.AttributeValue{
			"pk": str(periodPK(next.Stream, next.Year)), "sk": str(skMain),
			"stream": str(next.Stream), "period": num(next.Year), "capacity": num(next.Capacity),
			"reserved": num(0), "arrived": num(0), "remaining": num(next.Remaining), "pool": num(next.Pool),
			"waitlisted_persons": num(0), "version": num(next.Version),
			// Listed on gsi1 under PERIODS (see reporting.go).
			"gsi1pk": str(periodsGSI), "gsi1sk": str(periodGSISK(next.Stream, next.Year)),
		}
		for id, a := range next.Allotments {
			item[allotAttr(id)], item[leftAttr(id)] = num(a), num(next.Left[id])
		}
		return ddb.TransactWriteItem{Put: &ddb.Put{
			TableName: aws.String(s.table), Item: item,
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}}
	}
	names := map[string]string{"#cap": "capacity", "#rem": "remaining", "#pool": "pool", "#ver": "version"}
	values := map[string]ddb.AttributeValue{
		":new": num(next.Capacity), ":rem": num(next.Remaining), ":pool": num(next.Pool),
		":nv": num(next.Version), ":v": num(cur.Version),
	}
	set := "SET #cap = :new, #rem = :rem, #pool = :pool, #ver = :nv"
	for i, id := range quota.PartnerIDs(next.Allotments) {
		n := strconv.Itoa(i)
		names["#a"+n], names["#l"+n] = allotAttr(id), leftAttr(id)
		values[":a"+n], values[":l"+n] = num(next.Allotments[id]), num(next.Left[id])
		set += ", #a" + n + " = :a" + n + ", #l" + n + " = :l" + n
	}
	for i, id := range quota.PartnerIDs(cur.Allotments) {
		if _, ok := next.Allotments[id]; ok {
			continue
		}
		n := strconv.Itoa(i)
		names["#ra"+n], names["#rl"+n] = allotAttr(id), leftAttr(id)
		values[":none"], values[":zero"] = num(noAllotment), num(0)
		set += ", #ra" + n + " = :none, #rl" + n + " = :zero"
	}
	expr := set
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(periodPK(next.Stream, next.Year), skMain),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#ver = :v"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

func allotmentPairs(m map[string]int) []string {
	var out []string
	for _, id := range quota.PartnerIDs(m) {
		out = append(out, id+"="+strconv.Itoa(m[id]))
	}
	return out
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
