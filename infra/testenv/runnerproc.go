package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RunnerProcess is the local runner (infra/local) in a process of its own,
// for the tests and benchmarks that kill it or time its start.
type RunnerProcess struct {
	URL string
	Cmd *exec.Cmd
	// Ready is the time from starting the process to the runner listening.
	Ready time.Duration
	// Stderr holds what the runner printed after its banner (recovery
	// messages come before it and are in Banner).
	Stderr *LogBuffer
	Banner string
	done   chan struct{}
}

// BuildRunner builds the local runner into dir and returns the binary.
func BuildRunner(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "haven-local")
	cmd := exec.Command("go", "build", "-o", bin, "./infra/local")
	cmd.Dir = Root(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the runner: %v\n%s", err, out)
	}
	return bin
}

// StartRunner starts bin on free loopback ports with dataDir and the seed
// file, its clock set to the tests' (Clock), and returns once it listens.
func StartRunner(t testing.TB, bin, dataDir, seed string) *RunnerProcess {
	t.Helper()
	root := Root(t)
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-dynamodb-addr", "127.0.0.1:0", "-s3-addr", "127.0.0.1:0",
		"-data", dataDir, "-template", filepath.Join(root, "template.yaml"), "-seed", seed,
		"-clock", Now().Format(time.RFC3339Nano))
	cmd.Dir = root
	cmd.Stdout = io.Discard // the functions' JSON logs
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &RunnerProcess{Cmd: cmd, Stderr: &LogBuffer{}, done: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var banner strings.Builder
	deadline := time.After(5 * time.Minute)
	for p.URL == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("runner exited before listening:\n%s", banner.String())
			}
			banner.WriteString(line + "\n")
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "API:"); ok {
				p.URL, p.Ready = strings.TrimSpace(rest), time.Since(start)
			}
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("runner not listening after 5 minutes:\n%s", banner.String())
		}
	}
	p.Banner = banner.String()
	go func() {
		for line := range lines {
			fmt.Fprintln(p.Stderr, line)
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.Kill() })
	return p
}

// Kill ends the runner with SIGKILL, as a crash would, and waits for it.
func (p *RunnerProcess) Kill() {
	p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop ends the runner with Ctrl-C (a clean shutdown) and waits for it.
func (p *RunnerProcess) Stop(t testing.TB) {
	t.Helper()
	p.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		p.Kill()
		t.Fatalf("runner did not stop on Ctrl-C")
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("runner exited with %d:\n%s", code, p.Stderr.String())
	}
}

// CPUTime is the processor time (user + system) the runner has used so far,
// from /proc/<pid>/stat.
func (p *RunnerProcess) CPUTime(t testing.TB) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start at ") ";
	// utime and stime are fields 14 and 15, in clock ticks (100 a second on
	// Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// Token asks the runner for a development token.
func (p *RunnerProcess) Token(t testing.TB, claims string) string {
	t.Helper()
	resp, err := http.Post(p.URL+"/_local/tokens", "application/json", strings.NewReader(claims))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return out.Token
}
