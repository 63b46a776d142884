package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
)

func startRunner(t *testing.T, dataDir string) *Runner {
	t.Helper()
	root, _ := filepath.Abs("../..")
	r, err := Start(context.Background(), Config{
		Addr: "127.0.0.1:0", DynamoDBAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0", DataDir: dataDir,
		Template: filepath.Join(root, "template.yaml"), Seed: filepath.Join(root, "infra/local/seed.yaml"),
		Now: testenv.Clock(),
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func call(t *testing.T, method, url, token, ctype string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func token(t *testing.T, r *Runner, body string) string {
	t.Helper()
	resp, b := call(t, "POST", r.URL+"/_local/tokens", "", "application/json", []byte(body), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	var out struct{ Token string }
	json.Unmarshal(b, &out)
	return out.Token
}

// TestNewcomerJourney is the foundation issue's "done when", as a test: get
// a token, post a referral as JSON and as a form, read it, list it, see its
// history, restart the runner, and find it still there.
func TestNewcomerJourney(t *testing.T) {
	data := t.TempDir()
	r := startRunner(t, data)
	partner := token(t, r, `{"role":"partner","partner":"front-line-defenders"}`)
	body, err := os.ReadFile("../../shared/referral/testdata/referral.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, b := call(t, "POST", r.URL+"/referrals", partner, "application/json", body, map[string]string{"Idempotency-Key": "journey-1"})
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var created map[string]any
	json.Unmarshal(b, &created)
	id := created["id"].(string)
	if resp.Header.Get("Location") != "/referrals/"+id {
		t.Errorf("Location %q", resp.Header.Get("Location"))
	}

	form, _ := os.ReadFile("../../shared/referral/testdata/referral.form")
	formBody := strings.Replace(strings.TrimSpace(string(form)), "partner_reference=", "partner_reference=FORM-", 1)
	resp, b = call(t, "POST", r.URL+"/referrals", partner, "application/x-www-form-urlencoded", []byte(formBody), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("form create: %d %s", resp.StatusCode, b)
	}

	resp, b = call(t, "GET", r.URL+"/referrals/"+id, partner, "", nil, nil)
	var got map[string]any
	json.Unmarshal(b, &got)
	if resp.StatusCode != 200 || !cmp.Equal(created, got) {
		t.Errorf("get: %d %s", resp.StatusCode, b)
	}
	resp, b = call(t, "GET", r.URL+"/referrals?limit=10", partner, "", nil, nil)
	var list struct{ Items []map[string]any }
	json.Unmarshal(b, &list)
	if resp.StatusCode != 200 || len(list.Items) != 2 {
		t.Errorf("list: %d %s", resp.StatusCode, b)
	}
	resp, b = call(t, "GET", r.URL+"/referrals/"+id+"/history", partner, "", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"action":"created"`) {
		t.Errorf("history: %d %s", resp.StatusCode, b)
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = startRunner(t, data)
	defer r.Close()
	// The signing key is kept too: the old token still works.
	resp, b = call(t, "GET", r.URL+"/referrals/"+id, partner, "", nil, nil)
	json.Unmarshal(b, &got)
	if resp.StatusCode != 200 || !cmp.Equal(created, got) {
		t.Errorf("after restart: %d %s", resp.StatusCode, b)
	}
	// The replay survives a restart as well.
	resp, _ = call(t, "POST", r.URL+"/referrals", partner, "application/json", body, map[string]string{"Idempotency-Key": "journey-1"})
	if resp.StatusCode != 201 {
		t.Errorf("replay after restart: %d", resp.StatusCode)
	}
}

func TestRunnerAuthorizer(t *testing.T) {
	r := startRunner(t, t.TempDir())
	defer r.Close()
	good := token(t, r, `{"role":"officer"}`)
	expired := token(t, r, `{"role":"officer","ttl_seconds":-120}`)
	noScope := token(t, r, `{"role":"officer","scope":""}`)
	otherScope := token(t, r, `{"role":"officer","scope":"openid email"}`)
	parts := strings.Split(good, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	tests := []struct {
		name, auth string
		want       int
	}{
		{"valid", "Bearer " + good, 200},
		{"none", "", 401},
		{"expired", "Bearer " + expired, 401},
		{"forged signature", "Bearer " + forged, 401},
		{"not bearer", "Basic " + good, 401},
		{"garbage", "Bearer abc.def.ghi", 401},
		{"no scope", "Bearer " + noScope, 403},
		{"other scopes", "Bearer " + otherScope, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", r.URL+"/referrals", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	for _, bad := range []string{`{"role":"king"}`, `{"role":"partner"}`, `not json`, `{"role":"officer","extra":1}`} {
		resp, _ := call(t, "POST", r.URL+"/_local/tokens", "", "application/json", []byte(bad), nil)
		if resp.StatusCode != 400 {
			t.Errorf("token request %s: %d", bad, resp.StatusCode)
		}
	}
	resp, _ := call(t, "POST", r.URL+"/_local/invoke/NoSuchFunction", "", "application/json", nil, nil)
	if resp.StatusCode != 404 {
		t.Errorf("invoke unknown: %d", resp.StatusCode)
	}
}

func TestClaimStrings(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"officer", "officer"},
		{[]any{"admin", "officer"}, "[admin officer]"},
		{float64(1795000000), "1795000000"},
		{1.5, "1.5"},
		{true, "true"},
		{nil, ""},
		{map[string]any{"a": "b"}, `{"a":"b"}`},
	}
	for _, tt := range tests {
		if got := claimString(tt.in); got != tt.want {
			t.Errorf("claimString(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzClaimsMapping(f *testing.F) {
	for _, s := range []string{`{"custom:role":"officer"}`, `{"custom:role":["admin","officer"],"exp":1795000000}`, `{"a":{"b":[1,2,null]}}`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			return
		}
		out := claimStrings(m)
		if len(out) != len(m) {
			t.Fatalf("lost claims: %d of %d", len(out), len(m))
		}
	})
}
