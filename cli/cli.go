// Package cli is MailMover's command line: it parses the arguments and runs one command
// (window, demo, login, check, run, secret, profiles, version). main.go only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"mailmover/i18n"
	"mailmover/store"
)

// Version is the program's version, set at build time with -ldflags "-X mailmover/cli.Version=…".
var Version = "0.1.0"

// Env is what a command reads and writes besides its arguments, so tests can run commands
// in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable (os.Getenv in the real program).
	Getenv func(string) string
}

// command is one sub-command: run gets the arguments after the command name and returns
// the exit code (0 ok, 1 failure, 2 usage error).
type command struct {
	summary string
	run     func(ctx context.Context, args []string, env Env) int
}

// commands is filled by the files of this package, one file per command, in init.
var commands = map[string]command{}

// register adds a command; called from init functions. summary is marked with i18n.Key
// and translated where it is shown.
func register(name, summary string, run func(ctx context.Context, args []string, env Env) int) {
	commands[name] = command{summary: summary, run: run}
}

// OpenWindow opens the main window; set by main (it lives in ui/, which cli does not
// import so that the headless commands build without a display).
var OpenWindow func(args []string, opts WindowOptions) int

// WindowOptions are what a command hands the window besides its arguments.
type WindowOptions struct {
	// Secrets is where the window keeps passwords and tokens; nil means the OS keyring.
	// The demo passes its in-memory store when no Secret Service answers.
	Secrets store.Secrets
	// Context is the command's context: when it is cancelled (SIGINT, SIGTERM) the
	// window closes.
	Context context.Context
}

// Main runs the command line and returns the exit code. SIGINT and SIGTERM cancel the
// command's context.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal cancels the command, which then finishes the file in hand; after
	// it the default handling is back, so a second Ctrl-C or SIGTERM ends the process
	// even when something is stuck in a system call.
	go func() { <-ctx.Done(); stop() }()
	env := Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	return Run(ctx, args, env)
}

// Run runs the command named by args[0]. No arguments, or only flags (-profile P), open
// the window.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || isWindowFlag(args[0]) {
		if OpenWindow == nil {
			i18n.Fprintln(env.Stderr, "mailmover: this build has no window; try 'mailmover help'")
			return 2
		}
		if p := displayProblem(env.Getenv); p != "" {
			fmt.Fprintln(env.Stderr, "mailmover: "+p) // p is translated by displayProblem
			return 1
		}
		return OpenWindow(args, WindowOptions{Context: ctx})
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(env.Stdout)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		i18n.Fprintf(env.Stderr, "mailmover: unknown command %q\n\n", name)
		usage(env.Stderr)
		return 2
	}
	return cmd.run(ctx, args[1:], env)
}

// isWindowFlag reports whether arg is a flag of the window (mailmover -profile P) rather
// than a command or a request for help.
func isWindowFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return false
	}
	return strings.HasPrefix(arg, "-")
}

// newFlagSet makes the flag set of command name: errors and -h go to stderr with the
// command's usage text (an i18n.Key, translated when shown).
func newFlagSet(name, usageText string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprintln(env.Stderr, i18n.T(usageText)) }
	return fs
}

// parseProfileArgs parses args into fs, whose -profile flag is profile, for a command
// that takes -profile P and no operands. ok is false when the command must end with
// code: 0 after -h, 2 for a usage error (said on stderr).
func parseProfileArgs(fs *flag.FlagSet, profile *string, args []string, env Env, usageText string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if *profile == "" || fs.NArg() != 0 {
		i18n.Fprintf(env.Stderr, "mailmover %s: give -profile and nothing else\n%s\n", fs.Name(), i18n.T(usageText))
		return 2, false
	}
	if err := store.ValidProfileName(*profile); err != nil {
		fmt.Fprintf(env.Stderr, "mailmover %s: %v\n", fs.Name(), err)
		return 2, false
	}
	return 0, true
}

// printDefaults is flag.PrintDefaults with the words it adds ("default") translated.
func printDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  -" + f.Name
		if name != "" {
			line += " " + name
		}
		if len(line) <= 4 { // a one-letter flag without a value: usage on the same line
			line += "\t"
		} else {
			line += "\n    \t"
		}
		line += strings.ReplaceAll(usage, "\n", "\n    \t")
		switch f.DefValue {
		case "", "0", "0s", "false":
		default:
			if name == "string" {
				line += i18n.Sprintf(" (default %q)", f.DefValue)
			} else {
				line += i18n.Sprintf(" (default %s)", f.DefValue)
			}
		}
		fmt.Fprintln(w, line)
	})
}

func usage(w io.Writer) {
	i18n.Fprintln(w, "MailMover moves mail and attachments out of IMAP mailboxes into folders.")
	i18n.Fprintln(w, "\nUsage:\n  mailmover [-profile P]    open the window (on profile P)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  mailmover %-15s %s\n", n, i18n.T(commands[n].summary))
	}
	i18n.Fprintln(w, "\nFiles live in $MAILMOVER_HOME, else in the user config folder under mailmover/.")
}
