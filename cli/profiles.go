package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"mailmover/i18n"
	"mailmover/store"
)

func init() {
	register("profiles", i18n.Key("list the profiles (also: rename, copy, delete)"), runProfiles)
}

var profilesUsage = i18n.Key(`usage:
  mailmover profiles [-l]              list the profiles, one name a line (-l: with user, host and sign-in)
  mailmover profiles rename OLD NEW    rename a profile with its state and keyring entries
  mailmover profiles copy SRC NEW      copy a profile with its password / client secret (not its tokens)
  mailmover profiles delete NAME       delete a profile, its state and its keyring entries`)

func runProfiles(ctx context.Context, args []string, env Env) int {
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover profiles: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	if len(args) > 0 {
		switch args[0] {
		case "rename", "copy", "delete":
			return profileAction(args[0], args[1:], home, env)
		}
	}
	fs := flag.NewFlagSet("profiles", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { i18n.Fprintln(env.Stderr, profilesUsage) }
	long := fs.Bool("l", false, i18n.T("show user, host and sign-in method"))
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		i18n.Fprintf(env.Stderr, "mailmover profiles: unexpected %q\n%s\n", fs.Arg(0), i18n.T(profilesUsage))
		return 2
	}
	names, err := store.ListProfiles(home)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover profiles: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	if !*long {
		for _, n := range names {
			fmt.Fprintln(env.Stdout, n)
		}
		return 0
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, n := range names {
		p, err := store.LoadProfile(home, n)
		if err != nil {
			msg := err.Error()
			if fes := store.FieldErrors(err); len(fes) > 0 {
				msg = i18n.Sprintf("%d problem(s), first: %s %s", len(fes), fes[0].Key, fes[0].Msg)
			}
			i18n.Fprintf(tw, "%s\tINVALID\t%s\n", n, msg)
			continue
		}
		method := p.Security.Auth
		if p.Security.Auth != store.AuthPassword {
			method += " (" + p.OAuth2.Preset + ", " + p.OAuth2.Flow + ")"
		}
		fmt.Fprintf(tw, "%s\t%s@%s:%d\t%s\t%s\n", n, p.Setup.Username, p.Setup.Host, p.Setup.Port, method, p.Destination.Folder)
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

func profileAction(action string, args []string, home string, env Env) int {
	want := 2
	if action == "delete" {
		want = 1
	}
	if len(args) != want {
		i18n.Fprintf(env.Stderr, "mailmover profiles %s: wrong number of names\n%s\n", action, i18n.T(profilesUsage))
		return 2
	}
	for _, n := range args {
		if err := store.ValidProfileName(n); err != nil {
			fmt.Fprintf(env.Stderr, "mailmover profiles %s: %v\n", action, err) // i18n:keep (command name and a translated error)
			return 2
		}
	}
	sec := openSecrets()
	var err error
	switch action {
	case "rename":
		err = store.RenameProfile(home, args[0], args[1], sec)
	case "copy":
		err = store.DuplicateProfile(home, args[0], args[1], sec)
	case "delete":
		err = store.DeleteProfile(home, args[0], sec)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover profiles %s: %v\n", action, err) // i18n:keep (command name and a translated error)
		if errors.Is(err, store.ErrStateLocked) {
			i18n.Fprintln(env.Stderr, "stop the running mover (window or 'mailmover run') first")
		}
		return 1
	}
	switch action {
	case "rename":
		i18n.Fprintf(env.Stdout, "renamed %s to %s\n", args[0], args[1])
	case "copy":
		i18n.Fprintf(env.Stdout, "copied %s to %s (sign in to %s with 'mailmover login -profile %s')\n", args[0], args[1], args[1], args[1])
	case "delete":
		i18n.Fprintf(env.Stdout, "deleted %s\n", args[0])
	}
	return 0
}
