package cli

import (
	"context"
	"errors"
	"fmt"

	"mailmover/i18n"
	"mailmover/mover/journal"
	"mailmover/store"
)

func init() {
	register("forget", i18n.Key("forget what was moved for a profile, so its mail is processed again: -profile P"), runForget)
}

var forgetUsage = i18n.Key(`usage: mailmover forget -profile P [-failed]

Forgets which messages were moved for the profile (deletes state/P.json), so that all
matching mail is processed — and its files saved — again. Files already saved stay.
With -failed, forgets only that messages failed: those set aside after failing too often,
and those waiting to be tried again, are tried at the next run; nothing else changes.
Refused while the profile is running.`)

func runForget(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("forget", forgetUsage, env)
	profile := fs.String("profile", "", i18n.T("profile name"))
	failedOnly := fs.Bool("failed", false, i18n.T("forget only which messages failed, so they are tried again"))
	if code, ok := parseProfileArgs(fs, profile, args, env, forgetUsage); !ok {
		return code
	}
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover forget: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	if !store.ProfileExists(home, *profile) {
		i18n.Fprintf(env.Stderr, "mailmover forget: no profile %q (see 'mailmover profiles')\n", *profile)
		return 1
	}
	if *failedOnly {
		n, err := journal.RetryFailedMessages(home, *profile)
		if err != nil {
			if errors.Is(err, store.ErrStateLocked) {
				i18n.Fprintf(env.Stderr, "mailmover forget: profile %s is running; stop it first\n", *profile)
				return 1
			}
			fmt.Fprintf(env.Stderr, "mailmover forget: %v\n", err) // i18n:keep (command name and a translated error)
			return 1
		}
		i18n.Fprintf(env.Stdout, "%d failed message(s) of profile %s are tried again on the next run.\n", n, *profile)
		return 0
	}
	if err := journal.Forget(home, *profile); err != nil {
		if errors.Is(err, store.ErrStateLocked) {
			i18n.Fprintf(env.Stderr, "mailmover forget: profile %s is running; stop it first\n", *profile)
			return 1
		}
		fmt.Fprintf(env.Stderr, "mailmover forget: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	i18n.Fprintf(env.Stdout, "Forgot what was moved for profile %s; its matching mail is processed again on the next run.\n", *profile)
	return 0
}
