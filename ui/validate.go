package ui

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"mailmover/store"
)

// hint is a validation message shown under a field: a full sentence for the user.
type hint string

func (h hint) Error() string { return string(h) }

func hintf(format string, a ...any) error { return hint(fmt.Sprintf(format, a...)) }

// Field validators. Each message says what is expected, so the user can fix the field
// without reading a manual. They are pure functions of the text (plus, for some, a flag
// that says whether the field is needed at all).

func validateHost(s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return hint(lang.L("Enter the IMAP server's host name, e.g. outlook.office365.com"))
	case strings.Contains(s, "://"):
		return hint(lang.L("Enter the host name only, without https:// or imap://"))
	case strings.ContainsAny(s, " /\\@"):
		return hint(lang.L("A host name has no spaces, slashes or @: e.g. imap.gmail.com"))
	}
	return nil
}

func validatePort(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return hint(lang.L("Enter a port from 1 to 65535 (993 for implicit TLS, 143 for STARTTLS)"))
	}
	return nil
}

func validateUsername(s string) error {
	if strings.TrimSpace(s) == "" {
		return hint(lang.L("Enter the mailbox's user name, usually its e-mail address"))
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		return hint(lang.L("The user name must be one line"))
	}
	return nil
}

func validateFolder(s string) error {
	if strings.TrimSpace(s) == "" {
		return hint(lang.L("Enter the folder to read, e.g. INBOX"))
	}
	return nil
}

func validateCAFile(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if !isAbsOrHome(s) {
		return hint(lang.L("Choose a PEM file by its full path, or leave empty"))
	}
	return nil
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func validateSince(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if _, err := time.Parse("2006-01-02", s); err != nil || !dateRE.MatchString(s) {
		return hint(lang.L("Enter a date as YYYY-MM-DD (e.g. 2026-01-31), or leave empty for all"))
	}
	return nil
}

func validateMask(s string) error {
	if strings.TrimSpace(s) == "" {
		return hint(lang.L(`Enter file patterns separated by ";", e.g. *.pdf;*.xml (or * for all)`))
	}
	for _, g := range strings.Split(s, ";") {
		g = strings.TrimSpace(g)
		if g == "" {
			return hint(lang.L(`Remove the empty pattern between ";" (e.g. *.pdf;*.xml)`))
		}
		if _, err := path.Match(g, "x"); err != nil {
			return hintf(lang.L("%q is not a valid pattern: use * and ?, e.g. *.pdf"), g)
		}
	}
	return nil
}

func validateMoveTo(needed bool) func(string) error {
	return func(s string) error {
		if needed && strings.TrimSpace(s) == "" {
			return hint(lang.L("Enter the folder to move processed mail to, e.g. Archive"))
		}
		return nil
	}
}

func validatePoll(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 5*time.Second || d > 24*time.Hour {
		return hint(lang.L("Enter a duration from 5s to 24h, e.g. 60s or 5m"))
	}
	return nil
}

// validateURL accepts https URLs, and http ones only for the local machine (tests and
// private providers on loopback), by the store's one rule (store.IsLoopbackHost).
func validateURL(what, example string) func(string) error {
	return func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			return hintf(lang.L("Enter the %s, e.g. %s"), what, example)
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return hintf(lang.L("Enter a full https:// URL, e.g. %s"), example)
		}
		if u.Scheme == "http" && !store.IsLoopbackHost(u.Hostname()) {
			return hint(lang.L("Use https:// (http:// is allowed only for localhost)"))
		}
		return nil
	}
}

// isAbsOrHome accepts absolute paths and paths under the home folder ("~/…").
func isAbsOrHome(s string) bool {
	return filepath.IsAbs(s) || strings.HasPrefix(s, "~/")
}

// validateOneLine accepts any text on one line (filters may be empty).
func validateOneLine(s string) error {
	if strings.ContainsAny(s, "\r\n\t\x00") {
		return hint(lang.L("Keep it on one line, without tabs"))
	}
	return nil
}

func validateClientID(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return hint(lang.L("Enter the Client ID (Application ID) of your app registration"))
	}
	if strings.ContainsAny(s, " \t") {
		return hint(lang.L("A Client ID has no spaces; copy it from the app registration"))
	}
	return nil
}

func validateScope(s string) error {
	if strings.TrimSpace(s) == "" {
		return hint(lang.L("Enter the scope, e.g. https://outlook.office.com/IMAP.AccessAsUser.All offline_access"))
	}
	return nil
}

var tenantRE = regexp.MustCompile(`^[A-Za-z0-9.-]+$`)

func validateTenant(s string) error {
	s = strings.TrimSpace(s)
	if s == "" || !tenantRE.MatchString(s) {
		return hint(lang.L("Enter a tenant ID or domain, or organizations / common"))
	}
	return nil
}

// validateRedirectURI checks the URI on its own; agreement with the port is checked by the
// Backend's ValidateRedirect in the form.
func validateRedirectURI(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme != "http" {
		return hint(lang.L("Enter http://localhost:PORT/ (or 127.0.0.1), as registered for the app"))
	}
	if _, ok := store.RedirectHost(u.Hostname()); !ok {
		return hint(lang.L("Enter http://localhost:PORT/ (or 127.0.0.1), as registered for the app"))
	}
	if u.Port() == "" {
		return hint(lang.L("Add the port: http://localhost:PORT/"))
	}
	return nil
}

func validateRedirectPort(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 65535 {
		return hint(lang.L("Enter a free local port from 1 to 65535, e.g. 3017"))
	}
	return nil
}

func validateDestFolder(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return hint(lang.L("Choose the folder the files are saved to"))
	}
	if !isAbsOrHome(s) {
		return hint(lang.L("Enter a full path, e.g. /srv/mail-in (or choose with the button)"))
	}
	return nil
}

// templateNames are the placeholders of the file-name template.
var templateNames = []string{"filename", "name", "ext", "date", "time", "from", "subject", "uid", "messageid"}

var placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)

func validateTemplate(s string) error {
	if strings.TrimSpace(s) == "" {
		return hint(lang.L("Enter a file-name template, e.g. {date}_{filename}"))
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		known := false
		for _, n := range templateNames {
			if m[1] == n {
				known = true
			}
		}
		if !known {
			return hintf(lang.L("{%s} is unknown: use {filename} {name} {ext} {date} {time} {from} {subject} {uid} {messageid}"), m[1])
		}
	}
	if strings.Count(s, "{") != strings.Count(s, "}") {
		return hint(lang.L("Close each { with }, e.g. {date}_{filename}"))
	}
	if strings.HasPrefix(s, "/") || strings.Contains(s, "..") {
		return hint(lang.L("The template must stay inside the folder: no leading / and no .."))
	}
	return nil
}
