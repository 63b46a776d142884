package steps_test

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/seal"
	"github.com/haven-hrd/haven/shared/steps"
)

// TestLocalKeysetUseFollowsPolicy: locally the keysets sit in a file and no
// KMS call is made, yet a function's use of a keyset is refused, as KMS
// would refuse its unwrap, when its policy does not grant that keyset's
// encryption context — so a step that starts fingerprinting, say, fails in
// the tests before it fails in AWS. The sealer of a handler test
// (testenv.FunctionDeps) is guarded the same way.
func TestLocalKeysetUseFollowsPolicy(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	// Denials provoked on purpose are not recorded for the least-privilege
	// test; the allowed uses are.
	quiet := &iam.Enforcer{Stack: e.IAM.Stack}
	for _, dir := range slices.Sorted(maps.Keys(steps.Keysets)) {
		id := testenv.LogicalID(t, dir)
		for _, purpose := range seal.Purposes {
			granted := slices.Contains(steps.Keysets[dir], purpose)
			check := quiet.KeysetCheck(id)
			if granted {
				check = e.IAM.KeysetCheck(id)
			}
			err := useKeyset(e.Sealer.Guarded(check), purpose)
			var api smithy.APIError
			switch {
			case granted && err != nil:
				t.Errorf("%s: use of the %s keyset it is granted: %v", dir, purpose, err)
			case !granted && (!errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException"):
				t.Errorf("%s: use of the %s keyset it is not granted gave %v, want AccessDeniedException", dir, purpose, err)
			}
		}
	}

	e.IAM = quiet
	d := e.FunctionDeps(t, "get-referral", nil, nil)
	var api smithy.APIError
	if _, err := d.Finger.Fingerprint("a|2000-01-01|CAN"); !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Errorf("get-referral's handler sealer fingerprinted: %v, want AccessDeniedException", err)
	}
}
