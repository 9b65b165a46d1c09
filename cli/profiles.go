package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"mailmover/store"
)

func init() {
	register("profiles", "list the profiles (also: rename, copy, delete)", runProfiles)
}

const profilesUsage = `usage:
  mailmover profiles [-l]              list the profiles, one name a line (-l: with user, host and sign-in)
  mailmover profiles rename OLD NEW    rename a profile with its state and keyring entries
  mailmover profiles copy SRC NEW      copy a profile with its password / client secret (not its tokens)
  mailmover profiles delete NAME       delete a profile, its state and its keyring entries`

func runProfiles(ctx context.Context, args []string, env Env) int {
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover profiles: %v\n", err)
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
	fs.Usage = func() { fmt.Fprintln(env.Stderr, profilesUsage) }
	long := fs.Bool("l", false, "show user, host and sign-in method")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "mailmover profiles: unexpected %q\n%s\n", fs.Arg(0), profilesUsage)
		return 2
	}
	names, err := store.ListProfiles(home)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover profiles: %v\n", err)
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
				msg = fmt.Sprintf("%d problem(s), first: %s %s", len(fes), fes[0].Key, fes[0].Msg)
			}
			fmt.Fprintf(tw, "%s\tINVALID\t%s\n", n, msg)
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
		fmt.Fprintf(env.Stderr, "mailmover profiles %s: wrong number of names\n%s\n", action, profilesUsage)
		return 2
	}
	for _, n := range args {
		if err := store.ValidProfileName(n); err != nil {
			fmt.Fprintf(env.Stderr, "mailmover profiles %s: %v\n", action, err)
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
		fmt.Fprintf(env.Stderr, "mailmover profiles %s: %v\n", action, err)
		if errors.Is(err, store.ErrStateLocked) {
			fmt.Fprintln(env.Stderr, "stop the running mover (window or 'mailmover run') first")
		}
		return 1
	}
	switch action {
	case "rename":
		fmt.Fprintf(env.Stdout, "renamed %s to %s\n", args[0], args[1])
	case "copy":
		fmt.Fprintf(env.Stdout, "copied %s to %s (sign in to %s with 'mailmover login -profile %s')\n", args[0], args[1], args[1], args[1])
	case "delete":
		fmt.Fprintf(env.Stdout, "deleted %s\n", args[0])
	}
	return 0
}
