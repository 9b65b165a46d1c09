package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"time"

	"mailmover/i18n"
	"mailmover/mover"
	"mailmover/store"
)

func init() {
	register("status", i18n.Key("each profile's state, as a monitoring check: [-profile P] [-json]"), runStatus)
}

var statusUsage = i18n.Key(`usage: mailmover status [-profile P] [-json]

Prints each profile's state from the status file a running mover keeps (window, 'run' or
the service): state and since when, the last pass and file, today's files, failed
messages, why it is paused and what to do, and when its sign-in is expected to lapse.
Without -profile: every profile (switched-off ones only when they have a status file).
Exits like a monitoring check (Nagios, Icinga, Zabbix, Task Scheduler): 0 OK, 1 WARNING
(retrying, failed messages, stopped, the sign-in lapses within 14 days), 2 CRITICAL
(paused for sign-in, an error, the connection failing again and again, the mover gone),
3 UNKNOWN (no status yet); with several profiles the worst of them.
  -json   print the checks and the status files as JSON`)

func runStatus(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("status", statusUsage, env)
	profile := fs.String("profile", "", i18n.T("profile name (default: all)"))
	asJSON := fs.Bool("json", false, i18n.T("print JSON"))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return mover.CheckUnknown
	}
	if fs.NArg() != 0 {
		i18n.Fprintf(env.Stderr, "mailmover status: give at most -profile and -json\n%s\n", i18n.T(statusUsage))
		return mover.CheckUnknown
	}
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover status: %v\n", err) // i18n:keep (command name and a translated error)
		return mover.CheckUnknown
	}
	names, err := statusNames(home, *profile)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover status: %v\n", err) // i18n:keep (command name and a translated error)
		return mover.CheckUnknown
	}
	now := time.Now()
	var results []mover.CheckResult
	for _, n := range names {
		results = append(results, mover.CheckStatus(home, n, now))
	}
	code := mover.WorstCheck(results)
	if len(results) == 0 {
		code = mover.CheckUnknown
	}
	if *asJSON {
		out := struct {
			Code     int                 `json:"code"`
			Result   string              `json:"result"`
			Profiles []mover.CheckResult `json:"profiles"`
		}{code, mover.CheckName(code), results}
		if out.Profiles == nil {
			out.Profiles = []mover.CheckResult{}
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
		return code
	}
	if len(results) == 0 {
		i18n.Fprintf(env.Stdout, "UNKNOWN: no profiles in %s\n", store.ProfileDir(home))
		return code
	}
	// The first line is the summary a monitoring system shows.
	counts := map[int]int{}
	for _, r := range results {
		counts[r.Code]++
	}
	i18n.Fprintf(env.Stdout, "%s: %d profile(s): %d ok, %d warning, %d critical, %d unknown\n", mover.CheckName(code), len(results),
		counts[mover.CheckOK], counts[mover.CheckWarning], counts[mover.CheckCritical], counts[mover.CheckUnknown])
	for _, r := range results {
		fmt.Fprintf(env.Stdout, "%-8s %s: %s\n", r.Result, r.Profile, r.Summary)
		if r.Status != nil && r.Status.Advice != "" && r.Code != mover.CheckOK {
			fmt.Fprintf(env.Stdout, "%-8s %s %s\n", "", i18n.T("advice:"), r.Status.Advice)
		}
	}
	return code
}

// statusNames are the profiles to report: the one asked for, or every profile that is
// switched on or has a status file.
func statusNames(home, profile string) ([]string, error) {
	if profile != "" {
		if err := store.ValidProfileName(profile); err != nil {
			return nil, err
		}
		if !store.ProfileExists(home, profile) {
			if _, err := mover.ReadStatus(home, profile); err != nil {
				return nil, i18n.Errorf("no profile %q (see 'mailmover profiles')", profile)
			}
		}
		return []string{profile}, nil
	}
	profiles, err := store.ListProfiles(home)
	if err != nil {
		return nil, err
	}
	withStatus, _ := mover.StatusProfiles(home)
	var names []string
	for _, n := range profiles {
		if p, err := store.LoadProfile(home, n); err == nil && !p.Setup.Enabled && !slices.Contains(withStatus, n) {
			continue
		}
		names = append(names, n)
	}
	for _, n := range withStatus {
		if !slices.Contains(names, n) && store.ProfileExists(home, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}
