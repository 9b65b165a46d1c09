package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"mailmover/mover"
	"mailmover/store"
)

func init() {
	register("run", "move mail without a window: -profile P [-once]", runRun)
}

const runUsage = `usage: mailmover run -profile P [-once] [-v]

Moves the profile's mail into its destination folder without a window, logging each step
to standard output (and as JSON lines to logs/P.log). Without -once it watches for new mail
until SIGINT or SIGTERM, finishing the message in hand. With -once it does one pass over
the matching mail and exits: 0 when all went well, 1 when a message failed (it stays
unmarked and is tried again next time) or the server could not be used.
  -v   also print diagnostic logs (connection, sign-in) to standard error`

func runRun(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprintln(env.Stderr, runUsage) }
	profile := fs.String("profile", "", "profile name")
	once := fs.Bool("once", false, "one pass over the matching mail, then exit")
	verbose := fs.Bool("v", false, "print diagnostic logs to standard error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *profile == "" || fs.NArg() != 0 {
		fmt.Fprintf(env.Stderr, "mailmover run: give -profile and nothing else\n%s\n", runUsage)
		return 2
	}
	if err := store.ValidProfileName(*profile); err != nil {
		fmt.Fprintf(env.Stderr, "mailmover run: %v\n", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "mailmover run: %v\n", err)
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
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	sec := openSecrets()
	cfg, err := mover.SourceConfig(p, sec, logger)
	if err != nil {
		return fail(err)
	}
	events := make(chan mover.Event, 256)
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for e := range events {
			printEvent(env.Stdout, e)
		}
	}()
	m, err := mover.New(mover.Options{Profile: p, Home: home, Config: cfg, Events: events, Logger: logger, Secrets: sec})
	if err != nil {
		close(events)
		<-printed
		return fail(err)
	}
	if *once {
		err = m.RunOnce(ctx)
	} else {
		err = m.Run(ctx)
	}
	close(events)
	<-printed
	if err != nil {
		var fe *mover.FailedError
		if errors.As(err, &fe) {
			fmt.Fprintf(env.Stderr, "mailmover run: %v\n", err)
			return 1
		}
		if errors.Is(err, store.ErrStateLocked) {
			fmt.Fprintf(env.Stderr, "mailmover run: profile %s is already running\n", *profile)
			return 1
		}
		return fail(err)
	}
	return 0
}

// printEvent writes one event as a human-readable line: time, kind, text (and the path
// when the text does not name it); advice follows on its own line.
func printEvent(w io.Writer, e mover.Event) {
	if e.Kind == mover.KindProgress {
		return
	}
	line := e.Text
	if e.Path != "" && !strings.Contains(line, e.Path) {
		line += " — " + e.Path
	}
	fmt.Fprintf(w, "%s %-11s %s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Kind, line)
	if e.Advice != "" {
		fmt.Fprintf(w, "%31s %s\n", "advice:", e.Advice)
	}
}
