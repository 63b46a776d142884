package lambdamain

import "testing"

type callerKeySealer struct{ refusingSealer }

func (callerKeySealer) CallerKey() ([]byte, error) {
	return []byte("caller keyset key, 32 bytes long"), nil
}

// The caller hash is keyed by the cursor key locally, by the caller keyset
// in AWS, and absent where there is no sealer to take a key from.
func TestCallerHashKeys(t *testing.T) {
	local, aws := callerHash("local key", nil), callerHash("", callerKeySealer{})
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
