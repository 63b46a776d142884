package dynamostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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

// Move applies a lifecycle step: one consistent read of the referral, then
// one transaction holding the idempotency record, the referral (conditional
// on the status and version read), the period's counters (conditional on
// remaining ≥ what is taken), the waitlist entry when one is added or taken
// off, and the audit event. A move the status machine does not allow is
// InvalidTransition and writes nothing. When the referral changed between
// read and write, it is read again: if the move is no longer allowed the
// answer is InvalidTransition, else the write is retried.
func (s *Store) Move(ctx context.Context, st Step, record Record, now time.Time) (Result, *Replay, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, err := s.Get(ctx, st.ID, st.Partner, Whole)
		if err != nil {
			return Result{}, nil, err
		}
		if !referral.CanTransition(cur.Status, st.To) {
			return Result{}, nil, problem.New(problem.InvalidTransition)
		}
		if st.To == referral.Waitlisted {
			// Waitlisted is never asked for: it is the answer to an
			// allocation that does not fit, so nobody waits while spaces are
			// free.
			st.To = referral.Allocated
		}
		next := cur
		next.Status, next.Version, next.UpdatedAt = st.To, cur.Version+1, now
		if st.ArrivedOn != "" {
			next.ArrivedOn = st.ArrivedOn
		}
		if len(st.Reasons) > 0 {
			next.Reasons = st.Reasons
		}
		if st.To == referral.Allocated && cur.Status == referral.Eligible {
			next.Period = st.Period
			if next.Period == 0 {
				next.Period = now.Year()
			}
		}
		if st.To == referral.Allocated && cur.Status == referral.Waitlisted && st.Period != 0 && st.Period != cur.Period {
			// A waitlisted referral waits for one period; moving it to another
			// is a withdrawal and a new referral, not an allocation. The
			// request is well formed: the referral's state refuses it.
			return Result{}, nil, problem.New(problem.InvalidTransition)
		}
		res, replay, retry, err := s.tryMove(ctx, st, cur, next, record, now)
		if err != nil || replay != nil || !retry {
			return res, replay, err
		}
	}
	return Result{}, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("referral kept changing")}
}

// tryMove runs one attempt; retry is set when the referral changed under it.
func (s *Store) tryMove(ctx context.Context, st Step, cur, next referral.Referral, record Record, now time.Time) (Result, *Replay, bool, error) {
	items, err := s.moveItems(st, cur, next, now, false)
	if err != nil {
		return Result{}, nil, false, err
	}
	idem, err := record(next)
	if err != nil {
		return Result{}, nil, false, err
	}
	replay, reasons, err := s.transact(ctx, idem, now, items)
	if err != nil || replay != nil {
		return Result{}, replay, false, err
	}
	d := quota.Change(cur.Status, cur.Persons, next.Status, next.Persons)
	if reasons == nil {
		return Result{Referral: next, Released: d.Taken() < 0}, nil, false, nil
	}
	if failedAt(reasons, 0) {
		return Result{}, nil, true, nil
	}
	if !failedAt(reasons, 1) {
		return Result{}, nil, false, problem.Wrap(problem.Internal, fmt.Errorf("move cancelled: %v", reasons))
	}
	// The period refused: it does not exist (404, as the period's own URL
	// answers; a request that names no period means the current year's, so
	// this is no fault of the body), or the spaces are not there.
	if _, err := s.GetPeriod(ctx, cur.Stream, next.Period); problem.KindOf(err) == problem.NotFound {
		return Result{}, nil, false, err
	} else if err != nil {
		return Result{}, nil, false, err
	}
	if next.Status != referral.Allocated {
		// Only taking spaces can fail on remaining; anything else is a bug.
		return Result{}, nil, false, problem.Wrap(problem.Internal, fmt.Errorf("period refused %s → %s", cur.Status, next.Status))
	}
	if cur.Status == referral.Waitlisted {
		// Still does not fit: it stays on the waitlist, nothing changes.
		return Result{Referral: cur, Unchanged: true}, nil, false, nil
	}
	// Does not fit: waitlist it, on condition that it still does not fit
	// (if spaces came back meanwhile, the next attempt allocates it).
	wait := next
	wait.Status = referral.Waitlisted
	items, err = s.moveItems(Step{Action: referral.ActionWaitlisted, Reasons: st.Reasons, ActorRole: st.ActorRole, Actor: st.Actor, Nonce: st.Nonce}, cur, wait, now, true)
	if err != nil {
		return Result{}, nil, false, err
	}
	if idem, err = record(wait); err != nil {
		return Result{}, nil, false, err
	}
	replay, reasons, err = s.transact(ctx, idem, now, items)
	if err != nil || replay != nil {
		return Result{}, replay, false, err
	}
	if reasons == nil {
		return Result{Referral: wait}, nil, false, nil
	}
	if failedAt(reasons, 0) || failedAt(reasons, 1) {
		return Result{}, nil, true, nil
	}
	return Result{}, nil, false, problem.Wrap(problem.Internal, fmt.Errorf("waitlist cancelled: %v", reasons))
}

// moveItems builds a move's transaction: the referral first (its failure is
// the one to tell apart: re-read), then the period, the waitlist entry and
// the audit event. onlyIfFull conditions the period on the referral not
// fitting (a waitlisting).
func (s *Store) moveItems(st Step, cur, next referral.Referral, now time.Time, onlyIfFull bool) ([]ddb.TransactWriteItem, error) {
	d := quota.Change(cur.Status, cur.Persons, next.Status, next.Persons)
	ref := s.referralUpdate(cur, next, now, st.ArrivedOn, nil)
	items := []ddb.TransactWriteItem{ref}
	if !d.IsZero() || onlyIfFull {
		fit := 0
		if onlyIfFull {
			fit = next.Persons
		}
		items = append(items, s.periodUpdate(cur.Stream, next.Period, cur.Partner, d, fit))
	}
	switch {
	case next.Status == referral.Waitlisted && cur.Status != referral.Waitlisted:
		put, err := s.waitPut(next)
		if err != nil {
			return nil, problem.Wrap(problem.Internal, err)
		}
		items = append(items, put)
	case cur.Status == referral.Waitlisted && next.Status != referral.Waitlisted:
		items = append(items, s.waitDelete(cur))
	}
	action := st.Action
	if action == "" {
		action = actionFor(next.Status)
	}
	ev, err := eventPut(s.table, refPK(cur.ID), eventSK("EV#", now, st.Nonce), referral.Event{
		At: now, Action: action, FromStatus: cur.Status, ToStatus: next.Status,
		PersonsDelta: d.Taken(), ActorRole: st.ActorRole, Actor: st.Actor,
	})
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	return append(items, ev), nil
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
	if sealedPeople != nil {
		names["#pp"], values[":pp"] = "pii_people", &ddb.AttributeValueMemberB{Value: sealedPeople}
		expr += ", #pp = :pp"
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

// periodUpdate adds d to a period's counters, with the partner's flat
// counters and the version (SetCapacity conditions on it), on condition that
// the period exists and remaining stays ≥ 0. fit > 0 adds the condition
// remaining < fit: the change is a waitlisting, valid only while the
// referral does not fit.
func (s *Store) periodUpdate(stream string, year int, partner string, d quota.Delta, fit int) ddb.TransactWriteItem {
	names := map[string]string{
		"#res": "reserved", "#arr": "arrived", "#rem": "remaining", "#wl": "waitlisted_persons", "#ver": "version",
		"#g1pk": "gsi1pk", "#g1sk": "gsi1sk",
	}
	values := map[string]ddb.AttributeValue{
		":dr": num(d.Reserved), ":da": num(d.Arrived), ":dt": num(d.Taken()), ":dw": num(d.Waitlisted),
		":one": num(1), ":need": num(d.Need()),
		":g1pk": str(periodsGSI), ":g1sk": str(periodGSISK(stream, year)),
	}
	expr := "SET #res = #res + :dr, #arr = #arr + :da, #rem = #rem - :dt, #wl = #wl + :dw, #ver = #ver + :one, #g1pk = :g1pk, #g1sk = :g1sk"
	if d.Reserved != 0 || d.Arrived != 0 {
		names["#pr"], names["#pa"] = reservedAttr(partner), arrivedAttr(partner)
		values[":zero"] = num(0)
		expr += ", #pr = if_not_exists(#pr, :zero) + :dr, #pa = if_not_exists(#pa, :zero) + :da"
	}
	cond := "attribute_exists(pk) AND #rem >= :need"
	if fit > 0 {
		values[":fit"] = num(fit)
		cond += " AND #rem < :fit"
	}
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
// persons follows. If the referral holds spaces, the difference is taken or
// given back in the same transaction (growth that does not fit is
// QuotaExhausted, nothing changed); if it waits, its waitlist entry and the
// period's waitlisted persons follow. Terminal referrals cannot change.
func (s *Store) ChangeFamily(ctx context.Context, c FamilyChange, record Record, now time.Time) (Result, *Replay, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, err := s.Get(ctx, c.ID, c.Partner, Whole)
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
		next := cur
		next.FamilyMembers = c.Members
		next.Persons = next.Input.Persons()
		next.Version, next.UpdatedAt = cur.Version+1, now
		sealed, err := s.seal(cur.ID, "people", people{next.Principal, next.FamilyMembers})
		if err != nil {
			return Result{}, nil, problem.Wrap(problem.Internal, err)
		}
		d := quota.Change(cur.Status, cur.Persons, next.Status, next.Persons)
		items := []ddb.TransactWriteItem{s.referralUpdate(cur, next, now, "", sealed)}
		if !d.IsZero() {
			items = append(items, s.periodUpdate(cur.Stream, cur.Period, cur.Partner, d, 0))
		}
		if cur.Status == referral.Waitlisted && d.Waitlisted != 0 {
			items = append(items, s.waitResize(cur, next.Persons))
		}
		ev, err := eventPut(s.table, refPK(cur.ID), eventSK("EV#", now, c.Nonce), referral.Event{
			At: now, Action: referral.ActionFamily, FromStatus: cur.Status, ToStatus: next.Status,
			PersonsDelta: d.Taken(), ActorRole: c.ActorRole, Actor: c.Actor,
		})
		if err != nil {
			return Result{}, nil, problem.Wrap(problem.Internal, err)
		}
		items = append(items, ev)
		idem, err := record(next)
		if err != nil {
			return Result{}, nil, err
		}
		replay, reasons, err := s.transact(ctx, idem, now, items)
		if err != nil || replay != nil {
			return Result{}, replay, err
		}
		if reasons == nil {
			return Result{Referral: next, Released: d.Taken() < 0 || d.Waitlisted < 0}, nil, nil
		}
		if failedAt(reasons, 0) {
			continue
		}
		if failedAt(reasons, 1) && d.Need() > 0 {
			return Result{}, nil, problem.New(problem.QuotaExhausted)
		}
		return Result{}, nil, problem.Wrap(problem.Internal, fmt.Errorf("family change cancelled: %v", reasons))
	}
	return Result{}, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: fmt.Errorf("referral kept changing")}
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
