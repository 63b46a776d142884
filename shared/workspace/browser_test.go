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
	"net/http"
	"os"
	"path/filepath"
	"strconv"
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

func textOf(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// axeBoth runs axe on the page, then on the same page in the other
// language through its toggle, and comes back.
func (b *browser) axeBoth(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	lang := bt.Eval[string](t, ctx, `document.documentElement.lang`)
	other := map[string]string{"en": "fr", "fr": "en"}[lang]
	b.Axe(t, ctx, page+" ("+lang+")")
	bt.Do(t, ctx, chromedp.Click(bt.ByID("lang-toggle")), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+other+`"] main`)))
	b.Axe(t, ctx, page+" ("+other+")")
	bt.Do(t, ctx, chromedp.Click(bt.ByID("lang-toggle")), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] main`)))
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
	bt.Do(t, ctx,
		chromedp.Navigate(b.base+"/officer/sign-in?lang=en"),
		chromedp.WaitVisible(bt.ByID("role-"+role)),
		chromedp.Click(bt.ByID("role-"+role)),
		chromedp.Click(bt.ByID("sign-in")),
	)
	if role == "partner" {
		// The refusal repeats itself in the other language, marked lang.
		bt.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("main div[lang]")))
	} else {
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("queue-submitted")))
	}
}

func (b *browser) signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	bt.Do(t, ctx, chromedp.Click(bt.ByID("sign-out")), chromedp.WaitVisible(bt.ByID("sign-in")))
}

// act submits one action form of the case page and waits for the page that
// answers it; it returns the new status shown.
func act(t *testing.T, ctx context.Context, action string, pre ...chromedp.Action[chromedp.Void]) string {
	t.Helper()
	bt.Do(t, ctx, pre...)
	clearNotices(t, ctx)
	bt.Do(t, ctx, chromedp.Click(bt.ByID("submit-"+action)), chromedp.WaitVisible(chromedp.CSS("#notice, #error-summary")))
	if s := bt.Eval[string](t, ctx, `document.getElementById("error-summary") ? document.getElementById("error-summary").innerText : ""`); s != "" {
		t.Fatalf("%s came back with errors:\n%s", action, s)
	}
	return textOf(t, ctx, bt.ByID("case-status"))
}

// clearNotices takes the page's notice and error summary away, so that
// waiting for one waits for the next page.
func clearNotices(t *testing.T, ctx context.Context) {
	t.Helper()
	bt.Eval[bool](t, ctx, `(["notice", "error-summary"].forEach(id => { const e = document.getElementById(id); if (e) e.remove(); }), true)`)
}

func openCase(t *testing.T, ctx context.Context, b *browser, id string) {
	t.Helper()
	bt.Do(t, ctx, chromedp.Navigate(b.base+"/officer/cases/"+id+"?lang=en"), chromedp.WaitVisible(bt.ByID("case-status")))
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	b := &browser{Browser: bt.Start(t), base: testenv.LocalRunner(t)}
	year := strconv.Itoa(testenv.Year()) // the runner runs on the tests' clock
	dash := b.base + "/officer/periods/hrd/" + year + "?lang=en"

	// An officer's day, then an admin raises capacity and a waitlisted
	// family is promoted; axe checks every page on the way, in both
	// languages.
	t.Run("an officer's day and a capacity raise", func(t *testing.T) {
		ctx := b.Tab(t, true, 90*time.Second)
		first := b.refer(t, "front-line-defenders", "FLD-DAY-1", "normal", "Nguyễn Thị")
		second := b.refer(t, "unhcr", "UNHCR-DAY-2", "emergency", "Nguyễn Thị") // the same defender, referred twice

		bt.Do(t, ctx, chromedp.Navigate(b.base+"/officer/sign-in?lang=en"), chromedp.WaitVisible(bt.ByID("sign-in")))
		b.axeBoth(t, ctx, "sign-in")
		b.signIn(t, ctx, "admin")
		bt.Do(t, ctx, chromedp.Navigate(dash), chromedp.WaitVisible(bt.ByID("capacity")))
		clearNotices(t, ctx)
		bt.Do(t, ctx, chromedp.SetValue(bt.ByID("capacity"), "3"), chromedp.Click(bt.ByID("save-capacity")), chromedp.WaitVisible(bt.ByID("notice")))
		b.signOut(t, ctx)

		b.signIn(t, ctx, "officer")
		if got := textOf(t, ctx, bt.ByID("queue")); !strings.Contains(got, "UNHCR-DAY-2") || !strings.Contains(got, "FLD-DAY-1") ||
			strings.Index(got, "UNHCR-DAY-2") > strings.Index(got, "FLD-DAY-1") {
			t.Errorf("screening queue, emergency first:\n%s", got)
		}
		bt.Screenshot(t, ctx, "officer-queues-en.png")
		b.axeBoth(t, ctx, "queues")

		bt.Do(t, ctx, chromedp.Click(chromedp.CSS(`a[href^="/officer/cases/`+first+`"]`)), chromedp.WaitVisible(bt.ByID("case-status")))
		b.axeBoth(t, ctx, "case page")
		// A screening without an outcome: the summary and the field say so.
		clearNotices(t, ctx)
		bt.Do(t, ctx, chromedp.Click(bt.ByID("submit-screen")), chromedp.WaitVisible(bt.ByID("error-summary")))
		if f := bt.Eval[string](t, ctx, `document.activeElement.id`); f != "error-summary" {
			t.Errorf("focus after an error on %q, want the error summary", f)
		}
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("screen-outcome-error")))
		b.axeBoth(t, ctx, "case page with errors")
		for _, s := range []struct {
			action string
			pre    []chromedp.Action[chromedp.Void]
			want   string
		}{
			{"screen", []chromedp.Action[chromedp.Void]{chromedp.Click(bt.ByID("screen-outcome"))}, "Eligible"},
			{"allocate", nil, "Allocated"},
			{"decide", []chromedp.Action[chromedp.Void]{chromedp.Click(bt.ByID("decide-outcome"))}, "Approved"},
			{"arrival", nil, "Arrived"},
		} {
			if got := act(t, ctx, s.action, s.pre...); got != s.want {
				t.Fatalf("after %s the case is %q, want %q", s.action, got, s.want)
			}
		}
		bt.Screenshot(t, ctx, "officer-case-en.png")

		openCase(t, ctx, b, second)
		if got := textOf(t, ctx, bt.ByID("duplicates")); !strings.Contains(got, first) {
			t.Errorf("possible duplicates = %q, want %s", got, first)
		}
		act(t, ctx, "screen", chromedp.Click(bt.ByID("screen-outcome")))
		if got := act(t, ctx, "allocate"); got != "Waitlisted" {
			t.Fatalf("second family: %q, want Waitlisted (1 space left for 2)", got)
		}
		bt.Do(t, ctx, chromedp.Navigate(b.base+"/officer?lang=en&queue=waitlisted&stream=hrd&period="+year), chromedp.WaitVisible(bt.ByID("queue")))
		if got := textOf(t, ctx, bt.ByID("queue")); !strings.Contains(got, "UNHCR-DAY-2") || !strings.Contains(got, "Stream full") {
			t.Errorf("waitlist queue:\n%s", got)
		}
		b.signOut(t, ctx)

		b.signIn(t, ctx, "admin")
		bt.Do(t, ctx, chromedp.Navigate(dash), chromedp.WaitVisible(bt.ByID("tiles")))
		if got := textOf(t, ctx, bt.ByID("tiles")); !strings.Contains(got, "Waitlisted persons\n2") && !strings.Contains(got, "Waitlisted persons 2") {
			t.Errorf("dashboard before the raise:\n%s", got)
		}
		// Below what is held: refused, in words, nothing changed.
		clearNotices(t, ctx)
		bt.Do(t, ctx, chromedp.SetValue(bt.ByID("capacity"), "1"), chromedp.Click(bt.ByID("save-capacity")), chromedp.WaitVisible(bt.ByID("error-summary")))
		if got := textOf(t, ctx, bt.ByID("error-summary")); !strings.Contains(got, "cannot go below") {
			t.Errorf("refusal: %q", got)
		}
		b.axeBoth(t, ctx, "dashboard with a refused capacity")
		clearNotices(t, ctx)
		bt.Do(t, ctx, chromedp.SetValue(bt.ByID("capacity"), "7"), chromedp.Click(bt.ByID("save-capacity")), chromedp.WaitVisible(bt.ByID("notice")))
		tiles := textOf(t, ctx, bt.ByID("tiles"))
		for _, want := range []string{"Capacity\n7", "Reserved\n2", "Arrived\n2", "Waitlisted persons\n0"} {
			if !strings.Contains(tiles, want) && !strings.Contains(tiles, strings.ReplaceAll(want, "\n", " ")) {
				t.Errorf("dashboard after the raise lacks %q:\n%s", want, tiles)
			}
		}
		bt.Screenshot(t, ctx, "officer-dashboard-en.png")
		b.axeBoth(t, ctx, "dashboard")
		openCase(t, ctx, b, second)
		if got := textOf(t, ctx, bt.ByID("case-status")); got != "Allocated" {
			t.Errorf("the waitlisted family after the raise: %q, want Allocated", got)
		}
		bt.Do(t, ctx, chromedp.Click(bt.ByID("lang-toggle")), chromedp.WaitVisible(chromedp.CSS(`html[lang="fr"] main`)))
		bt.Screenshot(t, ctx, "officer-case-fr.png")
		b.signOut(t, ctx)

		// A partner caseworker is refused, in both languages.
		b.signIn(t, ctx, "partner")
		if got := textOf(t, ctx, chromedp.CSS("main")); !strings.Contains(got, "officers and administrators") || !strings.Contains(got, "agents et aux administrateurs") {
			t.Errorf("partner's page:\n%s", got)
		}
		b.Axe(t, ctx, "partner refusal")
	})

	// The same day with scripts off: the pages need none.
	t.Run("an officer's day without JavaScript", func(t *testing.T) {
		ctx := b.Tab(t, false, 90*time.Second)
		id := b.refer(t, "unhcr", "UNHCR-NOJS-1", "normal", "Thandiwe")
		b.signIn(t, ctx, "officer")
		bt.Do(t, ctx, chromedp.Click(chromedp.CSS(`a[href^="/officer/cases/`+id+`"]`)), chromedp.WaitVisible(bt.ByID("case-status")))
		for _, s := range []struct {
			action string
			pre    []chromedp.Action[chromedp.Void]
			want   string
		}{
			{"screen", []chromedp.Action[chromedp.Void]{chromedp.Click(bt.ByID("screen-outcome"))}, "Eligible"},
			{"allocate", nil, "Allocated"},
			{"decide", []chromedp.Action[chromedp.Void]{chromedp.Click(bt.ByID("decide-outcome"))}, "Approved"},
			{"arrival", nil, "Arrived"},
		} {
			if got := act(t, ctx, s.action, s.pre...); got != s.want {
				t.Fatalf("after %s the case is %q, want %q", s.action, got, s.want)
			}
		}
		b.signOut(t, ctx)
	})

	t.Run("keyboard only", func(t *testing.T) {
		ctx := b.Tab(t, true, 90*time.Second)
		id := b.refer(t, "protectdefenders-eu", "PDE-KB-1", "urgent", "Lucía")
		bt.Do(t, ctx, chromedp.Navigate(b.base+"/officer/sign-in?lang=en"), chromedp.WaitVisible(bt.ByID("sign-in")))
		bt.TabTo(t, ctx, "role-officer")
		bt.Key(t, ctx, " ")
		bt.TabTo(t, ctx, "sign-in")
		bt.Key(t, ctx, kb.Enter)
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("queue-submitted")))
		// The skip link is the first stop and moves focus to the content.
		bt.Eval[bool](t, ctx, `(document.activeElement.blur(), true)`)
		bt.Key(t, ctx, kb.Tab)
		if f := bt.Eval[string](t, ctx, `document.activeElement.className`); f != "skip" {
			t.Errorf("first Tab stop: %q, want the skip link", f)
		}
		// Filter the queue to one partner with the keyboard.
		bt.TabTo(t, ctx, "f-partner")
		bt.Key(t, ctx, "p") // protectdefenders-eu
		bt.TabTo(t, ctx, "f-apply")
		// The table goes, so that waiting for it waits for the next page.
		bt.Eval[bool](t, ctx, `(document.getElementById("queue").remove(), true)`)
		bt.Key(t, ctx, kb.Enter)
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("queue")))
		if got := textOf(t, ctx, bt.ByID("queue")); !strings.Contains(got, "PDE-KB-1") || strings.Contains(got, "FLD-") {
			t.Fatalf("queue of one partner:\n%s", got)
		}
		tabToLink(t, ctx, "/officer/cases/"+id)
		bt.Key(t, ctx, kb.Enter)
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("case-status")))
		bt.TabTo(t, ctx, "screen-outcome")
		bt.Key(t, ctx, " ")
		bt.TabTo(t, ctx, "submit-screen")
		clearNotices(t, ctx)
		bt.Key(t, ctx, kb.Enter)
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("notice")))
		if got := textOf(t, ctx, bt.ByID("case-status")); got != "Eligible" {
			t.Errorf("after screening with the keyboard: %q", got)
		}
		bt.TabTo(t, ctx, "urgency-urgency")
		bt.Key(t, ctx, "e") // Emergency
		bt.TabTo(t, ctx, "urgency-reason")
		bt.Key(t, ctx, "a") // A new threat to the defender
		bt.TabTo(t, ctx, "submit-urgency")
		clearNotices(t, ctx)
		bt.Key(t, ctx, kb.Enter)
		bt.Do(t, ctx, chromedp.WaitVisible(bt.ByID("notice")))
		if got := textOf(t, ctx, chromedp.CSS("dl.summary")); !strings.Contains(got, "Emergency") {
			t.Errorf("urgency after the keyboard revision:\n%s", got)
		}
	})
}

// tabToLink presses Tab until a link whose path starts with prefix has
// focus.
func tabToLink(t *testing.T, ctx context.Context, prefix string) {
	t.Helper()
	for i := 0; i < 150; i++ {
		if strings.HasPrefix(bt.Eval[string](t, ctx, `document.activeElement && document.activeElement.getAttribute("href") || ""`), prefix) {
			return
		}
		bt.Key(t, ctx, kb.Tab)
	}
	t.Fatalf("Tab never reached a link to %s", prefix)
}
