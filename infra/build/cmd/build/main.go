// Command build builds the functions of template.yaml for AWS Lambda
// (provided.al2023, arm64 by default): CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath, -ldflags='-s -w'.
//
//	go run ./infra/build/cmd/build                      # dist/<LogicalId>.zip for every function
//	go run ./infra/build/cmd/build -function ID -artifacts DIR   # DIR/bootstrap (sam build)
//
// `make build` and `make build-<LogicalId>` call it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/haven-hrd/haven/infra/build"
	"github.com/haven-hrd/haven/infra/samtemplate"
)

func main() {
	var (
		root      = flag.String("root", ".", "module root (holds go.mod and template.yaml)")
		out       = flag.String("out", "dist", "directory for <LogicalId>.zip")
		function  = flag.String("function", "", "build only this logical id")
		artifacts = flag.String("artifacts", "", "with -function: write DIR/bootstrap (SAM's ARTIFACTS_DIR) instead of a zip")
		goarch    = flag.String("goarch", "arm64", "target architecture")
	)
	flag.Parse()
	if err := run(*root, *out, *function, *artifacts, *goarch); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func run(root, out, function, artifacts, goarch string) error {
	ctx := context.Background()
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	fns, err := build.Functions(tpl)
	if err != nil {
		return err
	}
	if function != "" {
		var only []build.Function
		for _, f := range fns {
			if f.LogicalID == function {
				only = append(only, f)
			}
		}
		if len(only) == 0 {
			return fmt.Errorf("no function %q in template.yaml", function)
		}
		fns = only
	} else if artifacts != "" {
		return fmt.Errorf("-artifacts needs -function")
	}
	dest := out
	if artifacts != "" {
		dest = artifacts
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dest, ".bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bins, err := build.Binaries(ctx, build.Options{Root: root, GOARCH: goarch}, fns, tmp)
	if err != nil {
		return err
	}
	if artifacts != "" {
		return os.Rename(bins[fns[0].LogicalID], filepath.Join(artifacts, "bootstrap"))
	}
	var sizes []build.Size
	for _, f := range fns {
		zipPath := filepath.Join(out, f.LogicalID+".zip")
		if err := build.Zip(bins[f.LogicalID], zipPath); err != nil {
			return err
		}
		bi, err := os.Stat(bins[f.LogicalID])
		if err != nil {
			return err
		}
		zi, err := os.Stat(zipPath)
		if err != nil {
			return err
		}
		sizes = append(sizes, build.Size{LogicalID: f.LogicalID, Binary: bi.Size(), Zip: zi.Size()})
	}
	build.SortSizes(sizes)
	fmt.Printf("| function | bootstrap (linux/%s, stripped) | zip |\n|---|---:|---:|\n", goarch)
	for _, s := range sizes {
		fmt.Printf("| %s | %.2f MB | %.2f MB |\n", s.LogicalID, float64(s.Binary)/1e6, float64(s.Zip)/1e6)
	}
	return nil
}
