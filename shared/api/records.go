package api

import (
	"context"
	"net/http"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/jsonbody"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/reason"
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
