package ui

import (
	"encoding/json"
	"io/fs"
	"path"
	"strings"
	"testing"

	"mailmover/i18n"
)

// The window's texts and the engine's are loaded into one table (fyne's lang): a text
// in both must be translated the same way, or one of them silently wins.
func TestWindowAndEngineTranslationsAgree(t *testing.T) {
	for _, language := range []string{"en", "de"} {
		window := map[string]string{}
		b, err := fs.ReadFile(translations, "translations/"+language+".json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &window); err != nil {
			t.Fatal(err)
		}
		names, err := fs.Glob(i18n.Files, path.Join(i18n.FilesDir, "*."+language+".json"))
		if err != nil || len(names) == 0 {
			t.Fatalf("no engine translations for %s: %v", language, err)
		}
		seen := map[string]string{} // key → file that translated it
		engine := map[string]string{}
		for _, n := range names {
			var m map[string]string
			b, err := fs.ReadFile(i18n.Files, n)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			for k, v := range m {
				if old, ok := engine[k]; ok && old != v && k != "lang.code" {
					t.Errorf("%s: %q is %q in %s but %q in %s", language, k, v, n, old, seen[k])
				}
				engine[k], seen[k] = v, n
			}
		}
		for k, v := range window {
			if e, ok := engine[k]; ok && e != v && !strings.HasPrefix(k, "lang.") {
				t.Errorf("%s: %q is %q in the window's translations but %q in %s", language, k, v, e, seen[k])
			}
		}
	}
}
