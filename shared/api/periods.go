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
	Stream            string                 `json:"stream"`
	Period            int                    `json:"period"`
	Capacity          int                    `json:"capacity"`
	Reserved          int                    `json:"reserved"`
	Arrived           int                    `json:"arrived"`
	Remaining         int                    `json:"remaining"`
	WaitlistedPersons int                    `json:"waitlisted_persons"`
	Partners          map[string]partnerView `json:"partners"`
	Unallotted        int                    `json:"unallotted"`
	Closed            bool                   `json:"closed,omitempty"`
}

// partnerView is one partner's share of a period.
type partnerView struct {
	Allotment *int `json:"allotment,omitempty"`
	Reserved  int  `json:"reserved"`
	Arrived   int  `json:"arrived"`
	Remaining int  `json:"remaining"`
}

func toPeriodView(p quota.Period, partnerScope string) periodView {
	v := periodView{
		Stream: p.Stream, Period: p.Year, Capacity: p.Capacity, Reserved: p.Reserved, Arrived: p.Arrived,
		Remaining: p.Remaining, WaitlistedPersons: p.WaitlistedPersons, Partners: map[string]partnerView{},
		Unallotted: p.Pool, Closed: p.Closed,
	}
	add := func(id string) {
		// A partner sees its own share, never another partner's.
		if partnerScope != "" && id != partnerScope {
			return
		}
		c := p.Partners[id]
		pv := partnerView{Reserved: c.Reserved, Arrived: c.Arrived, Remaining: max(0, p.PartnerRemaining(id))}
		if a, ok := p.Allotments[id]; ok {
			pv.Allotment = &a
		}
		v.Partners[id] = pv
	}
	for id := range p.Partners {
		add(id)
	}
	for id := range p.Allotments {
		add(id)
	}
	if partnerScope != "" {
		add(partnerScope)
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

// decodeCapacity reads PUT's body with jsonbody's strict rules: the
// capacity and, when given, the partners' allotments (nil: keep the current
// ones; empty: remove them).
func decodeCapacity(body []byte) (int, map[string]int, error) {
	d, err := jsonbody.New(body, maxLifecycleBody)
	if err != nil {
		return 0, nil, err
	}
	var capacity *int64
	var allotments map[string]int
	d.Object("", func(key, path string) bool {
		switch key {
		case "capacity":
			if n, ok := d.Integer(path); ok {
				capacity = &n
			}
		case "allotments":
			allotments = map[string]int{}
			d.Object(path, func(partner, path string) bool {
				n, ok := d.Integer(path)
				switch {
				case !ok:
				case !validSlug(partner):
					d.Add(path, problem.CodeNotAllowed)
				case n < 0 || n > quota.MaxCapacity:
					d.Add(path, problem.CodeOutOfRange)
				default:
					allotments[partner] = int(n)
				}
				return true
			})
		default:
			return false
		}
		return true
	})
	if err := d.Finish(); err != nil {
		return 0, nil, err
	}
	if capacity == nil {
		return 0, nil, problem.Invalid(problem.FieldError{Field: "capacity", Code: problem.CodeRequired})
	}
	if *capacity < 0 || *capacity > quota.MaxCapacity {
		return 0, nil, problem.Invalid(problem.FieldError{Field: "capacity", Code: problem.CodeOutOfRange})
	}
	return int(*capacity), allotments, nil
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
	capacity, allotments, err := decodeCapacity(r.Body)
	if err != nil {
		return apigw.Response{}, err
	}
	key, err := r.IdempotencyKey()
	if err != nil {
		return apigw.Response{}, err
	}
	now := d.Now()
	change := dynamostore.CapacityChange{
		Stream: stream, Year: year, Capacity: capacity, Allotments: allotments,
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

// closureView is the answer to a closure: the closed period and the
// referrals carried over by this call, in waitlist order.
type closureView struct {
	Period      periodView `json:"period"`
	CarryOverTo int        `json:"carry_over_to,omitempty"`
	CarriedOver []string   `json:"carried_over"`
}

// closePeriod closes a period and carries its waitlist over. A retry
// resumes an interrupted closure and carries what still waits; with an
// Idempotency-Key, a retry after success replays the first answer (the
// closure takes many transactions, so its record is written once it is
// done).
func (d *Deps) closePeriod(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Admin); err != nil {
		return apigw.Response{}, err
	}
	stream, year, err := periodParams(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var carryTo *int64
	err = readBody(r, true, func(d *jsonbody.Decoder, key, path string) bool {
		if key != "carry_over_to" {
			return false
		}
		if n, ok := d.Integer(path); ok {
			carryTo = &n
		}
		return true
	})
	if err != nil {
		return apigw.Response{}, err
	}
	key, err := r.IdempotencyKey()
	if err != nil {
		return apigw.Response{}, err
	}
	if key != "" {
		stored, found, err := d.Store.Replay(ctx, r.Caller.Scope(), key, d.idem(r, key, apigw.Response{}).Hash, d.Now())
		if err != nil || found {
			return fromReplay(stored), err
		}
	}
	c := dynamostore.Closure{Stream: stream, Year: year, ActorRole: string(r.Caller.PrimaryRole()), Actor: r.Caller.Subject, Nonce: d.NewID()}
	if carryTo != nil {
		if *carryTo < 2000 || *carryTo > 2100 {
			return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "carry_over_to", Code: problem.CodeOutOfRange})
		}
		c.CarryTo = int(*carryTo)
	}
	res, err := d.Store.ClosePeriod(ctx, c, d.Now)
	if err != nil {
		return apigw.Response{}, err
	}
	r.Log.Info("period closed", "stream", stream, "period", year, "carried_over", len(res.Carried))
	if c.CarryTo != 0 {
		// The carried referrals may fit in the next period at once.
		d.afterRelease(ctx, r, stream, c.CarryTo)
	}
	if res.Carried == nil {
		res.Carried = []string{}
	}
	resp, err := apigw.JSON(http.StatusOK, closureView{Period: toPeriodView(res.Period, ""), CarryOverTo: c.CarryTo, CarriedOver: res.Carried})
	if err != nil || key == "" {
		return resp, err
	}
	replay, err := d.Store.Remember(ctx, d.idem(r, key, resp), d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	if replay != nil {
		return fromReplay(*replay), nil
	}
	return resp, nil
}

// admissionsView is a stream's admissions of a calendar year, counted by
// arrival date (quota.AdmissionYear).
type admissionsView struct {
	Stream      string         `json:"stream"`
	Year        int            `json:"year"`
	Persons     int            `json:"persons"`
	ByPartner   map[string]int `json:"by_partner"`
	ByQuotaYear map[string]int `json:"by_quota_year"`
}

func (d *Deps) getAdmissions(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner, apigw.Officer, apigw.Admin); err != nil {
		return apigw.Response{}, err
	}
	stream, year, err := periodParams(r)
	if err != nil {
		return apigw.Response{}, err
	}
	if _, err := d.Store.GetStream(ctx, stream); err != nil {
		return apigw.Response{}, err
	}
	a, err := d.Store.Admissions(ctx, stream, year)
	if err != nil {
		return apigw.Response{}, err
	}
	v := admissionsView{Stream: stream, Year: year, Persons: a.Persons, ByPartner: map[string]int{}, ByQuotaYear: map[string]int{}}
	for id, n := range a.ByPartner {
		// A partner sees its own share, never another partner's.
		if scope := r.Caller.PartnerScope(); scope == "" || scope == id {
			v.ByPartner[id] = n
		}
	}
	for y, n := range a.ByQuotaYear {
		v.ByQuotaYear[strconv.Itoa(y)] = n
	}
	return apigw.JSON(http.StatusOK, v)
}
