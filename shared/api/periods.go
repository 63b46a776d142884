package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/jsonbody"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
)

type periodView struct {
	Stream            string                        `json:"stream"`
	Period            int                           `json:"period"`
	Capacity          int                           `json:"capacity"`
	Reserved          int                           `json:"reserved"`
	Arrived           int                           `json:"arrived"`
	Remaining         int                           `json:"remaining"`
	WaitlistedPersons int                           `json:"waitlisted_persons"`
	Partners          map[string]quota.PartnerCount `json:"partners"`
}

func toPeriodView(p quota.Period, partnerScope string) periodView {
	v := periodView{
		Stream: p.Stream, Period: p.Year, Capacity: p.Capacity, Reserved: p.Reserved, Arrived: p.Arrived,
		Remaining: p.Remaining, WaitlistedPersons: p.WaitlistedPersons, Partners: map[string]quota.PartnerCount{},
	}
	for id, c := range p.Partners {
		// A partner sees its own share, never another partner's.
		if partnerScope == "" || id == partnerScope {
			v.Partners[id] = c
		}
	}
	return v
}

// periodParams reads {stream} and {year} from the path.
func periodParams(r *apigw.Request) (string, int, error) {
	return parsePeriodPath(r.Event.PathParameters["stream"], r.Event.PathParameters["year"])
}

func parsePeriodPath(stream, yearText string) (string, int, error) {
	year, err := strconv.Atoi(yearText)
	var fields []problem.FieldError
	if !validSlug(stream) {
		fields = append(fields, problem.FieldError{Field: "stream", Code: problem.CodeUnknownStream})
	}
	if err != nil || year < quota.MinYear || year > quota.MaxYear {
		fields = append(fields, problem.FieldError{Field: "year", Code: problem.CodeOutOfRange})
	}
	if len(fields) > 0 {
		return "", 0, problem.Invalid(fields...)
	}
	return stream, year, nil
}

func validSlug(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (d *Deps) getPeriod(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner, apigw.Officer, apigw.Admin); err != nil {
		return apigw.Response{}, err
	}
	stream, year, err := periodParams(r)
	if err != nil {
		return apigw.Response{}, err
	}
	p, err := d.Store.GetPeriod(ctx, stream, year)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toPeriodView(p, r.Caller.PartnerScope()))
}

// decodeCapacity reads {"capacity": n} with jsonbody's strict rules.
func decodeCapacity(body []byte) (int, error) {
	d, err := jsonbody.New(body, maxLifecycleBody)
	if err != nil {
		return 0, err
	}
	var capacity *int64
	d.Object("", func(key, path string) bool {
		if key != "capacity" {
			return false
		}
		if n, ok := d.Integer(path); ok {
			capacity = &n
		}
		return true
	})
	if err := d.Finish(); err != nil {
		return 0, err
	}
	if capacity == nil {
		return 0, problem.Invalid(problem.FieldError{Field: "capacity", Code: problem.CodeRequired})
	}
	if *capacity < 0 || *capacity > quota.MaxCapacity {
		return 0, problem.Invalid(problem.FieldError{Field: "capacity", Code: problem.CodeOutOfRange})
	}
	return int(*capacity), nil
}

func (d *Deps) putPeriod(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Admin); err != nil {
		return apigw.Response{}, err
	}
	stream, year, err := periodParams(r)
	if err != nil {
		return apigw.Response{}, err
	}
	if r.MediaType() != "application/json" {
		return apigw.Response{}, problem.New(problem.UnsupportedMediaType)
	}
	capacity, err := decodeCapacity(r.Body)
	if err != nil {
		return apigw.Response{}, err
	}
	key, err := r.IdempotencyKey()
	if err != nil {
		return apigw.Response{}, err
	}
	now := d.Now()
	change := dynamostore.CapacityChange{
		Stream: stream, Year: year, Capacity: capacity,
		ActorRole: string(r.Caller.PrimaryRole()), Actor: r.Caller.Subject, Nonce: d.NewID(),
	}
	var resp apigw.Response
	record := func(p quota.Period) (dynamostore.Idem, error) {
		var err error
		resp, err = apigw.JSON(http.StatusOK, toPeriodView(p, ""))
		if err != nil {
			return nil, err
		}
		return d.idem(r, key, resp), nil
	}
	_, replay, err := d.Store.SetCapacity(ctx, change, record, now)
	if err != nil {
		return apigw.Response{}, err
	}
	if replay != nil {
		return fromReplay(*replay), nil
	}
	// A raised capacity may let waitlisted referrals in.
	d.afterRelease(ctx, r, stream, year)
	return resp, nil
}
