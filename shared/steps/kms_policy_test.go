package steps_test

import (
	"fmt"
	"testing"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/steps"
)

// TestKMSPolicyFollowsSealing: a function that opens the sealer must be
// allowed to unwrap the keysets (kms:Decrypt on DataKey) — without it, it
// fails in AWS on its first sealed field, which no local test would show —
// and a function that handles no personal data must have no direct KMS
// access at all (S3's SSE-KMS, through kms:ViaService, is not direct).
func TestKMSPolicyFollowsSealing(t *testing.T) {
	for _, fn := range testenv.Template(t).Functions() {
		direct := map[string]bool{}
		for _, pol := range listOf(fn.Properties["Policies"]) {
			for _, st := range listOf(mapOf(pol)["Statement"]) {
				s := mapOf(st)
				if s["Effect"] != "Allow" {
					continue
				}
				if _, via := mapOf(mapOf(s["Condition"])["StringEquals"])["kms:ViaService"]; via {
					continue
				}
				for _, a := range actions(s["Action"]) {
					if len(a) > 4 && a[:4] == "kms:" && fmt.Sprint(s["Resource"]) == fmt.Sprint(map[string]any{"Fn::GetAtt": []any{"DataKey", "Arn"}}) {
						direct[a] = true
					}
				}
			}
		}
		needs := !steps.WithoutSealer[fn.CodeDir]
		if needs && !unwrapLimitedToKeysets(fn.Properties["Policies"]) {
			t.Errorf("%s may kms:Decrypt DataKey without the keyset encryption context (kms:EncryptionContext:haven:keyset)", fn.LogicalID)
		}
		switch {
		case needs && !direct["kms:Decrypt"]:
			t.Errorf("%s opens the sealer but may not kms:Decrypt DataKey", fn.LogicalID)
		case !needs && len(direct) > 0:
			t.Errorf("%s handles no personal data but has direct KMS access %v", fn.LogicalID, direct)
		}
	}
}

// unwrapLimitedToKeysets: every direct kms:Decrypt of DataKey requires the
// encryption context seal.OpenKMS sends, so a sealing function's role cannot
// decrypt anything else under the stack's key (S3 objects, other secrets).
func unwrapLimitedToKeysets(policies any) bool {
	want := fmt.Sprint([]any{"haven/seal/data", "haven/seal/fingerprint"})
	found := false
	for _, pol := range listOf(policies) {
		for _, st := range listOf(mapOf(pol)["Statement"]) {
			s := mapOf(st)
			eq := mapOf(mapOf(s["Condition"])["StringEquals"])
			if _, via := eq["kms:ViaService"]; via || s["Effect"] != "Allow" {
				continue
			}
			for _, a := range actions(s["Action"]) {
				if a == "kms:Decrypt" || a == "kms:*" || a == "kms:Decrypt*" {
					if fmt.Sprint(eq["kms:EncryptionContext:haven:keyset"]) != want {
						return false
					}
					found = true
				}
			}
		}
	}
	return found
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func listOf(v any) []any {
	l, _ := v.([]any)
	return l
}

func actions(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, a := range t {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
