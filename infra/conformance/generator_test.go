package conformance

import (
	"testing"

	"pgregory.net/rapid"
)

// TestGeneratorKeepsToTheDocument draws the requests of every cell without a
// service: what the generator calls valid passes kin-openapi's validation of
// the document, what it breaks fails it, and every constraint of every
// property can be broken. A failure of TestConformance is then the service's
// or the document's, not the generator's.
func TestGeneratorKeepsToTheDocument(t *testing.T) {
	e := newEnv(t)
	everyone := map[string]bool{}
	for _, r := range e.roles {
		everyone[r] = true
	}
	_, broken := e.cells()
	var cells []cell
	for _, o := range e.ops {
		cells = append(cells, cell{op: o, round: 1})
	}
	cells = append(cells, broken...)
	for _, c := range cells {
		c.checks = 10
		t.Run(c.name(), func(t *testing.T) {
			configure(c)
			applied := 0
			rapid.Check(t, func(rt *rapid.T) {
				g := &gen{t: rt, e: e, o: c.op, seen: map[string]any{}, gone: map[string]bool{}}
				if c.kind != "" {
					g.tg = &target{loc: c.loc, tmpl: c.tmpl, kind: c.kind}
					g.armed = true
				}
				req, values := g.request(c, everyone)
				if g.tg != nil && !g.tg.applied {
					return
				}
				applied++
				e.selfCheck(rt, req, values, g.tg)
			})
			if c.kind != "" && applied == 0 {
				t.Errorf("%s: no draw broke the constraint", c.name())
			}
		})
	}
}

// TestDescribedRulesAreInTheDocument keeps the rules stated in words tied to
// the document: each names a schema or parameter that exists and describes
// itself, so a rename cannot quietly switch a rule off.
func TestDescribedRulesAreInTheDocument(t *testing.T) {
	e := newEnv(t)
	for _, r := range e.rules {
		switch {
		case r.schema != "":
			s, ok := e.doc.Components.Schemas[r.schema]
			if !ok || s.Value.Description == "" {
				t.Errorf("rule %s: schema %s is not in openapi.yaml with a description", r.name, r.schema)
			}
		case r.param != "":
			found := false
			for _, o := range e.ops {
				for _, p := range o.params {
					if p.In+":"+p.Name == r.param && p.Description != "" {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("rule %s: no described parameter %s in openapi.yaml", r.name, r.param)
			}
		}
	}
}

func TestNamed(t *testing.T) {
	tests := []struct {
		field, broken string
		want          bool
	}{
		{"principal.given_name", "principal.given_name", true},
		{"consent.given", "consent", true},
		{"capacity", "", true},
		{"/family_members/1/sex", "family_members.1.sex", true},
		{"contact", "contact.email", false},
		{"principal.given_names", "principal.given_name", false},
		{"reasons", "reasons.0", false},
	}
	for _, tt := range tests {
		if got := named(tt.field, tt.broken); got != tt.want {
			t.Errorf("named(%q, %q) = %v, want %v", tt.field, tt.broken, got, tt.want)
		}
	}
}
