package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// The lifecycle steps: screening, allocation, decision, arrival, withdrawal
// and family change. Each decodes its body strictly, answers a replay of the
// same Idempotency-Key before looking at the referral (its status has moved
// on since the first answer), lets the store make the change in one
// transaction, and promotes the period's waitlist when spaces came back.

// maxReasons and the reason code format: reasons are short codes such as
// "not-hrd" or "security", never free text, so that no personal data can
// slip into a field that exports carry.
const maxReasons = 10

func validReason(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkReasons(field string, rs []string) []problem.FieldError {
	var fields []problem.FieldError
	if len(rs) > maxReasons {
		fields = append(fields, problem.FieldError{Field: field, Code: problem.CodeTooMany})
	}
	seen := map[string]bool{}
	for i, r := range rs {
		path := field + "." + itoa(i)
		switch {
		case !validReason(r):
			fields = append(fields, problem.FieldError{Field: path, Code: problem.CodeNotAllowed})
		case seen[r]:
			fields = append(fields, problem.FieldError{Field: path, Code: problem.CodeDuplicate})
		}
		seen[r] = true
	}
	return fields
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// decodeStrict reads a JSON object body into v, refusing unknown fields and
// trailing data. An empty body decodes as {} when emptyOK.
func decodeStrict(r *apigw.Request, v any, emptyOK bool) error {
	if len(bytes.TrimSpace(r.Body)) == 0 && emptyOK && r.Header("Content-Type") == "" {
		return nil
	}
	if r.MediaType() != "application/json" {
		return problem.New(problem.UnsupportedMediaType)
	}
	if len(bytes.TrimSpace(r.Body)) == 0 && emptyOK {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return problem.Invalid(problem.FieldError{Code: problem.CodeMalformed})
	}
	var rest json.RawMessage
	if err := dec.Decode(&rest); err == nil {
		return problem.Invalid(problem.FieldError{Code: problem.CodeMalformed})
	}
	return nil
}

type outcomeBody struct {
	Outcome *string  `json:"outcome"`
	Reasons []string `json:"reasons"`
}

func (b outcomeBody) check(allowed ...referral.Status) (referral.Status, error) {
	var fields []problem.FieldError
	var to referral.Status
	switch {
	case b.Outcome == nil:
		fields = append(fields, problem.FieldError{Field: "outcome", Code: problem.CodeRequired})
	default:
		for _, s := range allowed {
			if string(s) == *b.Outcome {
				to = s
			}
		}
		if to == "" {
			fields = append(fields, problem.FieldError{Field: "outcome", Code: problem.CodeNotAllowed})
		}
	}
	fields = append(fields, checkReasons("reasons", b.Reasons)...)
	if len(fields) > 0 {
		return "", problem.Invalid(fields...)
	}
	return to, nil
}

func (d *Deps) screenReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	var b outcomeBody
	if err := decodeStrict(r, &b, false); err != nil {
		return apigw.Response{}, err
	}
	to, err := b.check(referral.Eligible, referral.Ineligible)
	if err != nil {
		return apigw.Response{}, err
	}
	return d.move(ctx, r, dynamostore.Step{To: to, Action: referral.ActionScreened, Reasons: b.Reasons})
}

type allocationBody struct {
	Period *int `json:"period"`
}

func (d *Deps) allocateReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	var b allocationBody
	if err := decodeStrict(r, &b, true); err != nil {
		return apigw.Response{}, err
	}
	year := 0
	if b.Period != nil {
		if *b.Period < 2000 || *b.Period > 2100 {
			return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "period", Code: problem.CodeOutOfRange})
		}
		year = *b.Period
	}
	return d.move(ctx, r, dynamostore.Step{To: referral.Allocated, Period: year})
}

func (d *Deps) decideReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	var b outcomeBody
	if err := decodeStrict(r, &b, false); err != nil {
		return apigw.Response{}, err
	}
	to, err := b.check(referral.Approved, referral.Refused)
	if err != nil {
		return apigw.Response{}, err
	}
	return d.move(ctx, r, dynamostore.Step{To: to, Action: referral.ActionDecided, Reasons: b.Reasons})
}

type arrivalBody struct {
	ArrivedOn *string `json:"arrived_on"`
}

func (d *Deps) recordArrival(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	var b arrivalBody
	if err := decodeStrict(r, &b, false); err != nil {
		return apigw.Response{}, err
	}
	if b.ArrivedOn == nil {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "arrived_on", Code: problem.CodeRequired})
	}
	day, err := time.Parse(time.DateOnly, *b.ArrivedOn)
	if err != nil || day.Format(time.DateOnly) != *b.ArrivedOn {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "arrived_on", Code: problem.CodeInvalidDate})
	}
	// Today is Toronto's, like the year (quota.YearOf).
	today, _ := time.Parse(time.DateOnly, d.Now().In(quota.Location()).Format(time.DateOnly))
	if day.After(today) {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "arrived_on", Code: problem.CodeFutureDate})
	}
	if day.Year() < 2000 {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "arrived_on", Code: problem.CodeOutOfRange})
	}
	return d.move(ctx, r, dynamostore.Step{To: referral.Arrived, ArrivedOn: *b.ArrivedOn})
}

type withdrawalBody struct {
	Reason *string `json:"reason"`
}

func (d *Deps) withdrawReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	var b withdrawalBody
	if err := decodeStrict(r, &b, false); err != nil {
		return apigw.Response{}, err
	}
	if b.Reason == nil {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "reason", Code: problem.CodeRequired})
	}
	if !validReason(*b.Reason) {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "reason", Code: problem.CodeNotAllowed})
	}
	return d.move(ctx, r, dynamostore.Step{To: referral.Withdrawn, Reasons: []string{*b.Reason}})
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
		// Nothing was written (a waitlisted referral that still does not fit).
		return apigw.JSON(http.StatusOK, view{Referral: presentable(res.Referral)})
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

type urgencyBody struct {
	Urgency *string `json:"urgency"`
	Reason  *string `json:"reason"`
}

// reviseUrgency is an officer's revision of a referral's urgency, with a
// reason from the closed list; a waitlisted referral moves to its new place
// in the same transaction.
func (d *Deps) reviseUrgency(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	var b urgencyBody
	if err := decodeStrict(r, &b, false); err != nil {
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
	case !referral.UrgencyReason(*b.Reason).Valid():
		fields = append(fields, problem.FieldError{Field: "reason", Code: problem.CodeNotAllowed})
	}
	if len(fields) > 0 {
		return apigw.Response{}, problem.Invalid(fields...)
	}
	return d.move(ctx, r, dynamostore.Step{Urgency: referral.Urgency(*b.Urgency), Reason: *b.Reason, Action: referral.ActionUrgency})
}
