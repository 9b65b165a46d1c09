package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"mailmover/fleet"
	"mailmover/i18n"
	"mailmover/mover"
	"mailmover/store"
)

func init() {
	register("run", i18n.Key("move mail without a window: -profile P [-once], or -all"), runRun)
}

var runUsage = i18n.Key(`usage: mailmover run -profile P [-profile Q …] [-once] [-v]
       mailmover run -all [-once] [-v]

Moves the profile's mail into its destination folder without a window, logging each step
to standard output (and as JSON lines to logs/P.log). A pass over more than 10 messages
shows its progress (done/total, files, bytes, rate, time left): on a terminal as one line
updated in place, otherwise as a line every 5 seconds and at the end of the pass. Without -once it watches for new mail
until SIGINT or SIGTERM, finishing the message in hand. With -once it does one pass over
the matching mail and exits: 0 when all went well, 1 when a message failed (it stays
unmarked and is tried again next time) or the server could not be used.

With -all, every profile not switched off ([setup] enabled = false) runs in this one
process, each with its own connection, state, log and back-off; several -profile flags
run those. A profile that fails never stops the others. Each line names its profile.
Profiles added, changed, switched off or removed are picked up within seconds (at once on
SIGHUP). With -once the exit status is 0 only when every profile's pass went well, and
the ones that did not are named.
  -v   also print diagnostic logs (connection, sign-in) to standard error`)

// profileList is a repeatable -profile flag.
type profileList []string

func (l *profileList) String() string { return strings.Join(*l, ",") }

func (l *profileList) Set(s string) error {
	if err := store.ValidProfileName(s); err != nil {
		return err
	}
	*l = append(*l, s)
	return nil
}

func runRun(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("run", runUsage, env)
	var profiles profileList
	fs.Var(&profiles, "profile", i18n.T("profile name (repeat for several)"))
	all := fs.Bool("all", false, i18n.T("every profile not switched off"))
	once := fs.Bool("once", false, i18n.T("one pass over the matching mail, then exit"))
	verbose := fs.Bool("v", false, i18n.T("print diagnostic logs to standard error"))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 || (len(profiles) == 0) == !*all {
		i18n.Fprintf(env.Stderr, "mailmover run: give -profile (once or more) or -all, and nothing else\n%s\n", i18n.T(runUsage))
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "mailmover run: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		return fail(err)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	if len(profiles) == 1 && !*all {
		return runOne(ctx, env, home, profiles[0], *once, level)
	}
	return runFleet(ctx, env, home, profiles, *once, level)
}

// runOne runs one profile, with the progress line.
func runOne(ctx context.Context, env Env, home, profile string, once bool, level slog.Level) int {
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "mailmover run: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	p, err := store.LoadProfile(home, profile)
	if err != nil {
		return fail(err)
	}
	pr := newEventPrinter(env.Stdout, isTerminal(env.Stdout), nil)
	logw := env.Stderr
	if isTerminal(logw) {
		logw = pr.Interleave(logw) // logs and the progress line share the screen
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level}))
	h, err := mover.Start(ctx, mover.Options{Profile: p, Home: home, Logger: logger, Secrets: openSecrets(),
		FromHome: true, Once: once, Front: "run"})
	if err != nil {
		a := mover.Explain(err, profile)
		mover.RecordStartFailure(home, profile, "run", a.What, a.Fix)
		return fail(err)
	}
	for e := range h.Events() {
		pr.Event(e)
	}
	pr.Close()
	if err := h.Wait(); err != nil {
		var fe *mover.FailedError
		if errors.As(err, &fe) {
			return fail(err)
		}
		if errors.Is(err, store.ErrStateLocked) {
			i18n.Fprintf(env.Stderr, "mailmover run: profile %s is already running\n", profile)
			return 1
		}
		return fail(err)
	}
	return 0
}

// runFleet runs several profiles (or all) in this process.
func runFleet(ctx context.Context, env Env, home string, names []string, once bool, level slog.Level) int {
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	f, err := fleet.Start(ctx, fleet.Options{Home: home, Secrets: openSecrets(), Logger: logger, Names: names,
		Once: once, Watch: !once, Front: frontName(env)})
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover run: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			f.Reload()
		}
	}()
	pr := newEventPrinter(env.Stdout, false, nil)
	pr.withProfile = true
	pr.minTotal = math.MaxInt // no progress line: it cannot show many profiles
	for e := range f.Events() {
		if e.Kind == mover.KindProgress {
			continue // one progress line cannot show many profiles; the found/done lines do
		}
		pr.Event(e)
	}
	results := f.Wait()
	if !once {
		return 0
	}
	bad := fleet.Failed(results)
	if len(results) == 0 {
		i18n.Fprintf(env.Stderr, "mailmover run: no profile to run (all switched off, or none in %s)\n", store.ProfileDir(home))
		return 1
	}
	if len(bad) == 0 {
		i18n.Fprintf(env.Stdout, "all %d profile(s) went well\n", len(results))
		return 0
	}
	for _, n := range bad {
		i18n.Fprintf(env.Stderr, "mailmover run: profile %s: %v\n", n, results[n])
	}
	i18n.Fprintf(env.Stderr, "mailmover run: %d of %d profile(s) did not go well: %s\n", len(bad), len(results), strings.Join(bad, ", "))
	return 1
}

// frontName is what the status files say runs the profiles: the service sets
// MAILMOVER_FRONT=service in its unit.
func frontName(env Env) string {
	if f := env.Getenv("MAILMOVER_FRONT"); f != "" {
		return f
	}
	return "run"
}
