package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"mailmover/auth"
	"mailmover/demo"
	"mailmover/i18n"
	"mailmover/store"
)

// demoWindowArgs are the arguments `mailmover demo` passes to OpenWindow: open the window
// on the demo profile (demo, or demo-2, … when a profile demo is the user's) and say that
// it is a demo.
func demoWindowArgs(profile string) []string { return []string{"-profile", profile, "-demo"} }

func init() {
	register("demo", i18n.Key("try it: built-in IMAP and sign-in servers with sample mail [-headless]"), runDemo)
}

func runDemo(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	headless := fs.Bool("headless", false, i18n.T("no window: sign in through the browser, then run the mover until SIGINT/SIGTERM"))
	user := fs.String("user", demo.DefaultUser, i18n.T("the demo sign-in user (also the IMAP user)"))
	password := fs.String("password", demo.DefaultPassword, i18n.T("the demo sign-in password"))
	interval := fs.Duration("interval", demo.DefaultInterval, i18n.T("how often a new message arrives (0 turns it off)"))
	dest := fs.String("dest", "./"+demo.DefaultDestFolder, i18n.T("where the files go (relative to the working directory)"))
	noBrowser := fs.Bool("no-browser", false, i18n.T("with -headless: only print the sign-in address, do not open a browser"))
	redirectPort := fs.Int("redirect-port", demo.PreferredRedirectPort, i18n.T("the sign-in redirect port; a busy port falls back to a free one"))
	loginTimeout := fs.Duration("login-timeout", auth.DefaultLoginTimeout, i18n.T("with -headless: how long to wait for the sign-in"))
	fs.Usage = func() {
		i18n.Fprintln(env.Stderr, "usage: mailmover demo [-headless] [flags]\n\nStarts an IMAP server and an OAuth2 sign-in server inside this process, on loopback\nonly, with sample mail, writes the profile \"demo\" and opens the window on it. A profile\n\"demo\" of your own is never changed: the demo then uses \"demo-2\" (or the next free name).")
		printDefaults(env.Stderr, fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		i18n.Fprintf(env.Stderr, "mailmover demo: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if !*headless && OpenWindow == nil {
		i18n.Fprintln(env.Stderr, "mailmover demo: this build has no window; use 'mailmover demo -headless'")
		return 2
	}
	if *redirectPort < 1 || *redirectPort > 65535 {
		i18n.Fprintf(env.Stderr, "mailmover demo: -redirect-port %d is not a port (1–65535)\n", *redirectPort)
		return 2
	}
	if *interval == 0 {
		*interval = -1 // Options: negative = no new mail
	}

	// The demo's servers log through this logger at Info level and below; only warnings
	// reach the terminal, which keeps the demo's own lines.
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)

	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover demo: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	sec, memOnly := openDemoSecrets()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !*headless {
		if p := displayProblem(env.Getenv); p != "" {
			fmt.Fprintln(env.Stderr, "mailmover demo: "+p) // i18n:keep (command name and a translated error)
			return 1
		}
	}
	d, err := demo.Start(ctx, demo.Options{
		Home: home, Dest: *dest, User: *user, Password: *password,
		Interval: *interval, RedirectPort: *redirectPort, Logger: logger,
	}, sec)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover demo: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	defer d.Close()
	d.PrintSummary(env.Stdout)

	if memOnly {
		i18n.Fprintln(env.Stdout, "No keyring (Secret Service) here: the demo keeps its tokens in memory.")
	}
	if !*headless {
		i18n.Fprintf(env.Stdout, "Opening the window on the profile %q: GET (sign in), Save, Start — and watch the files arrive.\n", d.Profile.Name)
		// The window uses the demo's secret store: in memory when there is no keyring,
		// so that GET can store the tokens and Start can use them.
		code := OpenWindow(demoWindowArgs(d.Profile.Name), WindowOptions{Secrets: sec, Context: ctx})
		cancel()
		_ = d.Close()
		return code
	}

	var opener func(string) error
	if !*noBrowser {
		opener = auth.SystemBrowser(env.Getenv)
	}
	runErr := d.RunHeadless(ctx, demo.HeadlessOptions{
		Secrets: sec, Out: env.Stdout, OpenBrowser: opener,
		LoginTimeout: *loginTimeout, Logger: logger,
	})
	cancel()
	closeErr := d.Close()
	if runErr != nil {
		fmt.Fprintf(env.Stderr, "mailmover demo: %v\n", runErr) // i18n:keep (command name and a translated error)
		return 1
	}
	if closeErr != nil {
		i18n.Fprintf(env.Stderr, "mailmover demo: stopping the servers: %v\n", closeErr)
		return 1
	}
	i18n.Fprintln(env.Stdout, "Demo stopped; the servers are closed.")
	return 0
}

// openDemoSecrets is demoSecrets; tests replace it.
var openDemoSecrets = demoSecrets

// demoSecrets returns the OS keyring when it answers within a few seconds, else an
// in-memory store (memOnly true): the demo signs in and moves mail in one process (the
// window gets the same store), so memory is enough there.
func demoSecrets() (sec store.Secrets, memOnly bool) {
	k := store.KeyringWithTimeout(3 * time.Second)
	if _, err := k.Get(demo.ProfileName, store.SecretRefreshToken); err == nil || errors.Is(err, store.ErrNoSecret) {
		return k, false
	}
	return store.NewMemorySecrets(), true
}
