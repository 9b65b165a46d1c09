package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The design's import rule (../shared/design.md, "Imports run one way"): front ends
// (cli, ui, demo) reach the mail server only through the engine (mover), never imapsrc;
// only ui imports fyne; the engine and the packages under it import no front end; the
// alerts (alert) know nothing of IMAP.
func TestImportsRunOneWay(t *testing.T) {
	frontEnds := []string{"cli", "ui", "demo"}
	below := []string{"mover", "imapsrc", "auth", "store", "i18n", "alert"}
	for _, dir := range append(append([]string{}, frontEnds...), below...) {
		for file, imports := range importsOf(t, dir) {
			for _, imp := range imports {
				isFront := false
				for _, f := range frontEnds {
					isFront = isFront || imp == "mailmover/"+f
				}
				switch {
				case contains(frontEnds, dir) && imp == "mailmover/imapsrc":
					t.Errorf("%s imports imapsrc: front ends go through mover (Start, Check, Explain, ListFolders)", file)
				case dir == "alert" && (imp == "mailmover/imapsrc" || imp == "mailmover/mover"):
					t.Errorf("%s imports %s: the alerts take a profile's state from the engine, not the other way round", file, imp)
				case dir != "ui" && strings.HasPrefix(imp, "fyne.io/"):
					t.Errorf("%s imports %s: only ui imports fyne", file, imp)
				case contains(below, dir) && (isFront || imp == "mailmover"):
					t.Errorf("%s imports the front end %s", file, imp)
				}
			}
		}
	}
}

// importsOf returns the imports of each non-test Go file in dir.
func importsOf(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range af.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			out[f] = append(out[f], p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
