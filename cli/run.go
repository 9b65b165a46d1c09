package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"mailmover/i18n"
	"mailmover/mover"
	"mailmover/store"
)

func init() {
	register("run", i18n.Key("move mail without a window: -profile P [-once]"), runRun)
}

var runUsage = i18n.Key(`usage: mailmover run -profile P [-once] [-v]

Moves the profile's mail into its destination folder without a window, logging each step
to standard output (and as JSON lines to logs/P.log). A pass over more than 10 messages
shows its progress (done/total, files, bytes, rate, time left): on a terminal as one line
updated in place, otherwise as a line every 5 seconds and at the end of the pass. Without -once it watches for new mail
until SIGINT or SIGTERM, finishing the message in hand. With -once it does one pass over
the matching mail and exits: 0 when all went well, 1 when a message failed (it stays
unmarked and is tried again next time) or the server could not be used.
  -v   also print diagnostic logs (connection, sign-in) to standard error`)

func runRun(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("run", runUsage, env)
	profile := fs.String("profile", "", i18n.T("profile name"))
	once := fs.Bool("once", false, i18n.T("one pass over the matching mail, then exit"))
	verbose := fs.Bool("v", false, i18n.T("print diagnostic logs to standard error"))
	if code, ok := parseProfileArgs(fs, profile, args, env, runUsage); !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "mailmover run: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		return fail(err)
	}
	p, err := store.LoadProfile(home, *profile)
	if err != nil {
		return fail(err)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	pr := newEventPrinter(env.Stdout, isTerminal(env.Stdout), nil)
	logw := env.Stderr
	if isTerminal(logw) {
		logw = pr.Interleave(logw) // logs and the progress line share the screen
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level}))
	h, err := mover.Start(ctx, mover.Options{Profile: p, Home: home, Logger: logger, Secrets: openSecrets(),
		FromHome: true, Once: *once})
	if err != nil {
		return fail(err)
	}
	for e := range h.Events() {
		pr.Event(e)
	}
	pr.Close()
	err = h.Wait()
	if err != nil {
		var fe *mover.FailedError
		if errors.As(err, &fe) {
			fmt.Fprintf(env.Stderr, "mailmover run: %v\n", err) // i18n:keep (command name and a translated error)
			return 1
		}
		if errors.Is(err, store.ErrStateLocked) {
			i18n.Fprintf(env.Stderr, "mailmover run: profile %s is already running\n", *profile)
			return 1
		}
		return fail(err)
	}
	return 0
}
