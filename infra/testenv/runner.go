package testenv

import (
	"path/filepath"
	"testing"
)

// LocalRunner builds the local runner (go build ./infra/local) and starts it
// as `make run` would, on free ports, with a fresh data directory and the
// seed file, and returns its base URL. The runner ends with the test.
func LocalRunner(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	bin := BuildRunner(t, dir)
	return StartRunner(t, bin, filepath.Join(dir, "data"), filepath.Join(Root(t), "infra/local/seed.yaml")).URL
}
