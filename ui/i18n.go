package ui

import (
	"embed"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
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

func init() { loadTranslations() }

// loadTranslations (re)loads the texts; fyne picks the language from the environment
// each time translations are added.
func loadTranslations() {
	if err := lang.AddTranslationsFS(translations, "translations"); err != nil {
		fyne.LogError("loading the window's translations", err)
	}
}

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

// uiLanguage is the language the window shows ("en" or "de").
func uiLanguage() string {
	if c := lang.L("lang.code"); c != "lang.code" {
		return c
	}
	return "en"
}

// formatInt writes n with the language's thousands separator: 100,000 or 100.000.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if uiLanguage() == "de" {
		sep = "."
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatDecimal writes f with one decimal in the language's style: 2.5 or 2,5.
func formatDecimal(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	if uiLanguage() == "de" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// formatDate writes a day in the language's style: 2026-11-28 or 28.11.2026.
func formatDate(t time.Time) string {
	if uiLanguage() == "de" {
		return t.Format("02.01.2006")
	}
	return t.Format("2006-01-02")
}
