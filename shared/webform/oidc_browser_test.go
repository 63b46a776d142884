package webform

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"
)

// TestBrowserProviderReturn signs in through the fake provider in Chromium:
// the provider (https://127.0.0.1) sends the browser back cross-site to the
// form (http://localhost), whose answer sets the SameSite=Strict session
// cookie on a page of its own; the navigation that page starts is same-site,
// so the form opens signed in. As a control, the same answer turned into a
// 303 straight to the form loses the cookie and ends up back at sign-in.
func TestBrowserProviderReturn(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	chromium := ""
	for _, c := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(c); c != "" && err == nil {
			chromium = c
			break
		}
	}
	if chromium == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed")
		}
		t.Skip("chromium is not installed")
	}
	p := newFakeProvider(t)
	p.idToken = func(g grant) string { return sign(t, jwt.SigningMethodES256, "ec-1", p.ecKey, p.claims(g)) }

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("ignore-certificate-errors", true), // the provider's httptest certificate
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()

	for _, redirectInstead := range []bool{false, true} {
		name := "same-origin page"
		if redirectInstead {
			name = "control: 303 instead"
		}
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			base := "http://localhost:" + strconv.Itoa(port)
			h := newOIDCHarness(t, p)
			h.form.cfg.OIDC.RedirectURL = base + SignInPath
			fs := &formServer{h: h, redirectInstead: redirectInstead}
			srv := httptest.NewUnstartedServer(fs)
			srv.Listener.Close()
			srv.Listener = ln
			srv.Start()
			defer srv.Close()

			bctx, bcancel := chromedp.NewContext(actx)
			defer bcancel()
			ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate(base+SignInPath+"?lang=en"),
				chromedp.WaitVisible(chromedp.CSS("#approve")), chromedp.Click(chromedp.CSS("#approve"))); err != nil {
				t.Fatal(err)
			}
			if !redirectInstead {
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#referral-form"))); err != nil {
					loc, _ := chromedp.Run(ctx, chromedp.Location())
					t.Fatalf("the form did not open signed in (at %s): %v", loc, err)
				}
				who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who")))
				if !strings.Contains(who, "Front Line Defenders") {
					t.Errorf("signed in as %q", who)
				}
				checkNoSecretsLogged(t, h.logs.String(), "", "", p)
				return
			}
			// Without the page, the Strict cookie is not sent on the hop to the
			// form, which sends the browser back to sign in (and round again).
			time.Sleep(2 * time.Second)
			returns, forms := fs.counts()
			if returns == 0 {
				t.Fatal("the control never reached the provider's return")
			}
			if forms != 0 {
				t.Error("the form opened after a cross-site 303: the control shows nothing")
			}
		})
	}
}

// formServer serves the form's function over HTTP as API Gateway would,
// counting what it answered.
type formServer struct {
	h               *oidcHarness
	redirectInstead bool
	mu              sync.Mutex
	returns, forms  int
}

func (f *formServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: r.Method + " " + r.URL.Path, RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Headers: map[string]string{"host": r.Host}, Body: string(body),
	}
	for k, vs := range r.Header {
		ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev.Headers["host"] = r.Host
	for _, c := range r.Cookies() {
		ev.Cookies = append(ev.Cookies, c.Name+"="+c.Value)
	}
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = map[string]string{}
		for k := range q {
			ev.QueryStringParameters[k] = q.Get(k)
		}
	}
	ev.RequestContext.HTTP.Method = r.Method
	resp, err := f.h.handler(r.Context(), ev)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	f.mu.Lock()
	if r.URL.Path == SignInPath && r.URL.Query().Get("code") != "" && resp.StatusCode == 200 {
		f.returns++
		if f.redirectInstead {
			resp.StatusCode, resp.Body = http.StatusSeeOther, ""
			resp.Headers["Location"] = FormPath + "?lang=en"
		}
	}
	if r.URL.Path == FormPath && resp.StatusCode == 200 {
		f.forms++
	}
	f.mu.Unlock()
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(resp.StatusCode)
	io.WriteString(w, resp.Body)
}

func (f *formServer) counts() (returns, forms int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.returns, f.forms
}
