package iam

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Policy is the identity policy of one function: the statements of its
// role, intrinsics resolved.
type Policy struct {
	Function   string // the function's logical id
	Statements []Statement
}

// Statement is one policy statement. Action and Resource patterns may hold
// the wildcards * and ?; actions match without regard to case, resources
// with it, as in IAM.
type Statement struct {
	Sid         string
	Effect      string // Allow or Deny
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	Condition   []Condition
}

// Condition is one operator/key/values entry of a statement's Condition
// block: StringEquals {"kms:ViaService": ["s3.ca-central-1.amazonaws.com"]}.
type Condition struct {
	Operator string // e.g. StringLike, ForAnyValue:StringEquals, ArnLikeIfExists
	Key      string
	Values   []string
}

// Request is what one call asks IAM: an action on a resource, with the
// condition keys the call carries (names as IAM spells them; looked up
// without regard to case).
type Request struct {
	Action   string
	Resource string
	Context  map[string][]string
}

// Decision is the outcome of an evaluation.
type Decision int

const (
	// ImplicitDeny: no statement allows the request.
	ImplicitDeny Decision = iota
	// Allowed: a statement allows it and none denies it.
	Allowed
	// ExplicitDeny: a Deny statement matches; it wins over any Allow.
	ExplicitDeny
	// ResourceDeny: a Deny of the resource's own policy (a bucket policy)
	// matches; it wins too.
	ResourceDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitly denied"
	case ResourceDeny:
		return "explicitly denied by the resource's policy"
	}
	return "implicitly denied"
}

// Evaluate decides r as IAM decides an identity-based policy: an explicit
// Deny wins, else an Allow allows, else the request is denied.
func (p Policy) Evaluate(r Request) Decision {
	allowed := false
	for _, s := range p.Statements {
		if !s.matches(r) {
			continue
		}
		if s.Effect == "Deny" {
			return ExplicitDeny
		}
		allowed = true
	}
	if allowed {
		return Allowed
	}
	return ImplicitDeny
}

func (s Statement) matches(r Request) bool {
	if len(s.Action) > 0 && !anyMatch(s.Action, r.Action, true) {
		return false
	}
	if len(s.NotAction) > 0 && anyMatch(s.NotAction, r.Action, true) {
		return false
	}
	if len(s.Resource) > 0 && !anyMatch(s.Resource, r.Resource, false) {
		return false
	}
	if len(s.NotResource) > 0 && anyMatch(s.NotResource, r.Resource, false) {
		return false
	}
	for _, c := range s.Condition {
		if !c.holds(r.Context) {
			return false
		}
	}
	return true
}

func anyMatch(patterns []string, v string, foldCase bool) bool {
	for _, p := range patterns {
		if wildcard(p, v, foldCase) {
			return true
		}
	}
	return false
}

// wildcard matches v against an IAM pattern: * is any run of characters
// (including /), ? any one character.
func wildcard(pattern, v string, foldCase bool) bool {
	if foldCase {
		pattern, v = strings.ToLower(pattern), strings.ToLower(v)
	}
	// path.Match treats / specially and [ as a class; IAM does neither.
	for {
		i := strings.IndexAny(pattern, "*?")
		if i < 0 {
			return pattern == v
		}
		if !strings.HasPrefix(v, pattern[:i]) {
			return false
		}
		v, pattern = v[i:], pattern[i:]
		if pattern[0] == '?' {
			if v == "" {
				return false
			}
			_, size := firstRune(v)
			v, pattern = v[size:], pattern[1:]
			continue
		}
		pattern = strings.TrimLeft(pattern, "*")
		if pattern == "" {
			return true
		}
		for j := 0; j <= len(v); j++ {
			if wildcard(pattern, v[j:], false) {
				return true
			}
		}
		return false
	}
}

func firstRune(s string) (rune, int) {
	for i, r := range s {
		if i > 0 {
			return r, i
		}
	}
	return 0, len(s)
}

// operators are the condition operators modelled, by base name (without
// ForAnyValue:/ForAllValues: and IfExists). Each compares one value of the
// request with one of the policy.
var operators = map[string]func(have, want string) bool{
	"StringEquals":              func(h, w string) bool { return h == w },
	"StringNotEquals":           func(h, w string) bool { return h == w },
	"StringEqualsIgnoreCase":    strings.EqualFold,
	"StringNotEqualsIgnoreCase": strings.EqualFold,
	"StringLike":                func(h, w string) bool { return wildcard(w, h, false) },
	"StringNotLike":             func(h, w string) bool { return wildcard(w, h, false) },
	"ArnEquals":                 func(h, w string) bool { return h == w },
	"ArnNotEquals":              func(h, w string) bool { return h == w },
	"ArnLike":                   func(h, w string) bool { return wildcard(w, h, false) },
	"ArnNotLike":                func(h, w string) bool { return wildcard(w, h, false) },
	"Bool":                      func(h, w string) bool { return strings.EqualFold(h, w) },
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its set
// qualifier, base operator and IfExists, refusing what is not modelled.
func parseOperator(op string) (set, base string, ifExists bool, err error) {
	base = op
	if q, rest, found := strings.Cut(op, ":"); found {
		if q != "ForAnyValue" && q != "ForAllValues" {
			return "", "", false, fmt.Errorf("condition operator %s: unknown qualifier %s", op, q)
		}
		set, base = q, rest
	}
	if b, found := strings.CutSuffix(base, "IfExists"); found {
		base, ifExists = b, true
	}
	if _, ok := operators[base]; !ok && base != "Null" {
		return "", "", false, fmt.Errorf("condition operator %s is not modelled", op)
	}
	return set, base, ifExists, nil
}

func (c Condition) holds(ctx map[string][]string) bool {
	set, base, ifExists, err := parseOperator(c.Operator)
	if err != nil {
		return false // parsePolicy refuses these; never allow on a doubt
	}
	have, present := lookup(ctx, c.Key)
	if base == "Null" {
		// "true": the key must be absent; "false": present.
		return slices.ContainsFunc(c.Values, func(w string) bool { return strings.EqualFold(w, "true") != present })
	}
	negated := strings.Contains(base, "Not")
	match := operators[base]
	oneMatches := func(h string) bool {
		return slices.ContainsFunc(c.Values, func(w string) bool { return match(h, w) })
	}
	switch set {
	case "ForAllValues":
		// Every value of the request is among the policy's (vacuously
		// true when the key is absent).
		for _, h := range have {
			if oneMatches(h) == negated {
				return false
			}
		}
		return true
	case "ForAnyValue":
		if !present {
			return false
		}
		for _, h := range have {
			if oneMatches(h) != negated {
				return true
			}
		}
		return false
	}
	if !present {
		// A negated operator holds when the key is absent, as does
		// any operator with IfExists.
		return ifExists || negated
	}
	any := slices.ContainsFunc(have, oneMatches)
	return any != negated
}

func lookup(ctx map[string][]string, key string) ([]string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// ARN builders for the resources Haven's functions reach.

func tableARN(region, account, table string) string {
	return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + table
}

func indexARN(region, account, table, index string) string {
	return tableARN(region, account, table) + "/index/" + index
}

func bucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

func objectARN(bucket, key string) string { return bucketARN(bucket) + "/" + key }

func keyARN(region, account, keyID string) string {
	if strings.HasPrefix(keyID, "arn:") {
		return keyID
	}
	if strings.HasPrefix(keyID, "alias/") {
		return "arn:aws:kms:" + region + ":" + account + ":" + keyID
	}
	return "arn:aws:kms:" + region + ":" + account + ":key/" + path.Base(keyID)
}
