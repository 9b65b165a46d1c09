package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"mailmover/i18n"
	"mailmover/service/systemd"
	"mailmover/store"
)

// The mover as a systemd service (package service/systemd): install writes the unit,
// run is what its ExecStart runs.

func init() { serviceUsage = systemdUsage }

var systemdUsage = i18n.Key(`usage: mailmover service install [--user] [--user-name NAME] [--home DIR] [--binary PATH]
                                 [--credential auto|encrypted|file] [--now] [--print]
       mailmover service uninstall|start|stop|status [--user]
       mailmover service keyring-password [--user] [--credential auto|encrypted|file] [--force]
       mailmover service shell [--user] [-- COMMAND ARGS…]
       mailmover service run [-v] [-- COMMAND ARGS…]

Runs 'mailmover run -all' (every profile not switched off) as the systemd unit
mailmover.service: started at boot, restarted after a failure, logging to the journal
('journalctl -u mailmover'), stopped with SIGTERM after the file in hand.

System-wide (as root): the unit runs as the account --user-name (default mailmover, made
when missing) with its files in --home (default /var/lib/mailmover) and may write only
there and to the destination folders of the profiles found there at install time — run
install again after adding a profile with another destination. With --user: a unit of
your own account (~/.config/systemd/user) on your own profiles; lingering is switched on
so it runs without a login.

The service keeps its secrets in a private gnome-keyring in its home, unlocked at start
with a password from a systemd credential (encrypted with systemd-creds where it works;
else a file only root may read; for --user a 0600 file). install makes the password when
there is none; keyring-password makes a new one. Put the profiles' secrets into that
keyring with 'mailmover service shell' (a shell as the service's account, in its
keyring), e.g.:
  mailmover service shell -- mailmover secret set -profile invoices password
  mailmover service shell -- mailmover login -profile reports -device

  install     write the unit, daemon-reload, enable (--now: and start); --print only
              prints the unit
  uninstall   stop, disable and remove the unit (home, keyring and account stay)
  status      systemctl status, then 'mailmover status' of the service's profiles
              (exits like 'mailmover status')
  run         what the unit runs: the private bus and keyring, then 'run -all' (or the
              COMMAND); exit 78 when the keyring password is missing or wrong`)

// serviceCommand runs one of the service subcommands.
func serviceCommand(ctx context.Context, sub string, args []string, env Env) int {
	switch sub {
	case "install", "uninstall", "start", "stop", "status", "keyring-password", "shell":
		return systemdCommand(ctx, sub, args, env)
	case "run":
		return systemdRun(ctx, args, env)
	}
	i18n.Fprintf(env.Stderr, "mailmover service: unknown subcommand %q\n", sub)
	i18n.Fprintln(env.Stderr, systemdUsage)
	return 2
}

// systemdHost is the machine the commands act on; tests replace it.
var systemdHost = systemd.ThisHost

func systemdCommand(ctx context.Context, sub string, args []string, env Env) int {
	fs := newFlagSet("service "+sub, systemdUsage, env)
	var o systemd.Options
	fs.BoolVar(&o.User, "user", false, i18n.T("a unit of your own account instead of a system-wide one"))
	fs.StringVar(&o.UserName, "user-name", systemd.DefaultUserName, i18n.T("the account a system-wide service runs as"))
	fs.StringVar(&o.Home, "home", "", i18n.T("the service's MAILMOVER_HOME"))
	fs.StringVar(&o.Binary, "binary", "", i18n.T("the mailmover program the unit runs (default: this one)"))
	fs.StringVar(&o.Credential, "credential", "auto", i18n.T("where the keyring password is kept: auto, encrypted or file"))
	now := fs.Bool("now", false, i18n.T("install: also start the service"))
	printOnly := fs.Bool("print", false, i18n.T("install: print the unit instead of installing it"))
	fs.BoolVar(printOnly, "dry-run", false, i18n.T("the same as --print"))
	force := fs.Bool("force", false, i18n.T("keyring-password: make a new password and a new, empty keyring"))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 && sub != "shell" {
		i18n.Fprintf(env.Stderr, "mailmover service %s: unexpected %q\n", sub, fs.Arg(0))
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "mailmover service %s: %v\n", sub, err) // i18n:keep (command name and a translated error)
		return 1
	}
	h := systemdHost()
	h.Getenv = env.Getenv
	c, err := h.Resolve(o)
	if err != nil {
		return fail(err)
	}
	auto := o.Credential == "" || o.Credential == "auto"
	switch sub {
	case "install":
		if *printOnly {
			if !o.User {
				c.WritePaths, _ = systemd.Destinations(c.Home, accountHome(h, c.UserName))
			}
			unit, err := c.Unit()
			if err != nil {
				return fail(err)
			}
			fmt.Fprint(env.Stdout, unit)
			return 0
		}
		c, err = h.Install(c, systemd.InstallOptions{Now: *now, Auto: auto}, env.Stdout)
		if err != nil {
			return fail(err)
		}
		printNextSteps(env, c, *now)
		return 0
	case "uninstall":
		if err := h.Uninstall(c, env.Stdout); err != nil {
			return fail(err)
		}
		return 0
	case "start":
		if err := h.Start(c); err != nil {
			return fail(err)
		}
		i18n.Fprintf(env.Stdout, "Started %s; 'mailmover service status' shows how it goes.\n", systemd.UnitName)
		return 0
	case "stop":
		i18n.Fprintf(env.Stdout, "Stopping %s: the mover finishes the file in hand first (at most 5 minutes).\n", systemd.UnitName)
		if err := h.Stop(c); err != nil {
			return fail(err)
		}
		return 0
	case "status":
		text, _, err := h.Status(c)
		if err != nil {
			fmt.Fprintf(env.Stderr, "mailmover service status: %v\n", err) // i18n:keep (command name and a translated error)
		} else {
			fmt.Fprintln(env.Stdout, strings.TrimRight(text, "\n"))
			fmt.Fprintln(env.Stdout)
		}
		home := c.Home
		return runStatus(ctx, nil, Env{Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr, Getenv: func(k string) string {
			if k == store.HomeEnv {
				return home
			}
			return env.Getenv(k)
		}})
	case "keyring-password":
		if _, err := h.MakeCredential(c, *force, auto, env.Stdout); err != nil {
			return fail(err)
		}
		return 0
	case "shell":
		code, err := h.Shell(c, fs.Args(), systemd.ShellIO{Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr})
		if err != nil {
			return fail(err)
		}
		return code
	}
	return 2
}

// accountHome is the home folder of the service's account ("" when it does not exist).
func accountHome(h systemd.Host, name string) string {
	if u, err := h.LookupUser(name); err == nil {
		return u.HomeDir
	}
	return ""
}

func printNextSteps(env Env, c systemd.Config, started bool) {
	user := ""
	if c.User {
		user = " --user"
	}
	i18n.Fprintf(env.Stdout, "\nNext:\n  1. profiles in %s (one .toml per mailbox)\n", store.ProfileDir(c.Home))
	i18n.Fprintf(env.Stdout, "  2. their secrets into the service's keyring:\n       mailmover service shell%s -- mailmover secret set -profile P password\n       mailmover service shell%s -- mailmover login -profile P -device\n", user, user)
	if !started {
		fmt.Fprintf(env.Stdout, "  3. mailmover service start%s\n", user) // i18n:keep (a command line)
	}
	i18n.Fprintf(env.Stdout, "  then: mailmover service status%s   (journal: journalctl%s -u mailmover)\n", user, user)
}

// systemdRun is what the unit's ExecStart runs: the private bus and keyring (unlocked
// with the credential), then 'run -all' in this process — or COMMAND, for 'service shell'.
func systemdRun(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("service run", systemdUsage, env) // i18n:keep (a command name)
	verbose := fs.Bool("v", false, i18n.T("print diagnostic logs to standard error"))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "mailmover service run: %v\n", err) // i18n:keep (command name and a translated error)
		var ce *systemd.ConfigError
		if errors.As(err, &ce) {
			return systemd.ExitConfig
		}
		return 1
	}
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		return fail(err)
	}
	dataHome := env.Getenv(systemd.EnvDataHome)
	if dataHome == "" {
		dataHome = home + "/keyring"
	}
	pw, from, err := systemd.ReadPassword(env.Getenv)
	if err != nil {
		return fail(err)
	}
	sess, err := systemd.StartSession(ctx, systemd.SessionOptions{DataHome: dataHome, RuntimeDir: env.Getenv("RUNTIME_DIRECTORY"),
		Password: pw, PasswordFrom: from, Stderr: env.Stderr})
	clear(pw)
	if err != nil {
		return fail(err)
	}
	defer sess.Close()
	// go-keyring finds the bus through this process's environment.
	for _, kv := range sess.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fail(err)
		}
	}
	if command := fs.Args(); len(command) > 0 {
		return runInSession(command, env)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan struct{})
	go func() {
		select {
		case <-sess.Done():
			close(lost)
			cancel()
		case <-runCtx.Done():
		}
	}()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	fleetEnv := env
	fleetEnv.Getenv = func(k string) string {
		if v := env.Getenv(k); v != "" || k != systemd.EnvFront {
			return v
		}
		return "service"
	}
	code := runFleet(runCtx, fleetEnv, home, nil, false, level)
	select {
	case <-lost:
		i18n.Fprintln(env.Stderr, "mailmover service run: the private keyring or its bus ended; exiting so that systemd starts the service again")
		return 1
	default:
	}
	return code
}

// runInSession runs command with the session's environment (already in this process's)
// and returns its exit status; the keyring password's variables are not passed on.
func runInSession(command []string, env Env) int {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.Stdin, env.Stdout, env.Stderr
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case systemd.EnvPasswordFD, systemd.EnvPasswordFile, "CREDENTIALS_DIRECTORY":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	// Ctrl-C reaches the command from the terminal; SIGTERM is passed on. This process
	// waits for the command, then stops the keyring.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGQUIT, syscall.SIGTERM)
	defer func() { signal.Stop(sig); close(sig) }()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(env.Stderr, "mailmover service run: %v\n", err) // i18n:keep (command name and a translated error)
		return 127
	}
	go func() {
		for s := range sig {
			if s == syscall.SIGTERM {
				_ = cmd.Process.Signal(s)
			}
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover service run: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	return 0
}
