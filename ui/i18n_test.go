package ui

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailmover/mover"
	"mailmover/store"
)

// sourceFiles parses the package's non-test Go files.
func sourceFiles(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	names, _ := filepath.Glob("*.go")
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[n] = f
	}
	return fset, files
}

func isLangL(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == "lang" && sel.Sel.Name == "L"
}

// usedKeys are the translation keys of the code: lang.L("…") literals and the label
// tables of the selects.
func usedKeys(t *testing.T) []string {
	t.Helper()
	_, files := sourceFiles(t)
	var keys []string
	add := func(lit *ast.BasicLit) {
		if s, err := strconv.Unquote(lit.Value); err == nil && !slices.Contains(keys, s) {
			keys = append(keys, s)
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && isLangL(call) && len(call.Args) > 0 {
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					add(lit)
				}
			}
			return true
		})
	}
	for _, table := range [][]string{presetLabels, tlsLabels, authLabels, flowLabels, afterLabels,
		conflictLabels, searchLabels, watchLabels} {
		for _, l := range table {
			if !slices.Contains(keys, l) {
				keys = append(keys, l)
			}
		}
	}
	for _, l := range languages {
		keys = append(keys, l.name)
	}
	return keys
}

func loadLang(t *testing.T, code string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("translations", code+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s.json: %v", code, err)
	}
	return m
}

var verbRE = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// sameAsEnglish are keys whose German text is rightly the same (names, protocols).
var sameAsEnglish = []string{"OAuth2", "Gmail", "Microsoft 365", "MailMover", "MailMover — ", "Port", "Scope",
	"Name", "OAuth2 (XOAUTH2)", "OAuth2 (OAUTHBEARER)", "/etc/ssl/private-ca.pem (optional)", "System",
	"English", "Deutsch", "%d folder", "%d min", "http://localhost:PORT/?code=…&state=…"}

func TestTranslationsComplete(t *testing.T) {
	keys := usedKeys(t)
	en, de := loadLang(t, "en"), loadLang(t, "de")
	for _, k := range keys {
		for code, m := range map[string]map[string]string{"en": en, "de": de} {
			v, ok := m[k]
			if !ok || strings.TrimSpace(v) == "" && strings.TrimSpace(k) != "" {
				t.Errorf("%s.json lacks %q", code, k)
				continue
			}
			if got, want := verbRE.FindAllString(v, -1), verbRE.FindAllString(k, -1); !slices.Equal(got, want) {
				t.Errorf("%s.json: %q has the verbs %v, the key %v", code, v, got, want)
			}
		}
		if de[k] == k && k != "lang.code" && !slices.Contains(sameAsEnglish, k) {
			t.Errorf("de.json: %q is not translated", k)
		}
	}
	for _, m := range []map[string]string{en, de} {
		for k := range m {
			if !slices.Contains(keys, k) && k != "Language" && k != "The language changes when MailMover starts next time." {
				t.Errorf("translation of %q is not used by the code", k)
			}
		}
	}
}

// wordRE matches a word of letters.
var wordRE = regexp.MustCompile(`^[^A-Za-z]*[A-Za-z]{2,}[^A-Za-z]*$`)

// isProse reports whether s is text meant for people: at least two words, not all of
// them technical tokens (hosts, URLs, keys, patterns).
func isProse(s string) bool {
	if t := strings.TrimSpace(s); t != s && wordRE.MatchString(t) && !technicalRE.MatchString(t) {
		return true // a word glued between parts, like " from "
	}
	words, technical := 0, 0
	for _, f := range strings.Fields(s) {
		if wordRE.MatchString(f) {
			words++
		}
		if technicalRE.MatchString(f) {
			technical++
		}
	}
	return words >= 2 && technical < len(strings.Fields(s))
}

// notUI are functions whose literals are not window text: sample mail data, flags,
// logs, and the sample values of the file-name preview.
var notUI = []string{"sampleEvents", "Main", "ApplyPreset", "fail"}

// sinks are calls whose string arguments are shown in the window.
var sinks = []string{"NewLabel", "NewLabelWithStyle", "NewButton", "NewButtonWithIcon", "NewCheck",
	"NewTabItemWithIcon", "SetText", "SetPlaceHolder", "NewMenuItem", "newEntry", "newPassword", "hint",
	"hintf", "showError", "showMessage", "setStatusText", "setLoginResult", "muted", "mutedLine", "tabPage",
	"NewConfirm", "ShowConfirm", "NewForm", "NewCustom", "NewCustomWithoutButtons", "NewNotification", "notify",
	"askName", "SetConfirmText"}

// technicalRE matches literals that are not words (hosts, keys, examples, placeholders).
var technicalRE = regexp.MustCompile(`^[^ ]*[.@:/{}_=-][^ ]*$|^[A-Z0-9]+$|^[0-9 %]*[a-z]?$`)

// isTechnical reports whether every word of s is a technical token.
func isTechnical(s string) bool {
	for _, f := range strings.Fields(s) {
		if !technicalRE.MatchString(f) {
			return false
		}
	}
	return true
}

func TestNoUntranslatedStrings(t *testing.T) {
	fset, files := sourceFiles(t)
	for name, f := range files {
		if name == "rules.go" || name == "screenshot.go" { // label tables (keys); the picture tool
			continue
		}
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			var fn string
			wrapped, sink, logCall := false, false, false
			for i := len(stack) - 2; i >= 0; i-- {
				switch p := stack[i].(type) {
				case *ast.FuncDecl:
					fn = p.Name.Name
				case *ast.ImportSpec, *ast.Field:
					return true
				case *ast.CallExpr:
					if i == len(stack)-2 && isLangL(p) {
						wrapped = true
					}
					if sel, ok := p.Fun.(*ast.SelectorExpr); ok {
						if slices.Contains([]string{"Warn", "Info", "Debug", "Error", "LogError", "Fprintln"}, sel.Sel.Name) {
							logCall = true
						}
						if i == len(stack)-2 && slices.Contains(sinks, sel.Sel.Name) {
							sink = true
						}
					}
					if id, ok := p.Fun.(*ast.Ident); ok && i == len(stack)-2 && slices.Contains(sinks, id.Name) {
						sink = true
					}
				case *ast.KeyValueExpr:
					if k, ok := p.Key.(*ast.Ident); ok && i == len(stack)-2 && (k.Name == "Text" || k.Name == "HintText") {
						sink = true
					}
				}
			}
			if fn == "" && inErrorsNew(stack) { // sentinel errors are made before translations load
				return true
			}
			if s == "organizations" { // Microsoft's keyword, the same in every language
				return true
			}
			if wrapped || logCall || slices.Contains(notUI, fn) {
				return true
			}
			prose := isProse(verbRE.ReplaceAllString(s, ""))
			if prose || (sink && s != "" && !isTechnical(s)) {
				t.Errorf("%s: %q is shown untranslated: wrap it in lang.L", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
}

func inErrorsNew(stack []ast.Node) bool {
	for _, n := range stack {
		if call, ok := n.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "errors" && sel.Sel.Name == "New" {
					return true
				}
			}
		}
	}
	return false
}

// TestGermanWindow runs the window in German in a child process (the language is chosen
// from the environment when the translations load).
func TestGermanWindow(t *testing.T) {
	if os.Getenv("MM_UI_GERMAN_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGermanWindow$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MM_UI_GERMAN_CHILD=1", "LANGUAGE=de", "LANG=de_DE.UTF-8", "LC_ALL=", "LC_MESSAGES=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the German window failed: %v\n%s", err, out)
		}
		return
	}
	if uiLanguage() != "de" {
		t.Fatalf("language = %q, want de", uiLanguage())
	}
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	if s := h.win.Content().MinSize(); s.Width > 1024 || s.Height > 768 {
		t.Errorf("the German window needs %v: more than 1024×768", s)
	}
	var tabs []string
	for _, it := range v.tabs.Items {
		tabs = append(tabs, it.Text)
	}
	if got := strings.Join(tabs, ","); got != "Übersicht,Einrichtung,Sicherheit,Allgemein,OAuth2,Ziel,Protokoll" {
		t.Errorf("tabs = %s", got)
	}
	if v.act.save.Text != "Speichern" || v.act.start.Text != "Starten" || v.oauth.get.Text != "Tokens HOLEN" {
		t.Errorf("buttons = %q %q %q", v.act.save.Text, v.act.start.Text, v.oauth.get.Text)
	}
	// A select shows German and still maps to the file's value.
	v.security.tls.SetSelected("STARTTLS (Port 143)")
	if p := v.profileFromForm(); p.Security.TLS != store.TLSStartTLS || v.setup.port.Text != "143" {
		t.Errorf("German TLS label maps to %q, port %q", p.Security.TLS, v.setup.port.Text)
	}
	// A validator's message in German, in the problem bar too.
	v.setup.host.SetText("")
	if err := v.setup.host.Validate(); err == nil || !strings.Contains(err.Error(), "Namen des IMAP-Servers") {
		t.Errorf("host message = %v", err)
	}
	if !strings.HasPrefix(v.act.problem.Text, "Einrichtung › Server:") {
		t.Errorf("problem bar = %q", v.act.problem.Text)
	}
	// Numbers are formatted for German.
	l := v.log
	l.model.add(mover.Event{Time: time.Now(), Kind: mover.KindFileSaved, Path: "/x", Bytes: 2048,
		Counters: mover.Counters{Files: 100000, Bytes: 2048}})
	l.flush()
	if l.files.Text != "100.000" || l.bytes.Text != "2,0 kB" {
		t.Errorf("counters = %q, %q", l.files.Text, l.bytes.Text)
	}
	if got := eventText(l.entries[0]); !strings.HasPrefix(got, "Gespeichert: /x") {
		t.Errorf("log line = %q", got)
	}
	v.save() // Save (e.g. by Ctrl+S) on an invalid form explains in German
	if !strings.Contains(v.lastDialog, "Geben Sie") {
		t.Errorf("dialog = %q", v.lastDialog)
	}
}
