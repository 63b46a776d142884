package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/jsonbody"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/reason"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/retention"
)

// The steps of records that end (issue 17): legal holds on a referral's
// disposition and a defender's access to their own personal data.

// holdView is the answer to a hold request: the holds the referral has now.
type holdView struct {
	ID    string   `json:"id"`
	Holds []string `json:"holds"`
}

// holdReferral sets or lifts a hold on a referral's disposition (officer,
// admin). A request that changes nothing (a hold already set, a lift of
// one not held) writes nothing and answers the holds as they are, or the
// stored answer of its Idempotency-Key.
func (d *Deps) holdReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer, apigw.Admin); err != nil {
		return apigw.Response{}, err
	}
	var b struct {
		Hold   *bool
		Reason *string
	}
	err := readBody(r, false, func(d *jsonbody.Decoder, key, path string) bool {
		switch key {
		case "hold":
			v := d.Bool(path)
			b.Hold = &v
		case "reason":
			s := d.String(path)
			b.Reason = &s
		default:
			return false
		}
		return true
	})
	if err != nil {
		return apigw.Response{}, err
	}
	var fields []problem.FieldError
	if b.Hold == nil {
		fields = append(fields, problem.FieldError{Field: "hold", Code: problem.CodeRequired})
	}
	switch {
	case b.Reason != nil:
		fields = append(fields, reason.CheckOne(reason.Hold, "reason", *b.Reason)...)
	case b.Hold != nil && *b.Hold:
		// A hold says why; a lift without a reason lifts every legal hold.
		fields = append(fields, problem.FieldError{Field: "reason", Code: problem.CodeRequired})
	}
	if len(fields) > 0 {
		return apigw.Response{}, problem.Invalid(fields...)
	}
	code := ""
	if b.Reason != nil {
		code = *b.Reason
	}
	key, err := r.IdempotencyKey()
	if err != nil {
		return apigw.Response{}, err
	}
	c := dynamostore.HoldChange{
		ID: r.Event.PathParameters["id"], Hold: *b.Hold, Reason: code,
		ActorRole: string(r.Caller.PrimaryRole()), Actor: r.Caller.Subject, Nonce: d.NewID(),
	}
	var resp apigw.Response
	res, stored, err := d.Store.ChangeHolds(ctx, c, func(holds []string) (dynamostore.Idem, error) {
		var err error
		if resp, err = apigw.JSON(http.StatusOK, holdView{ID: c.ID, Holds: nonNil(holds)}); err != nil {
			return nil, err
		}
		return d.idem(r, key, resp), nil
	}, d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	if stored != nil {
		return fromReplay(*stored), nil
	}
	if len(res.Set)+len(res.Lifted) == 0 {
		if key != "" {
			// A retry of a request that did change the holds finds them
			// changed: it gets the first answer (or 422 for another body).
			replay, found, err := d.Store.Replay(ctx, r.Caller.Scope(), key, d.idem(r, key, apigw.Response{}).Hash, d.Now())
			if err != nil {
				return apigw.Response{}, err
			}
			if found {
				return fromReplay(replay), nil
			}
		}
		return apigw.JSON(http.StatusOK, holdView{ID: res.Referral.ID, Holds: nonNil(res.Referral.Holds)})
	}
	r.Log.Info("holds changed", "referral_id", res.Referral.ID, "set", res.Set, "lifted", res.Lifted)
	return resp, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DispositionResult is what one run of the disposition did.
type DispositionResult struct {
	Scanned  int `json:"referrals_scanned"`
	Disposed int `json:"disposed"`
	Held     int `json:"held"`
	Failed   int `json:"failed"`
}

// dispose is the scheduled disposition: every referral whose stream's
// retention period has run out since it ended or arrived, and that no hold
// keeps, loses its personal data (dynamostore.Dispose, one transaction per
// referral). It is resumable and idempotent: a tombstone is never due
// again, and a referral left half-done by a dead run is due at the next.
// A referral that fails does not stop the others; the run then fails so
// that the scheduler retries it and, in the end, its dead-letter queue
// shows it.
func (d *Deps) dispose(ctx context.Context, _ json.RawMessage) (DispositionResult, error) {
	now := d.Now()
	streams, err := d.Store.Streams(ctx)
	if err != nil {
		return DispositionResult{}, err
	}
	schedules := map[string]retention.Schedule{}
	for _, st := range streams {
		if fields := st.Retention().Check("retention_days"); fields != nil {
			// Set by hand on the item in AWS: keep its referrals rather
			// than guess what was meant.
			d.Log.Warn("disposition: stream schedule out of range, its referrals are kept", "stream", st.ID)
			continue
		}
		schedules[st.ID] = st.Retention()
	}
	verdict := func(r referral.Referral) retention.Verdict {
		return retention.Decide(retention.Facts{
			Status: r.Status, EndedAt: r.UpdatedAt, ArrivedOn: r.ArrivedOn, Holds: r.Holds, Disposed: !r.DisposedAt.IsZero(),
		}, schedules[r.Stream], now)
	}
	var res DispositionResult
	var firstErr error
	for r, err := range d.Store.ReferralsOfStream(ctx, "") {
		if err != nil {
			return res, err
		}
		res.Scanned++
		switch verdict(r) {
		case retention.Held:
			res.Held++
			continue
		case retention.Due:
		default:
			continue
		}
		done, err := d.Store.Dispose(ctx, dynamostore.Disposal{
			ID: r.ID, Nonce: d.NewID(),
			Due: func(cur referral.Referral) bool { return verdict(cur) == retention.Due },
		}, now)
		switch {
		case err != nil:
			res.Failed++
			if firstErr == nil {
				firstErr = err
			}
			d.Log.Warn("disposition: referral deferred", "referral_id", r.ID, "problem", string(problem.KindOf(err)))
		case done:
			res.Disposed++
		}
	}
	d.Log.Info("disposition", "scanned", res.Scanned, "disposed", res.Disposed, "held", res.Held, "failed", res.Failed)
	return res, firstErr
}
