package build_test

import (
	"testing"

	"github.com/haven-hrd/haven/infra/build"
	"github.com/haven-hrd/haven/infra/testenv"
)

// TestTemplateBuildsWithMakefile checks that `sam build` builds every
// function through the root Makefile's build-<LogicalId> (which calls this
// package), so that sam build and make build produce the same binaries.
func TestTemplateBuildsWithMakefile(t *testing.T) {
	tpl := testenv.Template(t)
	fns, err := build.Functions(tpl)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) == 0 {
		t.Fatal("no functions in template.yaml")
	}
	for _, f := range fns {
		md := tpl.Resources[f.LogicalID].Metadata
		if md["BuildMethod"] != "makefile" || md["ContextPath"] != "." {
			t.Errorf("%s: Metadata %v; want BuildMethod: makefile and ContextPath: . (the root Makefile)", f.LogicalID, md)
		}
	}
}
