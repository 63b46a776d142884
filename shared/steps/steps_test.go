package steps_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/steps"
)

// TestEveryFunctionNamesItsConstructor: every template function has an
// entry, every entry a functions/<dir>/main.go, and each main.go calls
// lambdamain.RunWithoutSealer (the functions in steps.WithoutSealer) or
// sealing.Run (all others) with the very constructor ByDir maps its
// directory to (so the runner and the tests run what the binary runs, wired
// the same way).
func TestEveryFunctionNamesItsConstructor(t *testing.T) {
	root := testenv.Root(t)
	inTemplate := map[string]bool{}
	for _, fn := range testenv.Template(t).Functions() {
		inTemplate[fn.CodeDir] = true
		if _, ok := steps.ByDir[fn.CodeDir]; !ok {
			t.Errorf("%s (functions/%s) has no entry in steps.ByDir", fn.LogicalID, fn.CodeDir)
		}
	}
	for dir := range steps.WithoutSealer {
		if _, ok := steps.ByDir[dir]; !ok {
			t.Errorf("steps.WithoutSealer[%q]: not in steps.ByDir", dir)
		}
	}
	for dir, construct := range steps.ByDir {
		if !inTemplate[dir] {
			t.Errorf("steps.ByDir[%q]: no such function in template.yaml", dir)
		}
		want := runtime.FuncForPC(reflect.ValueOf(construct).Pointer()).Name()
		entry, got, err := runArgument(filepath.Join(root, "functions", dir, "main.go"))
		if err != nil {
			t.Errorf("functions/%s: %v", dir, err)
			continue
		}
		if got != want {
			t.Errorf("functions/%s/main.go runs %s; steps.ByDir has %s", dir, got, want)
		}
		wantEntry := sealingRun
		if steps.WithoutSealer[dir] {
			wantEntry = runWithoutSealer
		}
		if entry != wantEntry {
			t.Errorf("functions/%s/main.go calls %s; steps.WithoutSealer[%q] = %v, so it must call %s", dir, entry, dir, steps.WithoutSealer[dir], wantEntry)
		}
	}
}

// The two entry points a main.go may call.
const (
	sealingRun       = "sealing.Run"
	runWithoutSealer = "lambdamain.RunWithoutSealer"
)

var entryPoints = map[string]string{
	sealingRun:       "github.com/haven-hrd/haven/shared/lambdamain/sealing",
	runWithoutSealer: "github.com/haven-hrd/haven/shared/lambdamain",
}

// runArgument returns the entry point main.go calls (sealingRun or
// runWithoutSealer) and the constructor it passes, as <import path>.<name>.
func runArgument(path string) (entry, construct string, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
	if err != nil {
		return "", "", err
	}
	imports := map[string]string{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[name] = p
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		name := pkg.Name + "." + sel.Sel.Name
		if path, ok := entryPoints[name]; !ok || imports[pkg.Name] != path {
			return true
		}
		if len(call.Args) != 1 {
			found = append(found, name+"(wrong arguments)")
			return true
		}
		arg, ok := call.Args[0].(*ast.SelectorExpr)
		if !ok {
			found = append(found, name+"(not a package-level function)")
			return true
		}
		id, _ := arg.X.(*ast.Ident)
		if id == nil || imports[id.Name] == "" {
			found = append(found, name+"(not a package-level function)")
			return true
		}
		entry, construct = name, imports[id.Name]+"."+arg.Sel.Name
		found = append(found, entry+"("+construct+")")
		return true
	})
	if len(found) != 1 || entry == "" {
		return "", "", fmt.Errorf("want one call of sealing.Run(<pkg>.<Constructor>) or lambdamain.RunWithoutSealer(<pkg>.<Constructor>), found %v", found)
	}
	return entry, construct, nil
}
