// Package build compiles the template's functions into Lambda deployment
// artifacts: one static `bootstrap` per function for the provided.al2023
// runtime, zipped with bootstrap at the root. The function list comes from
// template.yaml (infra/samtemplate), so nothing is listed twice: `make build`,
// `sam build` (BuildMethod makefile → `make build-<LogicalId>`), the
// runtime-level test under aws-lambda-rie and the benchmarks all build
// through here, with the same flags.
package build

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/haven-hrd/haven/infra/samtemplate"
)

// Function is one function to build.
type Function struct {
	LogicalID string
	// Package is the Go package path relative to the module root,
	// "./functions/<CodeDir>".
	Package string
}

// Functions lists the template's functions (sorted by logical id).
func Functions(tpl *samtemplate.Template) ([]Function, error) {
	var out []Function
	for _, f := range tpl.Functions() {
		if f.CodeDir == "" {
			return nil, fmt.Errorf("function %s has no CodeUri directory", f.LogicalID)
		}
		out = append(out, Function{LogicalID: f.LogicalID, Package: "./functions/" + f.CodeDir})
	}
	return out, nil
}

// Options are the build settings. The zero value builds for Lambda
// (linux/arm64).
type Options struct {
	// Root is the module root (the directory holding go.mod).
	Root string
	// GOARCH defaults to arm64, the template's architecture.
	GOARCH string
	// Race builds with the race detector (tests only; needs cgo).
	Race bool
	// Stderr receives the go tool's output (nil: os.Stderr).
	Stderr io.Writer
}

// Flags are the go build flags of a deployable binary.
//
// Inlining is off outside the standard library (-gcflags=github.com/...=-l):
// the AWS SDK's generated (de)serialisers, gomponents and Haven's own steps
// are I/O-bound glue, and inlining them cost 0.65 MB of the web form's
// 10.22 MB (BENCHMARKS.md, "Binary size on the current SDK"); the runtime,
// crypto, encoding/json and net/http, where the CPU goes, keep it.
func Flags() []string {
	return []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-gcflags=github.com/...=-l"}
}

// Env is the environment of a deployable build for goarch.
func Env(goarch string) []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
}

// Binaries builds every function into dir/<LogicalId>/bootstrap with one
// `go build` invocation (the go tool builds the packages in parallel and
// shares the compiled dependencies between them). It returns the bootstrap
// path of each logical id.
func Binaries(ctx context.Context, o Options, fns []Function, dir string) (map[string]string, error) {
	if o.GOARCH == "" {
		o.GOARCH = "arm64"
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	// `go build -o <dir>/` with several main packages names each binary
	// after its package directory; build into a scratch directory, then
	// move each to <LogicalId>/bootstrap.
	scratch, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	args := append([]string{"build"}, Flags()...)
	if o.Race {
		args = append(args, "-race")
	}
	args = append(args, "-o", scratch+string(filepath.Separator))
	seen := map[string]bool{}
	for _, f := range fns {
		if seen[f.Package] {
			return nil, fmt.Errorf("%s: package %s is built twice", f.LogicalID, f.Package)
		}
		seen[f.Package] = true
		args = append(args, f.Package)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = o.Root, o.Stderr, o.Stderr
	cmd.Env = Env(o.GOARCH)
	if o.Race {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=1")
	}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	out := map[string]string{}
	for _, f := range fns {
		from := filepath.Join(scratch, filepath.Base(f.Package))
		to := filepath.Join(dir, f.LogicalID, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(from, to); err != nil {
			return nil, fmt.Errorf("%s: %w", f.LogicalID, err)
		}
		out[f.LogicalID] = to
	}
	return out, nil
}

// Zip writes bootstrap into a new zip at path, as "bootstrap" at the root,
// executable, with a fixed timestamp so that an unchanged binary gives a
// byte-identical zip (and SAM/CloudFormation see no code change).
func Zip(bootstrap, path string) error {
	in, err := os.Open(bootstrap)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(out)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = io.Copy(w, in)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// Size is a built function's size.
type Size struct {
	LogicalID string
	Binary    int64 // bytes of the stripped bootstrap
	Zip       int64 // bytes of the zip
}

// SortSizes orders sizes by logical id.
func SortSizes(s []Size) {
	sort.Slice(s, func(i, j int) bool { return s[i].LogicalID < s[j].LogicalID })
}
