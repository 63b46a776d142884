package steps_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/steps"
)

// TestKMSPolicyFollowsSealing: a function that opens the sealer may
// kms:Decrypt the SealingKey for exactly the keysets steps.Keysets gives it
// (without the grant it fails in AWS on its first sealed field, which no
// local test would show; with more, a compromised function reaches keys it
// has no use for), and no other key directly; a function that handles no
// personal data has no direct KMS access at all (S3's SSE-KMS, through
// kms:ViaService, is not direct).
func TestKMSPolicyFollowsSealing(t *testing.T) {
	sealingKey := fmt.Sprint(map[string]any{"Fn::GetAtt": []any{"SealingKey", "Arn"}})
	for _, fn := range testenv.Template(t).Functions() {
		direct := map[string]bool{}
		var contexts []string
		for _, pol := range listOf(fn.Properties["Policies"]) {
			for _, st := range listOf(mapOf(pol)["Statement"]) {
				s := mapOf(st)
				if s["Effect"] != "Allow" {
					continue
				}
				eq := mapOf(mapOf(s["Condition"])["StringEquals"])
				if _, via := eq["kms:ViaService"]; via {
					continue
				}
				for _, a := range actions(s["Action"]) {
					if len(a) < 4 || a[:4] != "kms:" {
						continue
					}
					direct[a] = true
					if a != "kms:Decrypt" || fmt.Sprint(s["Resource"]) != sealingKey {
						t.Errorf("%s: direct %s on %v; only kms:Decrypt of SealingKey is given to functions", fn.LogicalID, a, s["Resource"])
						continue
					}
					ctx := actions(eq["kms:EncryptionContext:haven:keyset"])
					if len(ctx) == 0 {
						t.Errorf("%s may kms:Decrypt SealingKey without the keyset encryption context (kms:EncryptionContext:haven:keyset)", fn.LogicalID)
					}
					contexts = append(contexts, ctx...)
				}
			}
		}
		slices.Sort(contexts)
		want := slices.Clone(steps.Keysets[fn.CodeDir])
		slices.Sort(want)
		if diff := cmp.Diff(want, contexts); diff != "" {
			t.Errorf("%s: keysets it may unwrap (-steps.Keysets +template.yaml):\n%s", fn.LogicalID, diff)
		}
		needs := !steps.WithoutSealer[fn.CodeDir]
		if needs != (len(steps.Keysets[fn.CodeDir]) > 0) {
			t.Errorf("%s: opens the sealer %v, yet steps.Keysets gives it %v", fn.LogicalID, needs, steps.Keysets[fn.CodeDir])
		}
		if !needs && len(direct) > 0 {
			t.Errorf("%s handles no personal data but has direct KMS access %v", fn.LogicalID, direct)
		}
	}
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
