package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/oklog/ulid/v2"
	g "maragu.dev/gomponents"
	h "maragu.dev/gomponents/html"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/report"
)

type dashData struct {
	Stream     dynamostore.Stream
	Year       int
	Period     *quota.Period
	Years      []int // the stream's periods, for the period links
	Admissions []quota.Admissions
	Charts     []report.Chart
	Values     url.Values // the capacity form as posted, after a refusal
}

// dashboard is GET /officer/periods/{stream}/{year}: the period's counters
// per partner, the admissions by arrival year, the daily report's charts
// of the period drawn by its renderer, and, for admins, the capacity form.
func (w *Workspace) dashboard(ctx context.Context, r *apigw.Request, p *page, posted url.Values) (apigw.Response, error) {
	stream, year, err := periodPath(r)
	if err != nil {
		return apigw.Response{}, err
	}
	st, err := w.d.Store.GetStream(ctx, stream)
	if err != nil {
		return apigw.Response{}, err
	}
	data := &dashData{Stream: st, Year: year, Values: posted}
	per, err := w.d.Store.GetPeriod(ctx, stream, year)
	switch {
	case err == nil:
		data.Period = &per
	case problem.KindOf(err) != problem.NotFound:
		return apigw.Response{}, err
	}
	periods, err := w.d.Store.Periods(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	for _, x := range periods {
		if x.Stream == stream && !slices.Contains(data.Years, x.Year) {
			data.Years = append(data.Years, x.Year)
		}
	}
	if !slices.Contains(data.Years, year) {
		data.Years = append(data.Years, year)
	}
	slices.Sort(data.Years)
	// Admissions count by arrival date: one item per year a period exists
	// for (arrivals happen in their period's year or after it).
	for _, y := range data.Years {
		a, err := w.d.Store.Admissions(ctx, stream, y)
		if err != nil {
			return apigw.Response{}, err
		}
		data.Admissions = append(data.Admissions, a)
	}
	if data.Period != nil {
		s := report.Summary{Stream: stream, StreamName: st.Name, Period: year, Counters: report.Counters{
			Capacity: per.Capacity, Reserved: per.Reserved, Arrived: per.Arrived, Remaining: per.Remaining, WaitlistedPersons: per.WaitlistedPersons,
		}}
		for _, pt := range partnersOf(st, per) {
			c := per.Partners[pt]
			s.Partners = append(s.Partners, report.PartnerLine{Partner: pt, Reserved: c.Reserved, Arrived: c.Arrived})
		}
		data.Charts = report.PeriodCharts(s, p.Lang)
	}
	p.Dash = data
	p.Title = fmt.Sprintf(p.T("dash.heading"), year, nameOf(st))
	status := http.StatusOK
	if len(p.Errors) > 0 {
		p.Title = p.T("error.prefix") + " " + p.Title
		status = http.StatusBadRequest
		if p.Errors[0].ID == "capacity-form" {
			status = http.StatusConflict
		}
	}
	if r.Event.QueryStringParameters["saved"] == "1" && len(p.Errors) == 0 {
		p.Notice = p.T("dash.form.saved")
	}
	return w.render(p, dashboardView, status)
}

func periodPath(r *apigw.Request) (string, int, error) {
	stream := r.Event.PathParameters["stream"]
	year, err := strconv.Atoi(r.Event.PathParameters["year"])
	if err != nil || year < quota.MinYear || year > quota.MaxYear || !apigw.ValidPartner(stream) {
		return "", 0, problem.New(problem.NotFound)
	}
	return stream, year, nil
}

func nameOf(st dynamostore.Stream) string {
	if st.Name != "" {
		return st.Name
	}
	return st.ID
}

// partnersOf lists the stream's partners and any other the period counts.
func partnersOf(st dynamostore.Stream, p quota.Period) []string {
	out := slices.Clone(st.Partners)
	for pt := range p.Partners {
		if !slices.Contains(out, pt) {
			out = append(out, pt)
		}
	}
	for pt := range p.Allotments {
		if !slices.Contains(out, pt) {
			out = append(out, pt)
		}
	}
	slices.Sort(out)
	return out
}

// setCapacity is POST /officer/periods/{stream}/{year}: the admin's
// capacity and allotments, run through PUT's own step with the form's
// idempotency key. A refusal is explained in words beside the form.
func (w *Workspace) setCapacity(ctx context.Context, r *apigw.Request, p *page) (apigw.Response, error) {
	if !p.Session.admin() {
		resp := w.errorPage(r, p.Session, http.StatusForbidden, "error.forbidden")
		return resp, nil
	}
	stream, year, err := periodPath(r)
	if err != nil {
		return apigw.Response{}, err
	}
	st, err := w.d.Store.GetStream(ctx, stream)
	if err != nil {
		return apigw.Response{}, err
	}
	v, _ := url.ParseQuery(string(r.Body))
	body := map[string]any{}
	var fields []problem.FieldError
	if n, err := strconv.Atoi(strings.TrimSpace(v.Get("capacity"))); err == nil {
		body["capacity"] = n
	} else {
		fields = append(fields, problem.FieldError{Field: "capacity", Code: problem.CodeWrongType})
	}
	allot := map[string]int{}
	for _, pt := range st.Partners {
		s := strings.TrimSpace(v.Get("allot." + pt))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			fields = append(fields, problem.FieldError{Field: "allotments." + pt, Code: problem.CodeWrongType})
			continue
		}
		allot[pt] = n
	}
	body["allotments"] = allot
	if len(fields) == 0 {
		b, _ := json.Marshal(body)
		path := "/streams/" + url.PathEscape(stream) + "/periods/" + strconv.Itoa(year)
		sub := stepRequest(r, p.Session.caller(), path, map[string]string{"stream": stream, "year": strconv.Itoa(year)}, b, v.Get("idempotency_key"))
		sub.Event.RequestContext.HTTP.Method = http.MethodPut
		if _, err = w.steps.SetCapacity(ctx, sub); err == nil {
			return redirect(withLang(PeriodsPath+url.PathEscape(stream)+"/"+strconv.Itoa(year), r.Lang, "saved", "1")), nil
		}
		e := problem.As(err)
		switch e.Kind {
		case problem.Validation:
			fields = e.Fields
		case problem.CapacityBelowCommitted, problem.PeriodClosed:
			msg := p.T("dash.conflict")
			if e.Kind == problem.PeriodClosed {
				msg = p.T("dash.closed")
			}
			p.Errors = []pageError{{ID: "capacity-form", Text: msg}}
		default:
			return apigw.Response{}, err
		}
	}
	for _, fe := range fields {
		id := "capacity"
		if rest, ok := strings.CutPrefix(fe.Field, "allotments."); ok {
			id = "allot-" + rest
		} else if fe.Field == "allotments" {
			// A rule over all allotments (more than the capacity) is the
			// form's, explained in words.
			p.Errors = append(p.Errors, pageError{ID: "capacity-form", Text: p.T("dash.conflict")})
			continue
		}
		if _, dup := p.FieldErrors[id]; dup {
			continue
		}
		msg := fieldMessage(r.Lang, fe)
		p.FieldErrors[id] = msg
		p.Errors = append(p.Errors, pageError{ID: id, Text: msg})
	}
	return w.dashboard(ctx, r, p, v)
}

func dashboardView(p *page) g.Node {
	d := p.Dash
	num := strconv.Itoa
	var periodLinks g.Group
	for _, y := range d.Years {
		href := withLang(PeriodsPath+url.PathEscape(d.Stream.ID)+"/"+num(y), p.Lang)
		periodLinks = append(periodLinks, h.Li(h.A(h.Href(href), g.If(y == d.Year, h.Aria("current", "page")), g.Text(num(y)))))
	}
	var body g.Group
	if d.Period == nil {
		body = append(body, h.P(g.Text(p.T("dash.no_period"))))
	} else {
		per := *d.Period
		tile := func(key string, n int) g.Node {
			return h.Li(g.Text(p.T(key)), h.Span(h.Class("n"), g.Text(num(n))))
		}
		var rows g.Group
		for _, pt := range partnersOf(d.Stream, per) {
			c := per.Partners[pt]
			allot := p.T("dash.none")
			if a, ok := per.Allotments[pt]; ok {
				allot = num(a)
			}
			rows = append(rows, h.Tr(
				h.Th(h.Scope("row"), g.Text(pt)),
				h.Td(h.Class("n"), g.Text(allot)),
				h.Td(h.Class("n"), g.Text(num(c.Reserved))),
				h.Td(h.Class("n"), g.Text(num(c.Arrived))),
				h.Td(h.Class("n"), g.Text(num(max(0, per.PartnerRemaining(pt))))),
			))
		}
		var charts g.Group
		for _, c := range d.Charts {
			charts = append(charts, h.Figure(h.FigCaption(g.Text(c.Title)), g.Raw(c.SVG)))
		}
		body = append(body,
			g.If(per.Closed, h.P(h.Class("warning"), g.Text(p.T("dash.closed")))),
			h.Ul(h.Class("tiles"), h.ID("tiles"),
				tile("dash.capacity", per.Capacity), tile("dash.reserved", per.Reserved), tile("dash.arrived", per.Arrived),
				tile("dash.remaining", per.Remaining), tile("dash.waitlisted", per.WaitlistedPersons), tile("dash.unallotted", per.Pool),
			),
			h.Table(h.ID("partners"),
				h.Caption(g.Text(p.T("dash.partners"))),
				h.THead(h.Tr(
					h.Th(h.Scope("col"), g.Text(p.T("col.partner"))),
					h.Th(h.Scope("col"), h.Class("n"), g.Text(p.T("dash.allotment"))),
					h.Th(h.Scope("col"), h.Class("n"), g.Text(p.T("dash.reserved"))),
					h.Th(h.Scope("col"), h.Class("n"), g.Text(p.T("dash.arrived"))),
					h.Th(h.Scope("col"), h.Class("n"), g.Text(p.T("dash.remaining"))),
				)),
				h.TBody(rows),
			),
			h.H2(g.Text(p.T("dash.charts"))),
			charts,
		)
	}
	var adm g.Group
	for _, a := range d.Admissions {
		adm = append(adm, h.Tr(h.Th(h.Scope("row"), g.Text(num(a.Year))), h.Td(h.Class("n"), g.Text(num(a.Persons)))))
	}
	body = append(body,
		h.Table(h.ID("admissions"),
			h.Caption(g.Text(p.T("dash.admissions"))),
			h.THead(h.Tr(h.Th(h.Scope("col"), g.Text(p.T("dash.year"))), h.Th(h.Scope("col"), h.Class("n"), g.Text(p.T("dash.persons"))))),
			h.TBody(adm),
		),
	)
	if p.Session.admin() {
		body = append(body, p.capacityForm())
	}
	return g.Group{
		p.errorSummary(),
		g.If(p.Notice != "", h.Div(h.Class("notice"), h.Role("status"), h.ID("notice"), h.P(g.Text(p.Notice)))),
		h.H1(g.Text(fmt.Sprintf(p.T("dash.heading"), d.Year, nameOf(d.Stream)))),
		h.Nav(h.Aria("label", p.T("dash.choose")), h.Ul(h.Class("tabs"), periodLinks)),
		body,
		h.P(h.A(h.Href(withLang(HomePath, p.Lang, "stream", d.Stream.ID, "period", num(d.Year))), g.Text(p.T("back")))),
	}
}

// capacityForm is the admin's capacity and allotments form.
func (p *page) capacityForm() g.Node {
	d := p.Dash
	val := func(name string, cur string) string {
		if d.Values != nil {
			return d.Values.Get(name)
		}
		return cur
	}
	capacity := ""
	if d.Period != nil {
		capacity = strconv.Itoa(d.Period.Capacity)
	}
	var allots g.Group
	for _, pt := range d.Stream.Partners {
		cur := ""
		if d.Period != nil {
			if a, ok := d.Period.Allotments[pt]; ok {
				cur = strconv.Itoa(a)
			}
		}
		id := "allot-" + pt
		allots = append(allots,
			h.Label(h.For(id), g.Text(fmt.Sprintf(p.T("dash.form.allotment"), pt))),
			p.fieldError(id),
			h.Input(h.Type("text"), h.ID(id), h.Name("allot."+pt), g.Attr("inputmode", "numeric"), h.Value(val("allot."+pt, cur)),
				p.invalid(id), p.describedBy(id, false)),
		)
	}
	return h.Section(h.ID("capacity-form"), h.TabIndex("-1"), h.Aria("labelledby", "capacity-h"),
		h.H2(h.ID("capacity-h"), g.Text(p.T("dash.form"))),
		h.P(h.Class("hint"), g.Text(p.T("dash.form.help"))),
		h.Form(h.Method("post"), h.Action(withLang(PeriodsPath+url.PathEscape(d.Stream.ID)+"/"+strconv.Itoa(d.Year), p.Lang)), g.Attr("novalidate"),
			p.csrfField(),
			h.Input(h.Type("hidden"), h.Name("idempotency_key"), h.Value(ulid.Make().String())),
			h.Label(h.For("capacity"), g.Text(p.T("dash.form.capacity"))),
			p.fieldError("capacity"),
			h.Input(h.Type("text"), h.ID("capacity"), h.Name("capacity"), g.Attr("inputmode", "numeric"), h.Value(val("capacity", capacity)),
				p.invalid("capacity"), p.describedBy("capacity", false)),
			allots,
			h.Button(h.Type("submit"), h.Class("button"), h.ID("save-capacity"), g.Text(p.T("dash.form.save"))),
		),
	)
}
