package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"mailmover/i18n"
	"mailmover/mover"
	"mailmover/store"
)

func init() {
	register("check", i18n.Key("sign in, list folders, count matching mail: -profile P"), runCheck)
}

var checkUsage = i18n.Key(`usage: mailmover check -profile P [-timeout 60s] [-v]

Signs in to the profile's mailbox, lists its folders and counts the mail that matches the
profile's [common] settings. Prints "OK" with the folder list and the count; on failure it
prints the cause and what to change. Exit status: 0 when all is well, 1 when something
must be fixed, 2 for a usage error.
  -timeout   give up after this long (default 60s)
  -v         also print diagnostic logs (connection, sign-in) to standard error`)

func runCheck(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("check", checkUsage, env)
	profile := fs.String("profile", "", i18n.T("profile name"))
	timeout := fs.Duration("timeout", 60*time.Second, i18n.T("give up after this long"))
	verbose := fs.Bool("v", false, i18n.T("print diagnostic logs to standard error"))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *profile == "" || fs.NArg() != 0 || *timeout <= 0 {
		i18n.Fprintf(env.Stderr, "mailmover check: give -profile (and a positive -timeout) and nothing else\n%s\n", i18n.T(checkUsage))
		return 2
	}
	if err := store.ValidProfileName(*profile); err != nil {
		fmt.Fprintf(env.Stderr, "mailmover check: %v\n", err) // i18n:keep (command name and a translated error)
		return 2
	}
	out := env.Stdout
	failed := func(what string, err error, advice string) int {
		// Joined errors (several bad keys) span lines: keep them under "cause:". The
		// labels are as wide as each other in every language.
		causeLabel := i18n.T("  cause: ")
		indent := "\n" + strings.Repeat(" ", utf8.RuneCountInString(causeLabel))
		cause := strings.ReplaceAll(strings.TrimRight(err.Error(), "\n"), "\n", indent)
		i18n.Fprintf(out, "FAILED: %s\n", what)
		fmt.Fprintf(out, "%s%s\n", causeLabel, cause)
		if advice != "" {
			fmt.Fprintf(out, "%s%s\n", i18n.T("  fix:   "), advice)
		}
		return 1
	}
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		return failed(i18n.T("no folder for MailMover's files"), err, i18n.T("Set MAILMOVER_HOME to a folder."))
	}
	p, err := store.LoadProfile(home, *profile)
	if err != nil {
		return failed(i18n.Sprintf("cannot load profile %s", *profile), err, loadAdvice(err, home, *profile))
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	rep, err := mover.Check(ctx, mover.CheckOptions{Profile: p, Secrets: openSecrets(), Logger: logger, Timeout: *timeout})
	if err != nil {
		a := mover.Explain(err, p.Name)
		what := a.What
		if !rep.SignedIn && rep.Server == "" && what == err.Error() {
			what = i18n.Sprintf("cannot prepare the sign-in of profile %s", p.Name)
		}
		return failed(what, err, a.Fix)
	}
	printReport(out, rep)
	if rep.MoveTargetMissing {
		return failed(i18n.Sprintf("the move target folder %q does not exist", p.Common.MoveTo),
			i18n.New("[common] move_to names no folder on the server"),
			i18n.T("Create the folder on the server, or set [common] move_to to one of the folders listed above."))
	}
	return 0
}

// loadAdvice says what to do when a profile cannot be loaded.
func loadAdvice(err error, home, profile string) string {
	path := store.ProfilePath(home, profile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return i18n.Sprintf("Check the name ('mailmover profiles' lists them, in %s; MAILMOVER_HOME selects another folder), or create the profile in the window.",
			store.ProfileDir(home))
	case len(store.FieldErrors(err)) > 0:
		return i18n.Sprintf("Fix what is named above (key and line) in %s.", path)
	}
	return i18n.Sprintf("Check that %s is a readable profile file (TOML, at most 1 MiB).", path)
}

func printReport(w io.Writer, rep *mover.CheckReport) {
	i18n.Fprintf(w, "OK: signed in to %s as %s (%s, %s) in %s\n", rep.Server, rep.Username, rep.Mechanism, rep.Security,
		rep.Elapsed.Round(time.Millisecond))
	i18n.Fprintf(w, "Folder %q: %s messages (UIDVALIDITY %d)\n", rep.Folder.Name, i18n.FormatInt(int64(rep.Folder.Messages)), rep.Folder.UIDValidity)
	i18n.Fprintf(w, "Matching mail (%s): %s\n", describeCriteria(rep.Criteria), i18n.FormatInt(int64(rep.Matching)))
	i18n.Fprintf(w, "Folders (%d):\n", len(rep.Folders))
	for _, f := range rep.Folders {
		note := ""
		if f.NoSelect {
			note = i18n.T("  (not selectable)")
		}
		fmt.Fprintf(w, "  %s%s\n", printable(f.Name), note)
	}
	for _, warn := range rep.Warnings {
		i18n.Fprintf(w, "Warning: %s\n", warn)
	}
}

// printable shows a name from the server as it is, or quoted with escapes when it holds
// control characters or invalid UTF-8 (a hostile server could otherwise forge lines or
// drive the terminal).
func printable(s string) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u202e'
	}) {
		return strconv.Quote(s)
	}
	return s
}

func describeCriteria(cr mover.SearchCriteria) string {
	parts := []string{i18n.T("all")}
	if cr.UnseenOnly {
		parts[0] = i18n.T("unseen")
	}
	if !cr.Since.IsZero() {
		parts = append(parts, i18n.Sprintf("since %s", i18n.FormatDate(cr.Since)))
	}
	if cr.From != "" {
		parts = append(parts, i18n.Sprintf("from contains %q", cr.From))
	}
	if cr.Subject != "" {
		parts = append(parts, i18n.Sprintf("subject contains %q", cr.Subject))
	}
	return strings.Join(parts, ", ")
}
