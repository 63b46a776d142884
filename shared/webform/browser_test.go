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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	bt "github.com/haven-hrd/haven/infra/browsertest"
	"github.com/haven-hrd/haven/infra/testenv"
)

var repoRoot, _ = filepath.Abs("../..")

type browser struct {
	*bt.Browser
	base string
}

func (b *browser) signIn(t *testing.T, ctx context.Context, lang, partner string) {
	t.Helper()
	bt.Do(t, ctx,
		chromedp.Navigate(b.base+"/sign-in?lang="+lang),
		chromedp.WaitVisible(bt.ByID("partner-"+partner)),
		chromedp.Click(bt.ByID("partner-"+partner)),
		chromedp.Click(bt.ByID("sign-in")),
		chromedp.WaitVisible(bt.ByID("referral-form")),
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
		chromedp.Click(bt.ByID("urgency-" + d.urgency)),
		setValue("principal.given_name", d.given),
		setValue("principal.family_name", d.family),
		setValue("principal.date_of_birth", d.dob),
		chromedp.Click(bt.ByID(map[string]string{"F": "principal.sex", "M": "principal.sex-M", "X": "principal.sex-X"}[d.sex])),
		setValue("principal.nationality", d.nat),
		setValue("country_of_asylum", d.asylum),
		setValue("defender_profile.summary", d.summary),
		setValue("contact.email", d.email),
		setValue("contact.phone", d.phone),
		setValue("contact.preferred_channel", "signal"),
		chromedp.Click(bt.ByID("consent.given")),
		setValue("consent.date", d.consentDate),
	}
	for i, a := range []string{"journalism", "lgbtqi", "women", "environment", "land"} {
		for _, want := range d.areas {
			if a == want {
				id := "defender_profile.rights_areas"
				if i > 0 {
					id += "-" + a
				}
				steps = append(steps, chromedp.Click(bt.ByID(id)))
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
	bt.Do(t, ctx, steps...)
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
	b := &browser{Browser: bt.Start(t), base: testenv.LocalRunner(t)}

	t.Run("without JavaScript, in French, two family members", func(t *testing.T) {
		ctx := b.Tab(t, false, 30*time.Second)
		b.signIn(t, ctx, "fr", "front-line-defenders")
		d := sample("FLD-NOJS-1")
		// Rows are added by round trips to the server.
		bt.Do(t, ctx, chromedp.Click(bt.ByID("add-member")), chromedp.WaitVisible(bt.ByID("family_members.0.given_name")))
		bt.Do(t, ctx, chromedp.Click(bt.ByID("add-member")), chromedp.WaitVisible(bt.ByID("family_members.1.given_name")))
		persons, _ := chromedp.Run(ctx, chromedp.Text(bt.ByID("persons")))
		if !strings.Contains(persons, "3") {
			t.Errorf("persons = %q, want 3 spaces", persons)
		}
		// Remove and add again: values elsewhere are kept across round trips.
		bt.Do(t, ctx, setValue("partner_reference", d.ref),
			chromedp.Click(chromedp.CSS(`button[value="remove-member-1"]`)), chromedp.WaitNotPresent(bt.ByID("family_members.1.given_name")))
		if v, _ := chromedp.Run(ctx, chromedp.Value(bt.ByID("partner_reference"))); v != d.ref {
			t.Errorf("partner_reference after a round trip = %q", v)
		}
		bt.Do(t, ctx, chromedp.Click(bt.ByID("add-member")), chromedp.WaitVisible(bt.ByID("family_members.1.given_name")))
		fill(t, ctx, d)
		submitOK(t, ctx)
		id, _ := chromedp.Run(ctx, chromedp.Text(bt.ByID("referral-id")))
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.Contains(loc, "/confirmation?id="+id) || !strings.Contains(loc, "lang=fr") {
			t.Errorf("confirmation URL %s, id %s", loc, id)
		}
		checkStored(t, b.apiReferral(t, "front-line-defenders", id), d, "fr")
	})

	t.Run("without JavaScript, errors come back with values kept", func(t *testing.T) {
		ctx := b.Tab(t, false, 30*time.Second)
		b.signIn(t, ctx, "en", "unhcr")
		bt.Do(t, ctx, setValue("principal.given_name", "Ana"), setValue("principal.date_of_birth", "1985-02-30"),
			chromedp.Click(bt.ByID("submit")), chromedp.WaitVisible(bt.ByID("error-summary")))
		links := bt.Eval[[]string](t, ctx, `[...document.querySelectorAll(".error-summary-list a")].map(a => a.getAttribute("href") + " " + a.textContent)`)
		joined := strings.Join(links, "\n")
		for _, want := range []string{"#principal.family_name Family name: This field is required.", "#principal.date_of_birth Date of birth: Enter a real date", "#consent.given"} {
			if !strings.Contains(joined, want) {
				t.Errorf("summary lacks %q:\n%s", want, joined)
			}
		}
		if v, _ := chromedp.Run(ctx, chromedp.Value(bt.ByID("principal.given_name"))); v != "Ana" {
			t.Errorf("given name not kept: %q", v)
		}
		msg, _ := chromedp.Run(ctx, chromedp.Text(bt.ByID("principal.date_of_birth-error")))
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
		ctx := b.Tab(t, true, 30*time.Second)
		b.signIn(t, ctx, "en", "unhcr")
		bt.Do(t, ctx, chromedp.Click(bt.ByID("add-member")), chromedp.Click(bt.ByID("add-member")), chromedp.Click(bt.ByID("add-member")))
		persons, _ := chromedp.Run(ctx, chromedp.Text(bt.ByID("persons")))
		if persons != "Spaces needed: 4 (the defender and 3 family members)" {
			t.Errorf("persons = %q", persons)
		}
		bt.Do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="remove-member-0"]`)))
		if n := bt.Eval[int](t, ctx, `document.querySelectorAll("#members fieldset").length`); n != 2 {
			t.Fatalf("rows after remove = %d", n)
		}
		if focused := bt.Eval[string](t, ctx, `document.activeElement.id`); focused != "add-member" {
			t.Errorf("focus after remove on %q", focused)
		}
		d := sample("UNHCR-JS-1")
		jsRef = d.ref
		fill(t, ctx, d)
		submitOK(t, ctx)
		id, _ := chromedp.Run(ctx, chromedp.Text(bt.ByID("referral-id")))
		checkStored(t, b.apiReferral(t, "unhcr", id), d, "en")
		b.Axe(t, ctx, "confirmation (en)")
		bt.Screenshot(t, ctx, "confirmation-en.png")
	})

	t.Run("with JavaScript, the server's errors go to the same places", func(t *testing.T) {
		ctx := b.Tab(t, true, 30*time.Second)
		b.signIn(t, ctx, "fr", "unhcr")
		d := sample(jsRef) // a reference already used: 409 duplicate-referral
		d.members = nil
		fill(t, ctx, d)
		bt.Do(t, ctx, chromedp.Click(bt.ByID("submit")), chromedp.WaitVisible(bt.ByID("error-summary")))
		msg, _ := chromedp.Run(ctx, chromedp.Text(bt.ByID("partner_reference-error")))
		if !strings.Contains(msg, "déjà envoyé") {
			t.Errorf("duplicate message = %q", msg)
		}
		// A code of the right shape that is not a country: only the server knows.
		bt.Do(t, ctx, setValue("partner_reference", "UNHCR-JS-2"), setValue("principal.nationality", "XYZ"),
			chromedp.Click(bt.ByID("submit")), chromedp.WaitVisible(bt.ByID("principal.nationality-error")))
		msg, _ = chromedp.Run(ctx, chromedp.Text(bt.ByID("principal.nationality-error")))
		if !strings.Contains(msg, "code de pays") {
			t.Errorf("nationality message = %q", msg)
		}
		if !strings.Contains(msg, "\u00a0") && !strings.Contains(msg, "Erreur") {
			t.Errorf("message lacks its prefix: %q", msg)
		}
	})

	t.Run("axe-core: empty form, errors, confirmation, both languages", func(t *testing.T) {
		for _, lang := range []string{"en", "fr"} {
			ctx := b.Tab(t, true, 30*time.Second)
			b.signIn(t, ctx, lang, "protectdefenders-eu")
			b.Axe(t, ctx, "empty form ("+lang+")")
			bt.Screenshot(t, ctx, "form-"+lang+".png")
			// Errors found by the script before sending.
			bt.Do(t, ctx, chromedp.Click(bt.ByID("add-member")), chromedp.Click(bt.ByID("submit")), chromedp.WaitVisible(bt.ByID("error-summary")))
			b.Axe(t, ctx, "form with script errors ("+lang+")")
			// Errors rendered by the server (the form posted natively).
			bt.Do(t, ctx, setValue("family_members.0.given_name", "An"),
				chromedp.Evaluate[chromedp.Void](`HTMLFormElement.prototype.submit.call(document.getElementById("referral-form"))`),
				chromedp.WaitVisible(bt.ByID("error-summary")))
			b.Axe(t, ctx, "form with server errors ("+lang+")")
			bt.Screenshot(t, ctx, "form-"+lang+"-errors.png")
			bt.Do(t, ctx, chromedp.Navigate(b.base+"/sign-in?lang="+lang), chromedp.WaitVisible(bt.ByID("sign-in")))
			b.Axe(t, ctx, "sign-in ("+lang+")")
		}
		ctx := b.Tab(t, true, 30*time.Second)
		b.signIn(t, ctx, "fr", "front-line-defenders")
		d := sample("FLD-AXE-FR")
		bt.Do(t, ctx, chromedp.Click(bt.ByID("add-member")), chromedp.Click(bt.ByID("add-member")))
		fill(t, ctx, d)
		submitOK(t, ctx)
		b.Axe(t, ctx, "confirmation (fr)")
		bt.Screenshot(t, ctx, "confirmation-fr.png")
	})

	for _, js := range []bool{false, true} {
		name := map[bool]string{false: "without", true: "with"}[js]
		t.Run("language switch keeps the values, "+name+" JavaScript", func(t *testing.T) {
			ctx := b.Tab(t, js, 30*time.Second)
			b.signIn(t, ctx, "en", "unhcr")
			d := sample("UNHCR-LANG-" + strings.ToUpper(name))
			d.members = d.members[:1]
			bt.Do(t, ctx, chromedp.Click(bt.ByID("add-member")), chromedp.WaitVisible(bt.ByID("family_members.0.given_name")))
			fill(t, ctx, d)
			want := formState(t, ctx)
			if want["family_members.0.given_name"] != "An" || want["partner_reference"] != d.ref || want["consent.given"] != "true" {
				t.Fatalf("form not filled: %v", want)
			}
			switchLang(t, ctx, "fr")
			if got := formState(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("values after switching to French:\n got %v\nwant %v", got, want)
			}
			label := bt.Eval[string](t, ctx, `document.querySelector("label[for='principal.given_name']").textContent`)
			title, _ := chromedp.Run(ctx, chromedp.Title())
			if label != "Prénom ou prénoms" || !strings.HasPrefix(title, "Recommander") {
				t.Errorf("after the switch: label %q, title %q", label, title)
			}
			if n := bt.Eval[int](t, ctx, `document.querySelectorAll("#error-summary, [aria-invalid=true]").length`); n != 0 {
				t.Errorf("the switch showed %d errors", n)
			}
			// Focus is back on the toggle (autofocus without scripts).
			if f := bt.Eval[string](t, ctx, `document.activeElement.id`); f != "lang-toggle" {
				t.Errorf("focus after the switch on %q, want lang-toggle", f)
			}
			if js {
				b.Axe(t, ctx, "form after a language switch (fr)")
			}
			switchLang(t, ctx, "en")
			if got := formState(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("values after switching back:\n got %v\nwant %v", got, want)
			}
			// Enter in a field sends the referral: the form's default button
			// is not the toggle (nor a row's button).
			bt.Do(t, ctx, chromedp.Focus(bt.ByID("principal.family_name")))
			confirmAfter(t, ctx, chromedp.KeyEvent(kb.Enter))
			id, _ := chromedp.Run(ctx, chromedp.Text(bt.ByID("referral-id")))
			checkStored(t, b.apiReferral(t, "unhcr", id), d, "en")
		})
	}

	t.Run("keyboard only", func(t *testing.T) {
		ctx := b.Tab(t, true, 30*time.Second)
		bt.Do(t, ctx, chromedp.Navigate(b.base+"/sign-in?lang=en"), chromedp.WaitVisible(bt.ByID("sign-in")))
		bt.TabTo(t, ctx, "partner-unhcr")
		bt.Key(t, ctx, kb.ArrowDown) // UNHCR → Front Line Defenders
		bt.TabTo(t, ctx, "sign-in")
		bt.Key(t, ctx, kb.Enter)
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("referral-form")))
		typeInto := func(id, text string) {
			bt.TabTo(t, ctx, id)
			bt.Key(t, ctx, text)
		}
		typeInto("partner_reference", "FLD-KB-1")
		bt.TabTo(t, ctx, "urgency")
		bt.Key(t, ctx, kb.ArrowDown) // normal → urgent
		typeInto("principal.given_name", "Amara")
		typeInto("principal.family_name", "Diallo")
		typeInto("principal.date_of_birth", "1979-07-30")
		bt.TabTo(t, ctx, "principal.sex")
		bt.Key(t, ctx, " ")
		typeInto("principal.nationality", "GIN")
		bt.TabTo(t, ctx, "add-member")
		bt.Key(t, ctx, kb.Enter) // focus moves into the new row
		if id := bt.Eval[string](t, ctx, `document.activeElement.id`); id != "family_members.0.given_name" {
			t.Fatalf("after adding a row, focus is on %q", id)
		}
		bt.Key(t, ctx, "Fatou")
		typeInto("family_members.0.family_name", "Diallo")
		typeInto("family_members.0.date_of_birth", "2010-01-05")
		bt.TabTo(t, ctx, "family_members.0.sex")
		bt.Key(t, ctx, "F")
		bt.TabTo(t, ctx, "family_members.0.relationship")
		bt.Key(t, ctx, "C") // Child
		typeInto("country_of_asylum", "SEN")
		bt.TabTo(t, ctx, "defender_profile.rights_areas")
		bt.Key(t, ctx, " ")
		typeInto("contact.email", "amara@example.org")
		bt.TabTo(t, ctx, "consent.given")
		bt.Key(t, ctx, " ")
		typeInto("consent.date", "2026-10-01")
		bt.TabTo(t, ctx, "submit")
		bt.Key(t, ctx, kb.Enter)
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("referral-id")))
		id, _ := chromedp.Run(ctx, chromedp.Text(bt.ByID("referral-id")))
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
	confirmAfter(t, ctx, chromedp.Click(bt.ByID("submit")))
}

// confirmAfter does send (which sends the form) and waits as submitOK does.
func confirmAfter(t *testing.T, ctx context.Context, send chromedp.Action[chromedp.Void]) {
	t.Helper()
	bt.Do(t, ctx, send, chromedp.WaitVisible(chromedp.CSS("#referral-id, #error-summary, h1")))
	for i := 0; i < 50; i++ {
		state := bt.Eval[string](t, ctx, `document.getElementById("referral-id") ? "ok" : (document.getElementById("error-summary") ? document.getElementById("error-summary").innerText : "")`)
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
	bt.Do(t, ctx, chromedp.Click(bt.ByID("lang-toggle")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] [id="referral-form"]`)))
}

// formState is every control's value (text, selects) or checked state
// (radios, checkboxes) by id.
func formState(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	return bt.Eval[map[string]string](t, ctx, `Object.fromEntries([...document.getElementById("referral-form").elements]
  .filter(el => el.id && el.type !== "submit" && el.type !== "hidden")
  .map(el => [el.id, (el.type === "radio" || el.type === "checkbox") ? String(el.checked) : el.value]))`)
}

var _ = bytes.MinRead
