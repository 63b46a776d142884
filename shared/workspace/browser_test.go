package workspace_test

// Browser tests: the real local runner (go build ./infra/local) in a
// subprocess, Debian's chromium driven by chromedp, and axe-core (npm ci)
// injected into every page in both languages, as shared/webform's are. Run
// with:
//
//	npm ci && go test ./shared/workspace -run TestBrowser -v
//
// HAVEN_SCREENSHOTS=1 also writes the README's screenshots to docs/screenshots.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
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

func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(what)
	}
	t.Skip(what + "; skipping the browser tests (they fail instead when CI=true)")
}

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

func byID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[id=%q]", id)) }

type browser struct {
	ctx  context.Context
	base string
	axe  string
}

// tab opens a new tab; js false turns page scripts off (the workspace has
// none, so the pages must work either way).
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
	tctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(tcancel)
	return context.WithValue(tctx, scriptsOff{}, !js)
}

type scriptsOff struct{}

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

func textOf(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// runAxe injects axe-core and fails on any violation (WCAG 2.1 A and AA,
// and best practice).
func (b *browser) runAxe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if off, _ := ctx.Value(scriptsOff{}).(bool); off {
		return // axe cannot run in a tab with scripts off; the same pages are checked with them on
	}
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
}

// axeBoth runs axe on the page, then on the same page in the other
// language through its toggle, and comes back.
func (b *browser) axeBoth(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	lang := eval[string](t, ctx, `document.documentElement.lang`)
	other := map[string]string{"en": "fr", "fr": "en"}[lang]
	b.runAxe(t, ctx, page+" ("+lang+")")
	do(t, ctx, chromedp.Click(byID("lang-toggle")), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+other+`"] main`)))
	b.runAxe(t, ctx, page+" ("+other+")")
	do(t, ctx, chromedp.Click(byID("lang-toggle")), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] main`)))
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

// refer creates a referral through the API as a partner and returns its id.
func (b *browser) refer(t *testing.T, partner, ref, urgency, given string) string {
	t.Helper()
	resp, err := http.Post(b.base+"/_local/tokens", "application/json", strings.NewReader(`{"role":"partner","partner":"`+partner+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "shared", "referral", "testdata", "referral.json"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer(`"FLD-2026-0042"`, `"`+ref+`"`, `"urgency": "normal"`, `"urgency": "`+urgency+`"`, `"Nguyễn Thị"`, `"`+given+`"`).Replace(string(raw))
	req, _ := http.NewRequest(http.MethodPost, b.base+"/referrals", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&v)
	if resp.StatusCode != http.StatusCreated || v.ID == "" {
		t.Fatalf("POST /referrals: %d", resp.StatusCode)
	}
	return v.ID
}

func (b *browser) signIn(t *testing.T, ctx context.Context, role string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(b.base+"/officer/sign-in?lang=en"),
		chromedp.WaitVisible(byID("role-"+role)),
		chromedp.Click(byID("role-"+role)),
		chromedp.Click(byID("sign-in")),
	)
	if role == "partner" {
		// The refusal repeats itself in the other language, marked lang.
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS("main div[lang]")))
	} else {
		do(t, ctx, chromedp.WaitVisible(byID("queue-submitted")))
	}
}

func (b *browser) signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, chromedp.Click(byID("sign-out")), chromedp.WaitVisible(byID("sign-in")))
}

// act submits one action form of the case page and waits for the page that
// answers it; it returns the new status shown.
func act(t *testing.T, ctx context.Context, action string, pre ...chromedp.Action[chromedp.Void]) string {
	t.Helper()
	do(t, ctx, pre...)
	clearNotices(t, ctx)
	do(t, ctx, chromedp.Click(byID("submit-"+action)), chromedp.WaitVisible(chromedp.CSS("#notice, #error-summary")))
	if s := eval[string](t, ctx, `document.getElementById("error-summary") ? document.getElementById("error-summary").innerText : ""`); s != "" {
		t.Fatalf("%s came back with errors:\n%s", action, s)
	}
	return textOf(t, ctx, byID("case-status"))
}

// clearNotices takes the page's notice and error summary away, so that
// waiting for one waits for the next page.
func clearNotices(t *testing.T, ctx context.Context) {
	t.Helper()
	eval[bool](t, ctx, `(["notice", "error-summary"].forEach(id => { const e = document.getElementById(id); if (e) e.remove(); }), true)`)
}

func openCase(t *testing.T, ctx context.Context, b *browser, id string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(b.base+"/officer/cases/"+id+"?lang=en"), chromedp.WaitVisible(byID("case-status")))
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
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
	b := &browser{ctx: bctx, base: base, axe: string(axeSrc)}
	year := strconv.Itoa(testenv.Year()) // the runner runs on the tests' clock
	dash := b.base + "/officer/periods/hrd/" + year + "?lang=en"

	// An officer's day, then an admin raises capacity and a waitlisted
	// family is promoted; axe checks every page on the way, in both
	// languages.
	t.Run("an officer's day and a capacity raise", func(t *testing.T) {
		ctx := b.tab(t, true)
		first := b.refer(t, "front-line-defenders", "FLD-DAY-1", "normal", "Nguyễn Thị")
		second := b.refer(t, "unhcr", "UNHCR-DAY-2", "emergency", "Nguyễn Thị") // the same defender, referred twice

		do(t, ctx, chromedp.Navigate(b.base+"/officer/sign-in?lang=en"), chromedp.WaitVisible(byID("sign-in")))
		b.axeBoth(t, ctx, "sign-in")
		b.signIn(t, ctx, "admin")
		do(t, ctx, chromedp.Navigate(dash), chromedp.WaitVisible(byID("capacity")))
		clearNotices(t, ctx)
		do(t, ctx, chromedp.SetValue(byID("capacity"), "3"), chromedp.Click(byID("save-capacity")), chromedp.WaitVisible(byID("notice")))
		b.signOut(t, ctx)

		b.signIn(t, ctx, "officer")
		if got := textOf(t, ctx, byID("queue")); !strings.Contains(got, "UNHCR-DAY-2") || !strings.Contains(got, "FLD-DAY-1") ||
			strings.Index(got, "UNHCR-DAY-2") > strings.Index(got, "FLD-DAY-1") {
			t.Errorf("screening queue, emergency first:\n%s", got)
		}
		b.screenshot(t, ctx, "officer-queues-en.png")
		b.axeBoth(t, ctx, "queues")

		do(t, ctx, chromedp.Click(chromedp.CSS(`a[href^="/officer/cases/`+first+`"]`)), chromedp.WaitVisible(byID("case-status")))
		b.axeBoth(t, ctx, "case page")
		// A screening without an outcome: the summary and the field say so.
		clearNotices(t, ctx)
		do(t, ctx, chromedp.Click(byID("submit-screen")), chromedp.WaitVisible(byID("error-summary")))
		if f := eval[string](t, ctx, `document.activeElement.id`); f != "error-summary" {
			t.Errorf("focus after an error on %q, want the error summary", f)
		}
		do(t, ctx, chromedp.WaitVisible(byID("screen-outcome-error")))
		b.axeBoth(t, ctx, "case page with errors")
		for _, s := range []struct {
			action string
			pre    []chromedp.Action[chromedp.Void]
			want   string
		}{
			{"screen", []chromedp.Action[chromedp.Void]{chromedp.Click(byID("screen-outcome"))}, "Eligible"},
			{"allocate", nil, "Allocated"},
			{"decide", []chromedp.Action[chromedp.Void]{chromedp.Click(byID("decide-outcome"))}, "Approved"},
			{"arrival", nil, "Arrived"},
		} {
			if got := act(t, ctx, s.action, s.pre...); got != s.want {
				t.Fatalf("after %s the case is %q, want %q", s.action, got, s.want)
			}
		}
		b.screenshot(t, ctx, "officer-case-en.png")

		openCase(t, ctx, b, second)
		if got := textOf(t, ctx, byID("duplicates")); !strings.Contains(got, first) {
			t.Errorf("possible duplicates = %q, want %s", got, first)
		}
		act(t, ctx, "screen", chromedp.Click(byID("screen-outcome")))
		if got := act(t, ctx, "allocate"); got != "Waitlisted" {
			t.Fatalf("second family: %q, want Waitlisted (1 space left for 2)", got)
		}
		do(t, ctx, chromedp.Navigate(b.base+"/officer?lang=en&queue=waitlisted&stream=hrd&period="+year), chromedp.WaitVisible(byID("queue")))
		if got := textOf(t, ctx, byID("queue")); !strings.Contains(got, "UNHCR-DAY-2") || !strings.Contains(got, "Stream full") {
			t.Errorf("waitlist queue:\n%s", got)
		}
		b.signOut(t, ctx)

		b.signIn(t, ctx, "admin")
		do(t, ctx, chromedp.Navigate(dash), chromedp.WaitVisible(byID("tiles")))
		if got := textOf(t, ctx, byID("tiles")); !strings.Contains(got, "Waitlisted persons\n2") && !strings.Contains(got, "Waitlisted persons 2") {
			t.Errorf("dashboard before the raise:\n%s", got)
		}
		// Below what is held: refused, in words, nothing changed.
		clearNotices(t, ctx)
		do(t, ctx, chromedp.SetValue(byID("capacity"), "1"), chromedp.Click(byID("save-capacity")), chromedp.WaitVisible(byID("error-summary")))
		if got := textOf(t, ctx, byID("error-summary")); !strings.Contains(got, "cannot go below") {
			t.Errorf("refusal: %q", got)
		}
		b.axeBoth(t, ctx, "dashboard with a refused capacity")
		clearNotices(t, ctx)
		do(t, ctx, chromedp.SetValue(byID("capacity"), "7"), chromedp.Click(byID("save-capacity")), chromedp.WaitVisible(byID("notice")))
		tiles := textOf(t, ctx, byID("tiles"))
		for _, want := range []string{"Capacity\n7", "Reserved\n2", "Arrived\n2", "Waitlisted persons\n0"} {
			if !strings.Contains(tiles, want) && !strings.Contains(tiles, strings.ReplaceAll(want, "\n", " ")) {
				t.Errorf("dashboard after the raise lacks %q:\n%s", want, tiles)
			}
		}
		b.screenshot(t, ctx, "officer-dashboard-en.png")
		b.axeBoth(t, ctx, "dashboard")
		openCase(t, ctx, b, second)
		if got := textOf(t, ctx, byID("case-status")); got != "Allocated" {
			t.Errorf("the waitlisted family after the raise: %q, want Allocated", got)
		}
		do(t, ctx, chromedp.Click(byID("lang-toggle")), chromedp.WaitVisible(chromedp.CSS(`html[lang="fr"] main`)))
		b.screenshot(t, ctx, "officer-case-fr.png")
		b.signOut(t, ctx)

		// A partner caseworker is refused, in both languages.
		b.signIn(t, ctx, "partner")
		if got := textOf(t, ctx, chromedp.CSS("main")); !strings.Contains(got, "officers and administrators") || !strings.Contains(got, "agents et aux administrateurs") {
			t.Errorf("partner's page:\n%s", got)
		}
		b.runAxe(t, ctx, "partner refusal")
	})

	// The same day with scripts off: the pages need none.
	t.Run("an officer's day without JavaScript", func(t *testing.T) {
		ctx := b.tab(t, false)
		id := b.refer(t, "unhcr", "UNHCR-NOJS-1", "normal", "Thandiwe")
		b.signIn(t, ctx, "officer")
		do(t, ctx, chromedp.Click(chromedp.CSS(`a[href^="/officer/cases/`+id+`"]`)), chromedp.WaitVisible(byID("case-status")))
		for _, s := range []struct {
			action string
			pre    []chromedp.Action[chromedp.Void]
			want   string
		}{
			{"screen", []chromedp.Action[chromedp.Void]{chromedp.Click(byID("screen-outcome"))}, "Eligible"},
			{"allocate", nil, "Allocated"},
			{"decide", []chromedp.Action[chromedp.Void]{chromedp.Click(byID("decide-outcome"))}, "Approved"},
			{"arrival", nil, "Arrived"},
		} {
			if got := act(t, ctx, s.action, s.pre...); got != s.want {
				t.Fatalf("after %s the case is %q, want %q", s.action, got, s.want)
			}
		}
		b.signOut(t, ctx)
	})

	t.Run("keyboard only", func(t *testing.T) {
		ctx := b.tab(t, true)
		id := b.refer(t, "protectdefenders-eu", "PDE-KB-1", "urgent", "Lucía")
		do(t, ctx, chromedp.Navigate(b.base+"/officer/sign-in?lang=en"), chromedp.WaitVisible(byID("sign-in")))
		tabTo(t, ctx, "role-officer")
		key(t, ctx, " ")
		tabTo(t, ctx, "sign-in")
		key(t, ctx, kb.Enter)
		do(t, ctx, chromedp.WaitVisible(byID("queue-submitted")))
		// The skip link is the first stop and moves focus to the content.
		eval[bool](t, ctx, `(document.activeElement.blur(), true)`)
		key(t, ctx, kb.Tab)
		if f := eval[string](t, ctx, `document.activeElement.className`); f != "skip" {
			t.Errorf("first Tab stop: %q, want the skip link", f)
		}
		// Filter the queue to one partner with the keyboard.
		tabTo(t, ctx, "f-partner")
		key(t, ctx, "p") // protectdefenders-eu
		tabTo(t, ctx, "f-apply")
		key(t, ctx, kb.Enter)
		do(t, ctx, chromedp.WaitVisible(byID("queue")))
		if got := textOf(t, ctx, byID("queue")); !strings.Contains(got, "PDE-KB-1") || strings.Contains(got, "FLD-") {
			t.Fatalf("queue of one partner:\n%s", got)
		}
		tabToLink(t, ctx, "/officer/cases/"+id)
		key(t, ctx, kb.Enter)
		do(t, ctx, chromedp.WaitVisible(byID("case-status")))
		tabTo(t, ctx, "screen-outcome")
		key(t, ctx, " ")
		tabTo(t, ctx, "submit-screen")
		clearNotices(t, ctx)
		key(t, ctx, kb.Enter)
		do(t, ctx, chromedp.WaitVisible(byID("notice")))
		if got := textOf(t, ctx, byID("case-status")); got != "Eligible" {
			t.Errorf("after screening with the keyboard: %q", got)
		}
		tabTo(t, ctx, "urgency-urgency")
		key(t, ctx, "e") // Emergency
		tabTo(t, ctx, "urgency-reason")
		key(t, ctx, "a") // A new threat to the defender
		tabTo(t, ctx, "submit-urgency")
		clearNotices(t, ctx)
		key(t, ctx, kb.Enter)
		do(t, ctx, chromedp.WaitVisible(byID("notice")))
		if got := textOf(t, ctx, chromedp.CSS("dl.summary")); !strings.Contains(got, "Emergency") {
			t.Errorf("urgency after the keyboard revision:\n%s", got)
		}
	})
}

func key(t *testing.T, ctx context.Context, keys string) {
	t.Helper()
	do(t, ctx, chromedp.KeyEvent(keys))
}

// tabTo presses Tab until the element with id has focus: it proves the
// element is reachable by keyboard, in page order.
func tabTo(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	for i := 0; i < 150; i++ {
		if eval[string](t, ctx, `document.activeElement ? document.activeElement.id : ""`) == id {
			return
		}
		key(t, ctx, kb.Tab)
	}
	t.Fatalf("Tab never reached #%s", id)
}

// tabToLink presses Tab until a link whose path starts with prefix has
// focus.
func tabToLink(t *testing.T, ctx context.Context, prefix string) {
	t.Helper()
	for i := 0; i < 150; i++ {
		if strings.HasPrefix(eval[string](t, ctx, `document.activeElement && document.activeElement.getAttribute("href") || ""`), prefix) {
			return
		}
		key(t, ctx, kb.Tab)
	}
	t.Fatalf("Tab never reached a link to %s", prefix)
}
