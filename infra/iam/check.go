package iam

import (
	"fmt"
	"sort"
	"strings"
)

// Check measures least privilege over the calls a test suite made: every
// denied call is a finding, and so is every grant of the template that no
// call used: an action of a function's Allow statement that the function
// never performed on one of the statement's resources, or a resource of the
// statement that none of its actions reached. A grant finding whose key is
// in excused (see Unexercised) is not reported; an excuse that matches no
// finding is, so the list stays true.
func Check(s *Stack, calls []Call, excused map[string]string) []string {
	var findings []string
	byFunction := map[string][]Call{}
	for _, c := range calls {
		if !c.Allowed {
			findings = append(findings, fmt.Sprintf("denied: %s may not %s on %s", c.Function, c.Action, c.Resource))
			continue
		}
		byFunction[c.Function] = append(byFunction[c.Function], c)
	}
	used := map[string]bool{}
	grant := func(key, what string) {
		if _, ok := excused[key]; ok {
			used[key] = true
			return
		}
		findings = append(findings, fmt.Sprintf("unexercised: %s (%s); exercise it in a test, remove it from template.yaml, or excuse it in iam.Unexercised", key, what))
	}
	fns := make([]string, 0, len(s.Policies))
	for f := range s.Policies {
		fns = append(fns, f)
	}
	sort.Strings(fns)
	for _, f := range fns {
		for _, st := range s.Policies[f].Statements {
			if st.Effect != "Allow" {
				continue
			}
			reached := map[string]bool{}
			for _, a := range st.Action {
				done := false
				for _, c := range byFunction[f] {
					if !wildcard(a, c.Action, true) {
						continue
					}
					for _, r := range st.Resource {
						if wildcard(r, c.Resource, false) {
							done, reached[r] = true, true
						}
					}
				}
				if !done {
					grant(f+" "+a, "granted by "+sid(st)+", never performed")
				}
			}
			for _, r := range st.Resource {
				if !reached[r] {
					grant(f+" "+sid(st)+" "+r, "a resource no action of the statement reached")
				}
			}
		}
	}
	for key := range excused {
		if !used[key] {
			findings = append(findings, fmt.Sprintf("stale excuse: iam.Unexercised[%q] matches no unexercised grant; remove it", key))
		}
	}
	sort.Strings(findings)
	return findings
}

func sid(st Statement) string {
	if st.Sid != "" {
		return st.Sid
	}
	return "a statement without Sid"
}

// Summary counts the distinct allowed (function, action, resource) calls
// per function, for the report of the least-privilege test.
func Summary(calls []Call) string {
	n := map[string]int{}
	total := 0
	for _, c := range calls {
		if c.Allowed {
			n[c.Function]++
			total++
		}
	}
	fns := make([]string, 0, len(n))
	for f := range n {
		fns = append(fns, f)
	}
	sort.Strings(fns)
	var b strings.Builder
	fmt.Fprintf(&b, "%d distinct (function, action, resource) calls allowed:\n", total)
	for _, f := range fns {
		fmt.Fprintf(&b, "  %-28s %d\n", f, n[f])
	}
	return b.String()
}
