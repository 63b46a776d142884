package workspace

// The pages are built with gomponents, as the web form's are (no
// html/template: see shared/webform/pages.go). gomponents escapes every Text
// and attribute value; g.Raw is used only for the embedded CSS and for the
// SVG charts, which shared/report escapes as it draws them. Every href and
// action is a same-origin path built here; no personal data goes into one.

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	g "maragu.dev/gomponents"
	h "maragu.dev/gomponents/html"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/websession"
)

type pageError struct {
	ID   string // the element the summary links to
	Text string
}

type page struct {
	Lang      problem.Lang
	Title     string
	Nonce     string
	Session   *session
	CSRF      string
	SwitchURL string

	Errors      []pageError
	FieldErrors map[string]string
	Message     string
	// Both shows Message in the other language too (a refusal page, whose
	// reader may not read the page's language).
	Both    bool
	Expired bool
	Refresh string
	Notice  string

	Queue *queueData
	Case  *caseData
	Dash  *dashData
}

// newPage starts a page for r; s is the session, if any, and raw its cookie.
func (w *Workspace) newPage(r *apigw.Request, s *session, raw string) *page {
	p := &page{Lang: r.Lang, Nonce: websession.CSPNonce(), Session: s, FieldErrors: map[string]string{}}
	if s != nil {
		p.CSRF = w.keys().CSRFToken(raw)
	}
	other := problem.French
	if r.Lang == problem.French {
		other = problem.English
	}
	q := url.Values{}
	path := HomePath
	switch {
	case r.Method() == http.MethodGet && strings.HasPrefix(r.Event.RawPath, "/officer"):
		// The same page in the other language: its own path, its query.
		path = r.Event.RawPath
		for k, v := range r.Event.QueryStringParameters {
			if k != "lang" && k != "expired" && k != "code" && k != "state" {
				q.Set(k, v)
			}
		}
	case strings.HasPrefix(r.Event.RawPath, CasesPath) || strings.HasPrefix(r.Event.RawPath, PeriodsPath):
		path = r.Event.RawPath // a post answered in place: the page it posted from
	case r.Event.RawPath == SignInPath:
		path = SignInPath
	}
	q.Set("lang", string(other))
	p.SwitchURL = localPath(path) + "?" + q.Encode()
	return p
}

// localPath lets through only a path of the workspace.
func localPath(u string) string {
	if !strings.HasPrefix(u, "/officer") || strings.Contains(u, "//") || strings.Contains(u, `\`) {
		return HomePath
	}
	return u
}

func (p *page) T(key string) string { return T(p.Lang, key) }

func (w *Workspace) render(p *page, view func(*page) g.Node, status int) (apigw.Response, error) {
	var buf bytes.Buffer
	if err := p.document(view(p)).Render(&buf); err != nil {
		return apigw.Response{}, problem.Wrap(problem.Internal, err)
	}
	csp := "default-src 'none'; style-src 'nonce-" + p.Nonce + "'; img-src 'self'; form-action 'self'" +
		w.oidc.Config().FormAction() + "; frame-ancestors 'none'; base-uri 'none'"
	return apigw.Response{Status: status, Body: buf.Bytes(), Headers: map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Language":        string(p.Lang),
		"Content-Security-Policy": csp,
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}}, nil
}

func (w *Workspace) errorPage(r *apigw.Request, s *session, status int, key string) apigw.Response {
	raw := ""
	if s != nil {
		_, raw, _ = w.current(r)
		if raw == "" {
			s = nil
		}
	}
	p := w.newPage(r, s, raw)
	p.Title = T(r.Lang, "title.error")
	if status == http.StatusNotFound {
		p.Title = T(r.Lang, "title.not_found")
	}
	p.Message = T(r.Lang, key)
	resp, err := w.render(p, noticeView, status)
	if err != nil {
		return apigw.Response{Status: http.StatusInternalServerError}
	}
	return resp
}

// document is the layout every page shares.
func (p *page) document(content g.Node) g.Node {
	return h.Doctype(h.HTML(h.Lang(string(p.Lang)),
		h.Head(
			h.Meta(h.Charset("utf-8")),
			h.Meta(h.Name("viewport"), h.Content("width=device-width, initial-scale=1")),
			g.If(p.Refresh != "", h.Meta(g.Attr("http-equiv", "refresh"), h.Content("0; url="+localPath(p.Refresh)))),
			h.TitleEl(g.Text(p.Title+" – Haven")),
			h.StyleEl(g.Attr("nonce", p.Nonce), g.Raw(css)),
		),
		h.Body(
			h.A(h.Class("skip"), h.Href("#main"), g.Text(p.T("skip"))),
			h.Header(h.Class("header"),
				h.Div(h.Class("wrap header-inner"),
					h.P(h.Class("service"), g.Text(p.T("service"))),
					h.Nav(h.Aria("label", p.T("nav")), h.Class("header-nav"),
						g.If(p.Session != nil, g.Group{
							h.A(h.Href(withLang(HomePath, p.Lang)), g.Text(p.T("nav.queues"))),
						}),
						h.A(h.Href(p.SwitchURL), h.ID("lang-toggle"), h.Lang(p.T("lang.switchTag")), g.Attr("hreflang", p.T("lang.switchTag")), g.Text(p.T("lang.switch"))),
						p.account(),
					),
				),
			),
			h.Main(h.ID("main"), h.Class("wrap"), h.TabIndex("-1"), content),
			h.Footer(h.Class("footer"), h.Div(h.Class("wrap"), h.P(g.Text("Haven")))),
		),
	))
}

func (p *page) account() g.Node {
	if p.Session == nil {
		return nil
	}
	var roles []string
	for _, r := range p.Session.Roles {
		roles = append(roles, p.T("role."+r))
	}
	return g.Group{
		h.Span(h.Class("who"), g.Text(p.T("signed_in_as")+" "+strings.Join(roles, ", "))),
		h.Form(h.Method("post"), h.Action(withLang(SignOutPath, p.Lang)), h.Class("inline"),
			p.csrfField(),
			h.Button(h.Type("submit"), h.Class("link-button"), h.ID("sign-out"), g.Text(p.T("sign_out"))),
		),
	}
}

func (p *page) csrfField() g.Node {
	return h.Input(h.Type("hidden"), h.Name("csrf_token"), h.Value(p.CSRF))
}

// errorSummary lists the errors, each linking to its field; it takes focus
// on load through autofocus on its heading's container (no script needed).
func (p *page) errorSummary() g.Node {
	if len(p.Errors) == 0 {
		return nil
	}
	return h.Div(h.Class("error-summary"), h.ID("error-summary"), h.Role("alert"), h.TabIndex("-1"), g.Attr("autofocus"),
		h.Aria("labelledby", "error-summary-title"),
		h.H2(h.ID("error-summary-title"), g.Text(p.T("errors.heading"))),
		h.Ul(g.Map(p.Errors, func(e pageError) g.Node {
			return h.Li(h.A(h.Href("#"+url.PathEscape(e.ID)), g.Text(e.Text)))
		})),
	)
}

// fieldError is the message shown at a field, if any.
func (p *page) fieldError(id string) g.Node {
	m, ok := p.FieldErrors[id]
	if !ok {
		return nil
	}
	return h.P(h.Class("field-error"), h.ID(id+"-error"), h.Span(h.Class("visually-hidden"), g.Text(p.T("error.prefix")+" ")), g.Text(m))
}

// describedBy links a control to its hint and error.
func (p *page) describedBy(id string, hint bool) g.Node {
	var ids []string
	if hint {
		ids = append(ids, id+"-hint")
	}
	if _, ok := p.FieldErrors[id]; ok {
		ids = append(ids, id+"-error")
	}
	if len(ids) == 0 {
		return nil
	}
	return h.Aria("describedby", strings.Join(ids, " "))
}

func (p *page) invalid(id string) g.Node {
	if _, ok := p.FieldErrors[id]; ok {
		return h.Aria("invalid", "true")
	}
	return nil
}

// ---------------------------------------------------------------- small views

func signInView(p *page) g.Node {
	var roles g.Group
	for i, role := range devRoles {
		roles = append(roles, h.Div(h.Class("radio"),
			h.Input(h.Type("radio"), h.ID("role-"+role), h.Name("role"), h.Value(role), g.If(i == 0, h.Checked())),
			h.Label(h.For("role-"+role), g.Text(p.T("signin.as."+role))),
		))
	}
	return g.Group{
		p.errorSummary(),
		h.H1(g.Text(p.T("signin.heading"))),
		g.If(p.Expired, h.Div(h.Class("notice"), h.Role("status"), h.P(g.Text(p.T("signin.expired"))))),
		h.P(g.Text(p.T("signin.intro"))),
		h.Div(h.Class("warning"), h.P(g.Text(p.T("signin.dev")))),
		h.Form(h.Method("post"), h.Action(withLang(SignInPath, p.Lang)),
			h.FieldSet(h.ID("role"),
				h.Legend(g.Text(p.T("signin.role"))),
				p.fieldError("role"),
				roles,
			),
			h.Button(h.Type("submit"), h.Class("button"), h.ID("sign-in"), g.Text(p.T("signin.button"))),
		),
	}
}

func signedInView(p *page) g.Node {
	return g.Group{
		h.H1(g.Text(p.Title)),
		h.P(h.A(h.Href(localPath(p.Refresh)), g.Text(p.T("signed_in.continue")))),
	}
}

func noticeView(p *page) g.Node {
	other := problem.French
	if p.Lang == problem.French {
		other = problem.English
	}
	return g.Group{
		h.H1(g.Text(p.Title)),
		h.P(g.Text(p.Message)),
		g.If(p.Both, h.Div(h.Lang(string(other)),
			h.H2(g.Text(T(other, "title.staff_only"))),
			h.P(g.Text(T(other, "staff_only"))),
		)),
		g.If(p.Session != nil, h.P(h.A(h.Href(withLang(HomePath, p.Lang)), g.Text(p.T("back"))))),
	}
}

const css = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1rem;line-height:1.5;color:#0b0c0c;background:#fff}
.wrap{max-width:72rem;margin:0 auto;padding:0 1rem}
.skip{position:absolute;left:-999px;top:0;background:#fd0;color:#0b0c0c;padding:.5rem}
.skip:focus{left:0;z-index:10}
.header{background:#1d3557;color:#fff}
.header-inner{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;padding-top:.5rem;padding-bottom:.5rem}
.service{font-weight:700;margin:0}
.header-nav{display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
.header a,.header .link-button{color:#fff}
a{color:#1d4ed8}
a:focus,button:focus,input:focus,select:focus,.error-summary:focus,main:focus{outline:3px solid #fd0;outline-offset:0;box-shadow:0 0 0 5px #0b0c0c}
main:focus{box-shadow:none;outline:none}
.footer{border-top:1px solid #b1b4b6;margin-top:3rem;padding:1rem 0;color:#505a5f}
.inline{display:inline}
.link-button{background:none;border:0;padding:0;font:inherit;text-decoration:underline;cursor:pointer;color:#1d4ed8}
.button{background:#00703c;color:#fff;border:0;border-bottom:2px solid #002d18;padding:.5rem 1rem;font:inherit;cursor:pointer;margin-top:.5rem}
.button.secondary{background:#f3f2f1;color:#0b0c0c;border-bottom-color:#929191}
h1{font-size:1.8rem;margin:1.5rem 0 1rem}
h2{font-size:1.35rem;margin:2rem 0 .75rem}
h3{font-size:1.1rem;margin:1.25rem 0 .5rem}
label,legend{display:block;font-weight:600;margin:.75rem 0 .25rem}
.radio label,.check label{display:inline;font-weight:400;margin-left:.4rem}
.radio,.check{margin:.25rem 0}
input[type=text],input[type=number],input[type=date],select{display:block;font:inherit;padding:.35rem;border:2px solid #0b0c0c;min-width:12rem;max-width:100%}
fieldset{border:0;padding:0;margin:0 0 .5rem}
.hint{color:#505a5f;margin:.1rem 0 .3rem}
.field-error{color:#d4351c;font-weight:700;margin:.25rem 0}
[aria-invalid=true]{border-color:#d4351c}
.error-summary{border:4px solid #d4351c;padding:1rem;margin:1rem 0}
.error-summary a{color:#d4351c;font-weight:700}
.notice{border-left:6px solid #00703c;background:#f3f2f1;padding:.75rem 1rem;margin:1rem 0}
.warning{border-left:6px solid #f47738;background:#fff7f0;padding:.5rem 1rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
caption{text-align:left;font-weight:700;padding:.25rem 0}
th,td{border-bottom:1px solid #b1b4b6;padding:.4rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}
.tabs{display:flex;flex-wrap:wrap;gap:.25rem;list-style:none;padding:0;margin:0 0 1rem;border-bottom:2px solid #1d3557}
.tabs a{display:block;padding:.4rem .8rem;text-decoration:none;border:1px solid #b1b4b6;border-bottom:0}
.tabs a[aria-current=page]{background:#1d3557;color:#fff;font-weight:700}
.filters{display:flex;flex-wrap:wrap;gap:0 1.25rem;align-items:flex-end;background:#f3f2f1;padding:.5rem 1rem 1rem}
.filters label{margin-top:.25rem}
.tag{display:inline-block;padding:0 .4rem;font-weight:700;border:2px solid currentColor}
.tag.emergency{color:#942514;background:#fde8e4}
.tag.urgent{color:#6b3b00;background:#fff1cf}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem 2rem}
.action{border:1px solid #b1b4b6;padding:0 1rem 1rem;margin:1rem 0}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dl.summary dt{font-weight:600}
dl.summary dd{margin:0}
.tiles{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0;padding:0;list-style:none}
.tiles li{border:1px solid #b1b4b6;padding:.5rem .9rem;min-width:9rem}
.tiles .n{display:block;font-size:1.6rem;font-weight:700}
figure{margin:1rem 0;border:1px solid #ddd;padding:.8rem}
svg text{font-family:inherit;fill:#0b0c0c}
svg .k{font-size:12px} svg .v{font-size:11px} svg .l{font-size:12px}
`
