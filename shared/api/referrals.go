package api

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/seal/identity"
)

// view is the referral as clients see it.
type view struct {
	referral.Referral
	PossibleDuplicates []string `json:"possible_duplicates,omitempty"`
}

// bareView is a referral without personal data (openapi's
// BareReferralView).
type bareView struct {
	ID               string           `json:"id"`
	Partner          string           `json:"partner"`
	Status           referral.Status  `json:"status"`
	Persons          int              `json:"persons"`
	Period           int              `json:"period,omitempty"`
	Reasons          []string         `json:"reasons,omitempty"`
	WaitlistReason   string           `json:"waitlist_reason,omitempty"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
	Stream           string           `json:"stream"`
	PartnerReference string           `json:"partner_reference"`
	Urgency          referral.Urgency `json:"urgency"`
}

func bareOf(r referral.Referral) bareView {
	return bareView{
		ID: r.ID, Partner: r.Partner, Status: r.Status, Persons: r.Persons, Period: r.Period, Reasons: r.Reasons,
		WaitlistReason: r.WaitlistReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Stream: r.Stream, PartnerReference: r.PartnerReference, Urgency: r.Urgency,
	}
}

// presentable fills empty lists so clients always get arrays, never null.
func presentable(r referral.Referral) referral.Referral {
	if r.FamilyMembers == nil {
		r.FamilyMembers = []referral.Person{}
	}
	if r.DefenderProfile.RightsAreas == nil {
		r.DefenderProfile.RightsAreas = []string{}
	}
	return r
}

// ConfirmationPath is where a browser lands after a form post.
func ConfirmationPath(id string) string { return "/confirmation?id=" + url.QueryEscape(id) }

func (d *Deps) createReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner); err != nil {
		return apigw.Response{}, err
	}
	var in referral.Input
	key, err := r.IdempotencyKey()
	if err != nil {
		return apigw.Response{}, err
	}
	form := false
	switch r.MediaType() {
	case "application/json":
		in, err = referral.DecodeJSON(r.Body)
	case "application/x-www-form-urlencoded":
		form = true
		var formKey string
		in, formKey, err = referral.DecodeForm(r.Body)
		if key == "" {
			// A form cannot set headers; the header wins when both are sent.
			key = formKey
		}
	default:
		return apigw.Response{}, problem.New(problem.UnsupportedMediaType)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	now := d.Now()
	if err := in.Validate(now); err != nil {
		return apigw.Response{}, err
	}
	if in.PreferredLanguage == "" {
		in.PreferredLanguage = string(r.Lang)
	}
	fp, err := d.Finger.Fingerprint(identity.Normalise(in.Principal.GivenName, in.Principal.FamilyName, in.Principal.DateOfBirth, in.Principal.Nationality))
	if err != nil {
		return apigw.Response{}, problem.Wrap(problem.Internal, err)
	}
	ref := referral.Referral{
		Input: in, ID: d.NewID(), Partner: r.Caller.Partner, Status: referral.Submitted,
		Persons: in.Persons(), CreatedAt: now, UpdatedAt: now, Version: 1, Fingerprint: fp,
	}
	var resp apigw.Response
	if form && r.WantsHTML() {
		resp = apigw.Response{Status: http.StatusSeeOther, Headers: map[string]string{"Location": ConfirmationPath(ref.ID)}}
	} else {
		resp, err = apigw.JSON(http.StatusCreated, view{Referral: presentable(ref)})
		if err != nil {
			return apigw.Response{}, err
		}
		resp.Headers["Location"] = "/referrals/" + ref.ID
	}
	ev := referral.Event{At: now, Action: referral.ActionCreated, ToStatus: referral.Submitted, ActorRole: string(r.Caller.PrimaryRole()), Actor: r.Caller.Subject}
	replay, err := d.Store.Create(ctx, ref, ev, d.idem(r, key, resp), now)
	if err != nil {
		return apigw.Response{}, err
	}
	if replay != nil {
		return fromReplay(*replay), nil
	}
	r.Log.Info("referral created", "referral_id", ref.ID, "persons", ref.Persons)
	return resp, nil
}

// idem is the record to keep with a change, or nil without a key.
func (d *Deps) idem(r *apigw.Request, key string, resp apigw.Response) dynamostore.Idem {
	if key == "" {
		return nil
	}
	rec := idempotency.New(r.Caller.Scope(), key, idempotency.Hash(r.Method(), r.Path(), r.Body),
		idempotency.Response{Status: resp.Status, Headers: resp.Headers, Body: resp.Body}, d.Now())
	return &rec
}

func fromReplay(x idempotency.Response) apigw.Response {
	return apigw.Response{Status: x.Status, Headers: x.Headers, Body: x.Body}
}

func (d *Deps) getReferral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner, apigw.Officer, apigw.Admin); err != nil {
		return apigw.Response{}, err
	}
	ref, dups, err := d.ReadReferral(ctx, r.Caller, r.Event.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, view{Referral: presentable(ref), PossibleDuplicates: dups})
}

// ReadReferral reads a whole referral for caller, audits the read before
// anything is served (a read that cannot be audited is not served) and,
// for officers and admins, lists its possible duplicates. Another partner's
// referral is NotFound. GET /referrals/{id} and the officers' case page
// read through it.
func (d *Deps) ReadReferral(ctx context.Context, c apigw.Caller, id string) (referral.Referral, []string, error) {
	ref, err := d.Store.Get(ctx, id, c.PartnerScope(), dynamostore.Whole)
	if err != nil {
		return referral.Referral{}, nil, err
	}
	if err := d.Store.RecordRead(ctx, ref.ID, referral.Event{At: d.Now(), ActorRole: string(c.PrimaryRole()), Actor: c.Subject}, d.NewID()); err != nil {
		return referral.Referral{}, nil, err
	}
	var dups []string
	if c.Any(apigw.Officer, apigw.Admin) {
		if dups, err = d.Store.PossibleDuplicates(ctx, ref); err != nil {
			return referral.Referral{}, nil, err
		}
	}
	return ref, dups, nil
}

type historyItem struct {
	At           string `json:"at"`
	Action       string `json:"action"`
	FromStatus   string `json:"from_status"`
	ToStatus     string `json:"to_status"`
	PersonsDelta int    `json:"persons_delta"`
	ActorRole    string `json:"actor_role"`
	// PreviousReferral names, on a creation, the ended referral whose
	// partner_reference this one took over.
	PreviousReferral string `json:"previous_referral,omitempty"`
	// Reason is an urgency change's or a hold's reason code.
	Reason string `json:"reason,omitempty"`
}

// Page reads are kept by UTC day (dynamostore's page read audit), and each
// day searched is one Query: a history with reads searches the days an
// auditor names, at most maxListedDays of them, by default the last
// defaultListedDays. The response says which days it searched, so a
// window that missed a page is never mistaken for "never listed".
const (
	maxListedDays     = 31
	defaultListedDays = 7
)

// listedWindow reads listed_to (a UTC date, inclusive) and listed_days.
// Each is valid or not on its own, so no pair of them can contradict.
func listedWindow(q map[string]string, now time.Time) (from, to time.Time, fields []problem.FieldError) {
	today := now.UTC().Truncate(24 * time.Hour)
	to = today
	if v, ok := q["listed_to"]; ok {
		t, err := time.Parse(time.DateOnly, v)
		switch {
		case err != nil:
			fields = append(fields, problem.FieldError{Field: "listed_to", Code: problem.CodeInvalidDate})
		case t.After(today):
			fields = append(fields, problem.FieldError{Field: "listed_to", Code: problem.CodeFutureDate})
		default:
			to = t
		}
	}
	days := defaultListedDays
	if v, ok := q["listed_days"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListedDays {
			fields = append(fields, problem.FieldError{Field: "listed_days", Code: problem.CodeOutOfRange})
		}
		days = n
	}
	return to.AddDate(0, 0, 1-days), to, fields
}

func (d *Deps) referralHistory(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner, apigw.Officer, apigw.Admin); err != nil {
		return apigw.Response{}, err
	}
	id := r.Event.PathParameters["id"]
	q := r.Event.QueryStringParameters
	withReads := false
	include, sent := q["include"]
	switch {
	case !sent:
	case include == "reads":
		// Who read a referral is for officers to audit, not for partners.
		if err := apigw.Require(r.Caller, apigw.Officer, apigw.Admin); err != nil {
			return apigw.Response{}, err
		}
		withReads = true
	default:
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "include", Code: problem.CodeNotAllowed, Allowed: []string{"reads"}})
	}
	// The window is checked whether or not reads are asked for: a bad one
	// is refused, not ignored.
	from, to, fields := listedWindow(q, d.Now())
	if len(fields) > 0 {
		return apigw.Response{}, problem.Invalid(fields...)
	}
	ref, evs, err := d.Store.HistoryOf(ctx, id, r.Caller.PartnerScope(), withReads)
	if err != nil {
		return apigw.Response{}, err
	}
	if withReads {
		// No list page showed the referral before it existed: those days
		// need no Query.
		first := from
		if created := ref.CreatedAt.UTC().Truncate(24 * time.Hour); first.Before(created) {
			first = created
		}
		for day := first; !day.After(to); day = day.AddDate(0, 0, 1) {
			pages, err := d.Store.PageReads(ctx, day, id)
			if err != nil {
				return apigw.Response{}, err
			}
			for _, p := range pages {
				evs = append(evs, referral.Event{At: p.At, Action: referral.ActionListed, ActorRole: p.ActorRole})
			}
		}
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	}
	items := make([]historyItem, 0, len(evs))
	for _, e := range evs {
		if r.Caller.PartnerScope() != "" && (e.Action == referral.ActionHoldSet || e.Action == referral.ActionHoldLifted) {
			// Holds are staff business: a partner is not told of a legal hold.
			continue
		}
		items = append(items, historyItem{
			At: e.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Action: e.Action,
			FromStatus: string(e.FromStatus), ToStatus: string(e.ToStatus), PersonsDelta: e.PersonsDelta, ActorRole: e.ActorRole,
			PreviousReferral: e.Previous, Reason: e.Reason,
		})
	}
	body := map[string]any{"items": items}
	if withReads {
		body["listed_window"] = map[string]string{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly)}
	}
	return apigw.JSON(http.StatusOK, body)
}

type listItem struct {
	referral.Referral
	// Lists never carry contact details (the summary is left sealed).
	Contact *struct{} `json:"contact,omitempty"`
}

func (d *Deps) listReferrals(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Partner, apigw.Officer, apigw.Admin); err != nil {
		return apigw.Response{}, err
	}
	q := r.Event.QueryStringParameters
	f := dynamostore.Filter{Partner: q["partner"], Stream: q["stream"]}
	var fields []problem.FieldError
	// A parameter sent empty is refused, not read as "no filter": a client
	// that meant to filter must not get everyone's referrals instead.
	if s, ok := q["status"]; ok {
		st, ok := referral.ParseStatus(s)
		if !ok {
			var names []string
			for _, st := range referral.AllStatuses() {
				names = append(names, string(st))
			}
			fields = append(fields, problem.FieldError{Field: "status", Code: problem.CodeNotAllowed, Allowed: names})
		}
		f.Status = st
	}
	if s, ok := q["stream"]; ok && !validSlug(s) {
		fields = append(fields, problem.FieldError{Field: "stream", Code: problem.CodeUnknownStream})
	}
	for _, name := range []string{"partner", "cursor"} {
		if v, ok := q[name]; ok && v == "" {
			fields = append(fields, problem.FieldError{Field: name, Code: problem.CodeTooShort})
		}
	}
	limit := 25
	if l, ok := q["limit"]; ok {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			fields = append(fields, problem.FieldError{Field: "limit", Code: problem.CodeOutOfRange})
		}
		limit = n
	}
	if len(fields) > 0 {
		return apigw.Response{}, problem.Invalid(fields...)
	}
	if scope := r.Caller.PartnerScope(); scope != "" {
		if f.Partner != "" && f.Partner != scope {
			return apigw.Response{}, problem.New(problem.Forbidden)
		}
		f.Partner = scope
	}
	cursorScope := r.Caller.Scope() + "|" + f.Partner + "|" + string(f.Status) + "|" + f.Stream
	var from map[string]string
	if c := q["cursor"]; c != "" {
		var err error
		if from, err = d.Cursors.Decode(cursorScope, c); err != nil {
			return apigw.Response{}, err
		}
	}
	page, err := d.Store.List(ctx, f, limit, from)
	if err != nil {
		return apigw.Response{}, err
	}
	items := make([]listItem, 0, len(page.Items))
	ids := make([]string, 0, len(page.Items))
	for _, ref := range page.Items {
		items = append(items, listItem{Referral: presentable(ref)})
		ids = append(ids, ref.ID)
	}
	// A page shows names and birth dates: it is audited, in one write for the
	// whole page, before it is served. An empty page shows no one.
	if len(ids) > 0 {
		if err := d.Store.RecordPageRead(ctx, dynamostore.PageRead{
			At: d.Now(), Actor: r.Caller.Subject, ActorRole: string(r.Caller.PrimaryRole()),
			Partner: r.Caller.PartnerScope(), RequestID: r.RequestID, ReferralIDs: ids,
		}, d.NewID()); err != nil {
			return apigw.Response{}, err
		}
	}
	body := map[string]any{"items": items}
	if page.Next != nil {
		body["next_cursor"] = d.Cursors.Encode(cursorScope, page.Next)
	} else {
		body["next_cursor"] = nil
	}
	return apigw.JSON(http.StatusOK, body)
}
