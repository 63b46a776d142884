package testenv

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartRunner builds the local runner (go build ./infra/local) and starts it
// as `make run` would, on free ports, with a fresh data directory and the
// seed file, and returns its base URL. The runner is interrupted (so it saves
// and stops) when the test ends.
func StartRunner(t testing.TB) string {
	t.Helper()
	root := Root(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "haven-local")
	build := exec.Command("go", "build", "-o", bin, "./infra/local")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the runner: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-dynamodb-addr", "127.0.0.1:0", "-s3-addr", "127.0.0.1:0",
		"-data", filepath.Join(dir, "data"), "-template", filepath.Join(root, "template.yaml"),
		"-seed", filepath.Join(root, "infra/local/seed.yaml"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	urls := make(chan string, 1)
	go func() {
		// The runner prints where it listens ("  API:       http://…").
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "API:" {
				urls <- f[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(90 * time.Second):
		t.Fatal("the runner did not start within 90 s")
	}
	return ""
}
