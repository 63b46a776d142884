package workspace

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/shared/apigw"
)

// TestStaffSession: only the officer and admin roles earn a session, with
// exactly those of the caller's roles; a partner, or no subject, gets none.
func TestStaffSession(t *testing.T) {
	names := apigw.DefaultClaims
	for _, c := range []struct {
		name   string
		claims jwt.MapClaims
		want   []string
	}{
		{"officer", jwt.MapClaims{"sub": "u1", "custom:role": "officer"}, []string{"officer"}},
		{"admin and officer", jwt.MapClaims{"sub": "u1", "custom:role": "[officer admin officer]"}, []string{"officer", "admin"}},
		{"array", jwt.MapClaims{"sub": "u1", "custom:role": []any{"admin", "partner"}}, []string{"admin"}},
		{"partner", jwt.MapClaims{"sub": "u1", "custom:role": "partner", "custom:partner": "unhcr"}, nil},
		{"no role", jwt.MapClaims{"sub": "u1"}, nil},
		{"no subject", jwt.MapClaims{"custom:role": "officer"}, nil},
		{"lookalike", jwt.MapClaims{"sub": "u1", "custom:role": "Officer administrator"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ok := staffSession(c.claims, names)
			if ok != (c.want != nil) {
				t.Fatalf("ok = %v, want %v", ok, c.want != nil)
			}
			if diff := cmp.Diff(c.want, s.Roles); ok && diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
		})
	}
}
