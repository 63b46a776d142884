package idempotency

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/shared/problem"
)

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"", false},
		{"a", true},
		{"0b1d6c3e-8c1f-4bde-9a55-6f1c1d6a2d4e", true},
		{strings.Repeat("k", 255), true},
		{strings.Repeat("k", 256), false},
		{"has space", false},
		{"tab\t", false},
		{"é", false},
		{"~!@#$%^&*()_+", true},
		{"nul\x00", false},
		{"del\x7f", false},
	}
	for _, tt := range tests {
		if got := ValidKey(tt.key); got != tt.want {
			t.Errorf("ValidKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	resp := Response{Status: 201, Headers: map[string]string{"Location": "/referrals/x"}, Body: []byte(`{"id":"x"}`)}
	done := New("partner:unhcr:s", "k1", Hash("POST", "/referrals", []byte("a")), resp, now)
	running := InProgress("partner:unhcr:s", "k1", Hash("POST", "/referrals", []byte("a")), now.Add(time.Minute))
	tests := []struct {
		name     string
		existing Record
		hash     string
		want     Response
		wantKind problem.Kind
	}{
		{"same body replays", done, Hash("POST", "/referrals", []byte("a")), resp, ""},
		{"other body refused", done, Hash("POST", "/referrals", []byte("b")), Response{}, problem.IdempotencyKeyReused},
		{"other route refused", done, Hash("POST", "/referrals/x/withdrawal", []byte("a")), Response{}, problem.IdempotencyKeyReused},
		{"running same body", running, Hash("POST", "/referrals", []byte("a")), Response{}, problem.RequestInProgress},
		{"running other body is reuse", running, Hash("POST", "/referrals", []byte("c")), Response{}, problem.IdempotencyKeyReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.existing, tt.hash, now)
			var gotKind problem.Kind
			if err != nil {
				gotKind = problem.KindOf(err)
			}
			if gotKind != tt.wantKind {
				t.Fatalf("kind = %q, want %q", gotKind, tt.wantKind)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
	if !done.Live(now) || done.Live(now.Add(TTL)) {
		t.Errorf("Live: want live now and dead after TTL")
	}
}

func FuzzValidKey(f *testing.F) {
	for _, s := range []string{"", "a", "key with space", "ü", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		ok := ValidKey(k)
		if ok && (len(k) == 0 || len(k) > 255 || strings.ContainsAny(k, " \t\r\n")) {
			t.Fatalf("accepted %q", k)
		}
		if ok != (CheckKey("idempotency_key", k) == nil) {
			t.Fatalf("CheckKey disagrees with ValidKey on %q", k)
		}
	})
}
