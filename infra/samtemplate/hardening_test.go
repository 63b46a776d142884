package samtemplate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/haven-hrd/haven/shared/seal"
	"github.com/haven-hrd/haven/shared/steps"
)

// Hardening checks on the real template.yaml. Each check is a named subtest that
// fails on its own; cfn-lint validates the shapes, these check the policy.

// wildcardResourceActions may be granted on Resource "*" because AWS gives them no
// resource-level permissions.
var wildcardResourceActions = map[string]bool{
	"xray:PutTraceSegments":    true,
	"xray:PutTelemetryRecords": true,
	"xray:GetSamplingRules":    true,
	"xray:GetSamplingTargets":  true,
	"cloudwatch:PutMetricData": true,
}

// allowedManagedPolicies and allowedPolicyTemplates may appear in a function's
// Policies. Both are empty: every function states its permissions inline. (SAM adds
// AWSLambdaBasicExecutionRole, and AWSXrayWriteOnlyAccess when tracing, itself.)
var (
	allowedManagedPolicies = map[string]bool{}
	allowedPolicyTemplates = map[string]bool{}
)

func TestHardening(t *testing.T) {
	tpl := loadReal(t)

	t.Run("buckets", func(t *testing.T) {
		buckets := tpl.Buckets()
		if len(buckets) == 0 {
			t.Fatal("no buckets")
		}
		for _, id := range buckets {
			t.Run(id, func(t *testing.T) { checkBucket(t, tpl, id) })
		}
	})
	t.Run("exports bucket: partners read only their own prefix", func(t *testing.T) {
		checkPartnerIsolation(t, tpl, "ExportsBucket")
	})
	t.Run("table", func(t *testing.T) {
		for _, tb := range tpl.Tables() {
			t.Run(tb.LogicalID, func(t *testing.T) { checkTable(t, tpl, tb) })
		}
	})
	t.Run("data key", func(t *testing.T) { checkDataKey(t, tpl) })
	t.Run("sealing key: its own, decrypt only by the sealing functions and break-glass", func(t *testing.T) { checkSealingKey(t, tpl) })
	t.Run("sealing keysets: each function only those its step uses", func(t *testing.T) { checkKeysetGrants(t, tpl) })
	t.Run("no wildcard IAM grants", func(t *testing.T) { checkIAM(t, tpl) })
	t.Run("schedules have a DLQ and a retry policy", func(t *testing.T) { checkSchedules(t, tpl) })
	t.Run("dead-letter queues are encrypted and alarmed", func(t *testing.T) { checkQueues(t, tpl) })
	t.Run("http api", func(t *testing.T) {
		apis := tpl.logicalIDsOfType("AWS::Serverless::HttpApi")
		if len(apis) != 1 {
			t.Fatalf("HttpApi resources = %v, want exactly one", apis)
		}
		checkHTTPAPI(t, tpl, apis[0])
	})
	t.Run("edge rate limit: optional, off by default, nothing cached", func(t *testing.T) { checkEdge(t, tpl) })
	t.Run("functions: provided.al2023, arm64, bootstrap", func(t *testing.T) {
		for _, f := range tpl.Functions() {
			p := f.Properties
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" ||
				!cmp.Equal(p["Architectures"], []any{"arm64"}) {
				t.Errorf("%s: Runtime %v, Handler %v, Architectures %v", f.LogicalID, p["Runtime"], p["Handler"], p["Architectures"])
			}
			if fmt.Sprint(mapOf(p["LoggingConfig"])["LogFormat"]) != "JSON" {
				t.Errorf("%s: LoggingConfig.LogFormat = %v, want JSON", f.LogicalID, mapOf(p["LoggingConfig"])["LogFormat"])
			}
			if mapOf(p["Metadata"]) != nil {
				t.Errorf("%s: Metadata under Properties", f.LogicalID)
			}
			if tpl.Resources[f.LogicalID].Metadata["BuildMethod"] != "makefile" {
				t.Errorf("%s: Metadata.BuildMethod = %v, want makefile", f.LogicalID, tpl.Resources[f.LogicalID].Metadata["BuildMethod"])
			}
		}
	})
	t.Run("functions: own log group with retention", func(t *testing.T) { checkLogGroups(t, tpl) })
	t.Run("functions: own policies, no shared role", func(t *testing.T) {
		if _, ok := mapOf(tpl.Globals["Function"])["Role"]; ok {
			t.Error("Globals.Function sets a Role")
		}
		if _, ok := mapOf(tpl.Globals["Function"])["Policies"]; ok {
			t.Error("Globals.Function sets Policies (shared by every function)")
		}
		for _, f := range tpl.Functions() {
			if _, ok := f.Properties["Role"]; ok {
				t.Errorf("%s: sets Role; give it its own Policies instead", f.LogicalID)
			}
			if len(listOf(f.Properties["Policies"])) == 0 {
				t.Errorf("%s: no Policies", f.LogicalID)
			}
		}
	})
	t.Run("routes: only those of ARCHITECTURE.md, no /_local", func(t *testing.T) {
		documented := map[Route]bool{}
		for _, d := range documentedFunctions(t) {
			for _, r := range d.Routes {
				documented[r] = true
			}
		}
		seen := map[Route]string{}
		for _, f := range tpl.Functions() {
			for _, r := range f.Routes {
				if strings.HasPrefix(r.Path, "/_local") {
					t.Errorf("%s: %s %s: /_local routes exist only in the local runner", f.LogicalID, r.Method, r.Path)
				}
				if !documented[r] {
					t.Errorf("%s: %s %s is not in ARCHITECTURE.md", f.LogicalID, r.Method, r.Path)
				}
				if other, dup := seen[r]; dup {
					t.Errorf("%s %s: declared by %s and %s", r.Method, r.Path, other, f.LogicalID)
				}
				seen[r] = f.LogicalID
			}
		}
	})
}

func checkBucket(t *testing.T, tpl *Template, id string) {
	res := tpl.Resources[id]
	p := res.Properties
	t.Run("blocks all public access", func(t *testing.T) {
		pab := mapOf(p["PublicAccessBlockConfiguration"])
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if v, _ := boolOf(pab[k]); !v {
				t.Errorf("PublicAccessBlockConfiguration.%s = %v, want true", k, pab[k])
			}
		}
		own := listOf(mapOf(p["OwnershipControls"])["Rules"])
		if len(own) != 1 || mapOf(own[0])["ObjectOwnership"] != "BucketOwnerEnforced" {
			t.Errorf("OwnershipControls = %v, want BucketOwnerEnforced (no ACLs)", p["OwnershipControls"])
		}
	})
	t.Run("bucket policy denies non-TLS", func(t *testing.T) {
		var found bool
		for _, s := range bucketPolicyStatements(tpl, id) {
			cond := mapOf(mapOf(s["Condition"])["Bool"])
			if s["Effect"] == "Deny" && s["Principal"] == "*" && hasAction(s, "s3:*") &&
				fmt.Sprint(cond["aws:SecureTransport"]) == "false" {
				found = true
				res := fmt.Sprint(s["Resource"])
				if !strings.Contains(res, id+" Arn") || !strings.Contains(res, "${"+id+".Arn}/*") {
					t.Errorf("the deny covers %v, want the bucket and its objects", s["Resource"])
				}
			}
		}
		if !found {
			t.Error("no bucket policy statement denies s3:* when aws:SecureTransport is false")
		}
	})
	t.Run("SSE-KMS with DataKey", func(t *testing.T) {
		rules := listOf(mapOf(p["BucketEncryption"])["ServerSideEncryptionConfiguration"])
		if len(rules) != 1 {
			t.Fatalf("ServerSideEncryptionConfiguration = %v, want one rule", rules)
		}
		rule := mapOf(rules[0])
		def := mapOf(rule["ServerSideEncryptionByDefault"])
		if def["SSEAlgorithm"] != "aws:kms" || !refersTo(def["KMSMasterKeyID"], "DataKey") {
			t.Errorf("ServerSideEncryptionByDefault = %v, want aws:kms with DataKey", def)
		}
		if v, _ := boolOf(rule["BucketKeyEnabled"]); !v {
			t.Error("BucketKeyEnabled is not true")
		}
	})
	t.Run("versioning", func(t *testing.T) {
		if got := mapOf(p["VersioningConfiguration"])["Status"]; got != "Enabled" {
			t.Errorf("VersioningConfiguration.Status = %v, want Enabled", got)
		}
	})
	t.Run("retain", func(t *testing.T) {
		if res.DeletionPolicy != "Retain" || res.UpdateReplacePolicy != "Retain" {
			t.Errorf("DeletionPolicy/UpdateReplacePolicy = %q/%q, want Retain/Retain", res.DeletionPolicy, res.UpdateReplacePolicy)
		}
	})
	// Objects and their noncurrent versions expire (issue 17): with
	// versioning on, expiring only the current version would keep every
	// overwritten or deleted export as a noncurrent version for ever.
	t.Run("lifecycle: current and noncurrent versions expire after ObjectRetentionDays", func(t *testing.T) {
		param, ok := tpl.Parameters["ObjectRetentionDays"]
		if !ok || param.Type != "Number" || fmt.Sprint(param.Default) != "30" {
			t.Errorf("parameter ObjectRetentionDays = %v, want a Number defaulting to 30", param)
		}
		var current, noncurrent bool
		for _, r := range listOf(mapOf(p["LifecycleConfiguration"])["Rules"]) {
			rule := mapOf(r)
			if rule["Status"] != "Enabled" || rule["Prefix"] != nil || rule["Filter"] != nil {
				continue
			}
			current = current || cmp.Equal(rule["ExpirationInDays"], map[string]any{"Ref": "ObjectRetentionDays"})
			noncurrent = noncurrent || cmp.Equal(mapOf(rule["NoncurrentVersionExpiration"])["NoncurrentDays"], map[string]any{"Ref": "ObjectRetentionDays"})
		}
		if !current || !noncurrent {
			t.Errorf("lifecycle rules %v: current expiry %v, noncurrent expiry %v; want both after ObjectRetentionDays on the whole bucket",
				p["LifecycleConfiguration"], current, noncurrent)
		}
	})
}

func checkPartnerIsolation(t *testing.T, tpl *Template, bucket string) {
	partnerPrefixes := map[string]string{
		"UnhcrAccountId":              "unhcr",
		"FrontLineDefendersAccountId": "front-line-defenders",
		"ProtectDefendersAccountId":   "protectdefenders-eu",
	}
	granted := map[string]map[string]bool{} // parameter → actions
	for _, s := range bucketPolicyStatements(tpl, bucket) {
		if s["Effect"] != "Allow" {
			continue
		}
		principal := fmt.Sprint(mapOf(s["Principal"])["AWS"])
		var param string
		for p := range partnerPrefixes {
			if strings.Contains(principal, "${"+p+"}") {
				param = p
			}
		}
		if param == "" {
			t.Errorf("statement %v: allows a principal that is not a partner account parameter", s["Sid"])
			continue
		}
		prefix := partnerPrefixes[param]
		for _, a := range actions(s) {
			if granted[param] == nil {
				granted[param] = map[string]bool{}
			}
			granted[param][a] = true
			switch a {
			case "s3:GetObject":
				want := map[string]any{"Fn::Sub": "${" + bucket + ".Arn}/" + prefix + "/*"}
				if !cmp.Equal(s["Resource"], want) {
					t.Errorf("%v: GetObject on %v, want %v", s["Sid"], s["Resource"], want)
				}
			case "s3:ListBucket":
				got := mapOf(mapOf(s["Condition"])["StringLike"])["s3:prefix"]
				if !cmp.Equal(got, []any{prefix + "/", prefix + "/*"}) {
					t.Errorf("%v: ListBucket s3:prefix = %v, want [%s/ %s/*]", s["Sid"], got, prefix, prefix)
				}
			default:
				t.Errorf("%v: partner %s is granted %s; only s3:GetObject and s3:ListBucket", s["Sid"], prefix, a)
			}
		}
	}
	for param := range partnerPrefixes {
		if _, ok := tpl.Parameters[param]; !ok {
			t.Errorf("no parameter %s", param)
		}
		if !granted[param]["s3:GetObject"] || !granted[param]["s3:ListBucket"] {
			t.Errorf("%s: granted %v, want s3:GetObject and s3:ListBucket on its prefix", param, granted[param])
		}
	}
}

func checkTable(t *testing.T, tpl *Template, tb Table) {
	res := tpl.Resources[tb.LogicalID]
	p := res.Properties
	t.Run("AWS::DynamoDB::Table on demand", func(t *testing.T) {
		if res.Type != "AWS::DynamoDB::Table" || p["BillingMode"] != "PAY_PER_REQUEST" {
			t.Errorf("Type %s, BillingMode %v; want AWS::DynamoDB::Table, PAY_PER_REQUEST", res.Type, p["BillingMode"])
		}
	})
	t.Run("SSE with DataKey", func(t *testing.T) {
		sse := mapOf(p["SSESpecification"])
		if v, _ := boolOf(sse["SSEEnabled"]); !v || sse["SSEType"] != "KMS" || !refersTo(sse["KMSMasterKeyId"], "DataKey") {
			t.Errorf("SSESpecification = %v, want KMS with DataKey", sse)
		}
	})
	t.Run("point-in-time recovery", func(t *testing.T) {
		pitr := mapOf(p["PointInTimeRecoverySpecification"])
		if tb.LogicalID == "KeyTable" {
			// The key table's recovery window is how long a disposed
			// referral stays readable from copies: the operator's choice.
			want := map[string]any{
				"PointInTimeRecoveryEnabled": map[string]any{"Fn::If": []any{"HasKeyTableRecovery", true, false}},
				"RecoveryPeriodInDays":       map[string]any{"Fn::If": []any{"HasKeyTableRecovery", map[string]any{"Ref": "KeyTableRecoveryDays"}, map[string]any{"Ref": "AWS::NoValue"}}},
			}
			if diff := cmp.Diff(want, pitr); diff != "" {
				t.Errorf("KeyTable's PointInTimeRecoverySpecification is not KeyTableRecoveryDays (-want +got):\n%s", diff)
			}
			days := tpl.Parameters["KeyTableRecoveryDays"]
			if fmt.Sprint(days.Default) != "35" {
				t.Errorf("KeyTableRecoveryDays defaults to %v, want 35", days.Default)
			}
			return
		}
		if v, _ := boolOf(pitr["PointInTimeRecoveryEnabled"]); !v {
			t.Error("PointInTimeRecoveryEnabled is not true")
		}
	})
	t.Run("deletion protection", func(t *testing.T) {
		if v, _ := boolOf(p["DeletionProtectionEnabled"]); !v {
			t.Error("DeletionProtectionEnabled is not true")
		}
	})
	t.Run("retain", func(t *testing.T) {
		if res.DeletionPolicy != "Retain" || res.UpdateReplacePolicy != "Retain" {
			t.Errorf("DeletionPolicy/UpdateReplacePolicy = %q/%q, want Retain/Retain", res.DeletionPolicy, res.UpdateReplacePolicy)
		}
	})
	t.Run("TTL on expires_at", func(t *testing.T) {
		if tb.LogicalID == "KeyTable" {
			if tb.TTLAttribute != "" {
				t.Errorf("KeyTable has a TTL (%s): a key must go only with its referral's disposition", tb.TTLAttribute)
			}
			return
		}
		if tb.TTLAttribute != "expires_at" {
			t.Errorf("TTL attribute = %q, want expires_at", tb.TTLAttribute)
		}
	})
}

// kmsKey checks what every KMS key of the stack must be and returns it.
func kmsKey(t *testing.T, tpl *Template, id string) Resource {
	t.Helper()
	res, ok := tpl.Resources[id]
	if !ok || res.Type != "AWS::KMS::Key" {
		t.Fatalf("no AWS::KMS::Key %s", id)
	}
	if v, _ := boolOf(res.Properties["EnableKeyRotation"]); !v {
		t.Error("EnableKeyRotation is not true")
	}
	if res.DeletionPolicy != "Retain" || res.UpdateReplacePolicy != "Retain" {
		t.Errorf("DeletionPolicy/UpdateReplacePolicy = %q/%q, want Retain/Retain", res.DeletionPolicy, res.UpdateReplacePolicy)
	}
	return res
}

func checkDataKey(t *testing.T, tpl *Template) {
	res := kmsKey(t, tpl, "DataKey")
	// A key policy statement open to every principal must be tied to this account
	// and to one service.
	for _, s := range statements(mapOf(res.Properties["KeyPolicy"])["Statement"]) {
		if s["Effect"] != "Allow" || fmt.Sprint(mapOf(s["Principal"])["AWS"]) != "*" {
			continue
		}
		cond := mapOf(mapOf(s["Condition"])["StringEquals"])
		if cond["kms:CallerAccount"] == nil || cond["kms:ViaService"] == nil {
			t.Errorf("key policy %v: Principal * without kms:CallerAccount and kms:ViaService", s["Sid"])
		}
	}
}

// sealingRolePath is the RolePath of the functions that may unwrap the
// sealing keysets; the SealingKey's Deny excepts exactly the roles under it.
const sealingRolePath = "/${AWS::StackName}/sealing/"

func checkSealingKey(t *testing.T, tpl *Template) {
	res := kmsKey(t, tpl, "SealingKey")
	if !refersTo(mapOf(mapOf(mapOf(tpl.Globals["Function"])["Environment"])["Variables"])["KMS_KEY_ARN"], "SealingKey") {
		t.Error("Globals KMS_KEY_ARN is not SealingKey's ARN: the functions would unwrap the keysets with another key")
	}
	// Separate from data at rest: nothing but the keysets is encrypted with it,
	// so no service may decrypt with it on anyone's behalf.
	for id, r := range tpl.Resources {
		var uses bool
		walk(r.Properties, func(v any) {
			if refersTo(v, "SealingKey") {
				uses = true
			}
		})
		if uses && id != "SealingKeyAlias" && r.Type != "AWS::Serverless::Function" {
			t.Errorf("%s (%s) uses SealingKey; only the functions' keyset unwrap may", id, r.Type)
		}
	}
	var deny map[string]any
	for _, st := range statements(mapOf(res.Properties["KeyPolicy"])["Statement"]) {
		principal := fmt.Sprint(mapOf(st["Principal"])["AWS"])
		if st["Effect"] == "Allow" && (principal == "*" || mapOf(st["Principal"])["Service"] != nil) {
			t.Errorf("key policy %v allows %v: no one but the account may be given the SealingKey", st["Sid"], st["Principal"])
		}
		if st["Effect"] == "Deny" && principal == "*" && hasAction(st, "kms:Decrypt") {
			deny = st
		}
	}
	if deny == nil {
		t.Fatal("no key policy statement denies kms:Decrypt to every principal")
	}
	for _, a := range []string{"kms:ReEncrypt*", "kms:CreateGrant"} {
		if !hasAction(deny, a) {
			t.Errorf("the Deny does not cover %s (a way around Decrypt)", a)
		}
	}
	if fmt.Sprint(deny["Resource"]) != "*" {
		t.Errorf("the Deny covers %v, want *", deny["Resource"])
	}
	cond := mapOf(mapOf(deny["Condition"])["ArnNotLike"])["aws:PrincipalArn"]
	args := listOf(mapOf(cond)["Fn::If"])
	if len(args) != 3 || args[0] != "HasSealingBreakGlass" {
		t.Fatalf("the Deny's exception %v is not an Fn::If on HasSealingBreakGlass", cond)
	}
	with, without := fmt.Sprint(args[1]), fmt.Sprint(args[2])
	role := ":role" + sealingRolePath + "*"
	if !strings.Contains(with, role) || !strings.Contains(without, role) || len(listOf(args[2])) != 1 {
		t.Errorf("the Deny excepts %v / %v, want the sealing functions' roles (%s) only", args[1], args[2], role)
	}
	if len(listOf(args[1])) != 2 || !strings.Contains(with, "map[Ref:SealingBreakGlassRoleArn]") {
		t.Errorf("with a break-glass role the Deny excepts %v, want the sealing roles and SealingBreakGlassRoleArn", args[1])
	}
	p := tpl.Parameters["SealingBreakGlassRoleArn"]
	if fmt.Sprint(p.Default) != "" {
		t.Errorf("SealingBreakGlassRoleArn defaults to %v, want empty (no break-glass role)", p.Default)
	}
}

// checkKeysetGrants: a function may unwrap a keyset only of SealingKey,
// only with the encryption context of the keysets steps.Keysets gives it,
// and only a function under the sealing RolePath may; no function may
// decrypt with the DataKey directly (only through a service).
func checkKeysetGrants(t *testing.T, tpl *Template) {
	for _, f := range tpl.Functions() {
		var contexts []string
		for _, pol := range listOf(f.Properties["Policies"]) {
			for _, st := range statements(mapOf(pol)["Statement"]) {
				if st["Effect"] != "Allow" || !hasAction(st, "kms:Decrypt") {
					continue
				}
				eq := mapOf(mapOf(st["Condition"])["StringEquals"])
				if eq["kms:ViaService"] != nil {
					continue
				}
				if !refersTo(st["Resource"], "SealingKey") {
					t.Errorf("%s %v: kms:Decrypt of %v; functions decrypt directly only the SealingKey", f.LogicalID, st["Sid"], st["Resource"])
				}
				for _, c := range anyList(eq["kms:EncryptionContext:haven:keyset"]) {
					contexts = append(contexts, fmt.Sprint(c))
				}
				if eq["kms:EncryptionContext:haven:keyset"] == nil {
					t.Errorf("%s %v: kms:Decrypt without the keyset encryption context", f.LogicalID, st["Sid"])
				}
			}
		}
		sort.Strings(contexts)
		want := append([]string(nil), steps.Keysets[f.CodeDir]...)
		sort.Strings(want)
		if !cmp.Equal(want, contexts, cmpopts.EquateEmpty()) {
			t.Errorf("%s may unwrap %v, want %v (shared/steps.Keysets)", f.LogicalID, contexts, want)
		}
		if len(want) == len(seal.Purposes) {
			t.Errorf("%s may unwrap every keyset", f.LogicalID)
		}
		path := fmt.Sprint(mapOf(f.Properties["RolePath"])["Fn::Sub"])
		if (path == sealingRolePath) != (len(contexts) > 0) {
			t.Errorf("%s: RolePath %v with keysets %v; the sealing RolePath %s goes with the keyset grants, and only with them", f.LogicalID, f.Properties["RolePath"], contexts, sealingRolePath)
		}
	}
}

// walk calls fn on v and every value inside it.
func walk(v any, fn func(any)) {
	fn(v)
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			walk(e, fn)
		}
	case []any:
		for _, e := range x {
			walk(e, fn)
		}
	}
}

// policyHolder is a place in the template where IAM statements are granted.
type policyHolder struct {
	where      string
	statements []map[string]any
}

func checkIAM(t *testing.T, tpl *Template) {
	var holders []policyHolder
	for _, f := range tpl.Functions() {
		for i, pol := range listOf(f.Properties["Policies"]) {
			where := fmt.Sprintf("%s.Policies[%d]", f.LogicalID, i)
			switch p := pol.(type) {
			case string:
				if !allowedManagedPolicies[p] {
					t.Errorf("%s: managed policy %q is not in the allowlist", where, p)
				}
			case map[string]any:
				if _, ok := p["Statement"]; ok {
					holders = append(holders, policyHolder{where, statements(p["Statement"])})
					continue
				}
				for name := range p {
					if !allowedPolicyTemplates[name] {
						t.Errorf("%s: policy template or intrinsic %q is not in the allowlist", where, name)
					}
				}
			default:
				t.Errorf("%s: unexpected policy %v", where, pol)
			}
		}
	}
	for id, r := range tpl.Resources {
		if strings.HasPrefix(r.Type, "AWS::IAM::") {
			walkDocuments(r.Properties, func(doc map[string]any) {
				holders = append(holders, policyHolder{id, statements(doc["Statement"])})
			})
		}
	}
	if len(holders) == 0 {
		t.Fatal("no IAM statements found at all")
	}
	for _, h := range holders {
		for _, s := range h.statements {
			if s["Effect"] != "Allow" {
				continue
			}
			if _, ok := s["NotAction"]; ok {
				t.Errorf("%s %v: Allow with NotAction", h.where, s["Sid"])
			}
			if _, ok := s["NotResource"]; ok {
				t.Errorf("%s %v: Allow with NotResource", h.where, s["Sid"])
			}
			acts := actions(s)
			allAllowlisted := len(acts) > 0
			for _, a := range acts {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s %v: grants action %q", h.where, s["Sid"], a)
				}
				if !wildcardResourceActions[a] {
					allAllowlisted = false
				}
			}
			for _, r := range anyList(s["Resource"]) {
				if r == "*" && !allAllowlisted {
					t.Errorf("%s %v: grants %v on Resource *", h.where, s["Sid"], acts)
				}
			}
		}
	}
}

func checkSchedules(t *testing.T, tpl *Template) {
	var n int
	for _, f := range tpl.Functions() {
		for name, raw := range mapOf(f.Properties["Events"]) {
			ev := mapOf(raw)
			if ev["Type"] != "ScheduleV2" {
				if ev["Type"] == "Schedule" {
					t.Errorf("%s.%s: use ScheduleV2 (EventBridge Scheduler), not Schedule", f.LogicalID, name)
				}
				continue
			}
			n++
			p := mapOf(ev["Properties"])
			where := f.LogicalID + "." + name
			dlq := mapOf(p["DeadLetterConfig"])
			if dlq["Arn"] == nil && dlq["Type"] != "SQS" {
				t.Errorf("%s: DeadLetterConfig = %v, want an SQS queue", where, p["DeadLetterConfig"])
			}
			retry := mapOf(p["RetryPolicy"])
			if retry["MaximumRetryAttempts"] == nil || retry["MaximumEventAgeInSeconds"] == nil {
				t.Errorf("%s: RetryPolicy = %v, want MaximumRetryAttempts and MaximumEventAgeInSeconds", where, p["RetryPolicy"])
			}
			if expr, _ := p["ScheduleExpression"].(string); strings.HasPrefix(expr, "cron(") && p["ScheduleExpressionTimezone"] == nil {
				t.Errorf("%s: cron schedule without ScheduleExpressionTimezone", where)
			}
			if p["OmitName"] != true && p["Name"] == nil {
				t.Errorf("%s: neither OmitName nor Name: SAM names the schedule after the event, which collides between stacks", where)
			}
			onFailure := mapOf(mapOf(mapOf(f.Properties["EventInvokeConfig"])["DestinationConfig"])["OnFailure"])
			if onFailure["Destination"] == nil {
				t.Errorf("%s: no EventInvokeConfig.DestinationConfig.OnFailure for failed asynchronous invocations", f.LogicalID)
			}
		}
	}
	if n == 0 {
		t.Error("no ScheduleV2 events")
	}
}

func checkQueues(t *testing.T, tpl *Template) {
	alarmed := map[string]bool{}
	for _, r := range tpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" || r.Properties["MetricName"] != "ApproximateNumberOfMessagesVisible" {
			continue
		}
		for _, d := range listOf(r.Properties["Dimensions"]) {
			if v := mapOf(mapOf(d)["Value"]); v != nil {
				if ga := listOf(v["Fn::GetAtt"]); len(ga) == 2 {
					alarmed[fmt.Sprint(ga[0])] = true
				}
			}
		}
	}
	queues := tpl.logicalIDsOfType("AWS::SQS::Queue")
	if len(queues) == 0 {
		t.Fatal("no queues")
	}
	for _, q := range queues {
		p := tpl.Resources[q].Properties
		if v, _ := boolOf(p["SqsManagedSseEnabled"]); !v && p["KmsMasterKeyId"] == nil {
			t.Errorf("%s: not encrypted (SqsManagedSseEnabled or KmsMasterKeyId)", q)
		}
		if !alarmed[q] {
			t.Errorf("%s: no ApproximateNumberOfMessagesVisible alarm", q)
		}
	}
}

// unsafeAccessLogFields may carry personal data or identify a person.
var unsafeAccessLogFields = []string{
	"$context.path", "$context.identity.", "$context.authorizer.claims", "$context.authorizer.jwt",
	"$context.customDomain", "$context.domainName", "$request.", "requestbody", "querystring",
	"$input.", "$context.integrationErrorMessage",
}

// publicFunctions serve pages to browsers, outside the JWT authorizer.
var publicFunctions = map[string]bool{"WebFormFunction": true, "OfficerWorkspaceFunction": true}

func checkHTTPAPI(t *testing.T, tpl *Template, id string) {
	p := tpl.Resources[id].Properties
	t.Run("JWT default authorizer", func(t *testing.T) {
		auth := mapOf(p["Auth"])
		name, _ := auth["DefaultAuthorizer"].(string)
		a := mapOf(mapOf(auth["Authorizers"])[name])
		if name == "" || a == nil {
			t.Fatalf("DefaultAuthorizer %q has no definition in Auth.Authorizers", name)
		}
		if a["IdentitySource"] != "$request.header.Authorization" {
			t.Errorf("IdentitySource = %v, want $request.header.Authorization", a["IdentitySource"])
		}
		jwt := mapOf(a["JwtConfiguration"])
		if !cmp.Equal(jwt["issuer"], map[string]any{"Ref": "JwtIssuer"}) {
			t.Errorf("JwtConfiguration.issuer = %v, want !Ref JwtIssuer", jwt["issuer"])
		}
		if !cmp.Equal(jwt["audience"], map[string]any{"Ref": "JwtAudience"}) {
			t.Errorf("JwtConfiguration.audience = %v, want !Ref JwtAudience", jwt["audience"])
		}
		if len(jwt) != 2 {
			t.Errorf("JwtConfiguration has keys %v, want exactly issuer and audience", keys(jwt))
		}
		if len(listOf(a["AuthorizationScopes"])) == 0 {
			t.Errorf("the JWT authorizer requires no scope: any token of the provider would pass")
		}
		for _, f := range tpl.Functions() {
			for evName, raw := range mapOf(f.Properties["Events"]) {
				ev := mapOf(raw)
				if ev["Type"] != "HttpApi" {
					continue
				}
				ep := mapOf(ev["Properties"])
				if !cmp.Equal(ep["ApiId"], map[string]any{"Ref": id}) {
					t.Errorf("%s.%s: ApiId = %v, want !Ref %s (no implicit API)", f.LogicalID, evName, ep["ApiId"], id)
				}
				// Only the web form's pages may turn the authorizer off, and
				// only that way: they check their own session cookie.
				if ep["Auth"] != nil && !(publicFunctions[f.LogicalID] && cmp.Equal(ep["Auth"], map[string]any{"Authorizer": "NONE"})) {
					t.Errorf("%s.%s: overrides Auth (%v); every route uses the default JWT authorizer", f.LogicalID, evName, ep["Auth"])
				}
			}
		}
	})
	t.Run("throttling", func(t *testing.T) {
		rs := mapOf(p["DefaultRouteSettings"])
		if rs["ThrottlingBurstLimit"] == nil || rs["ThrottlingRateLimit"] == nil {
			t.Errorf("DefaultRouteSettings = %v, want ThrottlingBurstLimit and ThrottlingRateLimit", rs)
		}
	})
	t.Run("access logs without personal data", func(t *testing.T) {
		als := mapOf(p["AccessLogSettings"])
		if !refersTo(als["DestinationArn"], "") {
			t.Errorf("AccessLogSettings.DestinationArn = %v, want a log group of this template", als["DestinationArn"])
		}
		format, _ := als["Format"].(string)
		var fields map[string]string
		if err := json.Unmarshal([]byte(format), &fields); err != nil {
			t.Fatalf("AccessLogSettings.Format is not a flat JSON object: %v", err)
		}
		for _, want := range []string{"$context.requestId", "$context.routeKey", "$context.status"} {
			if !strings.Contains(format, want) {
				t.Errorf("Format lacks %s", want)
			}
		}
		lower := strings.ToLower(format)
		for _, bad := range unsafeAccessLogFields {
			if strings.Contains(lower, strings.ToLower(bad)) {
				t.Errorf("Format contains %q", bad)
			}
		}
	})
	t.Run("CORS origins only from the parameter", func(t *testing.T) {
		cors := p["CorsConfiguration"]
		if cors == nil {
			return
		}
		if b, ok := cors.(bool); ok {
			t.Fatalf("CorsConfiguration: %v allows every origin", b)
		}
		var configs []map[string]any
		if ifArgs := listOf(mapOf(cors)["Fn::If"]); len(ifArgs) == 3 {
			for _, branch := range ifArgs[1:] {
				if m := mapOf(branch); m != nil && !cmp.Equal(m, map[string]any{"Ref": "AWS::NoValue"}) {
					configs = append(configs, m)
				}
			}
		} else {
			configs = append(configs, mapOf(cors))
		}
		for _, c := range configs {
			if !cmp.Equal(c["AllowOrigins"], map[string]any{"Ref": "CorsAllowedOrigins"}) {
				t.Errorf("AllowOrigins = %v, want !Ref CorsAllowedOrigins", c["AllowOrigins"])
			}
		}
	})
}

// checkEdge: the CloudFront distribution in front of the HttpApi exists
// only when EdgeWebAclArn is given (default empty), carries that web ACL,
// speaks HTTPS only on both sides and caches nothing; the web ACL template
// (infra/edge/ratelimit.yaml) blocks per client IP with a rate-based rule.
func checkEdge(t *testing.T, tpl *Template) {
	const cond = "HasEdgeRateLimit"
	if p, ok := tpl.Parameters["EdgeWebAclArn"]; !ok || p.Default != "" {
		t.Errorf("EdgeWebAclArn parameter %+v: want one, default empty", p)
	}
	if got := fmt.Sprint(tpl.Conditions[cond]); !strings.Contains(got, "EdgeWebAclArn") || !strings.Contains(got, "Not") {
		t.Errorf("condition %s = %s, want true only when EdgeWebAclArn is set", cond, got)
	}
	for _, typ := range []string{"AWS::CloudFront::Distribution", "AWS::WAFv2::WebACL", "AWS::CloudFront::CachePolicy"} {
		for _, id := range tpl.logicalIDsOfType(typ) {
			if tpl.Resources[id].Condition != cond {
				t.Errorf("%s (%s): Condition %q, want %s", id, typ, tpl.Resources[id].Condition, cond)
			}
		}
	}
	ids := tpl.logicalIDsOfType("AWS::CloudFront::Distribution")
	if len(ids) != 1 {
		t.Fatalf("CloudFront distributions = %v, want one", ids)
	}
	dc := mapOf(tpl.Raw(ids[0])["DistributionConfig"])
	if !refersTo(dc["WebACLId"], "EdgeWebAclArn") {
		t.Errorf("WebACLId = %v, want the EdgeWebAclArn parameter", dc["WebACLId"])
	}
	b := mapOf(dc["DefaultCacheBehavior"])
	if b["ViewerProtocolPolicy"] != "https-only" || b["CachePolicyId"] != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" {
		t.Errorf("DefaultCacheBehavior %v: want https-only and Managed-CachingDisabled", b)
	}
	for _, o := range listOf(dc["Origins"]) {
		oc := mapOf(mapOf(o)["CustomOriginConfig"])
		if oc["OriginProtocolPolicy"] != "https-only" || !strings.Contains(fmt.Sprint(mapOf(o)["DomainName"]), "${HavenApi}.execute-api.") {
			t.Errorf("origin %v: want the HttpApi over https only", o)
		}
	}
	if mapOf(tpl.Outputs["EdgeUrl"])["Condition"] != cond {
		t.Errorf("EdgeUrl output %v: want Condition %s", tpl.Outputs["EdgeUrl"], cond)
	}

	waf, err := Load(filepath.Join(filepath.Dir(realTemplatePath), "infra", "edge", "ratelimit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	acls := waf.logicalIDsOfType("AWS::WAFv2::WebACL")
	if len(acls) != 1 {
		t.Fatalf("web ACLs = %v, want one", acls)
	}
	acl := waf.Raw(acls[0])
	if acl["Scope"] != "CLOUDFRONT" {
		t.Errorf("Scope = %v, want CLOUDFRONT", acl["Scope"])
	}
	rated := false
	for _, r := range listOf(acl["Rules"]) {
		rb := mapOf(mapOf(mapOf(r)["Statement"])["RateBasedStatement"])
		if rb["AggregateKeyType"] == "IP" && refersTo(rb["Limit"], "RequestsPerFiveMinutes") && mapOf(mapOf(r)["Action"])["Block"] != nil {
			rated = true
		}
	}
	if !rated {
		t.Errorf("no rule blocks per client IP at RequestsPerFiveMinutes: %v", acl["Rules"])
	}
}

func checkLogGroups(t *testing.T, tpl *Template) {
	for _, f := range tpl.Functions() {
		lg := mapOf(f.Properties["LoggingConfig"])["LogGroup"]
		ref := mapOf(lg)["Ref"]
		r, ok := tpl.Resources[fmt.Sprint(ref)]
		if !ok || r.Type != "AWS::Logs::LogGroup" {
			t.Errorf("%s: LoggingConfig.LogGroup = %v, want !Ref to its own AWS::Logs::LogGroup", f.LogicalID, lg)
			continue
		}
		if !cmp.Equal(r.Properties["RetentionInDays"], map[string]any{"Ref": "LogRetentionDays"}) {
			t.Errorf("%s: RetentionInDays = %v, want !Ref LogRetentionDays", ref, r.Properties["RetentionInDays"])
		}
		if !strings.Contains(fmt.Sprint(r.Properties["LogGroupName"]), "/aws/lambda/") ||
			!strings.Contains(fmt.Sprint(r.Properties["LogGroupName"]), f.LogicalID) {
			t.Errorf("%s: LogGroupName = %v, want /aws/lambda/.../%s", ref, r.Properties["LogGroupName"], f.LogicalID)
		}
	}
	groups := map[string]string{}
	for _, f := range tpl.Functions() {
		g := fmt.Sprint(mapOf(f.Properties["LoggingConfig"])["LogGroup"])
		if other, dup := groups[g]; dup {
			t.Errorf("%s and %s share the log group %s", other, f.LogicalID, g)
		}
		groups[g] = f.LogicalID
	}
}

// bucketPolicyStatements returns the statements of the bucket policies of bucket id.
func bucketPolicyStatements(tpl *Template, id string) []map[string]any {
	var out []map[string]any
	for _, r := range tpl.Resources {
		if r.Type == "AWS::S3::BucketPolicy" && cmp.Equal(r.Properties["Bucket"], map[string]any{"Ref": id}) {
			out = append(out, statements(mapOf(r.Properties["PolicyDocument"])["Statement"])...)
		}
	}
	return out
}

// statements flattens a Statement value: a map, a list, and Fn::If branches
// (an AWS::NoValue branch is dropped).
func statements(v any) []map[string]any {
	switch x := v.(type) {
	case []any:
		var out []map[string]any
		for _, e := range x {
			out = append(out, statements(e)...)
		}
		return out
	case map[string]any:
		if args := listOf(x["Fn::If"]); len(args) == 3 && len(x) == 1 {
			return append(statements(args[1]), statements(args[2])...)
		}
		if cmp.Equal(x, map[string]any{"Ref": "AWS::NoValue"}) {
			return nil
		}
		return []map[string]any{x}
	}
	return nil
}

// walkDocuments calls fn for every map under v that has a Statement key.
func walkDocuments(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["Statement"]; ok {
			fn(x)
			return
		}
		for _, e := range x {
			walkDocuments(e, fn)
		}
	case []any:
		for _, e := range x {
			walkDocuments(e, fn)
		}
	}
}

func actions(s map[string]any) []string {
	var out []string
	for _, a := range anyList(s["Action"]) {
		out = append(out, fmt.Sprint(a))
	}
	return out
}

func hasAction(s map[string]any, want string) bool {
	for _, a := range actions(s) {
		if a == want {
			return true
		}
	}
	return false
}

func anyList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// refersTo reports whether v is a Ref or Fn::GetAtt of logical id id (any logical id
// of the template when id is "").
func refersTo(v any, id string) bool {
	m := mapOf(v)
	if r, ok := m["Ref"].(string); ok {
		return id == "" || r == id
	}
	if ga := listOf(m["Fn::GetAtt"]); len(ga) == 2 {
		return id == "" || ga[0] == id
	}
	return false
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCfnLint runs cfn-lint on template.yaml. Without the binary it skips, except
// in CI (CI=true), where a missing linter is a failure.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cfn-lint is not installed (CI=true): %v", err)
		}
		t.Skip("cfn-lint is not installed; install it (pip install cfn-lint) to lint template.yaml")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The edge web ACL's template (us-east-1) is linted with the main one.
	edge := filepath.Join(filepath.Dir(realTemplatePath), "infra", "edge", "ratelimit.yaml")
	out, err := exec.CommandContext(ctx, bin, realTemplatePath, edge).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode()&^(4|8) == 0:
		// 4: warnings, 8: informational; only errors (2) or a crash (1) fail.
		t.Logf("cfn-lint warnings:\n%s", out)
	default:
		t.Fatalf("cfn-lint %s: %v\n%s", realTemplatePath, err, out)
	}
}

// TestCfnLintTransformed transforms template.yaml with aws-sam-translator
// (infra/ci/sam_transform.py) and lints the result: the roles and policies
// SAM makes are checked too (a non-existent IAM action such as
// dynamodb:TransactWriteItems is W3037 there, not in the template). Warnings
// fail here. Without cfn-lint or the translator it skips, except in CI;
// infra/ci/test.sh, which has run the same lint before go test, sets
// HAVEN_TRANSFORM_LINTED=1 so it is not run twice.
func TestCfnLintTransformed(t *testing.T) {
	if os.Getenv("HAVEN_TRANSFORM_LINTED") == "1" {
		t.Skip("infra/ci/test.sh linted the transformed template already")
	}
	bin, err := exec.LookPath("cfn-lint")
	if err == nil {
		err = exec.Command("python3", "-c", "import samtranslator").Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cfn-lint or aws-sam-translator is not installed (CI=true): %v", err)
		}
		t.Skip("cfn-lint or aws-sam-translator is not installed (pip install cfn-lint)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "transformed.json")
	if b, err := exec.CommandContext(ctx, "python3", filepath.Join(filepath.Dir(realTemplatePath), "infra", "ci", "sam_transform.py"), realTemplatePath, out).CombinedOutput(); err != nil {
		t.Fatalf("SAM transform: %v\n%s", err, b)
	}
	if b, err := exec.CommandContext(ctx, bin, out).CombinedOutput(); err != nil {
		t.Fatalf("cfn-lint of the transformed template (warnings fail): %v\n%s", err, b)
	}
}
