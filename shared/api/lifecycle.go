package api

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/jsonbody"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/reason"
	"github.com/haven-hrd/haven/shared/referral"
)

// The lifecycle steps: screening, allocation, decision, arrival, withdrawal
// and family change. Each decodes its body strictly, answers a replay of the
// same Idempotency-Key before looking at the referral (its status has moved
// on since the first answer), lets the store make the change in one
// transaction, and promotes the period's waitlist when spaces came back.

// maxLifecycleBody bounds the lifecycle bodies as POST /referrals is bounded:
// 413 above it, before any parsing.
const maxLifecycleBody = referral.MaxBodyBytes

// readBody decodes a JSON object body with jsonbody's strict rules, calling
// field for each key (see jsonbody.Decoder.Object). An empty body with no
// Content-Type is {} when emptyOK (POST /allocation may have no body).
func readBody(r *apigw.Request, emptyOK bool, field func(d *jsonbody.Decoder, key, path string) bool) error {
	if emptyOK && len(bytes.TrimSpace(r.Body)) == 0 && r.Header("Content-Type") == "" {
		return nil
	}
	if r.MediaType() != "application/json" {
		return problem.New(problem.UnsupportedMediaType)
	}
	if emptyOK && len(bytes.TrimSpace(r.Body)) == 0 {
		return nil
	}
	d, err := jsonbody.New(r.Body, maxLifecycleBody)
	if err != nil {
		return err
	}
	d.Object("", func(key, path string) bool { return field(d, key, path) })
	return d.Finish()
}

// outcomeBody is the body of a screening or a decision.
type outcomeBody struct {
	Outcome *string
	Reasons []string
}

func readOutcome(r *apigw.Request, k reason.Kind) (outcomeBody, error) {
	var b outcomeBody
	err := readBody(r, false, func(d *jsonbody.Decoder, key, path string) bool {
		switch key {
		case "outcome":
			s := d.String(path)
			b.Outcome = &s
		case "reasons":
			b.Reasons = d.Strings(path, k.Max())
		default:
			return false
		}
		return true
	})
	return b, err
}

// check returns the status the outcome moves to; allowed lists the positive
// outcome first, then the negative one, whose reasons are of kind k.
func (b outcomeBody) check(k reason.Kind, allowed ...referral.Status) (referral.Status, error) {
	var fields []problem.FieldError
	var to referral.Status
	switch {
	case b.Outcome == nil:
		fields = append(fields, problem.FieldError{Field: "outcome", Code: problem.CodeRequired})
	default:
		names := make([]string, len(allowed))
		for i, s := range allowed {
			names[i] = string(s)
			if string(s) == *b.Outcome {
				to = s
			}
		}
		if to == "" {
			fields = append(fields, problem.FieldError{Field: "outcome", Code: problem.CodeNotAllowed, Allowed: names})
		}
	}
	fields = append(fields, reason.Check(k, "reasons", b.Reasons)...)
	if len(fields) > 0 {
		return "", problem.Invalid(fields...)
	}
	return to, nil
}

func (d *Deps) screenReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	b, err := readOutcome(r, reason.Ineligible)
	if err != nil {
		return apigw.Response{}, err
	}
	to, err := b.check(reason.Ineligible, referral.Eligible, referral.Ineligible)
	if err != nil {
		return apigw.Response{}, err
	}
	return d.move(ctx, r, dynamostore.Step{To: to, Action: referral.ActionScreened, Reasons: b.Reasons})
}

func (d *Deps) allocateReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	var period *int64
	err := readBody(r, true, func(d *jsonbody.Decoder, key, path string) bool {
		if key != "period" {
			return false
		}
		if n, ok := d.Integer(path); ok {
			period = &n
		}
		return true
	})
	if err != nil {
		return apigw.Response{}, err
	}
	year := 0
	if period != nil {
		if *period < quota.MinYear || *period > quota.MaxYear {
			return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "period", Code: problem.CodeOutOfRange})
		}
		year = int(*period)
	}
	return d.move(ctx, r, dynamostore.Step{To: referral.Allocated, Period: year})
}

func (d *Deps) decideReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	b, err := readOutcome(r, reason.Refused)
	if err != nil {
		return apigw.Response{}, err
	}
	to, err := b.check(reason.Refused, referral.Approved, referral.Refused)
	if err != nil {
		return apigw.Response{}, err
	}
	return d.move(ctx, r, dynamostore.Step{To: to, Action: referral.ActionDecided, Reasons: b.Reasons})
}

// readString reads a body whose one property, name, is a required string.
func readString(r *apigw.Request, name string) (string, error) {
	var v *string
	err := readBody(r, false, func(d *jsonbody.Decoder, key, path string) bool {
		if key != name {
			return false
		}
		s := d.String(path)
		v = &s
		return true
	})
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", problem.Invalid(problem.FieldError{Field: name, Code: problem.CodeRequired})
	}
	return *v, nil
}

func (d *Deps) recordArrival(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	arrivedOn, err := readString(r, "arrived_on")
	if err != nil {
		return apigw.Response{}, err
	}
	day, err := time.Parse(time.DateOnly, arrivedOn)
	if err != nil || day.Format(time.DateOnly) != arrivedOn {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "arrived_on", Code: problem.CodeInvalidDate})
	}
	// Today is Toronto's, like the year (quota.YearOf).
	today, _ := time.Parse(time.DateOnly, d.Now().In(quota.Location()).Format(time.DateOnly))
	if day.After(today) {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "arrived_on", Code: problem.CodeFutureDate})
	}
	if day.Year() < quota.MinYear {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "arrived_on", Code: problem.CodeOutOfRange})
	}
	return d.move(ctx, r, dynamostore.Step{To: referral.Arrived, ArrivedOn: arrivedOn})
}

func (d *Deps) withdrawReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	code, err := readString(r, "reason")
	if err != nil {
		return apigw.Response{}, err
	}
	if fields := reason.CheckOne(reason.Withdrawn, "reason", code); fields != nil {
		return apigw.Response{}, problem.Invalid(fields...)
	}
	return d.move(ctx, r, dynamostore.Step{To: referral.Withdrawn, Reasons: []string{code}})
}

// move runs a lifecycle step for the referral in the path.
func (d *Deps) move(ctx context.Context, r *apigw.Request, st dynamostore.Step) (apigw.Response, error) {
	key, err := r.IdempotencyKey()
	if err != nil {
		return apigw.Response{}, err
	}
	now := d.Now()
	st.ID, st.Partner = r.Event.PathParameters["id"], r.Caller.PartnerScope()
	st.ActorRole, st.Actor, st.Nonce = string(r.Caller.PrimaryRole()), r.Caller.Subject, d.NewID()
	var resp apigw.Response
	res, stored, err := d.Store.Move(ctx, st, d.recorder(r, key, &resp), now)
	if err != nil {
		return d.replayOnRefusal(ctx, r, key, err)
	}
	if stored != nil {
		return fromReplay(*stored), nil
	}
	if res.Unchanged {
		// Nothing was written (a waitlisted referral that still does not
		// fit): the answer shows no one, so there is no read to audit.
		return apigw.JSON(http.StatusOK, bareOf(res.Referral))
	}
	r.Log.Info("referral moved", "referral_id", res.Referral.ID, "status", string(res.Referral.Status))
	if res.Released {
		d.afterRelease(ctx, r, res.Referral.Stream, res.Referral.Period)
	}
	return resp, nil
}

// replayOnRefusal answers a retry whose first attempt succeeded: the
// referral has moved on, so the store refuses the move before it reaches the
// transaction that would have found the idempotency record. Only then is the
// record read — the first attempt of every step costs no extra read.
func (d *Deps) replayOnRefusal(ctx context.Context, r *apigw.Request, key string, refusal error) (apigw.Response, error) {
	switch problem.KindOf(refusal) {
	case problem.InvalidTransition, problem.QuotaExhausted, problem.Forbidden:
	default:
		return apigw.Response{}, refusal
	}
	if key == "" {
		return apigw.Response{}, refusal
	}
	hash := d.idem(r, key, apigw.Response{}).Hash
	resp, found, err := d.Store.Replay(ctx, r.Caller.Scope(), key, hash, d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	if !found {
		return apigw.Response{}, refusal
	}
	return fromReplay(resp), nil
}

// recorder builds the response from the referral as it will be and the
// idempotency record that carries it, in the same transaction.
func (d *Deps) recorder(r *apigw.Request, key string, resp *apigw.Response) dynamostore.Record {
	return func(next referral.Referral) (dynamostore.Idem, error) {
		var err error
		if *resp, err = apigw.JSON(http.StatusOK, view{Referral: presentable(next)}); err != nil {
			return nil, err
		}
		return d.idem(r, key, *resp), nil
	}
}

// partnerMayChangeFamily is the partner's window for family changes: before
// allocation, which includes waitlisted (no spaces are held, and only the
// referral's own place in the queue depends on its size). Once spaces are
// held, only an officer may change them.
func partnerMayChangeFamily(s referral.Status) error {
	switch s {
	case referral.Submitted, referral.Eligible, referral.Waitlisted:
		return nil
	}
	return problem.New(problem.Forbidden)
}

func (d *Deps) changeFamily(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	if r.MediaType() != "application/json" {
		return apigw.Response{}, problem.New(problem.UnsupportedMediaType)
	}
	members, err := referral.DecodeFamilyJSON(r.Body)
	if err != nil {
		return apigw.Response{}, err
	}
	now := d.Now()
	if err := referral.ValidateFamily(members, now); err != nil {
		return apigw.Response{}, err
	}
	if len(members) == 0 {
		members = nil
	}
	key, err := r.IdempotencyKey()
	if err != nil {
		return apigw.Response{}, err
	}
	c := dynamostore.FamilyChange{
		ID: r.Event.PathParameters["id"], Partner: r.Caller.PartnerScope(), Members: members,
		ActorRole: string(r.Caller.PrimaryRole()), Actor: r.Caller.Subject, Nonce: d.NewID(),
	}
	if !r.Caller.Has(apigw.Officer) {
		c.Allowed = partnerMayChangeFamily
	}
	var resp apigw.Response
	res, stored, err := d.Store.ChangeFamily(ctx, c, d.recorder(r, key, &resp), now)
	if err != nil {
		return d.replayOnRefusal(ctx, r, key, err)
	}
	if stored != nil {
		return fromReplay(*stored), nil
	}
	r.Log.Info("family changed", "referral_id", res.Referral.ID, "persons", res.Referral.Persons)
	if res.Released {
		d.afterRelease(ctx, r, res.Referral.Stream, res.Referral.Period)
	}
	return resp, nil
}

// SweepResult is what one run of the waitlist sweep did.
type SweepResult struct {
	Periods  int `json:"periods"`
	Promoted int `json:"promoted"`
	Failed   int `json:"failed"`
}

// sweep is the scheduled safety net: it promotes the waitlist of every
// period, repairing whatever the immediate promotion after a release missed
// (the process died after the release, a conflict outlasted its retries).
// A period that fails does not stop the others; the run then fails so that
// the scheduler retries it and, in the end, its dead-letter queue shows it.
func (d *Deps) sweep(ctx context.Context, _ events.EventBridgeEvent) (SweepResult, error) {
	periods, err := d.Store.Periods(ctx)
	if err != nil {
		return SweepResult{}, err
	}
	var res SweepResult
	var firstErr error
	for _, p := range periods {
		res.Periods++
		n, err := d.Store.Promote(ctx, p.Stream, p.Year, d.Now)
		res.Promoted += n
		if err != nil {
			res.Failed++
			if firstErr == nil {
				firstErr = err
			}
			d.Log.Warn("sweep: period deferred", "stream", p.Stream, "period", p.Year, "problem", string(problem.KindOf(err)))
		}
	}
	d.Log.Info("waitlist sweep", "periods", res.Periods, "promoted", res.Promoted, "failed", res.Failed)
	return res, firstErr
}

// promote is the default Deps.Promote: the store's waitlist promotion.
func (d *Deps) promote(ctx context.Context, stream string, year int) error {
	n, err := d.Store.Promote(ctx, stream, year, d.Now)
	if n > 0 {
		d.Log.Info("waitlist promoted", "stream", stream, "period", year, "promoted", n)
	}
	return err
}

// reviseUrgency is an officer's revision of a referral's urgency, with a
// reason from the closed list; a waitlisted referral moves to its new place
// in the same transaction.
func (d *Deps) reviseUrgency(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	var b struct{ Urgency, Reason *string }
	err := readBody(r, false, func(d *jsonbody.Decoder, key, path string) bool {
		switch key {
		case "urgency":
			s := d.String(path)
			b.Urgency = &s
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
	switch {
	case b.Urgency == nil:
		fields = append(fields, problem.FieldError{Field: "urgency", Code: problem.CodeRequired})
	case !referral.Urgency(*b.Urgency).Valid():
		fields = append(fields, problem.FieldError{Field: "urgency", Code: problem.CodeNotAllowed})
	}
	switch {
	case b.Reason == nil:
		fields = append(fields, problem.FieldError{Field: "reason", Code: problem.CodeRequired})
	default:
		fields = append(fields, reason.CheckOne(reason.Urgency, "reason", *b.Reason)...)
	}
	if len(fields) > 0 {
		return apigw.Response{}, problem.Invalid(fields...)
	}
	return d.move(ctx, r, dynamostore.Step{Urgency: referral.Urgency(*b.Urgency), Reason: *b.Reason, Action: referral.ActionUrgency})
}
