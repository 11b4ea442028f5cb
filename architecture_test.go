package muxkit_test

import (
	"bufio"
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestArchitecture checks the import graph at the top of
// docs/architecture.md against the imports of the library's packages (not
// their tests), as go/build reads them for Linux: every edge the document
// draws is in the code, and every edge between the module's packages in
// the code is in the document.
func TestArchitecture(t *testing.T) {
	code, pkgs, err := codeEdges(".")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := docEdges("docs/architecture.md", pkgs)
	if err != nil {
		t.Fatal(err)
	}
	var wrong []string
	for e, line := range doc {
		if !code[e] {
			wrong = append(wrong, fmt.Sprintf("docs/architecture.md:%d: %s ← %s, but %s does not import %s", line, e.imported, e.importer, e.importer, e.imported))
		}
	}
	for e := range code {
		if _, ok := doc[e]; !ok {
			wrong = append(wrong, fmt.Sprintf("%s imports %s, which docs/architecture.md does not say (%s ← %s)", e.importer, e.imported, e.imported, e.importer))
		}
	}
	slices.Sort(wrong)
	for _, w := range wrong {
		t.Error(w)
	}
}

// An edge is an import of one package of the module by another, both
// named by their path in the module.
type edge struct{ imported, importer string }

// docEdges reads the graph in the first fenced block of the document:
// lines "a, b ← c, d (a comment)", whose left side may begin on the lines
// before, say that c and d import a and b. "every other package but x"
// stands for the packages pkgs, but x and the left side.
func docEdges(path string, pkgs []string) (map[edge]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type rule struct {
		line               int
		imported, by       []string
		everyOther, except []string
	}
	var rules []rule
	var left []string
	fenced := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			if fenced {
				break
			}
			fenced = true
			continue
		}
		if !fenced {
			continue
		}
		l, r, arrow := strings.Cut(line, "←")
		left = append(left, list(l)...)
		if !arrow {
			continue
		}
		if i := strings.Index(r, "("); i >= 0 {
			r = r[:i]
		}
		rl := rule{line: n, imported: left}
		if rest, ok := strings.CutPrefix(strings.TrimSpace(r), "every other package"); ok {
			rl.everyOther = []string{}
			if but, ok := strings.CutPrefix(strings.TrimSpace(rest), "but "); ok {
				rl.except = list(but)
			}
		} else {
			rl.by = list(r)
		}
		rules = append(rules, rl)
		left = nil
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, errors.New(path + ": no import graph in a fenced block")
	}
	edges := map[edge]int{}
	for _, rl := range rules {
		by := rl.by
		if rl.everyOther != nil {
			for _, p := range pkgs {
				if !slices.Contains(rl.imported, p) && !slices.Contains(rl.except, p) {
					by = append(by, p)
				}
			}
		}
		for _, a := range rl.imported {
			for _, b := range by {
				edges[edge{a, b}] = rl.line
			}
		}
	}
	return edges, nil
}

// list splits a comma-separated list of package paths.
func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// codeEdges returns the imports between the packages of the module rooted
// at root, leaving out test files and other modules below it (examples),
// and the packages.
func codeEdges(root string) (map[edge]bool, []string, error) {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, nil, err
	}
	first, _, _ := strings.Cut(string(mod), "\n")
	module := strings.TrimSpace(strings.TrimPrefix(first, "module"))
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = "linux", "amd64", false
	edges := map[edge]bool{}
	var pkgs []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if path != root {
			if strings.HasPrefix(name, ".") || name == "testdata" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		p, err := ctx.ImportDir(path, 0)
		var none *build.NoGoError
		if errors.As(err, &none) {
			return nil
		} else if err != nil {
			return err
		}
		importer := filepath.ToSlash(path)
		if len(p.GoFiles) > 0 {
			pkgs = append(pkgs, importer)
		}
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				edges[edge{rel, importer}] = true
			}
		}
		return nil
	})
	return edges, pkgs, err
}
