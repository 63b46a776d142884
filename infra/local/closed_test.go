package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalEndpointsClosed: /_local/* refuses a Host that is not loopback
// (DNS rebinding: the browser sends the attacker's name) and a body that is
// not declared JSON (a cross-site form post or simple fetch), and issues no
// token either way.
func TestLocalEndpointsClosed(t *testing.T) {
	r := startRunner(t, t.TempDir())
	t.Cleanup(func() { r.Close() })
	const body = `{"role":"admin"}`
	for _, tt := range []struct {
		name, path, host, ctype string
		want                    int
	}{
		{"loopback and JSON", "/_local/tokens", "", "application/json", http.StatusOK},
		{"localhost and JSON with charset", "/_local/tokens", "localhost:3000", "application/json; charset=utf-8", http.StatusOK},
		{"rebound host", "/_local/tokens", "attacker.example:3000", "application/json", http.StatusForbidden},
		{"rebound host, invoke", "/_local/invoke/DailyReportFunction", "attacker.example", "application/json", http.StatusForbidden},
		{"form post", "/_local/tokens", "", "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"text/plain fetch", "/_local/tokens", "", "text/plain", http.StatusUnsupportedMediaType},
		{"no content type", "/_local/tokens", "", "", http.StatusUnsupportedMediaType},
		{"text/plain invoke", "/_local/invoke/DailyReportFunction", "", "text/plain", http.StatusUnsupportedMediaType},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", r.URL+tt.path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.want, b.String())
			}
			if tt.want != http.StatusOK && strings.Contains(b.String(), "token") && strings.Contains(b.String(), "ey") {
				t.Errorf("a refused request got a token: %s", b.String())
			}
		})
	}
}

// TestListenAnywhere: an address beyond loopback is refused without
// -listen-anywhere, and accepted with it, with a warning.
func TestListenAnywhere(t *testing.T) {
	root, _ := filepath.Abs("../..")
	cfg := func(addr string, anywhere bool, warn *bytes.Buffer) Config {
		return Config{Addr: addr, DynamoDBAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0", DataDir: t.TempDir(),
			Template: filepath.Join(root, "template.yaml"), ListenAnywhere: anywhere, Warnings: warn}
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		var warn bytes.Buffer
		if r, err := Start(context.Background(), cfg(addr, false, &warn)); err == nil {
			r.Close()
			t.Errorf("%s accepted without -listen-anywhere", addr)
		} else if !strings.Contains(err.Error(), "-listen-anywhere") {
			t.Errorf("%s: error %q does not name the flag", addr, err)
		}
	}
	var warn bytes.Buffer
	r, err := Start(context.Background(), cfg("0.0.0.0:0", true, &warn))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !strings.Contains(warn.String(), "WARNING") || !strings.Contains(warn.String(), "0.0.0.0:0") {
		t.Errorf("warning = %q", warn.String())
	}
	warn.Reset()
	r, err = Start(context.Background(), cfg("127.0.0.1:0", false, &warn))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if warn.Len() != 0 {
		t.Errorf("warning on loopback: %q", warn.String())
	}
}

// TestLocalSecretsFromCryptoRand: the runner's secrets are crypto/rand
// text of 256 bits (rand.Text: RFC 4648 base32), not ULIDs, whose randomness
// is math/rand's and whose first characters are the time (Crockford base32,
// starting 0 for centuries).
func TestLocalSecretsFromCryptoRand(t *testing.T) {
	dir := t.TempDir()
	a, err := localSecret(filepath.Join(dir, "a.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := localSecret(filepath.Join(dir, "b.key"))
	for _, s := range []string{a, b} {
		if len(s) != 52 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Errorf("secret %q: want 52 characters of crypto/rand.Text", s)
		}
	}
	if a == b {
		t.Error("two secrets are equal")
	}
	if again, _ := localSecret(filepath.Join(dir, "a.key")); again != a {
		t.Error("a kept secret changed")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "a.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}
