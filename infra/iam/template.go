package iam

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/samtemplate"
)

// Local account and region: every ARN of a local run is in them.
const (
	Account = "000000000000"
	Region  = "ca-central-1"
)

// Stack is a template resolved for a local run: each function's policy and
// what the requests of its calls need to know (which KMS key encrypts a
// bucket's objects).
type Stack struct {
	Policies map[string]Policy // by function logical id
	// BucketKeys maps a bucket name to the ARN of the KMS key of its
	// default encryption (SSE-KMS), when it has one.
	BucketKeys map[string]string
	// Refs are the values Ref and Fn::GetAtt give (samtemplate.Resolve).
	Refs map[string]string
	// BucketDenies are the Deny statements of each bucket's policy that
	// name every principal ("*"), by bucket name: they bind the functions'
	// roles too, and an explicit Deny wins. (The policies' Allow statements
	// name partner accounts, never a function's role.)
	BucketDenies map[string][]Statement
}

// LocalRefs are the values Ref and Fn::GetAtt give in a local run of tpl:
// parameters at their defaults, tables and buckets by their embedded names
// (physical overrides a logical id's name, as tests with a table of their
// own do), ARNs in Account and Region, and each KMS key a fixed id.
func LocalRefs(tpl *samtemplate.Template, physical map[string]string) map[string]string {
	refs := tpl.ParameterDefaults()
	refs["AWS::Region"], refs["AWS::AccountId"], refs["AWS::Partition"] = Region, Account, "aws"
	refs["AWS::URLSuffix"], refs["AWS::StackName"] = "amazonaws.com", "haven-local"
	name := func(id, def string) string {
		if n, ok := physical[id]; ok {
			return n
		}
		return def
	}
	for _, t := range tpl.Tables() {
		n := name(t.LogicalID, embedded.TableName(t.LogicalID))
		refs[t.LogicalID], refs[t.LogicalID+".Arn"] = n, tableARN(Region, Account, n)
	}
	for _, b := range tpl.Buckets() {
		n := name(b, embedded.BucketName(b))
		refs[b], refs[b+".Arn"] = n, bucketARN(n)
	}
	for id, r := range tpl.Resources {
		if r.Type == "AWS::KMS::Key" {
			arn := keyARN(Region, Account, "local-"+strings.ToLower(id))
			refs[id], refs[id+".Arn"], refs[id+".KeyId"] = arn[strings.LastIndex(arn, "/")+1:], arn, arn[strings.LastIndex(arn, "/")+1:]
		}
	}
	return refs
}

// Load resolves tpl's function policies and bucket keys against refs.
func Load(tpl *samtemplate.Template, refs map[string]string) (*Stack, error) {
	s := &Stack{Policies: map[string]Policy{}, BucketKeys: map[string]string{}, Refs: refs, BucketDenies: map[string][]Statement{}}
	for _, fn := range tpl.Functions() {
		p, err := functionPolicy(fn, refs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.LogicalID, err)
		}
		s.Policies[fn.LogicalID] = p
	}
	for _, b := range tpl.Buckets() {
		enc := mapOf(tpl.Raw(b)["BucketEncryption"])
		for _, rule := range listOf(enc["ServerSideEncryptionConfiguration"]) {
			def := mapOf(mapOf(rule)["ServerSideEncryptionByDefault"])
			if def["SSEAlgorithm"] != "aws:kms" && def["SSEAlgorithm"] != "aws:kms:dsse" {
				continue
			}
			key, err := samtemplate.Resolve(def["KMSMasterKeyID"], refs)
			if err != nil {
				return nil, fmt.Errorf("%s: KMSMasterKeyID: %w", b, err)
			}
			s.BucketKeys[refs[b]] = keyARN(Region, Account, fmt.Sprint(key))
		}
	}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::S3::BucketPolicy" {
			continue
		}
		props := tpl.Raw(id)
		bucket, err := samtemplate.Resolve(props["Bucket"], refs)
		if err != nil {
			return nil, fmt.Errorf("%s: Bucket: %w", id, err)
		}
		for i, raw := range listOf(mapOf(props["PolicyDocument"])["Statement"]) {
			st := mapOf(raw)
			if st["Effect"] != "Deny" || st["Principal"] != "*" {
				continue // an Allow for a partner account, maybe under Fn::If
			}
			delete(st, "Principal")
			resolved, err := samtemplate.Resolve(st, refs)
			if err != nil {
				return nil, fmt.Errorf("%s: Statement[%d]: %w", id, i, err)
			}
			sts, err := parseStatements(resolved)
			if err != nil {
				return nil, fmt.Errorf("%s: Statement[%d]: %w", id, i, err)
			}
			s.BucketDenies[fmt.Sprint(bucket)] = append(s.BucketDenies[fmt.Sprint(bucket)], sts...)
		}
	}
	return s, nil
}

// functionPolicy is the policy of fn's role: its inline policy documents and
// SAM policy templates. SAM also attaches the managed policies of logging
// and tracing (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess); no SDK
// call of a function needs them, so they are not modelled, and a managed
// policy named in Policies is refused.
func functionPolicy(fn samtemplate.Function, refs map[string]string) (Policy, error) {
	p := Policy{Function: fn.LogicalID}
	pols := fn.Properties["Policies"]
	if m, ok := pols.(map[string]any); ok {
		pols = []any{m} // one document instead of a list
	}
	for i, raw := range listOf(pols) {
		var doc map[string]any
		switch x := raw.(type) {
		case string:
			return Policy{}, fmt.Errorf("Policies[%d]: managed policy %q is not modelled locally; write its statements inline", i, x)
		case map[string]any:
			if _, inline := x["Statement"]; inline {
				doc = x
				break
			}
			expanded, err := expandSAMTemplate(x)
			if err != nil {
				return Policy{}, fmt.Errorf("Policies[%d]: %w", i, err)
			}
			doc = expanded
		default:
			return Policy{}, fmt.Errorf("Policies[%d]: not a policy", i)
		}
		resolved, err := samtemplate.Resolve(doc, refs)
		if err != nil {
			return Policy{}, fmt.Errorf("Policies[%d]: %w", i, err)
		}
		sts, err := parseStatements(mapOf(resolved)["Statement"])
		if err != nil {
			return Policy{}, fmt.Errorf("Policies[%d]: %w", i, err)
		}
		p.Statements = append(p.Statements, sts...)
	}
	return p, nil
}

// samPolicyTemplates is aws-sam-translator's policy_templates.json (1.110.0,
// Apache-2.0): the SAM transform's own definitions of its policy templates.
//
//go:embed sam_policy_templates.json
var samPolicyTemplates []byte

// expandSAMTemplate expands {"DynamoDBCrudPolicy": {"TableName": ...}} as the
// SAM transform does: the template's definition with each of its
// parameters replaced by the value given. An unknown template, a missing
// parameter or an unknown one is refused.
func expandSAMTemplate(m map[string]any) (map[string]any, error) {
	if len(m) != 1 {
		return nil, fmt.Errorf("neither a policy document nor one SAM policy template: %v", keys(m))
	}
	var all struct {
		Templates map[string]struct {
			Definition map[string]any
			Parameters map[string]any
		}
	}
	if err := json.Unmarshal(samPolicyTemplates, &all); err != nil {
		return nil, err
	}
	for name, raw := range m {
		t, ok := all.Templates[name]
		if !ok {
			return nil, fmt.Errorf("unknown SAM policy template %s", name)
		}
		args := mapOf(raw)
		for p := range args {
			if _, ok := t.Parameters[p]; !ok {
				return nil, fmt.Errorf("%s: unknown parameter %s", name, p)
			}
		}
		for p := range t.Parameters {
			if _, ok := args[p]; !ok {
				return nil, fmt.Errorf("%s: parameter %s is missing", name, p)
			}
		}
		return substitute(t.Definition, args).(map[string]any), nil
	}
	return nil, nil
}

// substitute replaces each {"Ref": param} of v by args[param].
func substitute(v any, args map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		if name, ok := x["Ref"].(string); ok && len(x) == 1 {
			if a, ok := args[name]; ok {
				return a
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = substitute(e, args)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, args)
		}
		return out
	}
	return v
}

// parseStatements reads resolved statements, refusing what the evaluator
// does not model (a Principal, an unknown condition operator).
func parseStatements(v any) ([]Statement, error) {
	list, ok := v.([]any)
	if !ok {
		if m, isMap := v.(map[string]any); isMap {
			list = []any{m}
		} else {
			return nil, fmt.Errorf("Statement is neither a list nor a mapping")
		}
	}
	var out []Statement
	for i, raw := range list {
		m := mapOf(raw)
		s := Statement{
			Action: strs(m["Action"]), NotAction: strs(m["NotAction"]),
			Resource: strs(m["Resource"]), NotResource: strs(m["NotResource"]),
		}
		s.Sid, _ = m["Sid"].(string)
		s.Effect, _ = m["Effect"].(string)
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, fmt.Errorf("Statement[%d]: Effect %q", i, m["Effect"])
		}
		if m["Principal"] != nil || m["NotPrincipal"] != nil {
			return nil, fmt.Errorf("Statement[%d]: an identity policy has no Principal", i)
		}
		if len(s.Action)+len(s.NotAction) == 0 || len(s.Resource)+len(s.NotResource) == 0 {
			return nil, fmt.Errorf("Statement[%d]: no Action or no Resource", i)
		}
		for _, op := range keys(mapOf(m["Condition"])) {
			if _, _, _, err := parseOperator(op); err != nil {
				return nil, fmt.Errorf("Statement[%d]: %w", i, err)
			}
			block := mapOf(mapOf(m["Condition"])[op])
			for _, k := range keys(block) {
				s.Condition = append(s.Condition, Condition{Operator: op, Key: k, Values: strs(block[k])})
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func listOf(v any) []any {
	l, _ := v.([]any)
	return l
}
