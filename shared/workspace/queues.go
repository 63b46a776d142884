package workspace

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	g "maragu.dev/gomponents"
	h "maragu.dev/gomponents/html"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// QueuePageSize is the rows of a queue page.
const QueuePageSize = 25

type queueData struct {
	Filter   dynamostore.QueueFilter
	Streams  []dynamostore.Stream
	Partners []string
	Rows     []dynamostore.QueueEntry
	Counts   *dynamostore.QueueCounts // nil past the first page
	Next     string                   // the next page's URL, empty at the end
	First    bool                     // this is not the first page
	Today    int                      // days since the epoch in UTC, for rows' age
	Lookup   url.Values
}

// queueFilter reads the queue and its filters from the query; a value that
// is not one of the choices is left out rather than refused (the page shows
// what it did choose).
func (w *Workspace) queueFilter(q map[string]string, streams []dynamostore.Stream) dynamostore.QueueFilter {
	f := dynamostore.QueueFilter{Status: referral.Submitted, Period: quota.YearOf(w.d.Now())}
	if st, ok := referral.ParseStatus(q["queue"]); ok && slices.Contains(dynamostore.QueueStates, st) {
		f.Status = st
	}
	for i, s := range streams {
		if i == 0 || s.ID == q["stream"] {
			f.Stream = s.ID
		}
	}
	if y, err := strconv.Atoi(q["period"]); err == nil && y >= quota.MinYear && y <= quota.MaxYear {
		f.Period = y
	}
	if p := q["partner"]; apigw.ValidPartner(p) {
		f.Partner = p
	}
	if u := referral.Urgency(q["urgency"]); u.Valid() {
		f.Urgency = u
	}
	return f
}

func (f queueFilterQuery) values() url.Values {
	v := url.Values{"queue": {string(f.Status)}, "stream": {f.Stream}}
	if dynamostore.QueueHasPeriod(f.Status) {
		v.Set("period", strconv.Itoa(f.Period))
	}
	if f.Partner != "" {
		v.Set("partner", f.Partner)
	}
	if f.Urgency != "" {
		v.Set("urgency", string(f.Urgency))
	}
	return v
}

type queueFilterQuery dynamostore.QueueFilter

func cursorScope(f dynamostore.QueueFilter) string {
	return "officer-queue|" + string(f.Status) + "|" + f.Stream + "|" + strconv.Itoa(f.Period) + "|" + f.Partner + "|" + string(f.Urgency)
}

// streamsTTL is how long an execution environment keeps the list of
// streams: they are configuration, changed by a seed or an admin, not by
// officers' work, and a queue page should cost its one Query.
const streamsTTL = time.Minute

// streamList is the streams, sorted by id, as last read.
type streamList struct {
	mu   sync.Mutex
	list []dynamostore.Stream
	at   time.Time
}

func (c *streamList) get(ctx context.Context, d *api.Deps) ([]dynamostore.Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := d.Now()
	if c.list != nil && now.Sub(c.at) < streamsTTL && !now.Before(c.at) {
		return c.list, nil
	}
	list, err := d.Store.Streams(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b dynamostore.Stream) int { return strings.Compare(a.ID, b.ID) })
	c.list, c.at = list, now
	return list, nil
}

// queues is GET /officer: one page of one queue, one Query.
func (w *Workspace) queues(ctx context.Context, r *apigw.Request, p *page) (apigw.Response, error) {
	if err := w.queuePage(ctx, r, p); err != nil {
		return apigw.Response{}, err
	}
	return w.render(p, queuesView, http.StatusOK)
}

// queuePage fills p with the queue the query asks for.
func (w *Workspace) queuePage(ctx context.Context, r *apigw.Request, p *page) error {
	streams, err := w.streams.get(ctx, w.d)
	if err != nil {
		return err
	}
	q := r.Event.QueryStringParameters
	f := w.queueFilter(q, streams)
	data := &queueData{Filter: f, Streams: streams, Today: int(w.d.Now().Unix() / 86400)}
	for _, s := range streams {
		for _, pt := range s.Partners {
			if !slices.Contains(data.Partners, pt) {
				data.Partners = append(data.Partners, pt)
			}
		}
	}
	p.Title = T(r.Lang, "title.queues")
	p.Queue = data
	if f.Stream == "" {
		return nil
	}
	var from map[string]string
	if c := q["cursor"]; c != "" {
		if from, err = w.d.Cursors.Decode(cursorScope(f), c); err != nil {
			from = nil // a stale or foreign cursor shows the first page
		}
		data.First = from != nil
	}
	page, err := w.d.Store.Queue(ctx, f, QueuePageSize, from)
	if err != nil {
		return err
	}
	data.Rows, data.Counts = page.Items, page.Counts
	if page.Next != nil {
		v := queueFilterQuery(f).values()
		v.Set("cursor", w.d.Cursors.Encode(cursorScope(f), page.Next))
		v.Set("lang", string(r.Lang))
		data.Next = HomePath + "?" + v.Encode()
	}
	return nil
}

// lookup is POST /officer/lookup: an exact referral id, or a partner's
// reference, answered with the case page's address (the reference is posted,
// so it never sits in a URL or a log).
func (w *Workspace) lookup(ctx context.Context, r *apigw.Request, p *page) (apigw.Response, error) {
	v, _ := url.ParseQuery(string(r.Body))
	id := strings.TrimSpace(v.Get("id"))
	partner, ref := strings.TrimSpace(v.Get("partner")), strings.TrimSpace(v.Get("reference"))
	var err error
	switch {
	case id != "":
		_, err = w.d.Store.Get(ctx, id, "", dynamostore.Bare)
	case partner != "" && ref != "":
		id, err = w.d.Store.ReferenceOwner(ctx, partner, ref)
	default:
		err = problem.New(problem.Validation)
	}
	if err == nil {
		return redirect(withLang(CasesPath+url.PathEscape(id), r.Lang)), nil
	}
	key := "lookup.none"
	switch problem.KindOf(err) {
	case problem.Validation:
		key = "lookup.required"
	case problem.NotFound:
	default:
		return apigw.Response{}, err
	}
	r.Event.QueryStringParameters = map[string]string{}
	p.Errors = []pageError{{ID: "lookup-id", Text: T(r.Lang, key)}}
	p.FieldErrors["lookup-id"] = T(r.Lang, key)
	if err := w.queuePage(ctx, r, p); err != nil {
		return apigw.Response{}, err
	}
	p.Queue.Lookup = v
	p.Title = T(r.Lang, "error.prefix") + " " + T(r.Lang, "title.queues")
	return w.render(p, queuesView, http.StatusNotFound)
}

func urgencyTag(p *page, u referral.Urgency) g.Node {
	label := p.T("urgency." + string(u))
	if u == referral.Normal {
		return g.Text(label)
	}
	return h.Strong(h.Class("tag "+string(u)), g.Text(label))
}

// countText says how many rows the page shows, of how many referrals (and
// persons) the queue holds under its filters.
func (d *queueData) countText(p *page) string {
	if d.Counts == nil {
		return fmt.Sprintf(p.T("queue.shown"), len(d.Rows))
	}
	referrals, persons, exact := d.Counts.Total()
	if !exact {
		return fmt.Sprintf(p.T("queue.shown_of_more"), len(d.Rows), referrals)
	}
	return fmt.Sprintf(p.T("queue.shown_of"), len(d.Rows), referrals, persons)
}

// countOf is a count as the filters show it: "12", or "500+" when the
// count stopped before the end of the queue.
func countOf(n int, exact bool) string {
	if exact {
		return strconv.Itoa(n)
	}
	return strconv.Itoa(n) + "+"
}

func queuesView(p *page) g.Node {
	d := p.Queue
	f := d.Filter
	tab := func(st referral.Status) g.Node {
		v := queueFilterQuery(f).values()
		v.Set("queue", string(st))
		if dynamostore.QueueHasPeriod(st) {
			v.Set("period", strconv.Itoa(f.Period))
		}
		v.Set("lang", string(p.Lang))
		return h.Li(h.A(h.Href(HomePath+"?"+v.Encode()), h.ID("queue-"+string(st)),
			g.If(st == f.Status, h.Aria("current", "page")), g.Text(p.T("queue."+string(st)))))
	}
	option := func(value, label, current string) g.Node {
		return h.Option(h.Value(value), g.If(value == current, h.Selected()), g.Text(label))
	}
	streamName := f.Stream
	for _, s := range d.Streams {
		if s.ID == f.Stream && s.Name != "" {
			streamName = s.Name
		}
	}
	var rows g.Group
	for i, e := range d.Rows {
		age := d.Today - int(e.Created.Unix()/86400)
		cells := g.Group{
			h.Td(h.Class("n"), g.Text(strconv.Itoa(i+1))),
			h.Td(h.A(h.Href(withLang(CasesPath+url.PathEscape(e.ReferralID), p.Lang)), g.Text(refLabel(e)))),
			h.Td(urgencyTag(p, e.Urgency)),
			h.Td(g.Text(e.Partner)),
			h.Td(h.Class("n"), g.Text(strconv.Itoa(e.Persons))),
			h.Td(h.Class("n"), g.Text(strconv.Itoa(age))),
		}
		if f.Status == referral.Waitlisted {
			cells = append(cells, h.Td(g.Text(waitsLabel(p, e.WaitReason))))
		}
		rows = append(rows, h.Tr(cells))
	}
	partnerOptions := g.Group{option("", p.T("filter.any"), f.Partner)}
	for _, pt := range d.Partners {
		partnerOptions = append(partnerOptions, option(pt, pt, f.Partner))
	}
	urgencyOptions := g.Group{option("", p.T("filter.any"), string(f.Urgency))}
	for _, u := range []referral.Urgency{referral.Emergency, referral.Urgent, referral.Normal} {
		label := p.T("urgency." + string(u))
		// Counted under the urgency filter, the queue's other urgencies
		// are not counted.
		if d.Counts != nil && (f.Urgency == "" || f.Urgency == u) {
			label = fmt.Sprintf("%s (%s)", label, countOf(d.Counts.Referrals[u], d.Counts.Exact[u]))
		}
		urgencyOptions = append(urgencyOptions, option(string(u), label, string(f.Urgency)))
	}
	var streamOptions g.Group
	for _, s := range d.Streams {
		name := s.Name
		if name == "" {
			name = s.ID
		}
		streamOptions = append(streamOptions, option(s.ID, name, f.Stream))
	}
	lookupPartners := g.Group{option("", p.T("act.choose"), d.Lookup.Get("partner"))}
	for _, pt := range d.Partners {
		lookupPartners = append(lookupPartners, option(pt, pt, d.Lookup.Get("partner")))
	}
	caption := fmt.Sprintf(p.T("queue.caption"), p.T("queue."+string(f.Status)), streamName)
	if dynamostore.QueueHasPeriod(f.Status) {
		caption += " " + strconv.Itoa(f.Period)
	}
	dashLink := withLang(PeriodsPath+url.PathEscape(f.Stream)+"/"+strconv.Itoa(f.Period), p.Lang)
	return g.Group{
		p.errorSummary(),
		h.H1(g.Text(p.T("title.queues"))),
		h.Nav(h.Aria("label", p.T("queues.label")), h.Ul(h.Class("tabs"), g.Map(dynamostore.QueueStates, tab))),
		h.P(g.Text(p.T("queue.help." + string(f.Status)))),
		h.Form(h.Method("get"), h.Action(HomePath), h.Class("filters"), h.Aria("label", p.T("filters")),
			h.Input(h.Type("hidden"), h.Name("queue"), h.Value(string(f.Status))),
			h.Input(h.Type("hidden"), h.Name("lang"), h.Value(string(p.Lang))),
			h.Div(h.Label(h.For("f-stream"), g.Text(p.T("filter.stream"))), h.Select(h.ID("f-stream"), h.Name("stream"), streamOptions)),
			h.Div(h.Label(h.For("f-period"), g.Text(p.T("filter.period"))),
				h.Input(h.Type("number"), h.ID("f-period"), h.Name("period"), h.Min(strconv.Itoa(quota.MinYear)), h.Max(strconv.Itoa(quota.MaxYear)), h.Value(strconv.Itoa(f.Period)),
					h.Aria("describedby", "f-period-hint")),
				h.P(h.Class("hint"), h.ID("f-period-hint"), g.Text(p.T("filter.period_note")))),
			h.Div(h.Label(h.For("f-partner"), g.Text(p.T("filter.partner"))), h.Select(h.ID("f-partner"), h.Name("partner"), partnerOptions)),
			h.Div(h.Label(h.For("f-urgency"), g.Text(p.T("filter.urgency"))), h.Select(h.ID("f-urgency"), h.Name("urgency"), urgencyOptions)),
			h.Div(h.Button(h.Type("submit"), h.Class("button secondary"), h.ID("f-apply"), g.Text(p.T("filter.apply")))),
		),
		h.P(h.Role("status"), h.ID("queue-count"), g.Text(d.countText(p))),
		g.If(len(d.Rows) == 0, h.P(g.Text(p.T("queue.empty")))),
		g.If(len(d.Rows) > 0, h.Table(h.ID("queue"),
			h.Caption(g.Text(caption)),
			h.THead(h.Tr(
				h.Th(h.Scope("col"), h.Class("n"), g.Text(p.T("col.place"))),
				h.Th(h.Scope("col"), g.Text(p.T("col.reference"))),
				h.Th(h.Scope("col"), g.Text(p.T("col.urgency"))),
				h.Th(h.Scope("col"), g.Text(p.T("col.partner"))),
				h.Th(h.Scope("col"), h.Class("n"), g.Text(p.T("col.persons"))),
				h.Th(h.Scope("col"), h.Class("n"), g.Text(p.T("col.age"))),
				g.If(f.Status == referral.Waitlisted, h.Th(h.Scope("col"), g.Text(p.T("col.waits")))),
			)),
			h.TBody(rows),
		)),
		h.P(
			g.If(d.First, h.A(h.Href(func() string {
				v := queueFilterQuery(f).values()
				v.Set("lang", string(p.Lang))
				return HomePath + "?" + v.Encode()
			}()), g.Text(p.T("queue.first")))),
			g.If(d.First && d.Next != "", g.Text(" · ")),
			g.If(d.Next != "", h.A(h.Href(d.Next), h.ID("queue-next"), g.Text(p.T("queue.next")))),
		),
		h.P(h.A(h.Href(dashLink), h.ID("dashboard-link"), g.Text(p.T("nav.dashboard")+" "+streamName+" "+strconv.Itoa(f.Period)))),
		h.H2(h.ID("lookup-heading"), g.Text(p.T("lookup.heading"))),
		h.Form(h.Method("post"), h.Action(withLang(LookupPath, p.Lang)), h.Aria("labelledby", "lookup-heading"),
			p.csrfField(),
			h.Label(h.For("lookup-id"), g.Text(p.T("lookup.id"))),
			p.fieldError("lookup-id"),
			h.Input(h.Type("text"), h.ID("lookup-id"), h.Name("id"), h.AutoComplete("off"), h.Value(d.Lookup.Get("id")), p.invalid("lookup-id"), p.describedBy("lookup-id", false)),
			h.FieldSet(
				h.Legend(g.Text(p.T("lookup.or"))),
				h.Label(h.For("lookup-partner"), g.Text(p.T("lookup.partner"))),
				h.Select(h.ID("lookup-partner"), h.Name("partner"), lookupPartners),
				h.Label(h.For("lookup-reference"), g.Text(p.T("lookup.reference"))),
				h.Input(h.Type("text"), h.ID("lookup-reference"), h.Name("reference"), h.AutoComplete("off"), h.Value(d.Lookup.Get("reference"))),
			),
			h.Button(h.Type("submit"), h.Class("button"), h.ID("lookup-button"), g.Text(p.T("lookup.button"))),
		),
	}
}

func refLabel(e dynamostore.QueueEntry) string {
	if e.PartnerReference != "" {
		return e.PartnerReference
	}
	return e.ReferralID
}

func waitsLabel(p *page, reason string) string {
	if reason == "" {
		return ""
	}
	if _, ok := labels["waits."+reason]; ok {
		return p.T("waits." + reason)
	}
	return reason
}
