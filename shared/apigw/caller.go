package apigw

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Role is what a caller may do.
type Role string

const (
	Partner Role = "partner"
	Officer Role = "officer"
	Admin   Role = "admin"
)

// ClaimNames say which JWT claims carry the role and the partner. They are
// configuration because each identity provider names custom claims its own way.
type ClaimNames struct {
	Role    string
	Partner string
}

// DefaultClaims are used when the environment names none.
var DefaultClaims = ClaimNames{Role: "custom:role", Partner: "custom:partner"}

// Caller is who is asking, as the verified token says.
type Caller struct {
	Subject string
	Roles   []Role
	// Partner is the referral partner a partner caseworker works for.
	Partner string
}

// Has reports whether c holds role r.
func (c Caller) Has(r Role) bool {
	for _, x := range c.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Any reports whether c holds one of roles.
func (c Caller) Any(roles ...Role) bool {
	for _, r := range roles {
		if c.Has(r) {
			return true
		}
	}
	return false
}

// PrimaryRole is the most privileged role, recorded in audit events.
func (c Caller) PrimaryRole() Role {
	for _, r := range []Role{Admin, Officer, Partner} {
		if c.Has(r) {
			return r
		}
	}
	return ""
}

// PartnerScope is the partner whose data alone c may see: set for a caller
// who is only a partner caseworker, empty for officers and admins.
func (c Caller) PartnerScope() string {
	if c.Has(Officer) || c.Has(Admin) {
		return ""
	}
	return c.Partner
}

// Scope identifies c for idempotency keys, which are per caller.
func (c Caller) Scope() string {
	return string(c.PrimaryRole()) + ":" + c.Partner + ":" + c.Subject
}

// CallerFrom reads the caller from the authorizer's claims. API Gateway
// passes every claim as a string: an array claim arrives as "[admin officer]"
// and a single value as "officer"; both are accepted. ok is false when the
// request carries no authenticated caller.
func CallerFrom(rc events.APIGatewayV2HTTPRequestContext, names ClaimNames) (Caller, bool) {
	if rc.Authorizer == nil || rc.Authorizer.JWT == nil || rc.Authorizer.JWT.Claims == nil {
		return Caller{}, false
	}
	claims := rc.Authorizer.JWT.Claims
	c := Caller{Subject: claims["sub"], Partner: strings.TrimSpace(claims[names.Partner])}
	for _, r := range splitClaim(claims[names.Role]) {
		switch Role(r) {
		case Partner, Officer, Admin:
			c.Roles = append(c.Roles, Role(r))
		}
	}
	if c.Subject == "" || len(c.Roles) == 0 {
		return Caller{}, false
	}
	// A partner role without a partner would see no one's data, or worse be
	// mistaken for a global scope: refuse it as unauthenticated.
	if c.Has(Partner) && !c.Any(Officer, Admin) && !ValidPartner(c.Partner) {
		return Caller{}, false
	}
	return c, true
}

// ValidPartner is the rule for a partner id (the partner claim):
// lower-case letters, digits and hyphens, 1–64.
func ValidPartner(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func splitClaim(v string) []string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "[")
	v = strings.TrimSuffix(v, "]")
	f := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '"' })
	return f
}
