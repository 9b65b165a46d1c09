package ui

import (
	"embed"
	"os"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"mailmover/i18n"
)

// translations are the window's texts: en.json and de.json map the English text (the
// key, as written in the code inside lang.L) to the text shown.
//
//go:embed translations
var translations embed.FS

// prefLanguage is the preference that overrides the system locale: "", "en" or "de".
const prefLanguage = "language"

// languages are the override choices: the preference value and its (translated) name.
var languages = []struct{ code, name string }{{"", "System"}, {"en", "English"}, {"de", "Deutsch"}}

var installOnce sync.Once

// InstallTranslator loads the texts of the window, the engine and the command line and
// installs fyne's lang (which picks the language from the environment) as the
// translator of package i18n. The program calls it once at start, before any text is
// made; later calls do nothing.
func InstallTranslator() {
	installOnce.Do(func() {
		loadTranslations()
		i18n.SetTranslator(translate)
	})
}

// langMu guards fyne's lang state: the engine translates its texts from its own
// goroutines (through i18n) while the window may reload the language.
var langMu sync.RWMutex

// loadTranslations (re)loads the texts of the window and of the engine and command line
// (package i18n); fyne picks the language from the environment each time translations are
// added.
func loadTranslations() {
	langMu.Lock()
	defer langMu.Unlock()
	if err := lang.AddTranslationsFS(translations, "translations"); err != nil {
		fyne.LogError("loading the window's translations", err)
	}
	if err := lang.AddTranslationsFS(i18n.Files, i18n.FilesDir); err != nil {
		fyne.LogError("loading the engine's translations", err)
	}
}

// translate is the engine's translator: fyne's lang, guarded against a reload.
func translate(key string) string {
	langMu.RLock()
	defer langMu.RUnlock()
	return lang.L(key)
}

// The window uses the engine's formatting, so numbers and sizes read the same everywhere.
var (
	formatInt     = i18n.FormatInt
	formatDecimal = i18n.FormatDecimal
	formatDate    = i18n.FormatDate
	formatBytes   = i18n.FormatBytes
	uiLanguage    = i18n.Lang
)

// applyLanguage makes code ("en", "de"; "" keeps the system's) the window's language. It
// must run before the window is built: widgets keep the texts they were made with.
func applyLanguage(code string) {
	if code == "" {
		return
	}
	_ = os.Setenv("LANGUAGE", code)
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(env); v != "" {
			if v == "C" || v == "POSIX" {
				_ = os.Setenv(env, code)
			}
			break
		}
	}
	if os.Getenv("LC_ALL")+os.Getenv("LC_MESSAGES")+os.Getenv("LANG") == "" {
		_ = os.Setenv("LC_MESSAGES", code)
	}
	loadTranslations()
}
