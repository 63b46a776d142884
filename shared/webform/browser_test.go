package webform_test

// Browser tests: the real local runner (go build ./infra/local) in a
// subprocess, Debian's chromium driven by chromedp, and axe-core injected into
// each page. Run with:
//
//	npm ci && go test ./shared/webform -run TestBrowser -v
//
// HAVEN_SCREENSHOTS=1 also writes the README's screenshots to docs/screenshots.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/haven-hrd/haven/infra/testenv"
)

var repoRoot, _ = filepath.Abs("../..")

func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	missing(t, "chromium is not installed (apt-get install -y chromium)")
	return ""
}

func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(what)
	}
	t.Skip(what + "; skipping the browser tests (they fail instead when CI=true)")
}

func byID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[id=%q]", id)) }

type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	axe  string
}

// tab opens a new tab; js false turns page scripts off.
func (b *browser) tab(t *testing.T, js bool) context.Context {
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if !js {
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(tcancel)
	return tctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *browser) signIn(t *testing.T, ctx context.Context, lang, partner string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(b.base+"/sign-in?lang="+lang),
		chromedp.WaitVisible(byID("partner-"+partner)),
		chromedp.Click(byID("partner-"+partner)),
		chromedp.Click(byID("sign-in")),
		chromedp.WaitVisible(byID("referral-form")),
	)
}

type person struct{ given, family, dob, sex, rel, nat string }

type referralData struct {
	ref, urgency, given, family, dob, sex, nat, asylum, email, phone, summary, consentDate string
	areas                                                                                  []string
	members                                                                                []person
}

func sample(ref string) referralData {
	return referralData{
		ref: ref, urgency: "urgent", given: "Nguyễn Thị", family: "Minh Khai", dob: "1985-03-14", sex: "F", nat: "vnm",
		asylum: "THA", email: "minh@example.org", phone: "+66 2 123 4567", summary: "Land-rights organiser; threatened after a court case.",
		consentDate: "2026-11-01", areas: []string{"land", "women"},
		members: []person{{"An", "Minh", "2015-06-01", "M", "child", ""}, {"Lan", "Minh", "2012-02-20", "F", "child", "VNM"}},
	}
}

// setValue sets a field's value through Runtime.evaluate, which works with
// the page's own scripts turned off too (no events are fired, so the page
// script, when on, sees the value as it would after typing).
func setValue(id, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		idJSON, _ := json.Marshal(id)
		vJSON, _ := json.Marshal(v)
		ok, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = document.getElementById(%s); if (!el) return false; el.value = %s; return true; })()`, idJSON, vJSON))(ctx, tg)
		if err == nil && !ok {
			err = fmt.Errorf("no element #%s", id)
		}
		return err
	})
}

// fill types the referral into the page (members must already have rows).
func fill(t *testing.T, ctx context.Context, d referralData) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		setValue("partner_reference", d.ref),
		chromedp.Click(byID("urgency-" + d.urgency)),
		setValue("principal.given_name", d.given),
		setValue("principal.family_name", d.family),
		setValue("principal.date_of_birth", d.dob),
		chromedp.Click(byID(map[string]string{"F": "principal.sex", "M": "principal.sex-M", "X": "principal.sex-X"}[d.sex])),
		setValue("principal.nationality", d.nat),
		setValue("country_of_asylum", d.asylum),
		setValue("defender_profile.summary", d.summary),
		setValue("contact.email", d.email),
		setValue("contact.phone", d.phone),
		setValue("contact.preferred_channel", "signal"),
		chromedp.Click(byID("consent.given")),
		setValue("consent.date", d.consentDate),
	}
	for i, a := range []string{"journalism", "lgbtqi", "women", "environment", "land"} {
		for _, want := range d.areas {
			if a == want {
				id := "defender_profile.rights_areas"
				if i > 0 {
					id += "-" + a
				}
				steps = append(steps, chromedp.Click(byID(id)))
			}
		}
	}
	for i, m := range d.members {
		p := fmt.Sprintf("family_members.%d.", i)
		steps = append(steps,
			setValue(p+"given_name", m.given),
			setValue(p+"family_name", m.family),
			setValue(p+"date_of_birth", m.dob),
			setValue(p+"sex", m.sex),
			setValue(p+"relationship", m.rel),
			setValue(p+"nationality", m.nat),
		)
	}
	do(t, ctx, steps...)
}

// runAxe injects axe-core and fails on any violation, printing them.
func (b *browser) runAxe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	expr := b.axe + `;
(async () => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
  return JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary)})));
})()`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	var vs []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	json.Unmarshal([]byte(out), &vs)
	for _, v := range vs {
		t.Errorf("axe %s: %s (%s): %s\n  %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	if len(vs) == 0 {
		t.Logf("axe %s: 0 violations", page)
	}
}

func (b *browser) screenshot(t *testing.T, ctx context.Context, name string) {
	if os.Getenv("HAVEN_SCREENSHOTS") == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(repoRoot, "docs", "screenshots", name), png, 0o644)
}

// apiReferral reads a referral through the API as the partner.
func (b *browser) apiReferral(t *testing.T, partner, id string) map[string]any {
	t.Helper()
	resp, err := http.Post(b.base+"/_local/tokens", "application/json", strings.NewReader(`{"role":"partner","partner":"`+partner+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", b.base+"/referrals/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /referrals/%s: %d", id, resp.StatusCode)
	}
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return v
}

func checkStored(t *testing.T, got map[string]any, d referralData, lang string) {
	t.Helper()
	principal := got["principal"].(map[string]any)
	fam, _ := got["family_members"].([]any)
	checks := []struct{ name, got, want string }{
		{"partner_reference", fmt.Sprint(got["partner_reference"]), d.ref},
		{"urgency", fmt.Sprint(got["urgency"]), d.urgency},
		{"principal.given_name", fmt.Sprint(principal["given_name"]), d.given},
		{"principal.nationality", fmt.Sprint(principal["nationality"]), strings.ToUpper(d.nat)},
		{"persons", fmt.Sprint(got["persons"]), fmt.Sprint(1 + len(d.members))},
		{"family size", fmt.Sprint(len(fam)), fmt.Sprint(len(d.members))},
		{"preferred_language", fmt.Sprint(got["preferred_language"]), lang},
		{"status", fmt.Sprint(got["status"]), "submitted"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("stored %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	for i, m := range d.members {
		if i < len(fam) {
			if g := fam[i].(map[string]any)["given_name"]; g != m.given {
				t.Errorf("family_members.%d.given_name = %v, want %s", i, g, m.given)
			}
		}
	}
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	start := time.Now()
	chromium := chromiumPath(t)
	axeSrc, err := os.ReadFile(filepath.Join(repoRoot, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		missing(t, "node_modules/axe-core is missing (run npm ci)")
	}
	base := testenv.LocalRunner(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1100, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: bctx, base: base, axe: string(axeSrc)}

	t.Run("without JavaScript, in French, two family members", func(t *testing.T) {
		ctx := b.tab(t, false)
		b.signIn(t, ctx, "fr", "front-line-defenders")
		d := sample("FLD-NOJS-1")
		// Rows are added by round trips to the server.
		do(t, ctx, chromedp.Click(byID("add-member")), chromedp.WaitVisible(byID("family_members.0.given_name")))
		do(t, ctx, chromedp.Click(byID("add-member")), chromedp.WaitVisible(byID("family_members.1.given_name")))
		persons, _ := chromedp.Run(ctx, chromedp.Text(byID("persons")))
		if !strings.Contains(persons, "3") {
			t.Errorf("persons = %q, want 3 spaces", persons)
		}
		// Remove and add again: values elsewhere are kept across round trips.
		do(t, ctx, setValue("partner_reference", d.ref),
			chromedp.Click(chromedp.CSS(`button[value="remove-member-1"]`)), chromedp.WaitNotPresent(byID("family_members.1.given_name")))
		if v, _ := chromedp.Run(ctx, chromedp.Value(byID("partner_reference"))); v != d.ref {
			t.Errorf("partner_reference after a round trip = %q", v)
		}
		do(t, ctx, chromedp.Click(byID("add-member")), chromedp.WaitVisible(byID("family_members.1.given_name")))
		fill(t, ctx, d)
		submitOK(t, ctx)
		id, _ := chromedp.Run(ctx, chromedp.Text(byID("referral-id")))
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.Contains(loc, "/confirmation?id="+id) || !strings.Contains(loc, "lang=fr") {
			t.Errorf("confirmation URL %s, id %s", loc, id)
		}
		checkStored(t, b.apiReferral(t, "front-line-defenders", id), d, "fr")
	})

	t.Run("without JavaScript, errors come back with values kept", func(t *testing.T) {
		ctx := b.tab(t, false)
		b.signIn(t, ctx, "en", "unhcr")
		do(t, ctx, setValue("principal.given_name", "Ana"), setValue("principal.date_of_birth", "1985-02-30"),
			chromedp.Click(byID("submit")), chromedp.WaitVisible(byID("error-summary")))
		links := eval[[]string](t, ctx, `[...document.querySelectorAll(".error-summary-list a")].map(a => a.getAttribute("href") + " " + a.textContent)`)
		joined := strings.Join(links, "\n")
		for _, want := range []string{"#principal.family_name Family name: This field is required.", "#principal.date_of_birth Date of birth: Enter a real date", "#consent.given"} {
			if !strings.Contains(joined, want) {
				t.Errorf("summary lacks %q:\n%s", want, joined)
			}
		}
		if v, _ := chromedp.Run(ctx, chromedp.Value(byID("principal.given_name"))); v != "Ana" {
			t.Errorf("given name not kept: %q", v)
		}
		msg, _ := chromedp.Run(ctx, chromedp.Text(byID("principal.date_of_birth-error")))
		if !strings.Contains(msg, "Enter a real date") {
			t.Errorf("field message = %q", msg)
		}
		title, _ := chromedp.Run(ctx, chromedp.Title())
		if !strings.HasPrefix(title, "Error:") {
			t.Errorf("title = %q", title)
		}
	})

	var jsRef string
	t.Run("with JavaScript, in English, rows in place", func(t *testing.T) {
		ctx := b.tab(t, true)
		b.signIn(t, ctx, "en", "unhcr")
		do(t, ctx, chromedp.Click(byID("add-member")), chromedp.Click(byID("add-member")), chromedp.Click(byID("add-member")))
		persons, _ := chromedp.Run(ctx, chromedp.Text(byID("persons")))
		if persons != "Spaces needed: 4 (the defender and 3 family members)" {
			t.Errorf("persons = %q", persons)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="remove-member-0"]`)))
		if n := eval[int](t, ctx, `document.querySelectorAll("#members fieldset").length`); n != 2 {
			t.Fatalf("rows after remove = %d", n)
		}
		if focused := eval[string](t, ctx, `document.activeElement.id`); focused != "add-member" {
			t.Errorf("focus after remove on %q", focused)
		}
		d := sample("UNHCR-JS-1")
		jsRef = d.ref
		fill(t, ctx, d)
		submitOK(t, ctx)
		id, _ := chromedp.Run(ctx, chromedp.Text(byID("referral-id")))
		checkStored(t, b.apiReferral(t, "unhcr", id), d, "en")
		b.runAxe(t, ctx, "confirmation (en)")
		b.screenshot(t, ctx, "confirmation-en.png")
	})

	t.Run("with JavaScript, the server's errors go to the same places", func(t *testing.T) {
		ctx := b.tab(t, true)
		b.signIn(t, ctx, "fr", "unhcr")
		d := sample(jsRef) // a reference already used: 409 duplicate-referral
		d.members = nil
		fill(t, ctx, d)
		do(t, ctx, chromedp.Click(byID("submit")), chromedp.WaitVisible(byID("error-summary")))
		msg, _ := chromedp.Run(ctx, chromedp.Text(byID("partner_reference-error")))
		if !strings.Contains(msg, "déjà envoyé") {
			t.Errorf("duplicate message = %q", msg)
		}
		// A code of the right shape that is not a country: only the server knows.
		do(t, ctx, setValue("partner_reference", "UNHCR-JS-2"), setValue("principal.nationality", "XYZ"),
			chromedp.Click(byID("submit")), chromedp.WaitVisible(byID("principal.nationality-error")))
		msg, _ = chromedp.Run(ctx, chromedp.Text(byID("principal.nationality-error")))
		if !strings.Contains(msg, "code de pays") {
			t.Errorf("nationality message = %q", msg)
		}
		if !strings.Contains(msg, "\u00a0") && !strings.Contains(msg, "Erreur") {
			t.Errorf("message lacks its prefix: %q", msg)
		}
	})

	t.Run("axe-core: empty form, errors, confirmation, both languages", func(t *testing.T) {
		for _, lang := range []string{"en", "fr"} {
			ctx := b.tab(t, true)
			b.signIn(t, ctx, lang, "protectdefenders-eu")
			b.runAxe(t, ctx, "empty form ("+lang+")")
			b.screenshot(t, ctx, "form-"+lang+".png")
			// Errors found by the script before sending.
			do(t, ctx, chromedp.Click(byID("add-member")), chromedp.Click(byID("submit")), chromedp.WaitVisible(byID("error-summary")))
			b.runAxe(t, ctx, "form with script errors ("+lang+")")
			// Errors rendered by the server (the form posted natively).
			do(t, ctx, setValue("family_members.0.given_name", "An"),
				chromedp.Evaluate[chromedp.Void](`HTMLFormElement.prototype.submit.call(document.getElementById("referral-form"))`),
				chromedp.WaitVisible(byID("error-summary")))
			b.runAxe(t, ctx, "form with server errors ("+lang+")")
			b.screenshot(t, ctx, "form-"+lang+"-errors.png")
			do(t, ctx, chromedp.Navigate(b.base+"/sign-in?lang="+lang), chromedp.WaitVisible(byID("sign-in")))
			b.runAxe(t, ctx, "sign-in ("+lang+")")
		}
		ctx := b.tab(t, true)
		b.signIn(t, ctx, "fr", "front-line-defenders")
		d := sample("FLD-AXE-FR")
		do(t, ctx, chromedp.Click(byID("add-member")), chromedp.Click(byID("add-member")))
		fill(t, ctx, d)
		submitOK(t, ctx)
		b.runAxe(t, ctx, "confirmation (fr)")
		b.screenshot(t, ctx, "confirmation-fr.png")
	})

	for _, js := range []bool{false, true} {
		name := map[bool]string{false: "without", true: "with"}[js]
		t.Run("language switch keeps the values, "+name+" JavaScript", func(t *testing.T) {
			ctx := b.tab(t, js)
			b.signIn(t, ctx, "en", "unhcr")
			d := sample("UNHCR-LANG-" + strings.ToUpper(name))
			d.members = d.members[:1]
			do(t, ctx, chromedp.Click(byID("add-member")), chromedp.WaitVisible(byID("family_members.0.given_name")))
			fill(t, ctx, d)
			want := formState(t, ctx)
			if want["family_members.0.given_name"] != "An" || want["partner_reference"] != d.ref || want["consent.given"] != "true" {
				t.Fatalf("form not filled: %v", want)
			}
			switchLang(t, ctx, "fr")
			if got := formState(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("values after switching to French:\n got %v\nwant %v", got, want)
			}
			label := eval[string](t, ctx, `document.querySelector("label[for='principal.given_name']").textContent`)
			title, _ := chromedp.Run(ctx, chromedp.Title())
			if label != "Prénom ou prénoms" || !strings.HasPrefix(title, "Recommander") {
				t.Errorf("after the switch: label %q, title %q", label, title)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll("#error-summary, [aria-invalid=true]").length`); n != 0 {
				t.Errorf("the switch showed %d errors", n)
			}
			// Focus is back on the toggle (autofocus without scripts).
			if f := eval[string](t, ctx, `document.activeElement.id`); f != "lang-toggle" {
				t.Errorf("focus after the switch on %q, want lang-toggle", f)
			}
			if js {
				b.runAxe(t, ctx, "form after a language switch (fr)")
			}
			switchLang(t, ctx, "en")
			if got := formState(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("values after switching back:\n got %v\nwant %v", got, want)
			}
			// Enter in a field sends the referral: the form's default button
			// is not the toggle (nor a row's button).
			do(t, ctx, chromedp.Focus(byID("principal.family_name")))
			confirmAfter(t, ctx, chromedp.KeyEvent(kb.Enter))
			id, _ := chromedp.Run(ctx, chromedp.Text(byID("referral-id")))
			checkStored(t, b.apiReferral(t, "unhcr", id), d, "en")
		})
	}

	t.Run("keyboard only", func(t *testing.T) {
		ctx := b.tab(t, true)
		do(t, ctx, chromedp.Navigate(b.base+"/sign-in?lang=en"), chromedp.WaitVisible(byID("sign-in")))
		tabTo(t, ctx, "partner-unhcr")
		key(t, ctx, kb.ArrowDown) // UNHCR → Front Line Defenders
		tabTo(t, ctx, "sign-in")
		key(t, ctx, kb.Enter)
		do(t, ctx, chromedp.WaitVisible(byID("referral-form")))
		typeInto := func(id, text string) {
			tabTo(t, ctx, id)
			key(t, ctx, text)
		}
		typeInto("partner_reference", "FLD-KB-1")
		tabTo(t, ctx, "urgency")
		key(t, ctx, kb.ArrowDown) // normal → urgent
		typeInto("principal.given_name", "Amara")
		typeInto("principal.family_name", "Diallo")
		typeInto("principal.date_of_birth", "1979-07-30")
		tabTo(t, ctx, "principal.sex")
		key(t, ctx, " ")
		typeInto("principal.nationality", "GIN")
		tabTo(t, ctx, "add-member")
		key(t, ctx, kb.Enter) // focus moves into the new row
		if id := eval[string](t, ctx, `document.activeElement.id`); id != "family_members.0.given_name" {
			t.Fatalf("after adding a row, focus is on %q", id)
		}
		key(t, ctx, "Fatou")
		typeInto("family_members.0.family_name", "Diallo")
		typeInto("family_members.0.date_of_birth", "2010-01-05")
		tabTo(t, ctx, "family_members.0.sex")
		key(t, ctx, "F")
		tabTo(t, ctx, "family_members.0.relationship")
		key(t, ctx, "C") // Child
		typeInto("country_of_asylum", "SEN")
		tabTo(t, ctx, "defender_profile.rights_areas")
		key(t, ctx, " ")
		typeInto("contact.email", "amara@example.org")
		tabTo(t, ctx, "consent.given")
		key(t, ctx, " ")
		typeInto("consent.date", "2026-10-01")
		tabTo(t, ctx, "submit")
		key(t, ctx, kb.Enter)
		do(t, ctx, chromedp.WaitVisible(byID("referral-id")))
		id, _ := chromedp.Run(ctx, chromedp.Text(byID("referral-id")))
		got := b.apiReferral(t, "front-line-defenders", id)
		if got["urgency"] != "urgent" || fmt.Sprint(got["persons"]) != "2" || got["partner"] != "front-line-defenders" {
			t.Errorf("stored urgency %v, persons %v, partner %v", got["urgency"], got["persons"], got["partner"])
		}
	})

	t.Logf("browser tests took %s", time.Since(start).Round(time.Millisecond))
}

// submitOK sends the form and waits for the confirmation, reporting the
// error summary if the form comes back instead.
func submitOK(t *testing.T, ctx context.Context) {
	t.Helper()
	confirmAfter(t, ctx, chromedp.Click(byID("submit")))
}

// confirmAfter does send (which sends the form) and waits as submitOK does.
func confirmAfter(t *testing.T, ctx context.Context, send chromedp.Action[chromedp.Void]) {
	t.Helper()
	do(t, ctx, send, chromedp.WaitVisible(chromedp.CSS("#referral-id, #error-summary, h1")))
	for i := 0; i < 50; i++ {
		state := eval[string](t, ctx, `document.getElementById("referral-id") ? "ok" : (document.getElementById("error-summary") ? document.getElementById("error-summary").innerText : "")`)
		switch {
		case state == "ok":
			return
		case state != "":
			t.Fatalf("the form came back with errors:\n%s", state)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no confirmation after 5 s")
}

// switchLang presses the form's language toggle and waits for the form to
// come back in lang.
func switchLang(t *testing.T, ctx context.Context, lang string) {
	t.Helper()
	do(t, ctx, chromedp.Click(byID("lang-toggle")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] [id="referral-form"]`)))
}

// formState is every control's value (text, selects) or checked state
// (radios, checkboxes) by id.
func formState(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	return eval[map[string]string](t, ctx, `Object.fromEntries([...document.getElementById("referral-form").elements]
  .filter(el => el.id && el.type !== "submit" && el.type !== "hidden")
  .map(el => [el.id, (el.type === "radio" || el.type === "checkbox") ? String(el.checked) : el.value]))`)
}

func key(t *testing.T, ctx context.Context, keys string) {
	t.Helper()
	do(t, ctx, chromedp.KeyEvent(keys))
}

// tabTo presses Tab until the element with id has focus: it proves the
// element is reachable by keyboard, in page order.
func tabTo(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	for i := 0; i < 120; i++ {
		if eval[string](t, ctx, `document.activeElement ? document.activeElement.id : ""`) == id {
			return
		}
		key(t, ctx, kb.Tab)
	}
	t.Fatalf("Tab never reached #%s", id)
}

var _ = bytes.MinRead
