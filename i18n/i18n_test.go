package i18n

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// areas are the packages whose texts live here; the window (ui) has its own files.
var areas = []string{"cli", "demo", "demo/signin", "auth", "imapsrc", "mover", "mover/journal", "store", "i18n", "alert", "service/systemd"}

// sameInGerman are texts that read the same in German.
var sameInGerman = []string{"lang.code", "OK", "%s: %w", "%w", "Client-ID"}

// table reads every translations/*.<language>.json into one map, failing on a key given
// twice with different texts.
func table(t *testing.T, language string) map[string]string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(FilesDir, "*."+language+".json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no %s translation files: %v", language, err)
	}
	all := map[string]string{}
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for k, v := range m {
			if old, ok := all[k]; ok && old != v {
				t.Errorf("%s: key %q is translated twice, differently: %q and %q", n, k, old, v)
			}
			all[k] = v
		}
	}
	return all
}

// i18nCalls are the functions of this package whose literal argument is a key, with the
// argument's position.
var i18nCalls = map[string]int{"T": 0, "Key": 0, "Sprintf": 0, "Errorf": 0, "New": 0,
	"NewError": 0, "Fprintf": 1, "Fprintln": 1}

// logCalls are slog's methods: log messages are not shown as texts and stay English.
var logCalls = []string{"Debug", "Info", "Warn", "Error", "DebugContext", "InfoContext",
	"WarnContext", "ErrorContext", "Log", "LogAttrs"}

// prose finds a literal that reads as words: two words of two letters or more.
var prose = regexp.MustCompile(`[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}`)

type source struct {
	keys      map[string]token.Position // keys used in i18n calls
	untouched []token.Position          // prose literals outside i18n calls
	texts     []string
}

// scan reads the non-test Go files of the areas.
func scan(t *testing.T) source {
	t.Helper()
	src := source{keys: map[string]token.Position{}}
	fset := token.NewFileSet()
	for _, area := range areas {
		names, _ := filepath.Glob(filepath.Join("..", area, "*.go"))
		for _, n := range names {
			if strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			keepLines := map[int]bool{}
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					if strings.Contains(c.Text, "i18n:keep") {
						keepLines[fset.Position(c.Pos()).Line] = true
					}
				}
			}
			done := map[*ast.BasicLit]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ImportSpec, *ast.Field:
					return false // paths and struct tags
				case *ast.CallExpr:
					sel, ok := n.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "i18n" {
						if pos, ok := i18nCalls[sel.Sel.Name]; ok && len(n.Args) > pos {
							if lit, ok := n.Args[pos].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								s, err := strconv.Unquote(lit.Value)
								if err == nil {
									src.keys[s] = fset.Position(lit.Pos())
									done[lit] = true
								}
							}
						}
					}
					if slices.Contains(logCalls, sel.Sel.Name) && len(n.Args) > 0 {
						if lit, ok := n.Args[0].(*ast.BasicLit); ok {
							done[lit] = true
						}
					}
				case *ast.BasicLit:
					if n.Kind != token.STRING || done[n] {
						return true
					}
					s, err := strconv.Unquote(n.Value)
					pos := fset.Position(n.Pos())
					if err == nil && prose.MatchString(s) && !keepLines[pos.Line] {
						src.untouched = append(src.untouched, pos)
						src.texts = append(src.texts, s)
					}
				}
				return true
			})
		}
	}
	return src
}

var verb = regexp.MustCompile(`%[-+# 0-9.*\[\]]*[a-zA-Z%]`)

func TestEveryKeyIsTranslated(t *testing.T) {
	en, de := table(t, "en"), table(t, "de")
	src := scan(t)
	var keys []string
	for k := range src.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pos := src.keys[k]
		if _, ok := en[k]; !ok {
			t.Errorf("%s: %q has no English entry", pos, k)
		}
		d, ok := de[k]
		switch {
		case !ok:
			t.Errorf("%s: %q has no German entry", pos, k)
		case d == k && !slices.Contains(sameInGerman, k):
			t.Errorf("%s: %q is left in English in German", pos, k)
		case !slices.Equal(verbs(k), verbs(d)):
			t.Errorf("%s: the German of %q has the verbs %v, not %v", pos, k, verbs(d), verbs(k))
		}
	}
	for _, m := range []map[string]string{en, de} {
		for k := range m {
			if _, used := src.keys[k]; !used && k != "lang.code" {
				t.Errorf("translation key %q is not used in the code: remove it", k)
			}
		}
	}
	for k, v := range en {
		if v != k && k != "lang.code" {
			t.Errorf("English entry %q differs from its key: %q", k, v)
		}
	}
}

// verbs lists the format verbs of s in order (explicit argument indexes are kept, so a
// translation may reorder with %[2]s).
func verbs(s string) []string {
	v := verb.FindAllString(s, -1)
	if v == nil {
		return []string{}
	}
	if slices.ContainsFunc(v, func(x string) bool { return strings.Contains(x, "[") }) {
		sort.Strings(v)
	}
	return v
}

func TestNoTextIsLeftUntranslated(t *testing.T) {
	src := scan(t)
	for i, pos := range src.untouched {
		t.Errorf("%s: %q is shown without i18n (wrap it in an i18n call, or mark a non-text with // i18n:keep)", pos, src.texts[i])
	}
}

func TestTranslatorAndFormats(t *testing.T) {
	defer SetTranslator(nil)
	de := map[string]string{"lang.code": "de", "%d files": "%d Dateien", "gone": "weg"}
	if got := Sprintf("%d files", 3); got != "3 files" {
		t.Fatalf("without a translator: %q", got)
	}
	errGone := NewError("gone")
	SetTranslator(func(k string) string {
		if v, ok := de[k]; ok {
			return v
		}
		return k
	})
	if got := Sprintf("%d files", 3); got != "3 Dateien" {
		t.Errorf("Sprintf = %q", got)
	}
	if got := errGone.Error(); got != "weg" {
		t.Errorf("NewError made before the translator prints %q", got)
	}
	wrapped := Errorf("%d files: %w", 2, errGone)
	if !errors.Is(wrapped, errGone) {
		t.Error("Errorf does not wrap")
	}
	if got := FormatInt(1234567); got != "1.234.567" {
		t.Errorf("FormatInt = %q", got)
	}
	if got := FormatBytes(2_345_678); got != "2,3 MB" {
		t.Errorf("FormatBytes = %q", got)
	}
	if got := FormatInt(-1000); got != "-1.000" {
		t.Errorf("FormatInt(-1000) = %q", got)
	}
	SetTranslator(nil)
	if got := FormatBytes(2_345_678); got != "2.3 MB" {
		t.Errorf("English FormatBytes = %q", got)
	}
	if got := FormatBytes(999); got != "999 B" {
		t.Errorf("FormatBytes(999) = %q", got)
	}
}
