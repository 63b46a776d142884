package lambdamain

import "testing"

type prfSealer struct{ refusingSealer }

func (prfSealer) Fingerprint(s string) (string, error) { return "prf(" + s + ")", nil }

// The caller hash is keyed by the cursor key locally, by the fingerprint PRF
// in AWS, and absent where there is no sealer to derive a key from.
func TestCallerHashKeys(t *testing.T) {
	local, aws := callerHash("local key", nil), callerHash("", prfSealer{})
	if local == nil || aws == nil {
		t.Fatal("no caller hash")
	}
	if a, b := local("sub"), aws("sub"); a == "" || b == "" || a == b || a == "sub" || b != aws("sub") {
		t.Errorf("hashes %q, %q", a, b)
	}
	if h := callerHash("", refusingSealer{}); h != nil {
		t.Errorf("a function without a sealer got a caller hash")
	}
}
