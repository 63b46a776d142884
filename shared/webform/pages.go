package webform

// The pages are built in Go with gomponents rather than html/template:
// executing a template calls reflect.Value.MethodByName, after which the
// linker keeps every exported method of every reachable type, and that cost
// the function several MB. gomponents escapes every Text and attribute value;
// g.Raw is used only for the embedded CSS and script and for JSON that
// encoding/json has already made safe inside <script> (it escapes <, > and &).
// Every href and action is a same-origin path built here.

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	g "maragu.dev/gomponents"
	h "maragu.dev/gomponents/html"

	"github.com/haven-hrd/haven/shared/problem"
)

// document is the layout every page shares: head, header with the language
// toggle and the account, then the page's own content in <main>.
func (p *page) document(content g.Node) g.Node {
	referrer := "same-origin"
	if p.Refresh != "" {
		referrer = "no-referrer"
	}
	navLabel := "Language and account"
	if p.Lang == problem.French {
		navLabel = "Langue et compte"
	}
	return h.Doctype(h.HTML(h.Lang(string(p.Lang)),
		h.Head(
			h.Meta(h.Charset("utf-8")),
			h.Meta(h.Name("viewport"), h.Content("width=device-width, initial-scale=1")),
			h.Meta(h.Name("referrer"), h.Content(referrer)),
			g.If(p.Refresh != "", h.Meta(g.Attr("http-equiv", "refresh"), h.Content("0; url="+localPath(p.Refresh)))),
			h.TitleEl(g.Text(p.Title+" – Haven")),
			h.StyleEl(g.Attr("nonce", p.Nonce), g.Raw(formCSS)),
		),
		h.Body(
			h.A(h.Class("skip"), h.Href("#main"), g.Text(p.T("skip"))),
			h.Header(h.Class("header"),
				h.Div(h.Class("wrap header-inner"),
					h.P(h.Class("service"), g.Text(p.T("service"))),
					h.Nav(h.Class("header-nav"), h.Aria("label", navLabel), p.langToggle(), p.account()),
				),
			),
			h.Main(h.ID("main"), h.Class("wrap"), h.TabIndex("-1"), content),
			h.Footer(h.Class("footer"), h.Div(h.Class("wrap"), h.P(g.Text("Haven")))),
		),
	))
}

// localPath lets through only a path on this origin; anything else (a
// scheme, "//host", "/\host") becomes the form's own path.
func localPath(u string) string {
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.HasPrefix(u, `/\`) {
		return FormPath
	}
	return u
}

func (p *page) langToggle() g.Node {
	tag := p.T("lang.switchTag")
	if p.LangAction == "" {
		return h.A(h.Href(localPath(p.SwitchURL)), h.Lang(tag), g.Attr("hreflang", tag), g.Text(p.T("lang.switch")))
	}
	// The toggle submits the form (values kept). Enter in a field presses
	// the form's default button, the first submit button it owns in tree
	// order: this hidden one, ahead of the toggle, rather than the toggle or
	// a row's add/remove button.
	return g.Group{
		h.Button(h.Type("submit"), h.FormAttr("referral-form"), g.Attr("hidden"), h.TabIndex("-1")),
		h.Button(h.Type("submit"), h.FormAttr("referral-form"), h.Class("link-button"), h.ID("lang-toggle"),
			h.Name("action"), h.Value(p.LangAction), h.FormNoValidate(), h.Lang(tag),
			g.If(p.Focus == "lang-toggle", h.AutoFocus()), g.Text(p.T("lang.switch"))),
	}
}

func (p *page) account() g.Node {
	if p.Session == nil {
		return nil
	}
	return g.Group{
		h.Span(h.Class("who"), g.Text(p.T("signed_in_as")+" "+p.PartnerName(p.Session.Partner))),
		h.Form(h.Method("post"), h.Action(withLang(SignOutPath, p.Lang)), h.Class("inline"),
			h.Input(h.Type("hidden"), h.Name("csrf_token"), h.Value(p.CSRF)),
			h.Button(h.Type("submit"), h.Class("link-button"), g.Text(p.T("sign_out"))),
		),
	}
}

// errorSummary lists the errors, each linking to its field.
func (p *page) errorSummary(intro bool) g.Node {
	return h.Div(h.Class("error-summary"), h.ID("error-summary"), h.Role("alert"), h.TabIndex("-1"), h.Aria("labelledby", "error-summary-title"),
		h.H2(h.Class("error-summary-title"), h.ID("error-summary-title"), g.Text(p.T("errors.heading"))),
		g.If(intro, h.P(g.Text(p.T("errors.intro")))),
		h.Ul(h.Class("error-summary-list"), g.Map(p.Errors, func(e pageError) g.Node {
			// The id may name a field the request made up: escaped as
			// html/template did, and a fragment cannot leave the page.
			return h.Li(h.A(h.Href("#"+url.PathEscape(e.ID)), g.Text(e.Text)))
		})),
	)
}

// backLink is the link to a fresh form in the page's language.
func (p *page) backLink(key string, attrs ...g.Node) g.Node {
	return h.P(h.A(h.Href(withLang(FormPath, p.Lang)), g.Group(attrs), g.Text(p.T(key))))
}

// ---------------------------------------------------------------- views

func signInView(p *page) g.Node {
	var partners g.Group
	for i, id := range p.Partners {
		partners = append(partners, h.Div(h.Class("radio"),
			h.Input(h.Type("radio"), h.ID("partner-"+id), h.Name("partner"), h.Value(id), g.If(i == 0, h.Checked())),
			h.Label(h.For("partner-"+id), g.Text(p.PartnerName(id))),
		))
	}
	return g.Group{
		g.If(len(p.Errors) > 0, p.errorSummary(false)),
		h.H1(g.Text(p.T("signin.heading"))),
		g.If(p.Expired, h.Div(h.Class("notice"), h.Role("status"), h.P(g.Text(p.T("signin.expired"))))),
		h.P(h.Class("lead"), g.Text(p.T("signin.intro"))),
		h.Div(h.Class("warning-text"), h.P(g.Text(p.T("signin.dev")))),
		h.Form(h.Method("post"), h.Action(withLang(SignInPath, p.Lang)),
			h.FieldSet(h.Class("fieldset"),
				h.Legend(h.Class("legend"), g.Text(p.T("signin.partner"))),
				h.Div(h.Class("radios"), partners),
			),
			h.Button(h.Type("submit"), h.Class("button"), h.ID("sign-in"), g.Text(p.T("signin.button"))),
		),
	}
}

func confirmationView(p *page) g.Node {
	if p.ReferralID == "" {
		return g.Group{
			h.H1(g.Text(p.T("title.confirmation"))),
			h.P(g.Text(p.T("confirm.missing"))),
			p.backLink("confirm.another", h.ID("another")),
		}
	}
	return g.Group{
		h.Div(h.Class("panel"),
			h.H1(h.Class("panel-title"), g.Text(p.T("confirm.panel"))),
			h.P(h.Class("panel-body"), g.Text(p.T("confirm.id")), h.Br(), h.Strong(h.ID("referral-id"), g.Text(p.ReferralID))),
		),
		h.H2(g.Text(p.T("confirm.next"))),
		h.P(g.Text(p.T("confirm.next1"))),
		h.P(g.Text(p.T("confirm.keep"))),
		p.backLink("confirm.another", h.ID("another")),
	}
}

func errorView(p *page) g.Node {
	return g.Group{
		h.H1(g.Text(p.T("title.error"))),
		h.P(g.Text(p.Message)),
		p.backLink("error.back"),
	}
}

func signedInView(p *page) g.Node {
	return g.Group{
		h.H1(g.Text(p.T("signin.done"))),
		h.P(h.A(h.Href(localPath(p.Refresh)), h.ID("continue"), g.Text(p.T("signin.continue")))),
	}
}

func noticeView(p *page) g.Node {
	return g.Group{
		h.H1(g.Text(p.Title)),
		h.P(g.Text(p.Message)),
		g.If(p.Back, p.backLink("error.back")),
	}
}

func formView(p *page) g.Node {
	return g.Group{
		h.Div(h.ID("error-summary-slot"), g.If(len(p.Errors) > 0, p.errorSummary(true))),
		h.H1(g.Text(p.T("title.form"))),
		h.P(h.Class("lead"), g.Text(p.T("intro"))),
		h.P(h.Class("visually-hidden"), h.ID("announce"), h.Role("status"), h.Aria("live", "polite"), g.Text(p.Announce)),
		h.Form(h.ID("referral-form"), h.Method("post"), h.Action(withLang(PostPath, p.Lang)), g.Attr("novalidate"),
			h.Data("focus", p.Focus), h.Data("lang", string(p.Lang)),
			h.Input(h.Type("hidden"), h.Name("csrf_token"), h.Value(p.CSRF)),
			h.Input(h.Type("hidden"), h.Name("idempotency_key"), h.Value(p.IdempotencyKey)),
			p.referralSection(),
			p.principalSection(),
			p.familySection(),
			h.Section(h.Aria("labelledby", "sec-asylum"),
				h.H2(h.ID("sec-asylum"), g.Text(p.T("sec.asylum"))),
				p.textField(p.field("country_of_asylum", "country_of_asylum", "country.hint", "country")),
			),
			p.profileSection(),
			h.Section(h.Aria("labelledby", "sec-contact"),
				h.H2(h.ID("sec-contact"), g.Text(p.T("sec.contact"))),
				h.P(h.Class("hint"), h.ID("contact-hint"), g.Text(p.T("contact.hint"))),
				p.textField(p.field("contact.email", "email", "", "email", "optional")),
				p.textField(p.field("contact.phone", "phone", "phone.hint", "tel", "optional")),
				p.selectField(p.choice("contact.preferred_channel", "preferred_channel", "", true,
					"email=channel.email", "phone=channel.phone", "signal=channel.signal", "whatsapp=channel.whatsapp", "other=channel.other")),
				p.selectField(p.choice("preferred_language", "preferred_language", "", true, "en=language.en", "fr=language.fr")),
			),
			p.consentSection(),
			h.Button(h.Type("submit"), h.Class("button"), h.ID("submit"), g.Text(p.T("submit"))),
		),
		// The script copies this row for each member it adds, replacing
		// __i__ and __n__ with the row's index and number.
		h.Template(h.ID("member-template"), p.member("__i__", "__n__")),
		h.Script(h.Type("application/json"), h.ID("messages"), g.Attr("nonce", p.Nonce), g.Raw(p.MessagesJSON)),
		h.Script(g.Attr("nonce", p.Nonce), g.Raw(formJS)),
	}
}

// group is the box around one question, marked when it has an error.
func (p *page) group(id string, children ...g.Node) g.Node {
	class := "group"
	if p.Err(id) != "" {
		class += " group-error"
	}
	return h.Div(h.Class(class), h.Data("field", id), g.Group(children))
}

func invalid(err string) g.Node { return g.If(err != "", h.Aria("invalid", "true")) }

func (p *page) referralSection() g.Node {
	stream := p.choice("stream", "stream", "stream.hint", false)
	return h.Section(h.Aria("labelledby", "sec-referral"),
		h.H2(h.ID("sec-referral"), g.Text(p.T("sec.referral"))),
		p.group("stream",
			h.Label(h.Class("label"), h.For("stream"), g.Text(p.T("stream"))),
			h.P(h.Class("hint"), h.ID("stream-hint"), g.Text(p.T("stream.hint"))),
			fieldError(stream),
			h.Select(h.Class("select"), h.ID("stream"), h.Name("stream"), h.Aria("describedby", "stream-hint stream-error"),
				g.Attr("data-required"), invalid(p.Err("stream")),
				g.Map(p.Streams, func(s string) g.Node {
					return h.Option(h.Value(s), g.If(p.Has("stream", s), h.Selected()), g.Text(p.StreamName(s)))
				}),
			),
		),
		p.textField(p.field("partner_reference", "partner_reference", "partner_reference.hint", "code")),
		p.group("urgency",
			h.FieldSet(h.Class("fieldset"), h.Aria("describedby", "urgency-error"),
				h.Legend(h.Class("legend"), g.Text(p.T("urgency"))),
				fieldError(p.field("urgency", "urgency", "")),
				h.Div(h.Class("radios"), g.Map(urgencies, func(u string) g.Node {
					id := choiceID("urgency", u, u == urgencies[0])
					return h.Div(h.Class("radio"),
						h.Input(h.Type("radio"), h.ID(id), h.Name("urgency"), h.Value(u), g.If(p.Has("urgency", u), h.Checked()),
							h.Aria("describedby", "urgency-"+u+"-hint")),
						h.Label(h.For(id), g.Text(p.T("urgency."+u))),
						h.P(h.Class("hint radio-hint"), h.ID("urgency-"+u+"-hint"), g.Text(p.T("urgency."+u+".hint"))),
					)
				})),
			),
		),
	)
}

func (p *page) principalSection() g.Node {
	return h.Section(h.Aria("labelledby", "sec-principal"),
		h.H2(h.ID("sec-principal"), g.Text(p.T("sec.principal"))),
		p.textField(p.field("principal.given_name", "given_name", "name.hint", "name")),
		p.textField(p.field("principal.family_name", "family_name", "", "name")),
		p.textField(p.field("principal.date_of_birth", "date_of_birth", "date.hint", "date")),
		p.group("principal.sex",
			h.FieldSet(h.Class("fieldset"), h.Aria("describedby", "principal.sex-hint principal.sex-error"),
				h.Legend(h.Class("legend"), g.Text(p.T("sex"))),
				h.P(h.Class("hint"), h.ID("principal.sex-hint"), g.Text(p.T("sex.hint"))),
				fieldError(p.field("principal.sex", "sex", "")),
				h.Div(h.Class("radios radios-inline"), g.Map(sexes, func(s string) g.Node {
					id := choiceID("principal.sex", s, s == sexes[0])
					return h.Div(h.Class("radio"),
						h.Input(h.Type("radio"), h.ID(id), h.Name("principal.sex"), h.Value(s), g.If(p.Has("principal.sex", s), h.Checked())),
						h.Label(h.For(id), g.Text(p.T("sex."+s))),
					)
				})),
			),
		),
		p.textField(p.field("principal.nationality", "nationality", "country.hint", "country")),
	)
}

func (p *page) familySection() g.Node {
	return h.Section(h.Aria("labelledby", "sec-family"), h.ID("family_members"), h.TabIndex("-1"),
		h.H2(h.ID("sec-family"), g.Text(p.T("sec.family"))),
		fieldError(p.field("family_members", "family_members", "")),
		h.P(h.Class("hint"), h.ID("members-none"), g.If(len(p.Rows) > 0, g.Attr("hidden")), g.Text(p.T("member.none"))),
		h.Div(h.ID("members"), g.Map(p.Rows, func(i int) g.Node {
			return p.member(strconv.Itoa(i), strconv.Itoa(i+1))
		})),
		h.Button(h.Type("submit"), h.Class("button secondary"), h.ID("add-member"), h.Name("action"), h.Value("add-member"),
			h.FormNoValidate(), g.Text(p.T("member.add"))),
		h.P(h.Class("persons"), h.ID("persons"), h.Aria("live", "polite"), g.Text(personsText(p.Lang, len(p.Rows)))),
	)
}

// member is a family row: index in its field names, num where people read
// it (one more than index).
func (p *page) member(index, num string) g.Node {
	name := func(field string) string { return "family_members." + index + "." + field }
	return h.FieldSet(h.Class("fieldset member"), h.Data("member", index),
		h.Legend(h.Class("legend member-legend"), g.Text(strings.Replace(p.T("member"), "%d", num, 1))),
		p.textField(p.field(name("given_name"), "given_name", "", "name")),
		p.textField(p.field(name("family_name"), "family_name", "", "name")),
		p.textField(p.field(name("date_of_birth"), "date_of_birth", "date.hint", "date")),
		p.selectField(p.choice(name("sex"), "sex", "", false, "F=sex.F", "M=sex.M", "X=sex.X")),
		p.selectField(p.choice(name("relationship"), "relationship", "", false,
			"spouse=relationship.spouse", "partner=relationship.partner", "child=relationship.child",
			"parent=relationship.parent", "sibling=relationship.sibling", "other-dependant=relationship.other-dependant")),
		p.textField(p.field(name("nationality"), "nationality", "country.hint", "country", "optional")),
		h.Button(h.Type("submit"), h.Class("button warning remove-member"), h.Name("action"), h.Value("remove-member-"+index),
			h.FormNoValidate(), g.Text(strings.Replace(p.T("member.remove"), "%d", num, 1))),
	)
}

func (p *page) profileSection() g.Node {
	sum := p.field("defender_profile.summary", "summary", "summary.hint", "optional")
	return h.Section(h.Aria("labelledby", "sec-profile"),
		h.H2(h.ID("sec-profile"), g.Text(p.T("sec.profile"))),
		p.group("defender_profile.rights_areas",
			h.FieldSet(h.Class("fieldset"), h.Aria("describedby", "defender_profile.rights_areas-hint defender_profile.rights_areas-error"),
				h.Legend(h.Class("legend"), g.Text(p.T("rights_areas"))),
				h.P(h.Class("hint"), h.ID("defender_profile.rights_areas-hint"), g.Text(p.T("rights_areas.hint"))),
				fieldError(p.field("defender_profile.rights_areas", "rights_areas", "")),
				h.Div(h.Class("checkboxes columns"), g.Map(rightsAreas, func(a string) g.Node {
					id := choiceID("defender_profile.rights_areas", a, a == rightsAreas[0])
					return h.Div(h.Class("checkbox"),
						h.Input(h.Type("checkbox"), h.ID(id), h.Name("defender_profile.rights_areas"), h.Value(a),
							g.If(p.Has("defender_profile.rights_areas", a), h.Checked())),
						h.Label(h.For(id), g.Text(p.T("ra."+a))),
					)
				})),
			),
		),
		p.group(sum.ID,
			h.Label(h.Class("label"), h.For(sum.ID), g.Text(sum.Label+" "), h.Span(h.Class("optional"), g.Text(sum.OptionalText))),
			hint(sum),
			fieldError(sum),
			h.Textarea(h.Class("textarea"), h.ID(sum.ID), h.Name(sum.ID), h.Rows("6"), h.MaxLength("4000"),
				h.Aria("describedby", sum.ID+"-hint "+sum.ID+"-error"), invalid(sum.Err), g.Text(sum.Value)),
		),
	)
}

func (p *page) consentSection() g.Node {
	return h.Section(h.Aria("labelledby", "sec-consent"),
		h.H2(h.ID("sec-consent"), g.Text(p.T("sec.consent"))),
		p.group("consent.given",
			fieldError(p.field("consent.given", "consent.given", "")),
			h.Div(h.Class("checkbox"),
				h.Input(h.Type("checkbox"), h.ID("consent.given"), h.Name("consent.given"), h.Value("true"),
					g.If(p.Has("consent.given", "true"), h.Checked()),
					h.Aria("describedby", "consent.given-hint consent.given-error"), invalid(p.Err("consent.given"))),
				h.Label(h.For("consent.given"), g.Text(p.T("consent.given"))),
				h.P(h.Class("hint radio-hint"), h.ID("consent.given-hint"), g.Text(p.T("consent.given.hint"))),
			),
		),
		p.textField(p.field("consent.date", "consent.date", "date.hint", "date")),
	)
}

// choiceID: the first radio or checkbox of a question has the question's id,
// so that the error summary's link lands on it.
func choiceID(name, value string, first bool) string {
	if first {
		return name
	}
	return name + "-" + value
}

var (
	sexes       = []string{"F", "M", "X"}
	urgencies   = []string{"normal", "urgent", "emergency"}
	rightsAreas = []string{"journalism", "lgbtqi", "women", "environment", "land", "indigenous",
		"labour", "anti-corruption", "democracy", "minority", "other"}
)

// ---------------------------------------------------------------- fields

// T is catalog text in the page's language.
func (p *page) T(key string) string { return T(p.Lang, key) }

// Has reports whether value is among the kept values of name.
func (p *page) Has(name, value string) bool { return slices.Contains(p.Values[name], value) }

// Err is the message for the field with id, or "".
func (p *page) Err(id string) string { return p.FieldErrors[id] }

// PartnerName is a partner's display name.
func (p *page) PartnerName(id string) string {
	if _, ok := catalog["partner."+id]; ok {
		return p.T("partner." + id)
	}
	return id
}

// StreamName is a pathway's display name.
func (p *page) StreamName(id string) string {
	if _, ok := catalog["stream."+id]; ok {
		return p.T("stream." + id)
	}
	return id
}

func personsText(lang problem.Lang, members int) string {
	switch members {
	case 0:
		return T(lang, "persons.one")
	case 1:
		return T(lang, "persons.two")
	}
	s := strings.Replace(T(lang, "persons.many"), "%d", strconv.Itoa(members+1), 1)
	return strings.Replace(s, "%d", strconv.Itoa(members), 1)
}

// fieldView is one input with its label, hint and error.
type fieldView struct {
	ID, Label, Hint, Value, Err, Type, Width, Autocomplete string
	ErrPrefix, OptionalText                                string
	Optional, NoSpell                                      bool
	Options                                                []option
}

type option struct {
	Value, Label string
	Selected     bool
}

// field describes a text input. spec is "type[,width][,optional]".
func (p *page) field(name, labelKey, hintKey string, spec ...string) fieldView {
	fv := fieldView{ID: name, Label: p.T(labelKey), Value: p.Values.Get(name), Err: p.Err(name), Type: "text",
		ErrPrefix: p.T("error.prefix"), OptionalText: p.T("optional")}
	if hintKey != "" {
		fv.Hint = p.T(hintKey)
	}
	for _, s := range spec {
		switch s {
		case "optional":
			fv.Optional = true
		case "email", "tel":
			fv.Type = s
			fv.NoSpell = true
		case "date", "country", "code", "name":
			fv.Width, fv.NoSpell = s, true
		default:
			fv.Width = s
		}
	}
	if fv.Type == "email" || fv.Type == "tel" {
		fv.Autocomplete = "off"
	}
	return fv
}

// choice describes a <select>; choices are "value=catalog key".
func (p *page) choice(name, labelKey, hintKey string, optional bool, choices ...string) fieldView {
	fv := fieldView{ID: name, Label: p.T(labelKey), Err: p.Err(name), Optional: optional,
		ErrPrefix: p.T("error.prefix"), OptionalText: p.T("optional")}
	if hintKey != "" {
		fv.Hint = p.T(hintKey)
	}
	cur := p.Values.Get(name)
	fv.Options = append(fv.Options, option{Value: "", Label: p.T("choose"), Selected: cur == ""})
	for _, c := range choices {
		v, key, _ := strings.Cut(c, "=")
		fv.Options = append(fv.Options, option{Value: v, Label: p.T(key), Selected: cur == v})
	}
	return fv
}

func hint(fv fieldView) g.Node {
	return g.If(fv.Hint != "", h.P(h.Class("hint"), h.ID(fv.ID+"-hint"), g.Text(fv.Hint)))
}

// fieldError is always there, hidden while empty, so that aria-describedby
// never points at nothing and the script can fill it in.
func fieldError(fv fieldView) g.Node {
	if fv.Err == "" {
		return h.P(h.Class("error-message"), h.ID(fv.ID+"-error"), g.Attr("hidden"))
	}
	return h.P(h.Class("error-message"), h.ID(fv.ID+"-error"),
		h.Span(h.Class("visually-hidden"), g.Text(fv.ErrPrefix)), g.Text(" "+fv.Err))
}

func describedBy(fv fieldView) string {
	if fv.Hint != "" {
		return fv.ID + "-hint " + fv.ID + "-error"
	}
	return fv.ID + "-error"
}

// label is the field's label, with "(optional)" when it is.
func label(fv fieldView) g.Node {
	return h.Label(h.Class("label"), h.For(fv.ID), g.Text(fv.Label),
		g.If(fv.Optional, g.Group{g.Text(" "), h.Span(h.Class("optional"), g.Text(fv.OptionalText))}))
}

func (p *page) textField(fv fieldView) g.Node {
	class := "input"
	if fv.Width != "" {
		class += " w-" + fv.Width
	}
	return p.group(fv.ID,
		label(fv),
		hint(fv),
		fieldError(fv),
		h.Input(h.Class(class), h.ID(fv.ID), h.Name(fv.ID), h.Type(fv.Type), h.Value(fv.Value),
			h.Aria("describedby", describedBy(fv)), invalid(fv.Err), g.If(!fv.Optional, g.Attr("data-required")),
			g.If(fv.NoSpell, g.Attr("spellcheck", "false")), g.If(fv.Autocomplete != "", h.AutoComplete(fv.Autocomplete)),
			g.If(fv.Width == "date", g.Group{h.Data("kind", "date"), h.MaxLength("10")}),
			g.If(fv.Width == "country", g.Group{h.Data("kind", "country"), h.MaxLength("3"), g.Attr("autocapitalize", "characters")}),
			g.If(fv.Type == "email", h.Data("kind", "email")),
			g.If(fv.Type == "tel", h.Data("kind", "phone")),
		),
	)
}

func (p *page) selectField(fv fieldView) g.Node {
	return p.group(fv.ID,
		label(fv),
		hint(fv),
		fieldError(fv),
		h.Select(h.Class("select"), h.ID(fv.ID), h.Name(fv.ID), h.Aria("describedby", describedBy(fv)),
			invalid(fv.Err), g.If(!fv.Optional, g.Attr("data-required")),
			g.Map(fv.Options, func(o option) g.Node {
				return h.Option(h.Value(o.Value), g.If(o.Selected, h.Selected()), g.Text(o.Label))
			}),
		),
	)
}
