package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Event returns the testdata event of a function's code directory with its
// {{placeholders}} filled from vars: the real API Gateway event of
// shared/api/testdata for create-referral, infra/rie/testdata/events for the
// others. The runtime test, the call budget, the cold-start benchmark and the
// sealer-free test all replay these same files.
func Event(t testing.TB, dir string, vars map[string]string) []byte {
	t.Helper()
	root := Root(t)
	path := filepath.Join(root, "infra", "rie", "testdata", "events", dir+".json")
	if dir == "create-referral" {
		path = filepath.Join(root, "shared", "api", "testdata", "create-referral.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return []byte(s)
}

// Golden compares got with the golden file at path, rewriting it first when
// update is set (the packages' -update flag).
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}
