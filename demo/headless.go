package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"mailmover/auth"
	"mailmover/i18n"
	"mailmover/mover"
	"mailmover/store"
)

// HeadlessOptions configure RunHeadless.
type HeadlessOptions struct {
	// Secrets keeps the demo's tokens: the OS keyring, or store.NewMemorySecrets() where
	// there is none (the tokens then live as long as the process, which is enough here).
	Secrets store.Secrets
	// Out receives the sign-in address and one line per step of the mover.
	Out io.Writer
	// OpenBrowser opens the sign-in address (auth.SystemBrowser on the command line);
	// nil only prints it.
	OpenBrowser func(url string) error
	// LoginTimeout bounds the wait for the browser; 0 means auth.DefaultLoginTimeout.
	LoginTimeout time.Duration
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// RunHeadless signs in to the demo's provider through the browser (the loopback flow of
// `mailmover login`, printing the address too), stores the tokens, and runs the mover on
// the demo profile until ctx ends. It returns nil when ctx ended (SIGINT/SIGTERM), and an
// error when sign-in or the mover failed.
func (d *Demo) RunHeadless(ctx context.Context, o HeadlessOptions) error {
	if o.Secrets == nil {
		return i18n.New("demo: no secret store given for the tokens")
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	p := d.Profile

	cfg, err := auth.ConfigFromProfile(p.OAuth2, "")
	if err != nil {
		return i18n.Errorf("demo: the demo profile's [oauth2] table: %w", err)
	}
	res, err := auth.Login(ctx, cfg, auth.LoginOptions{
		OpenBrowser: o.OpenBrowser,
		OnURL: func(u string) {
			i18n.Fprintf(out, "Sign in as %q with password %q at:\n  %s\n", d.User(), d.Password(), u)
		},
		Timeout: o.LoginTimeout,
		Logger:  logger,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting for the browser
		}
		text, advice := auth.DescribeError(err)
		return i18n.Errorf("demo: sign-in failed: %s (%s): %w", text, advice, err)
	}
	for _, w := range res.Warnings {
		i18n.Fprintf(out, "sign-in warning: %s\n", w)
	}
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(o.Secrets, p.Name), res.Token, time.Now()); err != nil {
		return i18n.Errorf("demo: store the demo's tokens: %w", err)
	}
	i18n.Fprintln(out, "Signed in; tokens stored. Starting the mover (Ctrl-C stops it).")

	h, err := mover.Start(ctx, mover.Options{Profile: p, Home: d.Home, Logger: logger, Secrets: o.Secrets})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for ev := range h.Events() {
		printEvent(out, ev)
	}
	if err := h.Wait(); err != nil && ctx.Err() == nil {
		return i18n.Errorf("demo: the mover stopped: %w", err)
	}
	return nil
}

// printEvent writes one mover event as a line.
func printEvent(w io.Writer, ev mover.Event) {
	switch ev.Kind {
	case mover.KindProgress:
		return // the saved/done lines say enough
	case mover.KindFileSaved:
		i18n.Fprintf(w, "saved %s (%s bytes)\n", ev.Path, i18n.FormatInt(ev.Bytes))
	case mover.KindMessage:
		i18n.Fprintf(w, "message %d: %s — from %s\n", ev.UID, ev.Subject, ev.From)
	case mover.KindError, mover.KindWarning, mover.KindPaused:
		line := fmt.Sprintf("%s: %s", ev.Kind.Label(), ev.Text)
		if ev.Advice != "" {
			line += " — " + ev.Advice
		}
		fmt.Fprintln(w, line)
	default:
		if ev.Text != "" {
			fmt.Fprintf(w, "%s: %s\n", ev.Kind.Label(), ev.Text)
		} else {
			fmt.Fprintln(w, ev.Kind.Label())
		}
	}
}
