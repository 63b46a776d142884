package main

import (
	"archive/zip"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/build"
	"github.com/haven-hrd/haven/infra/testenv"
)

// maxBootstrap is issue 7's size target for a stripped linux/arm64 function
// binary (10 MB, 10⁶ bytes each). Lambda charges cold starts partly by what
// it has to fetch and map; a new dependency that crosses this line fails here
// rather than going unnoticed until someone reruns the benchmark.
const maxBootstrap = 10_000_000

// TestMakeBuild runs what `make build` runs and checks its artifacts: one zip
// per function of template.yaml, holding only an executable "bootstrap" at its
// root, an arm64 Linux binary no bigger than maxBootstrap.
func TestMakeBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function for linux/arm64")
	}
	root := testenv.Root(t)
	out := t.TempDir()
	if err := run(root, out, "", "", "arm64"); err != nil {
		t.Fatalf("build: %v", err)
	}
	fns, err := build.Functions(testenv.Template(t))
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, f := range fns {
		want = append(want, f.LogicalID+".zip")
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			got = append(got, e.Name())
		}
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("dist (-want +got):\n%s", diff)
	}
	for _, name := range got {
		t.Run(name, func(t *testing.T) {
			zr, err := zip.OpenReader(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
				var names []string
				for _, f := range zr.File {
					names = append(names, f.Name)
				}
				t.Fatalf("zip holds %v, want [bootstrap]", names)
			}
			f := zr.File[0]
			if f.Mode().Perm()&0o111 == 0 {
				t.Errorf("bootstrap mode %v is not executable", f.Mode())
			}
			if f.UncompressedSize64 > maxBootstrap {
				t.Errorf("bootstrap is %d bytes (%.2f MB), over the %d MB target (BENCHMARKS.md)", f.UncompressedSize64, float64(f.UncompressedSize64)/1e6, maxBootstrap/1_000_000)
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			bin := filepath.Join(t.TempDir(), "bootstrap")
			data := make([]byte, f.UncompressedSize64)
			if _, err := io.ReadFull(rc, data); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bin, data, 0o600); err != nil {
				t.Fatal(err)
			}
			ef, err := elf.Open(bin)
			if err != nil {
				t.Fatalf("bootstrap is not an ELF binary: %v", err)
			}
			defer ef.Close()
			if ef.Machine != elf.EM_AARCH64 || ef.OSABI != elf.ELFOSABI_NONE && ef.OSABI != elf.ELFOSABI_LINUX {
				t.Errorf("bootstrap is %v/%v, want linux arm64", ef.Machine, ef.OSABI)
			}
			if ef.Section(".symtab") != nil {
				t.Error("bootstrap keeps its symbol table; want -ldflags='-s -w'")
			}
		})
	}
}
