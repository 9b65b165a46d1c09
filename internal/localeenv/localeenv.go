// Package localeenv fixes up the process's locale variables before any other package
// reads them. Imported for its side effect by main.
//
// Fyne's lang package reads the locale in its init function and logs "Error parsing user
// locale C" for C.UTF-8 or POSIX.UTF-8 (common on servers and in containers): the library
// it uses knows plain C and POSIX only. Such a locale means "no language", which
// LANGUAGE=en says in a form it reads. Go initialises a package before the packages
// that come later in import-path order once its own imports are done, and this one
// needs only os and strings, so it runs before fyne's (which waits for text/template).
package localeenv

import (
	"os"
	"strings"
)

func init() { Normalize() }

// Normalize sets LANGUAGE=en when the effective locale (the first of LC_ALL,
// LC_MESSAGES, LANG that is set) is an encoding form of C or POSIX and LANGUAGE is
// empty. It changes nothing else.
func Normalize() {
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(env)
		if v == "" {
			continue
		}
		if (strings.HasPrefix(v, "C.") || strings.HasPrefix(v, "POSIX.")) && os.Getenv("LANGUAGE") == "" {
			_ = os.Setenv("LANGUAGE", "en")
		}
		return
	}
}
