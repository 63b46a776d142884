package rie

import (
	"context"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/haven-hrd/haven/infra/build"
	"github.com/haven-hrd/haven/infra/testenv"
)

// TestFirstInvokeSurvivesTakenPort: when the runtime API port the emulator
// was given is taken by the time it binds (it binds on the first
// invocation), the first Invoke restarts it on new ports and answers.
func TestFirstInvokeSurvivesTakenPort(t *testing.T) {
	rieBin, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	bins, err := build.Binaries(ctx, build.Options{Root: testenv.Root(t), GOARCH: runtime.GOARCH},
		[]build.Function{{LogicalID: "Hello", Package: "./infra/bench/testdata/hello"}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())

	p := &Process{rie: rieBin, bootstrap: bins["Hello"], env: []string{"PATH=" + os.Getenv("PATH"), "AWS_REGION=ca-central-1"}, runtimePort: port}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	firstURL := p.URL
	out, err := p.Invoke(ctx, []byte(`{}`))
	if err != nil {
		t.Fatalf("Invoke: %v\n%s", err, p.Output())
	}
	if p.URL == firstURL {
		t.Error("the emulator was not restarted on new ports")
	}
	if !strings.Contains(string(out), "hello") {
		t.Errorf("answer %s", out)
	}
}
