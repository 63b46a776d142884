package workspace_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/workspace"
)

type lambdaHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

const host = "127.0.0.1:3000"

// client is a browser without JavaScript: it keeps the session cookie and
// posts forms as they are on the page.
type client struct {
	t      *testing.T
	h      lambdaHandler
	cookie string
	logs   *bytes.Buffer
	env    *testenv.Env
	deps   *api.Deps
}

func newClient(t *testing.T, e *testenv.Env) *client {
	t.Helper()
	logs := &bytes.Buffer{}
	d := e.FunctionDeps(t, "officer-workspace", logs, nil)
	d.Web = api.WebConfig{SessionKey: []byte(strings.Repeat("s", 32)), DevSignIn: true}
	h, ok := workspace.Step(d).(lambdaHandler)
	if !ok {
		t.Fatalf("Step is %T", workspace.Step(d))
	}
	return &client{t: t, h: h, logs: logs, env: e, deps: d}
}

// routes maps a path to its template route key and path parameters.
func route(path string) (string, map[string]string) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[1] == "cases":
		return "/officer/cases/{id}", map[string]string{"id": parts[2]}
	case len(parts) == 4 && parts[1] == "periods":
		return "/officer/periods/{stream}/{year}", map[string]string{"stream": parts[2], "year": parts[3]}
	}
	return path, nil
}

func (c *client) do(method, target string, form url.Values) events.APIGatewayV2HTTPResponse {
	c.t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		c.t.Fatal(err)
	}
	rk, params := route(u.Path)
	q := map[string]string{}
	for k, v := range u.Query() {
		q[k] = v[0]
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + rk, RawPath: u.Path, RawQueryString: u.RawQuery, QueryStringParameters: q, PathParameters: params,
		Headers: map[string]string{"host": host, "accept": "text/html"},
	}
	if c.cookie != "" {
		ev.Cookies = []string{c.cookie}
	}
	if method == http.MethodPost {
		ev.Headers["content-type"] = "application/x-www-form-urlencoded"
		ev.Headers["origin"] = "http://" + host
		ev.Body = form.Encode()
	}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.RequestID = "req-test"
	resp, err := c.h(context.Background(), ev)
	if err != nil {
		c.t.Fatal(err)
	}
	if sc := resp.Headers["Set-Cookie"]; sc != "" {
		pair, _, _ := strings.Cut(sc, ";")
		if strings.Contains(sc, "Max-Age=0") {
			c.cookie = ""
		} else if strings.HasPrefix(pair, "haven_officer=") {
			c.cookie = pair
		}
	}
	return resp
}

// follow answers a 303 with the GET it points to.
func (c *client) follow(resp events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	c.t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("status %d, want 303\n%s", resp.StatusCode, text(resp.Body))
	}
	return c.do(http.MethodGet, resp.Headers["Location"], nil)
}

func (c *client) signIn(role string) {
	c.t.Helper()
	resp := c.follow(c.do(http.MethodPost, workspace.SignInPath+"?lang=en", url.Values{"role": {role}}))
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("after sign-in: %d", resp.StatusCode)
	}
}

var (
	inputRe = regexp.MustCompile(`<input[^>]*>`)
	attrRe  = regexp.MustCompile(`(\w+)="([^"]*)"`)
	tagRe   = regexp.MustCompile(`<[^>]+>`)
	spaceRe = regexp.MustCompile(`\s+`)
)

// formValues reads the hidden fields of the form with id formID.
func formValues(t *testing.T, page, formID string) url.Values {
	t.Helper()
	i := strings.Index(page, `id="`+formID+`"`)
	if i < 0 {
		t.Fatalf("no form %s on the page:\n%s", formID, text(page))
	}
	end := strings.Index(page[i:], "</form>")
	v := url.Values{}
	for _, in := range inputRe.FindAllString(page[i:i+end], -1) {
		attrs := map[string]string{}
		for _, m := range attrRe.FindAllStringSubmatch(in, -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		if attrs["type"] == "hidden" {
			v.Set(attrs["name"], attrs["value"])
		}
	}
	return v
}

// text is a page's visible text, for messages.
func text(page string) string {
	if i := strings.Index(page, "<body"); i >= 0 {
		page = page[i:]
	}
	return strings.TrimSpace(spaceRe.ReplaceAllString(html.UnescapeString(tagRe.ReplaceAllString(page, " ")), " "))
}

func createReferral(t *testing.T, e *testenv.Env, id, partner string, u referral.Urgency, family int) referral.Referral {
	t.Helper()
	now := e.Now()
	r := referral.Referral{
		Input: referral.Input{
			Stream: "hrd", PartnerReference: "REF-" + id, Urgency: u,
			Principal:         referral.Person{GivenName: "Minh", FamilyName: "Khai", DateOfBirth: "1985-03-14", Sex: "F", Nationality: "VNM"},
			CountryOfAsylum:   "THA",
			DefenderProfile:   referral.Profile{RightsAreas: []string{"land"}, Summary: "s"},
			Contact:           referral.Contact{Email: "a@example.org"},
			PreferredLanguage: "en", Consent: referral.Consent{Given: true, Date: "2026-01-01"},
		},
		ID: id, Partner: partner, Status: referral.Submitted, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	for i := 0; i < family; i++ {
		r.FamilyMembers = append(r.FamilyMembers, referral.Person{GivenName: "Kid", FamilyName: "Khai", DateOfBirth: "2015-06-01", Sex: "M", Relationship: "child"})
	}
	r.Persons = r.Input.Persons()
	ev := referral.Event{At: now, Action: referral.ActionCreated, ToStatus: referral.Submitted, ActorRole: "partner", Actor: "sub"}
	if _, err := e.Store.Create(context.Background(), r, ev, nil, now); err != nil {
		t.Fatal(err)
	}
	return r
}

func actions(t *testing.T, e *testenv.Env, id string) []string {
	t.Helper()
	evs, err := e.Store.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action+":"+string(ev.ToStatus))
	}
	return out
}

// TestOfficersDay: an officer screens, allocates, decides and records an
// arrival through the case page's forms, without JavaScript; each form
// posts through the API's step (a double submit makes one change), errors
// come back in place and change nothing, and every case page opened is an
// audited read.
func TestOfficersDay(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	year := testenv.Year()
	e.Seed(t, year, 10)
	r := createReferral(t, e, "01KDAY00000000000000000001", "front-line-defenders", referral.Urgent, 1)
	c := newClient(t, e)
	c.signIn("officer")

	queue := c.do(http.MethodGet, "/officer?lang=en&queue=submitted&stream=hrd", nil)
	if queue.StatusCode != 200 || !strings.Contains(queue.Body, "/officer/cases/"+r.ID) || !strings.Contains(text(queue.Body), "REF-"+r.ID) {
		t.Fatalf("screening queue:\n%s", text(queue.Body))
	}
	if strings.Contains(queue.Body, "Minh") {
		t.Error("a queue page shows a name")
	}

	casePath := "/officer/cases/" + r.ID + "?lang=en"
	submit := func(formID string, fields url.Values, times int) events.APIGatewayV2HTTPResponse {
		t.Helper()
		page := c.do(http.MethodGet, casePath, nil)
		if page.StatusCode != 200 {
			t.Fatalf("case page: %d\n%s", page.StatusCode, text(page.Body))
		}
		v := formValues(t, page.Body, formID)
		for k, vs := range fields {
			v[k] = vs
		}
		var resp events.APIGatewayV2HTTPResponse
		for i := 0; i < times; i++ {
			resp = c.do(http.MethodPost, casePath, v)
		}
		return resp
	}

	// A wrong date is refused in place: summary, message at the field, 400.
	bad := submit("form-screen", url.Values{"outcome": {"maybe"}}, 1)
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, `href="#screen-outcome"`) || !strings.Contains(bad.Body, `id="screen-outcome-error"`) {
		t.Fatalf("invalid outcome = %d\n%s", bad.StatusCode, text(bad.Body))
	}
	for _, step := range []struct {
		form   string
		fields url.Values
		want   referral.Status
	}{
		{"form-screen", url.Values{"outcome": {"eligible"}}, referral.Eligible},
		{"form-allocate", nil, referral.Allocated},
		{"form-decide", url.Values{"outcome": {"approved"}}, referral.Approved},
		{"form-arrival", url.Values{"arrived_on": {e.Now().In(quota.Location()).Format("2006-01-02")}}, referral.Arrived},
	} {
		resp := submit(step.form, step.fields, 2) // a double click
		done := c.follow(resp)
		if !strings.Contains(text(done.Body), "The referral is now: "+map[referral.Status]string{
			referral.Eligible: "Eligible", referral.Allocated: "Allocated", referral.Approved: "Approved", referral.Arrived: "Arrived"}[step.want]) {
			t.Fatalf("%s: the page does not show the new state:\n%s", step.form, text(done.Body))
		}
	}
	got := actions(t, e, r.ID)
	want := []string{"created:submitted", "screened:eligible", "allocated:allocated", "decided:approved", "arrived:arrived"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	reads, err := e.Store.Reads(context.Background(), r.ID)
	if err != nil || len(reads) < 5 || reads[0].ActorRole != "officer" || reads[0].Actor != "local-officer" {
		t.Errorf("audited reads: %d %+v %v", len(reads), reads, err)
	}
	final := c.do(http.MethodGet, casePath, nil)
	if !strings.Contains(final.Body, "No action is open for this referral") || !strings.Contains(text(final.Body), "Arrival recorded (Approved → Arrived)") {
		t.Errorf("arrived case page:\n%s", text(final.Body))
	}
	if strings.Contains(c.logs.String(), "Minh") || strings.Contains(c.logs.String(), "REF-"+r.ID) {
		t.Errorf("the log holds personal data or a partner reference:\n%s", c.logs.String())
	}
}

// TestCapacityRaisePromotes: an admin's capacity form refuses a capacity
// below what is held with a 409 in words and changes nothing; raising it
// promotes the waitlisted family, which the dashboard and the queues show.
func TestCapacityRaisePromotes(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	year := testenv.Year()
	e.Seed(t, year, 3)
	ctx := context.Background()
	holder := createReferral(t, e, "01KCAP00000000000000000001", "unhcr", referral.Normal, 2)
	waiting := createReferral(t, e, "01KCAP00000000000000000002", "front-line-defenders", referral.Emergency, 1)
	for _, id := range []string{holder.ID, waiting.ID} {
		for _, to := range []referral.Status{referral.Eligible, referral.Allocated} {
			if _, _, err := e.Store.Move(ctx, dynamostore.Step{ID: id, To: to, Period: year, ActorRole: "officer", Actor: "o", Nonce: id + string(to)},
				func(referral.Referral) (dynamostore.Idem, error) { return nil, nil }, e.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := newClient(t, e)
	c.signIn("admin")
	dash := "/officer/periods/hrd/" + itoa(year) + "?lang=en"
	page := c.do(http.MethodGet, dash, nil)
	if page.StatusCode != 200 || !strings.Contains(text(page.Body), "Waitlisted persons 2") || !strings.Contains(page.Body, "<svg") {
		t.Fatalf("dashboard:\n%s", text(page.Body))
	}
	wait := c.do(http.MethodGet, "/officer?lang=en&queue=waitlisted&stream=hrd&period="+itoa(year), nil)
	if !strings.Contains(text(wait.Body), "REF-"+waiting.ID) || !strings.Contains(text(wait.Body), "Stream full") {
		t.Fatalf("waitlist queue:\n%s", text(wait.Body))
	}
	for partner, want := range map[string]bool{"front-line-defenders": true, "unhcr": false} {
		q := c.do(http.MethodGet, "/officer?lang=en&queue=waitlisted&stream=hrd&urgency=emergency&partner="+partner+"&period="+itoa(year), nil)
		if strings.Contains(text(q.Body), "REF-"+waiting.ID) != want {
			t.Errorf("waitlist of %s shows the family: %v, want %v", partner, !want, want)
		}
	}

	v := formValues(t, page.Body, "capacity-form")
	v.Set("capacity", "2")
	low := c.do(http.MethodPost, dash, v)
	if low.StatusCode != http.StatusConflict || !strings.Contains(text(low.Body), "cannot go below the persons already holding") {
		t.Fatalf("capacity below committed = %d\n%s", low.StatusCode, text(low.Body))
	}
	if p, _ := e.Store.GetPeriod(ctx, "hrd", year); p.Capacity != 3 {
		t.Fatalf("capacity changed to %d", p.Capacity)
	}
	v = formValues(t, c.do(http.MethodGet, dash, nil).Body, "capacity-form")
	v.Set("capacity", "5")
	saved := c.follow(c.do(http.MethodPost, dash, v))
	if !strings.Contains(text(saved.Body), "Saved.") || !strings.Contains(text(saved.Body), "Waitlisted persons 0") || !strings.Contains(text(saved.Body), "Reserved 5") {
		t.Fatalf("after raising capacity:\n%s", text(saved.Body))
	}
	got, err := e.Store.Get(ctx, waiting.ID, "", dynamostore.Bare)
	if err != nil || got.Status != referral.Allocated {
		t.Fatalf("waiting family: %s %v", got.Status, err)
	}
	decision := c.do(http.MethodGet, "/officer?lang=en&queue=allocated&stream=hrd&period="+itoa(year), nil)
	if !strings.Contains(text(decision.Body), "REF-"+waiting.ID) {
		t.Errorf("decision queue does not show the promoted family:\n%s", text(decision.Body))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestRefusals: who may not use the workspace, and requests it refuses.
func TestRefusals(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	year := testenv.Year()
	e.Seed(t, year, 5)
	r := createReferral(t, e, "01KREF00000000000000000001", "unhcr", referral.Normal, 0)

	c := newClient(t, e)
	if resp := c.do(http.MethodGet, "/officer?lang=en", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Headers["Location"], workspace.SignInPath) {
		t.Errorf("no session: %d %v", resp.StatusCode, resp.Headers)
	}
	// A partner caseworker: a 403 in both languages, and no session.
	for _, lang := range []string{"en", "fr"} {
		resp := c.do(http.MethodPost, workspace.SignInPath+"?lang="+lang, url.Values{"role": {"partner"}})
		body := text(resp.Body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This workspace is for officers and administrators") ||
			!strings.Contains(body, "Cet espace est réservé aux agents et aux administrateurs") || c.cookie != "" ||
			!strings.Contains(resp.Body, `<html lang="`+lang+`"`) {
			t.Errorf("partner sign-in (%s) = %d, cookie %q\n%s", lang, resp.StatusCode, c.cookie, body)
		}
	}
	if resp := c.do(http.MethodPost, workspace.SignInPath+"?lang=en", url.Values{"role": {"root"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(resp.Body, `href="#role-officer"`) {
		t.Errorf("unknown role = %d", resp.StatusCode)
	}

	c.signIn("officer")
	casePath := "/officer/cases/" + r.ID + "?lang=en"
	v := formValues(t, c.do(http.MethodGet, casePath, nil).Body, "form-screen")
	v.Set("outcome", "eligible")
	bad := url.Values{}
	for k, vs := range v {
		bad[k] = vs
	}
	bad.Set("csrf_token", "forged")
	if resp := c.do(http.MethodPost, casePath, bad); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF token = %d", resp.StatusCode)
	}
	if got := actions(t, e, r.ID); len(got) != 1 {
		t.Errorf("a refused post changed the referral: %v", got)
	}
	// An officer is not an admin: the capacity form is not shown and its
	// post is refused.
	dash := "/officer/periods/hrd/" + itoa(year) + "?lang=en"
	page := c.do(http.MethodGet, dash, nil)
	if page.StatusCode != 200 || strings.Contains(page.Body, `id="capacity-form"`) {
		t.Errorf("officer's dashboard = %d, capacity form shown: %v", page.StatusCode, strings.Contains(page.Body, `id="capacity-form"`))
	}
	if resp := c.do(http.MethodPost, dash, url.Values{"csrf_token": {v.Get("csrf_token")}, "capacity": {"99"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("officer's capacity post = %d", resp.StatusCode)
	}
	for _, path := range []string{"/officer/cases/NOPE?lang=en", "/officer/cases/01KREF00000000000000000099", "/officer/periods/nope/" + itoa(year), "/officer/periods/hrd/abc"} {
		if resp := c.do(http.MethodGet, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}

	// Lookup: by id, by a partner's reference, or a 404 in place.
	csrf := v.Get("csrf_token")
	for _, c2 := range []struct {
		form url.Values
		want int
	}{
		{url.Values{"id": {r.ID}}, http.StatusSeeOther},
		{url.Values{"partner": {"unhcr"}, "reference": {"REF-" + r.ID}}, http.StatusSeeOther},
		{url.Values{"partner": {"front-line-defenders"}, "reference": {"REF-" + r.ID}}, http.StatusNotFound},
		{url.Values{"id": {"01KREF00000000000000000099"}}, http.StatusNotFound},
		{url.Values{}, http.StatusNotFound},
	} {
		c2.form.Set("csrf_token", csrf)
		resp := c.do(http.MethodPost, workspace.LookupPath+"?lang=en", c2.form)
		if resp.StatusCode != c2.want {
			t.Errorf("lookup %v = %d, want %d", c2.form, resp.StatusCode, c2.want)
		}
		if c2.want == http.StatusSeeOther && resp.Headers["Location"] != "/officer/cases/"+r.ID+"?lang=en" {
			t.Errorf("lookup %v went to %q", c2.form, resp.Headers["Location"])
		}
		if c2.want == http.StatusNotFound && !strings.Contains(resp.Body, `href="#lookup-id"`) {
			t.Errorf("lookup %v: no error summary", c2.form)
		}
	}

	// French: the same pages, every label from the table.
	for _, path := range []string{"/officer?lang=fr", casePath[:len(casePath)-3] + "=fr", dash[:len(dash)-3] + "=fr"} {
		resp := c.do(http.MethodGet, path, nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, `<html lang="fr">`) || strings.Contains(resp.Body, "[") && regexp.MustCompile(`\[[a-z_.]+\]`).MatchString(text(resp.Body)) {
			t.Errorf("GET %s = %d\n%s", path, resp.StatusCode, text(resp.Body))
		}
	}
	c.do(http.MethodPost, workspace.SignOutPath+"?lang=en", url.Values{"csrf_token": {csrf}})
	if c.cookie != "" {
		t.Error("sign-out kept the session")
	}
}

// TestSignInWithoutProvider: in AWS (no development sign-in) and with no
// identity provider configured, the sign-in page says so (503) and the
// development sign-in's post is not there.
func TestSignInWithoutProvider(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	c := newClient(t, e)
	c.deps.Web.DevSignIn = false
	h, ok := workspace.Step(c.deps).(lambdaHandler)
	if !ok {
		t.Fatal("no handler")
	}
	c.h = h
	if resp := c.do(http.MethodGet, workspace.SignInPath+"?lang=fr", nil); resp.StatusCode != http.StatusServiceUnavailable ||
		!strings.Contains(text(resp.Body), "La connexion n’est pas configurée") {
		t.Errorf("sign-in page = %d\n%s", resp.StatusCode, text(resp.Body))
	}
	if resp := c.do(http.MethodPost, workspace.SignInPath+"?lang=en", url.Values{"role": {"admin"}}); resp.StatusCode != http.StatusNotFound || c.cookie != "" {
		t.Errorf("development sign-in post = %d, cookie %q", resp.StatusCode, c.cookie)
	}
}

// TestQueueCounts: the filters show how many referrals and persons a queue
// holds (each urgency beside its choice), under the partner filter; the
// count is of the whole queue, not of the page.
func TestQueueCounts(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Seed(t, testenv.Year(), 10)
	for i, r := range []struct {
		partner string
		u       referral.Urgency
		family  int
	}{
		{"front-line-defenders", referral.Emergency, 2},
		{"front-line-defenders", referral.Normal, 0},
		{"unhcr", referral.Normal, 3},
		{"unhcr", referral.Urgent, 1},
		{"unhcr", referral.Normal, 0},
	} {
		createReferral(t, e, fmt.Sprintf("01KCNT0000000000000000000%d", i), r.partner, r.u, r.family)
	}
	c := newClient(t, e)
	c.signIn("officer")
	for _, tc := range []struct {
		query, count string
		options      []string
	}{
		{"", "5 shown on this page, of 5 referrals (11 persons) matching the filters.", []string{"Emergency (1)", "Urgent (1)", "Normal (3)"}},
		{"&urgency=normal", "3 shown on this page, of 3 referrals (6 persons) matching the filters.", []string{"Emergency Urgent Normal (3)"}},
		{"&partner=unhcr", "3 shown on this page, of 3 referrals (7 persons) matching the filters.", []string{"Emergency (0)", "Urgent (1)", "Normal (2)"}},
	} {
		page := c.do(http.MethodGet, "/officer?lang=en&queue=submitted&stream=hrd"+tc.query, nil)
		got := text(page.Body)
		if page.StatusCode != 200 || !strings.Contains(got, tc.count) {
			t.Errorf("%q: %d, want %q in\n%s", tc.query, page.StatusCode, tc.count, got)
		}
		for _, o := range tc.options {
			if !strings.Contains(got, o) {
				t.Errorf("%q: no option %q in\n%s", tc.query, o, got)
			}
		}
	}
	fr := c.do(http.MethodGet, "/officer?lang=fr&queue=submitted&stream=hrd", nil)
	if want := "5 affichées sur cette page, sur 5 recommandations (11 personnes) correspondant aux filtres."; !strings.Contains(text(fr.Body), want) {
		t.Errorf("French count: want %q in\n%s", want, text(fr.Body))
	}
}
