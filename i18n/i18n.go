// Package i18n carries the texts that the command line and the engine (auth, imapsrc,
// mover, store) show to people: their messages, errors and advice, in English and German.
//
// The texts are keyed by their English wording, as written in the code. The translation
// files in translations/ ("<area>.<language>.json") are loaded by the window package into
// fyne's lang package, which picks the language from the system locale (LANGUAGE, LC_ALL,
// LC_MESSAGES, LANG) or the window's override, and installed here with SetTranslator.
// This package itself imports no fyne code, so the engine stays free of the toolkit (the
// design's import rule); without a translator every text is its English key.
//
// Texts are translated when they are made: an error made with Errorf carries the words of
// the language active at that moment. Package-level error values use NewError, which
// translates each time it is printed, and tables built at start-up mark their texts with
// Key and translate them with T where they are used.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// Files holds the translation files, "<area>.<language>.json" in the folder
// "translations", each a JSON object from the English text to the shown text.
//
//go:embed translations
var Files embed.FS

// FilesDir is the folder inside Files that holds the translation files.
const FilesDir = "translations"

var translator atomic.Pointer[func(string) string]

// SetTranslator installs f as the function that turns an English text (the key) into
// the text shown; nil restores English. f must be safe for concurrent use and return the
// key itself when it has no translation.
func SetTranslator(f func(key string) string) {
	if f == nil {
		translator.Store(nil)
		return
	}
	translator.Store(&f)
}

// T returns the shown text for the English text key.
func T(key string) string {
	if f := translator.Load(); f != nil {
		if s := (*f)(key); s != "" {
			return s
		}
	}
	return key
}

// Key marks key as a text to translate without translating it: for tables built before
// a translator is installed. Pass the value to T where it is shown.
func Key(key string) string { return key }

// Sprintf formats with the translated format.
func Sprintf(format string, a ...any) string { return fmt.Sprintf(T(format), a...) }

// Errorf is fmt.Errorf with the translated format; %w wraps as usual.
func Errorf(format string, a ...any) error { return fmt.Errorf(T(format), a...) }

// Fprintf writes to w with the translated format.
func Fprintf(w io.Writer, format string, a ...any) (int, error) {
	return fmt.Fprintf(w, T(format), a...)
}

// Fprintln writes the translated text and a newline to w.
func Fprintln(w io.Writer, text string) (int, error) { return fmt.Fprintln(w, T(text)) }

// New returns an error with the translated text, like errors.New.
func New(text string) error { return errors.New(T(text)) }

// NewError returns an error value whose text is translated each time it is printed: for
// package-level errors compared with errors.Is, made before any translator is installed.
func NewError(text string) error { return &lazyError{text} }

type lazyError struct{ key string }

func (e *lazyError) Error() string { return T(e.key) }
