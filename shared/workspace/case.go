package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	g "maragu.dev/gomponents"
	h "maragu.dev/gomponents/html"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/reason"
	"github.com/haven-hrd/haven/shared/referral"
)

type caseData struct {
	Ref        referral.Referral
	Duplicates []string
	History    []referral.Event
	Values     url.Values // what was posted, shown again beside its errors
	Failed     string     // the action whose form holds the errors
	Year       int
	Today      string
}

// casePage is GET /officer/cases/{id}: the referral, its family, its
// possible duplicates and its history (reads included), and the actions its
// state allows. Opening it is a read of the whole referral, audited by
// api.ReadReferral as GET /referrals/{id} is.
func (w *Workspace) casePage(ctx context.Context, r *apigw.Request, p *page, failed *caseData) (apigw.Response, error) {
	id := r.Event.PathParameters["id"]
	ref, dups, err := w.d.ReadReferral(ctx, p.Session.caller(), id)
	if err != nil {
		return apigw.Response{}, err
	}
	_, history, err := w.d.Store.HistoryOf(ctx, ref.ID, "", true)
	if err != nil {
		return apigw.Response{}, err
	}
	now := w.d.Now()
	data := &caseData{Ref: ref, Duplicates: dups, History: history, Year: quota.YearOf(now),
		Today: now.In(quota.Location()).Format(time.DateOnly)}
	status := http.StatusOK
	if failed != nil && !contains(allowedActions(ref.Status, p.Session.officer()), failed.Failed) {
		// The referral moved on (another officer, another tab): the form
		// posted is no longer on the page, so its errors would point nowhere.
		p.Errors, p.FieldErrors = []pageError{{ID: "actions", Text: p.T("act.conflict")}}, map[string]string{}
	}
	if failed != nil {
		data.Values, data.Failed = failed.Values, failed.Failed
		status = http.StatusBadRequest
		if len(p.Errors) > 0 && p.Errors[0].ID == "actions" {
			status = http.StatusConflict
		}
	}
	if done := r.Event.QueryStringParameters["done"]; done != "" && failed == nil {
		p.Notice = fmt.Sprintf(p.T("case.done"), p.T("status."+string(ref.Status)))
	}
	p.Case = data
	p.Title = p.T("title.case") + " " + ref.PartnerReference
	if len(p.Errors) > 0 {
		p.Title = p.T("error.prefix") + " " + p.Title
	}
	return w.render(p, caseView, status)
}

// actionSteps name each form's step and how its form becomes the API's JSON
// body.
var actionSteps = map[string]func(v url.Values) map[string]any{
	"screen": func(v url.Values) map[string]any {
		return map[string]any{"outcome": v.Get("outcome"), "reasons": nonNil(v["reasons"])}
	},
	"allocate": func(v url.Values) map[string]any {
		if p := strings.TrimSpace(v.Get("period")); p != "" {
			if n, err := strconv.Atoi(p); err == nil {
				return map[string]any{"period": n}
			}
			return map[string]any{"period": p} // the step refuses it, in words
		}
		return map[string]any{}
	},
	"decide": func(v url.Values) map[string]any {
		return map[string]any{"outcome": v.Get("outcome"), "reasons": nonNil(v["reasons"])}
	},
	"arrival": func(v url.Values) map[string]any {
		return map[string]any{"arrived_on": strings.TrimSpace(v.Get("arrived_on"))}
	},
	"withdraw": func(v url.Values) map[string]any { return map[string]any{"reason": v.Get("reason")} },
	"urgency": func(v url.Values) map[string]any {
		return map[string]any{"urgency": v.Get("urgency"), "reason": v.Get("reason")}
	},
}

// apiPaths are the API routes whose steps the actions run (the idempotency
// record's hash names the path, so a form's retry matches its first post).
var apiPaths = map[string]string{
	"screen": "screening", "allocate": "allocation", "decide": "decision", "arrival": "arrival",
	"withdraw": "withdrawal", "urgency": "urgency",
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// act is POST /officer/cases/{id}: one action's form, run through the API's
// own step for it, as the signed-in officer, with the form's idempotency key
// (made when the page was drawn: a double click or a resubmitted form
// replays the first answer). Success goes back to the case page (303);
// a refusal shows the page again with the errors in place.
func (w *Workspace) act(ctx context.Context, r *apigw.Request, p *page) (apigw.Response, error) {
	v, _ := url.ParseQuery(string(r.Body))
	action := v.Get("action")
	build, ok := actionSteps[action]
	if !ok {
		return apigw.Response{}, problem.New(problem.NotFound)
	}
	steps := map[string]apigw.Step{
		"screen": w.steps.Screen, "allocate": w.steps.Allocate, "decide": w.steps.Decide,
		"arrival": w.steps.Arrival, "withdraw": w.steps.Withdraw, "urgency": w.steps.Urgency,
	}
	id := r.Event.PathParameters["id"]
	body, err := json.Marshal(build(v))
	if err != nil {
		return apigw.Response{}, problem.Wrap(problem.Internal, err)
	}
	sub := stepRequest(r, p.Session.caller(), "/referrals/"+url.PathEscape(id)+"/"+apiPaths[action], map[string]string{"id": id}, body, v.Get("idempotency_key"))
	_, err = steps[action](ctx, sub)
	if err == nil {
		return redirect(withLang(CasesPath+url.PathEscape(id), r.Lang, "done", action)), nil
	}
	e := problem.As(err)
	switch e.Kind {
	case problem.Validation:
		for _, fe := range e.Fields {
			fid := action + "-" + strings.SplitN(fe.Field, ".", 2)[0]
			msg := fieldMessage(r.Lang, fe)
			if _, dup := p.FieldErrors[fid]; !dup {
				p.FieldErrors[fid] = msg
				p.Errors = append(p.Errors, pageError{ID: fid, Text: msg})
			}
		}
	case problem.InvalidTransition, problem.Forbidden:
		p.Errors = []pageError{{ID: "actions", Text: T(r.Lang, "act.conflict")}}
	case problem.QuotaExhausted:
		p.Errors = []pageError{{ID: "actions", Text: T(r.Lang, "act.quota")}}
	case problem.PeriodClosed, problem.NotFound:
		if action != "allocate" {
			return apigw.Response{}, err
		}
		p.Errors = []pageError{{ID: "allocate-period", Text: T(r.Lang, "act.closed")}}
		p.FieldErrors["allocate-period"] = T(r.Lang, "act.closed")
	default:
		return apigw.Response{}, err
	}
	return w.casePage(ctx, r, p, &caseData{Values: v, Failed: action})
}

// stepRequest is the API request a workspace form stands for: the same
// event (request id, host, log), the API's path, a JSON body and the form's
// idempotency key, as caller.
func stepRequest(r *apigw.Request, caller apigw.Caller, path string, params map[string]string, body []byte, key string) *apigw.Request {
	ev := r.Event
	ev.RawPath, ev.PathParameters, ev.QueryStringParameters = path, params, nil
	ev.Headers = map[string]string{"content-type": "application/json", "accept": "application/json", "host": r.Header("Host")}
	if key != "" {
		ev.Headers["idempotency-key"] = key
	}
	ev.RequestContext.HTTP.Method = http.MethodPost
	ev.RequestContext.HTTP.Path = path
	return &apigw.Request{Event: ev, Body: body, Lang: r.Lang, Caller: caller, RequestID: r.RequestID, Log: r.Log}
}

func caseView(p *page) g.Node {
	d := p.Case
	ref := d.Ref
	item := func(key string, v g.Node) g.Node { return g.Group{h.Dt(g.Text(p.T(key))), h.Dd(v)} }
	var reasons []string
	for _, c := range ref.Reasons {
		if lb, ok := reason.LabelOf(c); ok {
			reasons = append(reasons, lb.In(p.Lang))
		} else {
			reasons = append(reasons, c)
		}
	}
	person := func(role string, x referral.Person) g.Node {
		return h.Tr(
			h.Th(h.Scope("row"), g.Text(x.GivenName+" "+x.FamilyName)),
			h.Td(g.Text(role)),
			h.Td(g.Text(x.DateOfBirth)),
			h.Td(g.Text(x.Sex)),
			h.Td(g.Text(x.Nationality)),
		)
	}
	family := g.Group{person(p.T("case.principal"), ref.Principal)}
	for _, m := range ref.FamilyMembers {
		family = append(family, person(known(p.Lang, "relationship."+m.Relationship, m.Relationship), m))
	}
	var history g.Group
	for _, e := range d.History {
		action := known(p.Lang, "action."+e.Action, e.Action)
		what := action
		switch {
		case e.FromStatus != "" && e.ToStatus != "" && e.FromStatus != e.ToStatus:
			what += " (" + p.T("status."+string(e.FromStatus)) + " → " + p.T("status."+string(e.ToStatus)) + ")"
		case e.FromStatus == "" && e.ToStatus != "":
			what += " (" + p.T("status."+string(e.ToStatus)) + ")"
		}
		if e.Reason != "" {
			if lb, ok := reason.LabelOf(e.Reason); ok {
				what += " (" + lb.In(p.Lang) + ")"
			}
		}
		if e.PersonsDelta != 0 {
			what += fmt.Sprintf(" [%+d]", e.PersonsDelta)
		}
		history = append(history, h.Tr(
			h.Td(g.Text(e.At.UTC().Format("2006-01-02 15:04:05"))),
			h.Td(g.Text(e.Actor)),
			h.Td(g.Text(known(p.Lang, "role."+e.ActorRole, e.ActorRole))),
			h.Td(g.Text(what)),
		))
	}
	var dups g.Group
	for _, id := range d.Duplicates {
		dups = append(dups, h.Li(h.A(h.Href(withLang(CasesPath+url.PathEscape(id), p.Lang)), g.Text(id))))
	}
	return g.Group{
		p.errorSummary(),
		g.If(p.Notice != "", h.Div(h.Class("notice"), h.Role("status"), h.ID("notice"), h.P(g.Text(p.Notice)))),
		h.H1(g.Text(p.T("title.case") + " " + ref.PartnerReference)),
		h.Div(h.Class("cols"),
			h.Section(h.Aria("labelledby", "summary-h"),
				h.H2(h.ID("summary-h"), g.Text(p.T("case.summary"))),
				h.Dl(h.Class("summary"),
					item("case.status", h.Strong(h.ID("case-status"), g.Text(p.T("status."+string(ref.Status))))),
					item("case.stream", g.Text(ref.Stream)),
					item("case.partner", g.Text(ref.Partner)),
					item("case.reference", g.Text(ref.PartnerReference)),
					item("case.urgency", urgencyTag(p, ref.Urgency)),
					item("case.persons", g.Text(strconv.Itoa(ref.Persons))),
					g.If(ref.Period != 0, item("case.period", g.Text(strconv.Itoa(ref.Period)))),
					item("case.created", g.Text(ref.CreatedAt.UTC().Format("2006-01-02"))),
					g.If(ref.ArrivedOn != "", item("case.arrived_on", g.Text(ref.ArrivedOn))),
					g.If(len(reasons) > 0, item("case.reasons", g.Text(strings.Join(reasons, "; ")))),
					g.If(ref.WaitlistReason != "", item("case.waits", g.Text(waitsLabel(p, ref.WaitlistReason)))),
					item("case.asylum", g.Text(ref.CountryOfAsylum)),
				),
			),
			h.Section(h.Aria("labelledby", "dups-h"),
				h.H2(h.ID("dups-h"), g.Text(p.T("case.duplicates"))),
				g.If(len(dups) == 0, h.P(g.Text(p.T("case.no_duplicates")))),
				g.If(len(dups) > 0, h.Ul(h.ID("duplicates"), dups)),
			),
		),
		h.H2(h.ID("family-h"), g.Text(p.T("case.family"))),
		h.Table(h.Aria("labelledby", "family-h"),
			h.THead(h.Tr(
				h.Th(h.Scope("col"), g.Text(p.T("case.name"))),
				h.Th(h.Scope("col"), g.Text(p.T("case.relationship"))),
				h.Th(h.Scope("col"), g.Text(p.T("case.dob"))),
				h.Th(h.Scope("col"), g.Text(p.T("case.sex"))),
				h.Th(h.Scope("col"), g.Text(p.T("case.nationality"))),
			)),
			h.TBody(family),
		),
		h.Section(h.ID("actions"), h.TabIndex("-1"), h.Aria("labelledby", "actions-h"),
			h.H2(h.ID("actions-h"), g.Text(p.T("case.actions"))),
			p.actionForms(),
		),
		h.H2(h.ID("history-h"), g.Text(p.T("case.history"))),
		h.Table(h.Aria("labelledby", "history-h"), h.ID("history"),
			h.THead(h.Tr(
				h.Th(h.Scope("col"), g.Text(p.T("case.when"))),
				h.Th(h.Scope("col"), g.Text(p.T("case.who"))),
				h.Th(h.Scope("col"), g.Text(p.T("case.role"))),
				h.Th(h.Scope("col"), g.Text(p.T("case.what"))),
			)),
			h.TBody(history),
		),
		h.P(h.A(h.Href(withLang(HomePath, p.Lang)), g.Text(p.T("back")))),
	}
}

// allowedActions are the actions a referral's state offers an officer
// (none to anyone else), in the order the page shows them.
func allowedActions(st referral.Status, officer bool) []string {
	if !officer || referral.Terminal(st) {
		return nil
	}
	var out []string
	switch st {
	case referral.Submitted:
		out = append(out, "screen")
	case referral.Eligible, referral.Waitlisted:
		out = append(out, "allocate")
	case referral.Allocated:
		out = append(out, "decide")
	case referral.Approved:
		out = append(out, "arrival")
	}
	if st != referral.Approved {
		out = append(out, "urgency")
	}
	return append(out, "withdraw")
}

// actionForms are the forms of allowedActions; each carries its own
// idempotency key.
func (p *page) actionForms() g.Node {
	d := p.Case
	st := d.Ref.Status
	allowed := allowedActions(st, p.Session.officer())
	if len(allowed) == 0 {
		return h.P(g.Text(p.T("case.no_actions")))
	}
	var forms g.Group
	switch st {
	case referral.Submitted:
		forms = append(forms, p.actionForm("screen", "act.screen",
			p.radios("screen", "outcome", []string{"eligible", "ineligible"}, "act.outcome", "act.screen."),
			p.checkboxes("screen", "reasons", reason.Ineligible)))
	case referral.Eligible, referral.Waitlisted:
		period := g.Node(nil)
		if st == referral.Eligible {
			val := strconv.Itoa(d.Year)
			if d.Failed == "allocate" {
				val = d.Values.Get("period")
			}
			period = g.Group{
				h.Label(h.For("allocate-period"), g.Text(p.T("act.allocate.period"))),
				h.P(h.Class("hint"), h.ID("allocate-period-hint"), g.Text(p.T("act.allocate.help"))),
				p.fieldError("allocate-period"),
				h.Input(h.Type("text"), h.ID("allocate-period"), h.Name("period"), g.Attr("inputmode", "numeric"), h.Value(val),
					p.invalid("allocate-period"), p.describedBy("allocate-period", true)),
			}
		}
		forms = append(forms, p.actionForm("allocate", "act.allocate", period))
	case referral.Allocated:
		forms = append(forms, p.actionForm("decide", "act.decide",
			p.radios("decide", "outcome", []string{"approved", "refused"}, "act.outcome", "act.decide."),
			p.checkboxes("decide", "reasons", reason.Refused)))
	case referral.Approved:
		val := d.Today
		if d.Failed == "arrival" {
			val = d.Values.Get("arrived_on")
		}
		forms = append(forms, p.actionForm("arrival", "act.arrival",
			h.Label(h.For("arrival-arrived_on"), g.Text(p.T("act.arrival.date"))),
			p.fieldError("arrival-arrived_on"),
			h.Input(h.Type("text"), h.ID("arrival-arrived_on"), h.Name("arrived_on"), h.Value(val), h.AutoComplete("off"),
				p.invalid("arrival-arrived_on"), p.describedBy("arrival-arrived_on", false)),
		))
	}
	if contains(allowed, "urgency") {
		forms = append(forms, p.actionForm("urgency", "act.urgency",
			p.selectField("urgency", "urgency", "act.urgency.new", urgencyChoices(p)),
			p.selectField("urgency", "reason", "act.urgency.reason", reasonChoices(p, reason.Urgency)),
		))
	}
	forms = append(forms, p.actionForm("withdraw", "act.withdraw",
		p.selectField("withdraw", "reason", "act.withdraw.reason", reasonChoices(p, reason.Withdrawn))))
	return forms
}

type choice struct{ value, label string }

func urgencyChoices(p *page) []choice {
	var out []choice
	for _, u := range []referral.Urgency{referral.Emergency, referral.Urgent, referral.Normal} {
		out = append(out, choice{string(u), p.T("urgency." + string(u))})
	}
	return out
}

func reasonChoices(p *page, k reason.Kind) []choice {
	var out []choice
	for _, c := range reason.Codes(k) {
		lb, _ := reason.LabelOf(c)
		out = append(out, choice{c, lb.In(p.Lang)})
	}
	return out
}

// actionForm is one action: its heading, its fields and its button.
func (p *page) actionForm(action, titleKey string, fields ...g.Node) g.Node {
	hid := "act-" + action + "-h"
	return h.Section(h.Class("action"), h.Aria("labelledby", hid),
		h.H3(h.ID(hid), g.Text(p.T(titleKey))),
		h.Form(h.Method("post"), h.Action(withLang(CasesPath+url.PathEscape(p.Case.Ref.ID), p.Lang)), h.ID("form-"+action), g.Attr("novalidate"),
			p.csrfField(),
			h.Input(h.Type("hidden"), h.Name("action"), h.Value(action)),
			h.Input(h.Type("hidden"), h.Name("idempotency_key"), h.Value(ulid.Make().String())),
			g.Group(fields),
			h.Button(h.Type("submit"), h.Class("button"), h.ID("submit-"+action), g.Text(p.T(titleKey))),
		),
	)
}

func (p *page) posted(action, name string) []string {
	if p.Case.Failed != action {
		return nil
	}
	return p.Case.Values[name]
}

func (p *page) radios(action, name string, values []string, legendKey, labelPrefix string) g.Node {
	id := action + "-" + name
	var items g.Group
	for i, v := range values {
		rid := id
		if i > 0 {
			rid = id + "-" + v
		}
		items = append(items, h.Div(h.Class("radio"),
			h.Input(h.Type("radio"), h.ID(rid), h.Name(name), h.Value(v), g.If(contains(p.posted(action, name), v), h.Checked())),
			h.Label(h.For(rid), g.Text(p.T(labelPrefix+v))),
		))
	}
	return h.FieldSet(p.describedBy(id, false),
		h.Legend(g.Text(p.T(legendKey))),
		p.fieldError(id),
		items,
	)
}

func (p *page) checkboxes(action, name string, k reason.Kind) g.Node {
	id := action + "-" + name
	var items g.Group
	for i, c := range reasonChoices(p, k) {
		cid := id
		if i > 0 {
			cid = id + "-" + c.value
		}
		items = append(items, h.Div(h.Class("check"),
			h.Input(h.Type("checkbox"), h.ID(cid), h.Name(name), h.Value(c.value), g.If(contains(p.posted(action, name), c.value), h.Checked())),
			h.Label(h.For(cid), g.Text(c.label)),
		))
	}
	return h.FieldSet(p.describedBy(id, false),
		h.Legend(g.Text(p.T("act.reasons"))),
		p.fieldError(id),
		items,
	)
}

func (p *page) selectField(action, name, labelKey string, choices []choice) g.Node {
	id := action + "-" + name
	cur := p.posted(action, name)
	opts := g.Group{h.Option(h.Value(""), g.Text(p.T("act.choose")))}
	for _, c := range choices {
		opts = append(opts, h.Option(h.Value(c.value), g.If(contains(cur, c.value), h.Selected()), g.Text(c.label)))
	}
	return g.Group{
		h.Label(h.For(id), g.Text(p.T(labelKey))),
		p.fieldError(id),
		h.Select(h.ID(id), h.Name(name), p.invalid(id), p.describedBy(id, false), opts),
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
