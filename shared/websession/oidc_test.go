package websession

import (
	"strconv"
	"strings"
	"testing"
)

func TestOIDCClaimStrings(t *testing.T) {
	for in, want := range map[any]string{"partner": "partner", "[officer partner]": "officer|partner",
		"officer,partner": "officer|partner", `["partner"]`: "partner", 7: ""} {
		if got := strings.Join(ClaimStrings(in), "|"); got != want {
			t.Errorf("%v: %q", in, got)
		}
	}
	if got := strings.Join(ClaimStrings([]any{"partner", 3, "admin"}), "|"); got != "partner|admin" {
		t.Errorf("array: %q", got)
	}
}

func TestOIDCUsedStates(t *testing.T) {
	var u usedStates
	if !u.claim("a", 10, 0) || u.claim("a", 10, 0) {
		t.Fatal("a state was accepted twice")
	}
}

// TestOIDCUsedStatesBounded: more unexpired sign-ins than the bound do not
// lock sign-in; the oldest states are forgotten, recent ones still refuse a
// replay, and memory stays bounded.
func TestOIDCUsedStatesBounded(t *testing.T) {
	var u usedStates
	const expires, now = 600, 0
	for i := range maxUsedStates + 5 {
		if !u.claim("s"+strconv.Itoa(i), expires, now) {
			t.Fatalf("sign-in %d refused", i+1)
		}
	}
	if !u.claim("next", expires, now) {
		t.Error("the sign-in after the bound was refused")
	}
	if u.claim("next", expires, now) || u.claim("s"+strconv.Itoa(maxUsedStates), expires, now) {
		t.Error("a recent state was accepted twice")
	}
	if len(u.m) > maxUsedStates || len(u.order) != len(u.m) {
		t.Errorf("held %d states (%d in order), bound %d", len(u.m), len(u.order), maxUsedStates)
	}
	// Expired states go first, whatever the count.
	if !u.claim("later", 1300, 700) || len(u.m) != 1 {
		t.Errorf("after expiry: held %d states, want 1", len(u.m))
	}
}
