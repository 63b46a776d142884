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
// entry, REF#<id>/QUEUE in its own partition, put in the transaction that
// moves it into or within the work states (the same key each time, so a
// move writes it over) and deleted by the move that ends its work. Only
// queue entries carry gsi4 (the queue: QUEUE#<state>#<stream>[#<year>]) and
// gsi3 (the same queue narrowed to one partner), so both indexes are sparse
// and a queue page is one Query of one index partition, sorted emergency
// first, then by age (the waitlist's order: the waitlisted queue is in
// promotion order).
//
// An entry rather than index attributes on the referral item: a referral
// leaving the queues would have to REMOVE its key attributes, which the
// embedded server ignores (see referralUpdate), so it would stay in the
// queue locally; an entry is deleted instead. It also keeps a queue page
// small and free of personal data: no name is read, nothing is unsealed.

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

const skQueue = "QUEUE"

// queueGSI is the gsi4 partition of a queue.
func queueGSI(st referral.Status, stream string, year int) string {
	if QueueHasPeriod(st) {
		return "QUEUE#" + string(st) + "#" + stream + "#" + strconv.Itoa(year)
	}
	return "QUEUE#" + string(st) + "#" + stream
}

// queuePartnerGSI is the gsi3 partition of a queue narrowed to one partner.
func queuePartnerGSI(queue, partner string) string { return queue + "#" + partner }

// queueItem is a referral's queue entry, and the shape of its waitlist
// entry (without the index keys). No personal data: what a queue row shows
// and promotion needs.
type queueItem struct {
	PK               string `dynamodbav:"pk"`
	SK               string `dynamodbav:"sk"`
	GSI3PK           string `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK           string `dynamodbav:"gsi3sk,omitempty"`
	GSI4PK           string `dynamodbav:"gsi4pk,omitempty"`
	GSI4SK           string `dynamodbav:"gsi4sk,omitempty"`
	ReferralID       string `dynamodbav:"referral_id"`
	Partner          string `dynamodbav:"partner"`
	PartnerReference string `dynamodbav:"partner_reference,omitempty"`
	Urgency          string `dynamodbav:"urgency"`
	CreatedAt        string `dynamodbav:"created_at"`
	Persons          int    `dynamodbav:"persons"`
	Period           int    `dynamodbav:"period,omitempty"`
	WaitReason       string `dynamodbav:"waitlist_reason,omitempty"`
}

// entryOf is what r's queue and waitlist entries hold, keys aside.
func entryOf(r referral.Referral) queueItem {
	it := queueItem{
		ReferralID: r.ID, Partner: r.Partner, PartnerReference: r.PartnerReference,
		Urgency: string(r.Urgency), CreatedAt: r.CreatedAt.UTC().Format(waitTime), Persons: r.Persons,
	}
	if QueueHasPeriod(r.Status) {
		it.Period = r.Period
	}
	if r.Status == referral.Waitlisted {
		it.WaitReason = r.WaitlistReason
	}
	return it
}

// newQueueItem is r's queue entry.
func newQueueItem(r referral.Referral) queueItem {
	it := entryOf(r)
	q := queueGSI(r.Status, r.Stream, r.Period)
	it.PK, it.SK = refPK(r.ID), skQueue
	it.GSI4PK, it.GSI4SK = q, waitSK(r)
	it.GSI3PK, it.GSI3SK = queuePartnerGSI(q, r.Partner), waitSK(r)
	return it
}

func (s *Store) queuePut(r referral.Referral) (ddb.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(newQueueItem(r))
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Put: &ddb.Put{TableName: aws.String(s.table), Item: item}}, nil
}

// queueItems keeps a referral's queue entry with the move from cur to next:
// put when next is in a work queue and the entry changes (state, period,
// urgency, size, why it waits), deleted when next leaves the queues. The
// referral's own condition in the same transaction already says the move is
// from cur, so the entry needs none; a referral created before the queues
// existed gets its entry with its next move, and a delete of nothing is no
// error.
func (s *Store) queueItems(cur, next referral.Referral) ([]ddb.TransactWriteItem, error) {
	switch {
	case inQueue(next.Status):
		if inQueue(cur.Status) && newQueueItem(cur) == newQueueItem(next) {
			return nil, nil
		}
		put, err := s.queuePut(next)
		if err != nil {
			return nil, err
		}
		return []ddb.TransactWriteItem{put}, nil
	case inQueue(cur.Status):
		return []ddb.TransactWriteItem{{Delete: &ddb.Delete{TableName: aws.String(s.table), Key: key(refPK(cur.ID), skQueue)}}}, nil
	}
	return nil, nil
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
// the end). A first page also counts the queue (Counts; nil on later pages).
type QueuePage struct {
	Items  []QueueEntry
	Next   map[string]string
	Counts *QueueCounts
}

// MaxQueuePage bounds a queue page.
const MaxQueuePage = 100

// Queue returns one page of a work queue, emergency first, then by age, in
// one Query: the queue's partition of gsi4, or its partner's partition of
// gsi3; an urgency narrows it to the sort keys of that rank. The order is
// the waitlist's (rank, creation, id), so the waitlisted queue is in
// promotion order. Indexes are eventually consistent: a move of the last
// moment may not show yet (the case page reads the referral itself).
func (s *Store) Queue(ctx context.Context, f QueueFilter, limit int, from map[string]string) (QueuePage, error) {
	if !inQueue(f.Status) || f.Stream == "" || (QueueHasPeriod(f.Status) && f.Period == 0) {
		return QueuePage{}, problem.Invalid(problem.FieldError{Field: "status", Code: problem.CodeNotAllowed})
	}
	if limit <= 0 || limit > MaxQueuePage {
		limit = MaxQueuePage
	}
	index, pkAttr, skAttr, pkVal := "gsi4", "gsi4pk", "gsi4sk", queueGSI(f.Status, f.Stream, f.Period)
	if f.Partner != "" {
		index, pkAttr, skAttr, pkVal = "gsi3", "gsi3pk", "gsi3sk", queuePartnerGSI(pkVal, f.Partner)
	}
	// A first page reads on to count the queue, up to MaxQueueCount.
	read := limit
	if from == nil {
		read = max(limit, MaxQueueCount)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(index), Limit: aws.Int32(int32(read)),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(pkVal)},
	}
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
		in.ExclusiveStartKey = map[string]ddb.AttributeValue{}
		for _, k := range []string{attrPK, attrSK, pkAttr, skAttr} {
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
	page := QueuePage{Items: make([]QueueEntry, 0, min(limit, len(out.Items)))}
	var last queueItem
	entries := make([]queueItem, 0, len(out.Items))
	for _, raw := range out.Items {
		var it queueItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return QueuePage{}, problem.Wrap(problem.Internal, err)
		}
		entries = append(entries, it)
		if len(page.Items) == limit {
			continue // counted, not shown
		}
		created, err := time.Parse(waitTime, it.CreatedAt)
		if err != nil {
			return QueuePage{}, problem.Wrap(problem.Internal, err)
		}
		page.Items = append(page.Items, QueueEntry{
			ReferralID: it.ReferralID, Partner: it.Partner, PartnerReference: it.PartnerReference,
			Urgency: referral.Urgency(it.Urgency), Created: created, Persons: it.Persons, Period: it.Period, WaitReason: it.WaitReason,
		})
		last = it
	}
	if from == nil {
		page.Counts = countOf(entries, len(out.LastEvaluatedKey) > 0)
	}
	// A full page may be the last one: DynamoDB then still returns a key,
	// and the next page is empty. Either way the cursor names exactly the
	// last item served.
	if (len(out.LastEvaluatedKey) > 0 || len(entries) > len(page.Items)) && len(page.Items) > 0 {
		page.Next = map[string]string{attrPK: last.PK, attrSK: last.SK, pkAttr: pkVal, skAttr: last.GSI4SK}
	}
	return page, nil
}

// MaxQueueCount bounds the count of a queue's first page: the page's
// Query reads up to this many entries (small, with no personal data) and
// shows the first of them, so the count costs no call of its own and the
// page costs the same whatever the size of the queue and of the table.
// Beyond it the count says "more than".
const MaxQueueCount = 100

// QueueCounts are the referrals of one queue (under its partner and
// urgency filters) and their persons, by urgency. Entries come emergency
// first, so when the count stops at MaxQueueCount, the urgencies before the
// last one counted are still exact: Exact says which are.
type QueueCounts struct {
	Referrals map[referral.Urgency]int
	Persons   map[referral.Urgency]int
	Exact     map[referral.Urgency]bool
}

// Total is the number of referrals of every urgency counted, and whether
// it is exact (else the queue holds more).
func (c QueueCounts) Total() (referrals, persons int, exact bool) {
	exact = true
	for _, u := range urgencies {
		referrals += c.Referrals[u]
		persons += c.Persons[u]
		exact = exact && c.Exact[u]
	}
	return referrals, persons, exact
}

var urgencies = []referral.Urgency{referral.Emergency, referral.Urgent, referral.Normal}

// countOf counts the entries of a first page's Query; more says the Query
// stopped before the end of the queue.
func countOf(items []queueItem, more bool) *QueueCounts {
	c := &QueueCounts{Referrals: map[referral.Urgency]int{}, Persons: map[referral.Urgency]int{}, Exact: map[referral.Urgency]bool{}}
	last := -1
	for _, it := range items {
		u := referral.Urgency(it.Urgency)
		c.Referrals[u]++
		c.Persons[u] += it.Persons
		last = u.Rank()
	}
	for _, u := range urgencies {
		c.Exact[u] = !more || u.Rank() < last
	}
	return c
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

// Load writes referrals as they stand — each with its queue entry and its
// partner-reference claim — in batches of 25, with no condition, audit event
// or stream check: it seeds a table with a data set (the queue benchmark's
// 10,000 referrals; infra/bench), where Create's transaction per referral
// would take an hour on the embedded server. Never a way in for intake.
func (s *Store) Load(ctx context.Context, rs []referral.Referral) error {
	var reqs, keyReqs []ddb.WriteRequest
	add := func(v any) error {
		item, err := attributevalue.MarshalMap(v)
		if err != nil {
			return err
		}
		reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: item}})
		return nil
	}
	for _, r := range rs {
		// Each referral is sealed under a data key of its own, as Create
		// seals it.
		k, keyPut, err := s.newKey(r.ID)
		if err != nil {
			return err
		}
		if keyPut != nil {
			keyReqs = append(keyReqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: keyPut.Put.Item}})
		}
		it, err := s.toItem(r, k)
		if err != nil {
			return err
		}
		if err := add(it); err != nil {
			return err
		}
		if err := add(prefItem{PK: prefPK(r.Partner, r.PartnerReference), SK: skMain, ReferralID: r.ID}); err != nil {
			return err
		}
		if inQueue(r.Status) {
			if err := add(newQueueItem(r)); err != nil {
				return err
			}
		}
	}
	if err := s.batchPut(ctx, s.keys, keyReqs); err != nil {
		return err
	}
	return s.batchPut(ctx, s.table, reqs)
}

// batchPut writes reqs into table in batches of 25, retrying what comes
// back unprocessed.
func (s *Store) batchPut(ctx context.Context, table string, reqs []ddb.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		batch := map[string][]ddb.WriteRequest{table: reqs[:n]}
		reqs = reqs[n:]
		for len(batch[table]) > 0 {
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: batch})
			if err != nil {
				return classify(err)
			}
			batch = out.UnprocessedItems
		}
	}
	return nil
}
