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
// lambdamain.Run with the very constructor ByDir maps its directory to (so
// the runner and the tests run what the binary runs).
func TestEveryFunctionNamesItsConstructor(t *testing.T) {
	root := testenv.Root(t)
	inTemplate := map[string]bool{}
	for _, fn := range testenv.Template(t).Functions() {
		inTemplate[fn.CodeDir] = true
		if _, ok := steps.ByDir[fn.CodeDir]; !ok {
			t.Errorf("%s (functions/%s) has no entry in steps.ByDir", fn.LogicalID, fn.CodeDir)
		}
	}
	for dir, construct := range steps.ByDir {
		if !inTemplate[dir] {
			t.Errorf("steps.ByDir[%q]: no such function in template.yaml", dir)
		}
		want := runtime.FuncForPC(reflect.ValueOf(construct).Pointer()).Name()
		got, err := runArgument(filepath.Join(root, "functions", dir, "main.go"))
		if err != nil {
			t.Errorf("functions/%s: %v", dir, err)
			continue
		}
		if got != want {
			t.Errorf("functions/%s/main.go runs %s; steps.ByDir has %s", dir, got, want)
		}
	}
}

// runArgument returns the constructor main.go passes to lambdamain.Run, as
// <import path>.<name>.
func runArgument(path string) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if !strings.Contains(string(src), "lambdamain.Run(") {
		return "", fmt.Errorf("no lambdamain.Run( call")
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
	if err != nil {
		return "", err
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
		if !ok || !isSel(call.Fun, "lambdamain", "Run") || len(call.Args) != 1 {
			return true
		}
		arg, ok := call.Args[0].(*ast.SelectorExpr)
		if !ok {
			found = append(found, "(not a package-level function)")
			return true
		}
		pkg, _ := arg.X.(*ast.Ident)
		if pkg == nil || imports[pkg.Name] == "" {
			found = append(found, "(not a package-level function)")
			return true
		}
		found = append(found, imports[pkg.Name]+"."+arg.Sel.Name)
		return true
	})
	if len(found) != 1 {
		return "", fmt.Errorf("want one lambdamain.Run(<pkg>.<Constructor>) call, found %v", found)
	}
	return found[0], nil
}

func isSel(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok || s.Sel.Name != name {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == pkg
}
