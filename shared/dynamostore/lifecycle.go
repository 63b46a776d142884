package dynamostore

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// Step is one lifecycle step asked of a referral: screening, allocation,
// decision, arrival or withdrawal.
type Step struct {
	ID string
	// Partner, when set, is the caller's partner scope: another partner's
	// referral is NotFound.
	Partner string
	// To is the status asked for. For an allocation it is Allocated; the
	// store answers Waitlisted when the referral does not fit.
	To     referral.Status
	Action string
	// Reasons replace the referral's reason codes when not empty.
	Reasons []string
	// Period is the quota year of an allocation (0: the year of now). A
	// waitlisted referral is allocated in the period it waits for.
	Period int
	// ArrivedOn is the arrival date (YYYY-MM-DD) of an arrival.
	ArrivedOn string
	// Urgency, with To empty, is an officer's revision of the urgency,
	// for Reason (a shared/reason Urgency code).
	Urgency   referral.Urgency
	Reason    string
	ActorRole string
	Actor     string
	// Nonce makes the audit event's key unique.
	Nonce string
}

// Record builds the idempotency record (response included) from the
// referral as it will be once the write commits; nil when the request has
// no key. It may be called more than once (a retry after a conflict, an
// allocation that turned into a waitlisting): the last call's record is the
// one written.
type Record func(next referral.Referral) (Idem, error)

// FamilyChange replaces a referral's family members.
type FamilyChange struct {
	ID      string
	Partner string
	Members []referral.Person
	// Allowed, when set, refuses the change for a status (a partner may change
	// the family only before allocation).
	Allowed   func(referral.Status) error
	ActorRole string
	Actor     string
	Nonce     string
}

// maxAttempts bounds the re-reads after a referral changed between the read
// and the write.
const maxAttempts = 5

// Result is a committed change.
type Result struct {
	Referral referral.Referral
	// Released is set when spaces came back to the period (the caller then
	// promotes its waitlist).
	Released bool
	// Unchanged is set when nothing was written: an allocation of a
	// waitlisted referral that still does not fit.
	Unchanged bool
}

// Move applies a lifecycle step: one consistent read of the referral (and
// of its period when the step touches spaces), the decision
// (quota.Decide), then one transaction holding the idempotency record, the
// referral (conditional on the status and version read), the period's
// counters (conditional on what the decision says must still hold), the
// waitlist entry and the audit event. When a condition fails, the referral
// and period are read and the decision made again: a move no longer
// allowed is InvalidTransition, else the write is retried.
func (s *Store) Move(ctx context.Context, st Step, record Record, now time.Time) (Result, *Replay, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, k, err := s.get(ctx, st.ID, st.Partner, Whole)
		if err != nil {
			return Result{}, nil, err
		}
		m := quota.Move{To: st.To, Year: st.Period, Urgency: st.Urgency}
		if (m.To == referral.Allocated || m.To == referral.Waitlisted) && cur.Status != referral.Waitlisted && m.Year == 0 {
			m.Year = quota.YearOf(now)
		}
		d, err := s.decide(ctx, cur, m)
		if err != nil {
			return Result{}, nil, err
		}
		if d.Unchanged {
			return Result{Referral: cur, Unchanged: true}, nil, nil
		}
		next := applied(cur, d, now)
		if st.ArrivedOn != "" {
			next.ArrivedOn = st.ArrivedOn
		}
		if len(st.Reasons) > 0 {
			next.Reasons = st.Reasons
		}
		action := st.Action
		if action == "" || d.WaitReason != "" {
			action = actionFor(next.Status)
		}
		items, err := s.changeItems(cur, next, d, s.referralUpdate(cur, next, now, st.ArrivedOn, nil), referral.Event{
			At: now, Action: action, FromStatus: cur.Status, ToStatus: next.Status,
			PersonsDelta: d.Delta.Taken(), ActorRole: st.ActorRole, Actor: st.Actor, Reason: st.Reason,
		}, st.Nonce)
		if err != nil {
			return Result{}, nil, err
		}
		res, replay, retry, err := s.commit(ctx, record, next, k, d, now, items)
		if err != nil || replay != nil || !retry {
			return res, replay, err
		}
	}
	return Result{}, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("referral kept changing")}
}

// decide reads the period the move needs, if any, and asks quota.Decide.
func (s *Store) decide(ctx context.Context, cur referral.Referral, m quota.Move) (quota.Decision, error) {
	subject := quota.Subject{ID: cur.ID, Partner: cur.Partner, Status: cur.Status, Persons: cur.Persons, Period: cur.Period, Urgency: cur.Urgency}
	var p *quota.Period
	if year := quota.NeedsPeriod(subject, m); year != 0 {
		got, err := s.periodToChange(ctx, cur.Stream, year)
		switch {
		case err == nil:
			p = &got
		case problem.KindOf(err) != problem.NotFound:
			return quota.Decision{}, err
		}
	}
	return quota.Decide(subject, p, m)
}

// applied is the referral once the decision is written.
func applied(cur referral.Referral, d quota.Decision, now time.Time) referral.Referral {
	next := cur
	next.Status, next.Persons, next.Period, next.Urgency = d.To, d.Persons, d.Period, d.Urgency
	next.Version, next.UpdatedAt = cur.Version+1, now
	switch {
	case d.WaitReason != "":
		next.WaitlistReason = d.WaitReason
	case d.To != referral.Waitlisted:
		next.WaitlistReason = ""
	}
	return next
}

// commit writes a decision's items (the idempotency record's response
// sealed under the referral's key k, when it has one); retry is set when a condition on the
// referral or its period failed (they changed since they were read).
func (s *Store) commit(ctx context.Context, record Record, next referral.Referral, k cipher.AEAD, d quota.Decision, now time.Time, items []ddb.TransactWriteItem) (Result, *Replay, bool, error) {
	idem, err := record(next)
	if err != nil {
		return Result{}, nil, false, err
	}
	replay, reasons, err := s.transactFor(ctx, next.ID, k, idem, now, items)
	if err != nil || replay != nil {
		return Result{}, replay, false, err
	}
	if reasons == nil {
		return Result{Referral: next, Released: d.Released}, nil, false, nil
	}
	if failedAt(reasons, 0) || (d.Counted && failedAt(reasons, 1)) {
		return Result{}, nil, true, nil
	}
	return Result{}, nil, false, problem.Wrap(problem.Internal, fmt.Errorf("change cancelled: %v", reasons))
}

// changeItems translates a decision into its transaction: the referral
// first (ref), then the period when it is counted, the waitlist entry and
// the audit event. The order is what commit relies on to tell a stale
// referral or period apart.
func (s *Store) changeItems(cur, next referral.Referral, d quota.Decision, ref ddb.TransactWriteItem, ev referral.Event, nonce string) ([]ddb.TransactWriteItem, error) {
	items := []ddb.TransactWriteItem{ref}
	if d.Counted {
		items = append(items, s.periodUpdate(cur.Stream, next.Period, cur.Partner, d.Delta, d.Condition))
	}
	if !d.FromDelta.IsZero() {
		// A carry-over: the period left behind gives up its waitlisted persons.
		items = append(items, s.periodUpdate(cur.Stream, cur.Period, cur.Partner, d.FromDelta, quota.Condition{}))
	}
	wait, err := s.waitItems(cur, next, d.Wait)
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	items = append(items, wait...)
	queue, err := s.queueItems(cur, next)
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	items = append(items, queue...)
	if d.ReleasesReference {
		items = append(items, s.prefRelease(cur))
	}
	if d.Admits {
		items = append(items, s.admissionUpdate(next))
	}
	put, err := eventPut(s.table, refPK(cur.ID), eventSK("EV#", ev.At, nonce), ev)
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	return append(items, put), nil
}

// waitItems translates a decision's waitlist operation.
func (s *Store) waitItems(cur, next referral.Referral, op quota.WaitOp) ([]ddb.TransactWriteItem, error) {
	switch op {
	case quota.WaitPut:
		put, err := s.waitPut(next)
		return []ddb.TransactWriteItem{put}, err
	case quota.WaitDelete:
		return []ddb.TransactWriteItem{s.waitDelete(cur)}, nil
	case quota.WaitResize:
		return []ddb.TransactWriteItem{s.waitResize(cur, next.Persons)}, nil
	case quota.WaitRekey, quota.WaitCarry:
		put, err := s.waitPut(next)
		return []ddb.TransactWriteItem{s.waitDelete(cur), put}, err
	}
	return nil, nil
}

func actionFor(s referral.Status) string {
	switch s {
	case referral.Eligible, referral.Ineligible:
		return referral.ActionScreened
	case referral.Allocated:
		return referral.ActionAllocated
	case referral.Waitlisted:
		return referral.ActionWaitlisted
	case referral.Approved, referral.Refused:
		return referral.ActionDecided
	case referral.Arrived:
		return referral.ActionArrived
	case referral.Withdrawn:
		return referral.ActionWithdrawn
	}
	return string(s)
}

// referralUpdate moves the stored referral from cur to next, on condition
// that it is still cur (status and version). sealedPeople, when set,
// replaces the sealed names (a family change).
func (s *Store) referralUpdate(cur, next referral.Referral, now time.Time, arrivedOn string, sealedPeople []byte) ddb.TransactWriteItem {
	names := map[string]string{"#st": "status", "#ver": "version", "#upd": "updated_at"}
	values := map[string]ddb.AttributeValue{
		":to": str(string(next.Status)), ":from": str(string(cur.Status)),
		":v": num(cur.Version), ":nv": num(next.Version),
		":now": str(now.UTC().Format(time.RFC3339Nano)),
	}
	expr := "SET #st = :to, #ver = :nv, #upd = :now"
	if next.Period != cur.Period {
		names["#per"], values[":per"] = "period", num(next.Period)
		expr += ", #per = :per"
	}
	if len(next.Reasons) > 0 && !sameStrings(next.Reasons, cur.Reasons) {
		l := make([]ddb.AttributeValue, len(next.Reasons))
		for i, r := range next.Reasons {
			l[i] = str(r)
		}
		names["#rea"], values[":rea"] = "reasons", &ddb.AttributeValueMemberL{Value: l}
		expr += ", #rea = :rea"
	}
	if arrivedOn != "" {
		names["#arr"], values[":arr"] = "arrived_on", str(arrivedOn)
		expr += ", #arr = :arr"
	}
	if next.Persons != cur.Persons {
		names["#pers"], values[":pers"] = "persons", num(next.Persons)
		expr += ", #pers = :pers"
	}
	if next.Urgency != cur.Urgency {
		names["#urg"], values[":urg"] = "urgency", str(string(next.Urgency))
		expr += ", #urg = :urg"
	}
	if next.WaitlistReason != "" && next.WaitlistReason != cur.WaitlistReason {
		names["#wr"], values[":wr"] = "waitlist_reason", str(next.WaitlistReason)
		expr += ", #wr = :wr"
	}
	if sealedPeople != nil {
		names["#pp"], values[":pp"] = "pii_people", &ddb.AttributeValueMemberB{Value: sealedPeople}
		expr += ", #pp = :pp"
	}
	if next.WaitlistReason == "" && cur.WaitlistReason != "" {
		// Emptied, not removed: the embedded server ignores REMOVE.
		names["#wr"], values[":wr"] = "waitlist_reason", str("")
		expr += ", #wr = :wr"
	}
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(refPK(cur.ID), skMain),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#st = :from AND #ver = :v"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// periodUpdate translates a decision's counter change and condition: it
// adds d to the period's counters, the partner's flat counters, and either
// the partner's allotment counter (left#<p>) or the unallotted pool, bumps
// the version (SetPlan conditions on it), on condition that the period
// exists, that the partner's allotment is as decided (present or absent),
// and that c holds.
func (s *Store) periodUpdate(stream string, year int, partner string, d quota.Delta, c quota.Condition) ddb.TransactWriteItem {
	names := map[string]string{
		"#res": "reserved", "#arr": "arrived", "#rem": "remaining", "#wl": "waitlisted_persons", "#ver": "version",
		"#g1pk": "gsi1pk", "#g1sk": "gsi1sk",
	}
	values := map[string]ddb.AttributeValue{
		":dr": num(d.Reserved), ":da": num(d.Arrived), ":dt": num(d.Taken()), ":dw": num(d.Waitlisted),
		":one": num(1), ":g1pk": str(periodsGSI), ":g1sk": str(periodGSISK(stream, year)),
	}
	expr := "SET #res = #res + :dr, #arr = #arr + :da, #rem = #rem - :dt, #wl = #wl + :dw, #ver = #ver + :one, #g1pk = :g1pk, #g1sk = :g1sk"
	if d.Reserved != 0 || d.Arrived != 0 {
		names["#pr"], names["#pa"] = reservedAttr(partner), arrivedAttr(partner)
		values[":zero"] = num(0)
		expr += ", #pr = if_not_exists(#pr, :zero) + :dr, #pa = if_not_exists(#pa, :zero) + :da"
	}
	cond := "attribute_exists(pk)"
	// limit is the partner's own counter: what is left of its allotment,
	// or of the spaces nobody is allotted. Only a change that takes or
	// gives back spaces, or is checked, touches it; it is then conditioned
	// on the partner's allotment being as decided.
	limit := "#pool"
	checked := c.Limit == quota.Fits || c.Limit == quota.StillStreamFull || c.Limit == quota.StillAllotmentFull
	if d.Taken() != 0 || checked {
		names["#allot"] = allotAttr(partner)
		values[":zero"] = num(0)
		if c.Allotted {
			limit = "#left"
			names["#left"] = leftAttr(partner)
			cond += " AND #allot >= :zero"
		} else {
			names["#pool"] = "pool"
			cond += " AND (attribute_not_exists(#allot) OR #allot < :zero)"
		}
	}
	if d.Taken() != 0 {
		expr += ", " + limit + " = " + limit + " - :dt"
	}
	if c.Limit != quota.NoCheck {
		names["#closed"] = "closed"
		values[":need"] = num(c.Need)
		cond += " AND attribute_not_exists(#closed)"
	}
	switch c.Limit {
	case quota.Fits:
		cond += " AND #rem >= :need AND " + limit + " >= :need"
	case quota.StillStreamFull:
		if c.Allotted {
			cond += " AND #rem < :need"
		} else {
			cond += " AND " + limit + " < :need"
		}
	case quota.StillAllotmentFull:
		cond += " AND #rem >= :need AND " + limit + " < :need"
	}
	prune(names, values, expr, cond)
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(periodPK(stream, year), skMain),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

// ChangeFamily replaces a referral's family members and re-seals its names;
// persons follows. The decision (quota.Decide) says what the counters and
// the waitlist entry do: growth of a family that holds spaces must fit
// (QuotaExhausted otherwise, nothing changed), a waitlisted family's entry
// follows its size. Terminal referrals cannot change.
func (s *Store) ChangeFamily(ctx context.Context, c FamilyChange, record Record, now time.Time) (Result, *Replay, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, k, err := s.get(ctx, c.ID, c.Partner, Whole)
		if err != nil {
			return Result{}, nil, err
		}
		if referral.Terminal(cur.Status) {
			return Result{}, nil, problem.New(problem.InvalidTransition)
		}
		if c.Allowed != nil {
			if err := c.Allowed(cur.Status); err != nil {
				return Result{}, nil, err
			}
		}
		in := cur.Input
		in.FamilyMembers = c.Members
		d, err := s.decide(ctx, cur, quota.Move{Persons: in.Persons()})
		if err != nil {
			return Result{}, nil, err
		}
		next := applied(cur, d, now)
		next.FamilyMembers = c.Members
		sealed, err := s.seal(k, cur.ID, cur.Partner, "people", people{next.Principal, next.FamilyMembers})
		if err != nil {
			return Result{}, nil, problem.Wrap(problem.Internal, err)
		}
		items, err := s.changeItems(cur, next, d, s.referralUpdate(cur, next, now, "", sealed), referral.Event{
			At: now, Action: referral.ActionFamily, FromStatus: cur.Status, ToStatus: next.Status,
			PersonsDelta: d.Delta.Taken(), ActorRole: c.ActorRole, Actor: c.Actor,
		}, c.Nonce)
		if err != nil {
			return Result{}, nil, err
		}
		res, replay, retry, err := s.commit(ctx, record, next, k, d, now, items)
		if err != nil || replay != nil || !retry {
			return res, replay, err
		}
	}
	return Result{}, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("referral kept changing")}
}

// placeholder is an expression attribute name or value.
var placeholder = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

// prune drops the names and values no expression uses: DynamoDB refuses
// unused ones, and which are used depends on the decision.
func prune(names map[string]string, values map[string]ddb.AttributeValue, exprs ...string) {
	used := map[string]bool{}
	for _, e := range exprs {
		for _, p := range placeholder.FindAllString(e, -1) {
			used[p] = true
		}
	}
	for k := range names {
		if !used[k] {
			delete(names, k)
		}
	}
	for k := range values {
		if !used[k] {
			delete(values, k)
		}
	}
}

// nonce is a random suffix for keys written by the system itself.
func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Keys of the period list (gsi1; partner lists use PARTNER#<p> there).
const periodsGSI = "PERIODS"

func periodGSISK(stream string, year int) string { return stream + "#" + strconv.Itoa(year) }
