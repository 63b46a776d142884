// Package browsertest drives Debian's chromium with chromedp for Haven's
// browser tests (the referral form's, the officers' workspace's): it finds
// chromium and axe-core (npm ci), opens tabs with page scripts on or off,
// runs axe-core on a page, presses keys, and writes the README's
// screenshots. Only tests import it.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
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

// Missing skips the test for lack of what, or fails it under CI=true
// (infra/ci/test.sh installs what the browser tests need).
func Missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(what)
	}
	t.Skip(what + "; skipping the browser tests (they fail instead when CI=true)")
}

// Chromium is the path of the browser ($CHROMIUM first), or the test is
// skipped (failed under CI=true).
func Chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "chromium is not installed (apt-get install -y chromium)")
	return ""
}

// Browser is one headless chromium with axe-core at hand.
type Browser struct {
	ctx context.Context
	axe string
}

// Start starts chromium for the test (stopped when it ends).
func Start(t *testing.T) *Browser {
	t.Helper()
	chromium := Chromium(t)
	axeSrc, err := os.ReadFile(filepath.Join(testenv.Root(t), "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		Missing(t, "node_modules/axe-core is missing (run npm ci)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1100, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &Browser{ctx: bctx, axe: string(axeSrc)}
}

type scriptsOff struct{}

// Tab opens a new tab for the test, with page scripts on (js) or off, that
// gives up after timeout.
func (b *Browser) Tab(t *testing.T, js bool, timeout time.Duration) context.Context {
	t.Helper()
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
	tctx, tcancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(tcancel)
	return context.WithValue(tctx, scriptsOff{}, !js)
}

// ScriptsOff reports whether ctx is a tab with page scripts off.
func ScriptsOff(ctx context.Context) bool {
	off, _ := ctx.Value(scriptsOff{}).(bool)
	return off
}

// ByID selects the element with id (any characters).
func ByID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[id=%q]", id)) }

// Do runs steps, failing the test on error.
func Do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// Eval evaluates expr in the page.
func Eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Key presses keys.
func Key(t *testing.T, ctx context.Context, keys string) {
	t.Helper()
	Do(t, ctx, chromedp.KeyEvent(keys))
}

// TabTo presses Tab until the element with id has focus: it proves the
// element is reachable by keyboard, in page order.
func TabTo(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	for i := 0; i < 150; i++ {
		if Eval[string](t, ctx, `document.activeElement ? document.activeElement.id : ""`) == id {
			return
		}
		Key(t, ctx, kb.Tab)
	}
	t.Fatalf("Tab never reached #%s", id)
}

// Axe injects axe-core into the page and fails the test on any violation
// (WCAG 2.0 and 2.1, A and AA, and best practice). A tab with scripts off
// cannot run it: such a tab is not checked (check the same pages with
// scripts on).
func (b *Browser) Axe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if ScriptsOff(ctx) {
		return
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
	if len(vs) == 0 {
		t.Logf("axe %s: 0 violations", page)
	}
}

// Screenshot writes the page to docs/screenshots/name when
// HAVEN_SCREENSHOTS is set.
func Screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("HAVEN_SCREENSHOTS") == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(testenv.Root(t), "docs", "screenshots", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
