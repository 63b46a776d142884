package webform

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	g "maragu.dev/gomponents"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/websession"
)

// Paths of the pages. The template declares the same routes.
const (
	FormPath         = "/"
	SignInPath       = "/sign-in"
	SignOutPath      = "/sign-out"
	PostPath         = "/form/referrals"
	ConfirmationPath = "/confirmation"
)

// SessionTTL is how long a sign-in lasts (absolute, not sliding).
const SessionTTL = 4 * time.Hour

// Config is the web-form function's configuration.
type Config struct {
	// SessionKey seals session cookies and keys CSRF tokens (at least 32
	// bytes; SESSION_KEY, which the local runner and tests set).
	SessionKey []byte
	// SessionSecrets, used when SessionKey is empty (in AWS), returns the
	// secrets the keys are derived from instead (the sealer's session
	// keyset): the current one first, then the one a rotation retired. It
	// is called on the first request, not by New, and again after a
	// failure; while it fails, pages answer 503 and the log says why.
	SessionSecrets func() ([][]byte, error)
	// DevSignIn enables the development sign-in that lets anyone pick a
	// partner. Only the local runner sets it; template.yaml never does.
	DevSignIn bool
	// Partners are the partner ids offered by the development sign-in.
	Partners []string
	// Streams are the pathways offered in the form (ids; labels from the
	// catalog, "stream.<id>", falling back to the id).
	Streams []string
	// OIDC is the identity provider used in AWS.
	OIDC OIDC
	// Create is the create step of POST /referrals; the form runs exactly it.
	Create apigw.Step
	// Now is the clock (nil: the machine's).
	Now func() time.Time
	Log *slog.Logger
}

// Form is the web-form function.
type Form struct {
	cfg  Config
	sess websession.Lazy
	oidc *websession.Provider
}

// New checks cfg and returns the form.
func New(cfg Config) (*Form, error) {
	var keys *websession.Keys
	if len(cfg.SessionKey) > 0 || cfg.SessionSecrets == nil {
		var err error
		if keys, err = websession.NewKeys(cfg.SessionKey); err != nil {
			return nil, err
		}
	}
	if cfg.Create == nil {
		return nil, errors.New("webform: Create is required")
	}
	if cfg.Now == nil {
		cfg.Now = clock.System
	}
	if len(cfg.Streams) == 0 {
		cfg.Streams = []string{"hrd", "hrd-temporary"}
	}
	if len(cfg.Partners) == 0 {
		cfg.Partners = []string{"unhcr", "front-line-defenders", "protectdefenders-eu"}
	}
	f := &Form{cfg: cfg, oidc: websession.NewProvider(cfg.OIDC, cfg.Now)}
	if keys != nil {
		f.sess.Set(keys)
	} else {
		f.sess.Secret = cfg.SessionSecrets
	}
	return f, nil
}

// keys returns the session keys. Step has made sure they are there before
// any handler runs.
func (f *Form) keys() *websession.Keys { return f.sess.Load() }

// Step routes one request of the web-form function by its route key.
func (f *Form) Step(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	lang := pageLang(r)
	r.Lang = lang
	method := r.Method()
	if method == http.MethodPost && !sameOrigin(r) {
		return f.errorPage(r, http.StatusForbidden, "error.forbidden"), nil
	}
	if _, err := f.sess.Get(); err != nil {
		// In AWS the keys come from the sealer through KMS: a failure is
		// (most likely) passing, and the next request tries again. The
		// error names no secret.
		r.Log.Error("web session keys unavailable", "error", err.Error())
		return f.errorPage(r, http.StatusServiceUnavailable, "error.unavailable"), nil
	}
	switch method + " " + r.Event.RawPath {
	case "GET " + FormPath:
		return f.form(ctx, r)
	case "GET " + SignInPath:
		return f.signInPage(ctx, r)
	case "POST " + SignInPath:
		return f.signIn(ctx, r)
	case "POST " + SignOutPath:
		return f.signOut(ctx, r)
	case "POST " + PostPath:
		return f.post(ctx, r)
	case "GET " + ConfirmationPath:
		return f.confirmation(ctx, r)
	}
	return apigw.Response{}, problem.New(problem.NotFound)
}

// current returns the signed-in session and the raw cookie value, or ok false.
func (f *Form) current(r *apigw.Request) (s session, raw string, ok bool) {
	c := websession.For(r.Header("Host"))
	raw = websession.Value(r.Event.Cookies, c.Name(sessionCookieName))
	if raw == "" {
		return session{}, "", false
	}
	if err := f.keys().Open(c.Name(sessionCookieName), raw, &s); err != nil || !s.valid(f.cfg.Now()) {
		return session{}, "", false
	}
	return s, raw, true
}

func (s session) caller() apigw.Caller {
	return apigw.Caller{Subject: s.Subject, Roles: []apigw.Role{apigw.Partner}, Partner: s.Partner}
}

// ---------------------------------------------------------------- sign-in

func (f *Form) signInPage(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if !f.cfg.DevSignIn {
		return f.oidcStart(ctx, r)
	}
	p := f.newPage(r, "title.sign_in")
	p.Partners = f.cfg.Partners
	p.Expired = r.Event.QueryStringParameters["expired"] == "1"
	return f.render(p, signInView, http.StatusOK)
}

func (f *Form) signIn(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if !f.cfg.DevSignIn {
		return apigw.Response{}, problem.New(problem.NotFound)
	}
	v, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Field: "partner", Code: problem.CodeMalformed})
	}
	partner := v.Get("partner")
	if !slices.Contains(f.cfg.Partners, partner) {
		p := f.newPage(r, "title.sign_in")
		p.Partners = f.cfg.Partners
		p.Errors = []pageError{{ID: "partner-" + f.cfg.Partners[0], Text: FieldMessage(r.Lang, "partner", problem.CodeRequired)}}
		p.Title = T(r.Lang, "error.prefix") + " " + p.Title
		return f.render(p, signInView, http.StatusBadRequest)
	}
	return f.startSession(r, session{Partner: partner, Subject: "local-caseworker-" + partner})
}

func (f *Form) startSession(r *apigw.Request, s session) (apigw.Response, error) {
	cookie, err := f.sessionCookie(r, s)
	if err != nil {
		return apigw.Response{}, err
	}
	resp := redirect(withLang(FormPath, r.Lang))
	resp.Headers["Set-Cookie"] = cookie
	return resp, nil
}

// sessionCookie seals s into the Set-Cookie value of a new session: both
// sign-ins (development and OIDC) make sessions only through it.
func (f *Form) sessionCookie(r *apigw.Request, s session) (string, error) {
	s.Expires = f.cfg.Now().Add(SessionTTL).Unix()
	c := websession.For(r.Header("Host"))
	val, err := f.keys().Seal(c.Name(sessionCookieName), s)
	if err != nil {
		return "", problem.Wrap(problem.Internal, err)
	}
	return c.Set(c.Name(sessionCookieName), val, int(SessionTTL/time.Second), "Strict"), nil
}

func (f *Form) signOut(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	_, raw, ok := f.current(r)
	v, _ := url.ParseQuery(string(r.Body))
	if ok && !f.keys().CheckCSRF(raw, v.Get("csrf_token")) {
		return f.errorPage(r, http.StatusForbidden, "error.forbidden"), nil
	}
	c := websession.For(r.Header("Host"))
	resp := redirect(withLang(SignInPath, r.Lang))
	resp.Headers["Set-Cookie"] = c.Set(c.Name(sessionCookieName), "", -1, "Strict")
	return resp, nil
}

// ---------------------------------------------------------------- the form

func (f *Form) form(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	s, raw, ok := f.current(r)
	if !ok {
		return redirect(withLang(SignInPath, r.Lang)), nil
	}
	p := f.formPage(r, s, raw, url.Values{"urgency": {"normal"}, "stream": {f.cfg.Streams[0]}}, nil)
	resp, err := f.render(p, formView, http.StatusOK)
	if err == nil {
		// The OIDC sign-in's state cookie is done with once the session
		// works (the page that set the session could set only one cookie).
		if c := websession.For(r.Header("Host")); websession.Value(r.Event.Cookies, c.Name(oidcCookieName)) != "" {
			resp.Headers["Set-Cookie"] = c.Set(c.Name(oidcCookieName), "", -1, "Lax")
		}
	}
	return resp, err
}

// wantsJSON: the page's script posts with Accept: application/json.
func wantsJSON(r *apigw.Request) bool {
	return !r.WantsHTML() && strings.Contains(r.Header("Accept"), "json")
}

func (f *Form) post(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	s, raw, ok := f.current(r)
	if !ok {
		if wantsJSON(r) {
			return apigw.Response{}, problem.New(problem.Unauthenticated)
		}
		return redirect(withLang(SignInPath, r.Lang, "expired", "1")), nil
	}
	if r.MediaType() != "application/x-www-form-urlencoded" {
		return apigw.Response{}, problem.New(problem.UnsupportedMediaType)
	}
	values, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return apigw.Response{}, problem.Invalid(problem.FieldError{Code: problem.CodeMalformed})
	}
	if !f.keys().CheckCSRF(raw, values.Get("csrf_token")) {
		if wantsJSON(r) {
			return apigw.Response{}, problem.New(problem.Forbidden)
		}
		return f.errorPage(r, http.StatusForbidden, "error.forbidden"), nil
	}
	action := values.Get("action")
	delete(values, "action")
	delete(values, "lang")
	rows := memberRows(values)

	// Without JavaScript, adding and removing family rows are round trips;
	// so is switching language, with or without it.
	switch {
	case action == "lang-en" || action == "lang-fr":
		// The same form, every value (blank rows too) as it was, in the
		// other language: nothing is validated or created. Focus returns
		// to the toggle, where the user was.
		r.Lang = problem.Lang(strings.TrimPrefix(action, "lang-"))
		p := f.formPage(r, s, raw, renumber(values, rows), nil)
		p.Focus = "lang-toggle"
		return f.render(p, formView, http.StatusOK)
	case action == "add-member":
		if len(rows) < maxRows {
			rows = append(rows, map[string]string{})
		}
		p := f.formPage(r, s, raw, renumber(values, rows), nil)
		p.Focus = "family_members." + strconv.Itoa(len(rows)-1) + ".given_name"
		p.Announce = strings.Replace(T(r.Lang, "member.added"), "%d", strconv.Itoa(len(rows)), 1)
		return f.render(p, formView, http.StatusOK)
	case strings.HasPrefix(action, "remove-member-"):
		n, err := strconv.Atoi(strings.TrimPrefix(action, "remove-member-"))
		if err == nil && n >= 0 && n < len(rows) {
			rows = slices.Delete(rows, n, n+1)
		}
		p := f.formPage(r, s, raw, renumber(values, rows), nil)
		p.Focus = "add-member"
		p.Announce = T(r.Lang, "member.removed")
		return f.render(p, formView, http.StatusOK)
	}

	// Submit: blank rows are dropped and rows renumbered from 0, so that the
	// validator's field paths name the rows as the page shows them.
	kept := rows[:0:0]
	for _, row := range rows {
		if !blankRow(row) {
			kept = append(kept, row)
		}
	}
	values = renumber(values, kept)
	tidy(values)
	r.Body = []byte(values.Encode())
	r.Caller = s.caller()
	resp, err := f.cfg.Create(ctx, r)
	if err != nil {
		if wantsJSON(r) {
			return apigw.Response{}, err
		}
		e := problem.As(err)
		switch e.Kind {
		case problem.Validation, problem.DuplicateReferral:
		default:
			if e.Kind == problem.Internal || e.Kind == problem.Unavailable {
				r.Log.Error("web form post failed", "problem", string(e.Kind))
			}
			return f.errorPage(r, e.Kind.Status(), "error.internal"), nil
		}
		p := f.formPage(r, s, raw, values, e)
		return f.render(p, formView, e.Kind.Status())
	}
	if loc := resp.Headers["Location"]; resp.Status == http.StatusSeeOther && loc != "" {
		resp.Headers["Location"] = loc + "&lang=" + string(r.Lang)
	}
	return resp, nil
}

// tidy trims what people type around values and upper-cases country codes
// (the API takes only upper case), leaving the free-text summary alone.
func tidy(values url.Values) {
	for k, vs := range values {
		if k == "defender_profile.summary" || k == "csrf_token" {
			continue
		}
		for i, v := range vs {
			v = strings.TrimSpace(v)
			if k == "country_of_asylum" || strings.HasSuffix(k, ".nationality") {
				v = strings.ToUpper(v)
			}
			vs[i] = v
		}
	}
}

// ---------------------------------------------------------------- confirmation

func (f *Form) confirmation(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	s, raw, ok := f.current(r)
	if !ok {
		return redirect(withLang(SignInPath, r.Lang)), nil
	}
	p := f.newPage(r, "title.confirmation")
	p.Session, p.CSRF = &s, f.keys().CSRFToken(raw)
	p.ReferralID = r.Event.QueryStringParameters["id"]
	if !validID(p.ReferralID) {
		p.ReferralID = ""
	}
	return f.render(p, confirmationView, http.StatusOK)
}

// validID: Haven ids are ULIDs; anything else is not echoed back.
func validID(id string) bool {
	_, err := ulid.ParseStrict(id)
	return err == nil
}

// ---------------------------------------------------------------- rows

const maxRows = 30

var memberFields = []string{"given_name", "family_name", "date_of_birth", "sex", "nationality", "relationship"}

// memberRows takes the family rows out of values, in index order.
func memberRows(values url.Values) []map[string]string {
	byIdx := map[int]map[string]string{}
	for k, vs := range values {
		rest, ok := strings.CutPrefix(k, "family_members.")
		if !ok {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 || n > 999 || !slices.Contains(memberFields, field) {
			continue // left for DecodeForm to report
		}
		if byIdx[n] == nil {
			byIdx[n] = map[string]string{}
		}
		if len(vs) > 0 {
			byIdx[n][field] = vs[0]
		}
		delete(values, k)
	}
	idx := make([]int, 0, len(byIdx))
	for n := range byIdx {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	rows := make([]map[string]string, 0, len(idx))
	for _, n := range idx {
		rows = append(rows, byIdx[n])
	}
	return rows
}

func blankRow(row map[string]string) bool {
	for _, v := range row {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// renumber puts rows back into values as family_members.0 … n-1. Every field
// of a row is written, even empty, so that a blank row stays on the page.
func renumber(values url.Values, rows []map[string]string) url.Values {
	out := url.Values{}
	for k, vs := range values {
		if !strings.HasPrefix(k, "family_members.") {
			out[k] = vs
		}
	}
	for i, row := range rows {
		for _, fld := range memberFields {
			out.Set("family_members."+strconv.Itoa(i)+"."+fld, row[fld])
		}
	}
	return out
}

// ---------------------------------------------------------------- pages

//go:embed assets
var assets embed.FS

var (
	formJS  = mustRead("assets/form.js")
	formCSS = mustRead("assets/form.css")
)

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

type pageError struct {
	ID   string // the id of the element the summary links to
	Text string
}

type page struct {
	Lang      problem.Lang
	Title     string
	Nonce     string
	Session   *session
	CSRF      string
	SwitchURL string
	// LangAction, on the form, makes the language toggle a submit button of
	// the form ("lang-fr", "lang-en") instead of the SwitchURL link, so that
	// switching keeps what was typed.
	LangAction string

	// sign-in
	Partners []string
	Expired  bool

	// form
	Values         url.Values
	Rows           []int
	Streams        []string
	IdempotencyKey string
	Errors         []pageError
	FieldErrors    map[string]string
	Focus          string
	Announce       string
	MessagesJSON   string

	// confirmation
	ReferralID string
	// error page
	Message string
	// Refresh is a same-origin path the page moves on to (meta refresh).
	Refresh string
	// Back offers the link back to the form on a notice page.
	Back bool
}

func (f *Form) newPage(r *apigw.Request, titleKey string) *page {
	other := problem.French
	if r.Lang == problem.French {
		other = problem.English
	}
	q := url.Values{}
	for k, v := range r.Event.QueryStringParameters {
		if k != "lang" && k != "expired" {
			q.Set(k, v)
		}
	}
	q.Set("lang", string(other))
	path := r.Event.RawPath
	if r.Method() == http.MethodPost {
		path = FormPath // pages answering a post (error pages) link to a fresh form; the form itself switches with LangAction
		if r.Event.RawPath == SignInPath {
			path = SignInPath
		}
		q = url.Values{"lang": {string(other)}}
	}
	if path != SignInPath && path != ConfirmationPath {
		// Only paths of this form: a page answering before routing (503)
		// would otherwise link to whatever path was asked for ("//host").
		path = FormPath
	}
	return &page{
		Lang: r.Lang, Title: T(r.Lang, titleKey), Nonce: websession.CSPNonce(),
		SwitchURL: path + "?" + q.Encode(),
	}
}

func (f *Form) formPage(r *apigw.Request, s session, raw string, values url.Values, e *problem.Error) *page {
	title := "title.form"
	if e != nil {
		title = "title.form_errors"
	}
	p := f.newPage(r, title)
	p.Session, p.CSRF = &s, f.keys().CSRFToken(raw)
	p.Values = values
	p.Streams = f.cfg.Streams
	p.IdempotencyKey = ulid.Make().String()
	p.FieldErrors = map[string]string{}
	for i := range memberRows(cloneValues(values)) {
		p.Rows = append(p.Rows, i)
	}
	if e != nil {
		p.Errors, p.FieldErrors = pageErrors(r.Lang, e, len(p.Rows))
	}
	msgs, _ := json.Marshal(clientMessages(r.Lang))
	p.MessagesJSON = string(msgs)
	p.LangAction = "lang-" + T(r.Lang, "lang.switchTag")
	return p
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// pageErrors turns a problem into the summary entries and per-field messages.
func pageErrors(lang problem.Lang, e *problem.Error, rows int) ([]pageError, map[string]string) {
	fields := map[string]string{}
	var list []pageError
	addErr := func(field, text string) {
		id := FieldID(field)
		if _, dup := fields[id]; dup {
			return
		}
		fields[id] = text
		list = append(list, pageError{ID: id, Text: summaryText(lang, id, text)})
	}
	if e.Kind == problem.DuplicateReferral {
		addErr("partner_reference", T(lang, "error.duplicate")+" ("+e.Extra["existing_id"]+").")
		return list, fields
	}
	for _, fe := range e.Fields {
		addErr(fe.Field, FieldMessage(lang, fe.Field, fe.Code))
	}
	return list, fields
}

// labelKeys name the catalog label of each field (by the last part of its id).
var labelKeys = map[string]string{
	"stream": "stream", "partner_reference": "partner_reference", "urgency": "urgency",
	"given_name": "given_name", "family_name": "family_name", "date_of_birth": "date_of_birth",
	"sex": "sex", "nationality": "nationality", "relationship": "relationship",
	"country_of_asylum": "country_of_asylum", "defender_profile.rights_areas": "rights_areas",
	"defender_profile.summary": "summary", "contact.email": "email", "contact.phone": "phone",
	"contact.preferred_channel": "preferred_channel", "preferred_language": "preferred_language",
	"consent.given": "sec.consent", "consent.date": "consent.date", "family_members": "family_members",
}

// summaryText is an error summary entry: which field, then what is wrong
// ("Family member 2, Date of birth: Enter a real date…"), since the same
// message ("This field is required.") can apply to many fields. The page's
// script builds the same text from the labels on the page.
func summaryText(lang problem.Lang, id, msg string) string {
	label := ""
	if key, ok := labelKeys[id]; ok {
		label = T(lang, key)
	} else if rest, ok := strings.CutPrefix(id, "principal."); ok {
		label = T(lang, labelKeys[rest])
	} else if rest, ok := strings.CutPrefix(id, "family_members."); ok {
		idx, field, _ := strings.Cut(rest, ".")
		n, _ := strconv.Atoi(idx)
		label = strings.Replace(T(lang, "member"), "%d", strconv.Itoa(n+1), 1) + ", " + strings.ToLower(T(lang, labelKeys[field]))
	}
	if label == "" || strings.HasPrefix(label, "[") {
		return msg
	}
	if lang == problem.French {
		return label + "\u00a0: " + msg
	}
	return label + ": " + msg
}

// FieldID is the id of the element that shows the error for an API field
// path: list items go to their list, "contact" to the email field, a stream
// error to the pathway choice. The page's script does the same mapping.
func FieldID(field string) string {
	switch {
	case strings.HasPrefix(field, "defender_profile.rights_areas"):
		return "defender_profile.rights_areas"
	case field == "contact":
		return "contact.email"
	case field == "family_members" || field == "":
		return "family_members"
	}
	return field
}

// clientMessages are the texts the page's script needs, in the page's language.
func clientMessages(lang problem.Lang) map[string]string {
	m := map[string]string{
		"errors.heading": T(lang, "errors.heading"), "errors.intro": T(lang, "errors.intro"),
		"error.prefix": T(lang, "error.prefix"), "member": T(lang, "member"),
		"member.remove": T(lang, "member.remove"), "member.added": T(lang, "member.added"),
		"member.removed": T(lang, "member.removed"), "persons.one": T(lang, "persons.one"),
		"persons.two": T(lang, "persons.two"), "persons.many": T(lang, "persons.many"),
		"sending": T(lang, "sending"), "title.form_errors": T(lang, "title.form_errors"),
		"error.internal": T(lang, "error.internal"), "signin.expired": T(lang, "signin.expired"),
		"error.duplicate": T(lang, "error.duplicate"), "error.forbidden": T(lang, "error.forbidden"),
	}
	for _, c := range problem.FieldCodes() {
		m["code."+c] = FieldMessage(lang, "", c)
	}
	for k := range fieldOverrides {
		field, code, _ := strings.Cut(k, "|")
		m["override."+k] = FieldMessage(lang, field, code)
	}
	return m
}

func (f *Form) errorPage(r *apigw.Request, status int, key string) apigw.Response {
	p := f.newPage(r, "title.error")
	p.Message = T(r.Lang, key)
	resp, err := f.render(p, errorView, status)
	if err != nil {
		return apigw.Response{Status: http.StatusInternalServerError}
	}
	return resp
}

func (f *Form) render(p *page, view func(*page) g.Node, status int) (apigw.Response, error) {
	var buf bytes.Buffer
	if err := p.document(view(p)).Render(&buf); err != nil {
		return apigw.Response{}, problem.Wrap(problem.Internal, err)
	}
	csp := "default-src 'none'; script-src 'nonce-" + p.Nonce + "'; style-src 'nonce-" + p.Nonce + "'; " +
		"connect-src 'self'; img-src 'self'; form-action 'self'" + f.cfg.OIDC.FormAction() + "; frame-ancestors 'none'; base-uri 'none'"
	return apigw.Response{Status: status, Body: buf.Bytes(), Headers: map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Language":        string(p.Lang),
		"Content-Security-Policy": csp,
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}}, nil
}

var (
	pageLang   = websession.PageLang
	sameOrigin = websession.SameOrigin
	withLang   = websession.WithLang
	redirect   = websession.Redirect
)
