package dynamostore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// The officers' work queues. A referral in a work state has one queue
// entry, written and deleted in the transaction that moves it, as its
// waitlist entry is: an entry in the state's partition of the table (one
// Query serves a page of one stream's queue, emergency first) and, through
// the sparse index gsi3 that only queue entries carry, in the partition of
// the same queue narrowed to one partner. The waitlisted queue is the
// period's waitlist (WAIT#<s>#<y>), in promotion order; its entries carry
// the same attributes.
//
// Entries rather than index attributes on the referral item: a referral
// leaving a state would have to REMOVE its key attributes, which the
// embedded server ignores (see referralUpdate), so it would stay in the
// queue locally. Entries also keep a queue page small and free of personal
// data: no name is read, nothing is unsealed.

// QueueStates are the work states, in the order the workspace lists them.
var QueueStates = []referral.Status{referral.Submitted, referral.Eligible, referral.Waitlisted, referral.Allocated, referral.Approved}

// QueueHasPeriod reports whether a state's queue is per period (the
// referral holds or waits for spaces of one year).
func QueueHasPeriod(st referral.Status) bool {
	return st == referral.Waitlisted || st == referral.Allocated || st == referral.Approved
}

func inQueue(st referral.Status) bool {
	for _, q := range QueueStates {
		if q == st {
			return true
		}
	}
	return false
}

// queuePK is the partition of a queue: the waitlist for waitlisted
// referrals, QUEUE#<state>#<stream>[#<year>] otherwise.
func queuePK(st referral.Status, stream string, year int) string {
	switch {
	case st == referral.Waitlisted:
		return waitPK(stream, year)
	case QueueHasPeriod(st):
		return "QUEUE#" + string(st) + "#" + stream + "#" + strconv.Itoa(year)
	}
	return "QUEUE#" + string(st) + "#" + stream
}

// queuePartnerPK is the gsi3 partition of a queue narrowed to one partner.
func queuePartnerPK(queue, partner string) string { return queue + "#" + partner }

// queueItem is one referral in a work queue (its waitlist entry when
// waitlisted). No personal data: what a queue row shows and promotion needs.
type queueItem struct {
	PK               string `dynamodbav:"pk"`
	SK               string `dynamodbav:"sk"`
	GSI3PK           string `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK           string `dynamodbav:"gsi3sk,omitempty"`
	ReferralID       string `dynamodbav:"referral_id"`
	Partner          string `dynamodbav:"partner"`
	PartnerReference string `dynamodbav:"partner_reference,omitempty"`
	Urgency          string `dynamodbav:"urgency"`
	CreatedAt        string `dynamodbav:"created_at"`
	Persons          int    `dynamodbav:"persons"`
	Period           int    `dynamodbav:"period,omitempty"`
	WaitReason       string `dynamodbav:"waitlist_reason,omitempty"`
}

func newQueueItem(r referral.Referral) queueItem {
	pk := queuePK(r.Status, r.Stream, r.Period)
	it := queueItem{
		PK: pk, SK: waitSK(r), GSI3PK: queuePartnerPK(pk, r.Partner), GSI3SK: waitSK(r),
		ReferralID: r.ID, Partner: r.Partner, PartnerReference: r.PartnerReference,
		Urgency: string(r.Urgency), CreatedAt: r.CreatedAt.UTC().Format(waitTime), Persons: r.Persons,
		WaitReason: r.WaitlistReason,
	}
	if QueueHasPeriod(r.Status) {
		it.Period = r.Period
	}
	return it
}

func (s *Store) queuePut(r referral.Referral) (ddb.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(newQueueItem(r))
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Put: &ddb.Put{TableName: aws.String(s.table), Item: item}}, nil
}

// queueItems moves a referral's queue entry from cur's queue to next's.
// Waitlisted referrals are left to the waitlist operations (waitItems),
// whose entries are their queue entries. An entry that stays where it is
// is re-put when what it shows changed (a family's size). Entries are put
// and deleted without conditions: the referral's own condition in the same
// transaction already says the move is from cur; a referral created before
// the queues existed has no entry to delete, and a delete of nothing is no
// error.
func (s *Store) queueItems(cur, next referral.Referral) ([]ddb.TransactWriteItem, error) {
	from := inQueue(cur.Status) && cur.Status != referral.Waitlisted
	to := inQueue(next.Status) && next.Status != referral.Waitlisted
	same := from && to && newQueueItem(cur).PK == newQueueItem(next).PK && waitSK(cur) == waitSK(next)
	var items []ddb.TransactWriteItem
	if from && !same {
		items = append(items, ddb.TransactWriteItem{Delete: &ddb.Delete{
			TableName: aws.String(s.table), Key: key(queuePK(cur.Status, cur.Stream, cur.Period), waitSK(cur)),
		}})
	}
	if to && (!same || newQueueItem(cur) != newQueueItem(next)) {
		put, err := s.queuePut(next)
		if err != nil {
			return nil, err
		}
		items = append(items, put)
	}
	return items, nil
}

// QueueFilter chooses one queue page: a work state of a stream (and period,
// for the states that hold spaces), optionally one partner's referrals and
// one urgency.
type QueueFilter struct {
	Status  referral.Status
	Stream  string
	Period  int
	Partner string
	Urgency referral.Urgency
}

// QueueEntry is one row of a queue.
type QueueEntry struct {
	ReferralID       string
	Partner          string
	PartnerReference string
	Urgency          referral.Urgency
	Created          time.Time
	Persons          int
	Period           int
	WaitReason       string
}

// QueuePage is one page of a queue, in order; Next resumes after it (nil at
// the end).
type QueuePage struct {
	Items []QueueEntry
	Next  map[string]string
}

// MaxQueuePage bounds a queue page.
const MaxQueuePage = 100

// Queue returns one page of a work queue, emergency first, then by age, in
// one Query: the queue's partition, or its partner's partition of gsi3;
// an urgency narrows it to the sort keys of that rank. The order is the
// waitlist's (rank, creation, id), so the waitlisted queue is in
// promotion order.
func (s *Store) Queue(ctx context.Context, f QueueFilter, limit int, from map[string]string) (QueuePage, error) {
	if !inQueue(f.Status) || f.Stream == "" || (QueueHasPeriod(f.Status) && f.Period == 0) {
		return QueuePage{}, problem.Invalid(problem.FieldError{Field: "status", Code: problem.CodeNotAllowed})
	}
	if limit <= 0 || limit > MaxQueuePage {
		limit = MaxQueuePage
	}
	pkAttr, skAttr, pkVal := attrPK, attrSK, queuePK(f.Status, f.Stream, f.Period)
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), Limit: aws.Int32(int32(limit))}
	if f.Partner != "" {
		pkAttr, skAttr, pkVal = "gsi3pk", "gsi3sk", queuePartnerPK(pkVal, f.Partner)
		in.IndexName = aws.String("gsi3")
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	in.ExpressionAttributeNames = map[string]string{"#pk": pkAttr}
	in.ExpressionAttributeValues = map[string]ddb.AttributeValue{":pk": str(pkVal)}
	in.KeyConditionExpression = aws.String("#pk = :pk")
	if f.Urgency != "" {
		if !f.Urgency.Valid() {
			return QueuePage{}, problem.Invalid(problem.FieldError{Field: "urgency", Code: problem.CodeNotAllowed})
		}
		in.ExpressionAttributeNames["#sk"] = skAttr
		in.ExpressionAttributeValues[":rank"] = str(strconv.Itoa(f.Urgency.Rank()) + "#")
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :rank)")
	}
	if from != nil {
		// Only keys of this queue are taken back: a cursor cannot steer the
		// query to another partition.
		want := []string{attrPK, attrSK}
		if f.Partner != "" {
			want = append(want, "gsi3pk", "gsi3sk")
		}
		in.ExclusiveStartKey = map[string]ddb.AttributeValue{}
		for _, k := range want {
			v, ok := from[k]
			if !ok {
				return QueuePage{}, problem.Invalid(problem.FieldError{Field: "cursor", Code: problem.CodeMalformed})
			}
			in.ExclusiveStartKey[k] = str(v)
		}
		if from[pkAttr] != pkVal || (f.Urgency != "" && !strings.HasPrefix(from[skAttr], strconv.Itoa(f.Urgency.Rank())+"#")) {
			return QueuePage{}, problem.Invalid(problem.FieldError{Field: "cursor", Code: problem.CodeMalformed})
		}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return QueuePage{}, classify(err)
	}
	page := QueuePage{Items: make([]QueueEntry, 0, len(out.Items))}
	var last queueItem
	for _, raw := range out.Items {
		var it queueItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return QueuePage{}, problem.Wrap(problem.Internal, err)
		}
		created, err := time.Parse(waitTime, it.CreatedAt)
		if err != nil {
			return QueuePage{}, problem.Wrap(problem.Internal, err)
		}
		period := it.Period
		if f.Status == referral.Waitlisted {
			period = f.Period
		}
		page.Items = append(page.Items, QueueEntry{
			ReferralID: it.ReferralID, Partner: it.Partner, PartnerReference: it.PartnerReference,
			Urgency: referral.Urgency(it.Urgency), Created: created, Persons: it.Persons, Period: period, WaitReason: it.WaitReason,
		})
		last = it
	}
	// A full page may be the last one: DynamoDB then still returns a key,
	// and the next page is empty. Either way the cursor names exactly the
	// last item served.
	if len(out.LastEvaluatedKey) > 0 && len(page.Items) > 0 {
		page.Next = map[string]string{attrPK: last.PK, attrSK: last.SK}
		if f.Partner != "" {
			page.Next["gsi3pk"], page.Next["gsi3sk"] = pkVal, last.SK
		}
	}
	return page, nil
}

// ReferenceOwner returns the id of the referral that holds a partner's
// reference (the last one to claim it), for an exact lookup: NotFound when
// none does.
func (s *Store) ReferenceOwner(ctx context.Context, partner, ref string) (string, error) {
	// Bounded so that the key stays far within DynamoDB's; an id that is not
	// a partner's simply finds nothing.
	if partner == "" || ref == "" || len(partner) > 64 || len(ref) > 200 {
		return "", problem.New(problem.NotFound)
	}
	claim, err := s.referenceClaim(ctx, partner, ref)
	if err != nil {
		return "", err
	}
	if claim.ReferralID == "" {
		return "", problem.New(problem.NotFound)
	}
	return claim.ReferralID, nil
}
