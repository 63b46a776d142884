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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
}

// Start runs bootstrap under the emulator at rie, bound to 127.0.0.1 on free
// ports (both the invoke API and the runtime API, so that several emulators
// can run at once), with env as the whole environment. The emulator starts
// the bootstrap process on the first invocation.
func Start(rie, bootstrap string, env []string) (*Process, error) {
	invokePort, err := freePort()
	if err != nil {
		return nil, err
	}
	runtimePort, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", "127.0.0.1:"+invokePort,
		"--runtime-api-address", "127.0.0.1:"+runtimePort,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	out := &testenv.LogBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: Close kills the emulator and the runtime it
	// started together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", rie, err)
	}
	return &Process{URL: "http://127.0.0.1:" + invokePort + "/2015-03-31/functions/function/invocations", cmd: cmd, out: out}, nil
}

// Invoke sends payload and returns the function's answer. Until the emulator
// listens, connection errors are retried (every millisecond) until ctx ends.
func (p *Process) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" && ctx.Err() == nil {
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

// Output is what the emulator and the function printed so far.
func (p *Process) Output() string { return p.out.String() }

// Close kills the emulator and the function's process.
func (p *Process) Close() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Wait()
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}
