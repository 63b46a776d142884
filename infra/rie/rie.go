// Package rie runs built Lambda functions under aws-lambda-rie, the Lambda
// Runtime Interface Emulator, against an embedded DynamoDB and S3 holding the
// template's table and buckets. The runtime-level test (this package's test)
// and the cold-start benchmark (infra/bench) use it: the binaries speak the
// real Lambda runtime API here, not the local runner's.
package rie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/haven-hrd/haven/infra/testenv"
)

// Find returns the path of aws-lambda-rie: on PATH, or in the Go bin
// directory where `go install` puts it.
func Find() (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			if lines[0] != "" {
				dirs = append(dirs, lines[0])
			}
			for _, p := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "aws-lambda-rie")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("aws-lambda-rie not found on PATH or in the Go bin directory (go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@<version>)")
}

// Process is a running aws-lambda-rie with one function.
type Process struct {
	// URL is the invocation endpoint.
	URL string
	cmd *exec.Cmd
	out *testenv.LogBuffer

	rie, bootstrap string
	env            []string
	invoked        bool
	done           chan struct{} // closed when the emulator has exited
	runtimePort    string        // tests: the runtime API port of the next start
}

// Start runs bootstrap under the emulator at rie, bound to 127.0.0.1 on free
// ports (both the invoke API and the runtime API, so that several emulators
// can run at once), with env as the whole environment. The emulator starts
// the bootstrap process on the first invocation.
func Start(rie, bootstrap string, env []string) (*Process, error) {
	p := &Process{rie: rie, bootstrap: bootstrap, env: env}
	return p, p.start()
}

func (p *Process) start() error {
	invokePort, err := freePort()
	if err != nil {
		return err
	}
	runtimePort, err := freePort()
	if err != nil {
		return err
	}
	if p.runtimePort != "" { // a test's
		runtimePort, p.runtimePort = p.runtimePort, ""
	}
	cmd := exec.Command(p.rie,
		"--runtime-interface-emulator-address", "127.0.0.1:"+invokePort,
		"--runtime-api-address", "127.0.0.1:"+runtimePort,
		p.bootstrap)
	cmd.Dir = filepath.Dir(p.bootstrap)
	cmd.Env = p.env
	out := &testenv.LogBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: Close kills the emulator and the runtime it
	// started together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.rie, err)
	}
	p.URL = "http://127.0.0.1:" + invokePort + "/2015-03-31/functions/function/invocations"
	p.cmd, p.out, p.done = cmd, out, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(p.done)
	return nil
}

// portAttempts bounds how often a first invocation restarts the emulator on
// new ports because one it was given was taken in the meantime.
const portAttempts = 3

// Invoke sends payload and returns the function's answer. Until the emulator
// listens, connection errors are retried (every millisecond) until ctx ends.
//
// The emulator binds its runtime API only on the first invocation, so a port
// freePort found free can have been taken by then (by any process on the
// machine); the emulator then dies with "address already in use". The first
// invocation restarts it on new ports when that happens, rather than failing
// a test for something outside it.
func (p *Process) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		body, err := p.invoke(ctx, payload)
		if err == nil || p.invoked || attempt == portAttempts || !strings.Contains(p.Output(), "address already in use") {
			p.invoked = true
			return body, err
		}
		p.Close()
		if err := p.start(); err != nil {
			return nil, err
		}
	}
}

func (p *Process) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" && ctx.Err() == nil && !p.exited() {
				time.Sleep(time.Millisecond)
				continue
			}
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return body, fmt.Errorf("invoke: HTTP %d: %s", resp.StatusCode, body)
		}
		return body, nil
	}
}

// exited reports whether the emulator has died (for instance because its
// invoke port was taken), so Invoke stops dialling it.
func (p *Process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output is what the emulator and the function printed so far.
func (p *Process) Output() string { return p.out.String() }

// Close kills the emulator and the function's process.
func (p *Process) Close() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// freePort returns a port that was free a moment ago. It is taken below the
// kernel's ephemeral range when it can be: a port from that range (what
// Listen(":0") gives) can be handed out again at once as the source port of
// any outgoing connection on the machine, before the emulator binds it.
func freePort() (string, error) {
	if lo := ephemeralLow(); lo > 12000 {
		for range 20 {
			port := strconv.Itoa(10000 + mrand.IntN(lo-10000))
			if ln, err := net.Listen("tcp", "127.0.0.1:"+port); err == nil {
				ln.Close()
				return port, nil
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// ephemeralLow is the start of Linux's ephemeral port range (0 elsewhere).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	lo, _ := strconv.Atoi(f[0])
	return lo
}
