package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"mailmover/bench"
)

// cmdSoak runs the fault suite and prints its one-line summary; it fails unless nothing
// was lost, doubled, or moved without its files.
func cmdSoak(ctx context.Context, args []string) error {
	fs := newFlags("soak")
	var c common
	c.flags(fs)
	n := fs.Int("n", 1000, "messages")
	maxSize := fs.Int("max-size", 1_000_000, "largest attachment in bytes (10 KB–max, log-uniform)")
	cuts := fs.Int("cuts", 20, "connection cuts at random byte offsets")
	kills := fs.Int("kills", 10, "kill -9 of the mover (restarted at once)")
	restarts := fs.Int("server-restarts", 1, "server restarts mid-run (needs -restart-cmd)")
	restartCmd := fs.String("restart-cmd", "", "shell command that restarts the server, e.g. 'bash scripts/bench-dovecot.sh restart'")
	diskFull := fs.Bool("disk-full", true, "fill the destination once (a tmpfs; needs root)")
	rate := fs.Int64("rate", 8_000_000, "proxy bandwidth cap in bytes/s, so that faults land mid-run (0: none)")
	timeout := fs.Duration("timeout", 20*time.Minute, "give up after this long")
	issuer := os.Getenv("MM_BENCH_OIDC_ISSUER")
	oauth := fs.Bool("oauth", issuer != "", "sign in with XOAUTH2 at the test provider (MM_BENCH_OIDC_ISSUER, _USER, _PASSWORD; scripts/bench.sh starts one) and add the token faults")
	expiries := fs.Int("token-expiries", 2, "with -oauth: access tokens made invalid before their announced expiry (then the connections cut)")
	revokes := fs.Int("refresh-revokes", 1, "with -oauth: refresh token revoked (the mover must pause for a sign-in; the suite signs in again)")
	fs.Parse(args)
	srv, err := bench.ServerFromEnv()
	if err != nil {
		return err
	}
	if err := setSecret(&c, "benchsoak", srv.Password); err != nil {
		return err
	}
	spec := bench.DefaultSpec(c.seed, *n, "s")
	spec.MaxSize = *maxSize
	o := bench.FaultOptions{
		Server: srv, Mailmover: c.mailmover, Dir: filepath.Join(c.dir, "runs", "soak"), Env: os.Environ(),
		Profile: "benchsoak", Spec: spec, Folder: "Soak", Cuts: *cuts, Kills: *kills,
		ServerRestarts: *restarts, DiskFull: *diskFull, RateLimit: *rate, Timeout: *timeout, Seed: c.seed, Logf: logf,
	}
	if *restartCmd != "" {
		o.RestartServer = func() error {
			out, err := exec.Command("bash", "-c", *restartCmd).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s: %w: %s", *restartCmd, err, strings.TrimSpace(string(out)))
			}
			return nil
		}
	}
	if *oauth {
		user, password := os.Getenv("MM_BENCH_OIDC_USER"), os.Getenv("MM_BENCH_OIDC_PASSWORD")
		if issuer == "" || user == "" || password == "" {
			return fmt.Errorf("-oauth needs MM_BENCH_OIDC_ISSUER, MM_BENCH_OIDC_USER and MM_BENCH_OIDC_PASSWORD (scripts/bench.sh sets them for BENCH_CMD=soak)")
		}
		o.OAuth = &bench.OAuthFaults{Issuer: issuer, User: user, Password: password, Expiries: *expiries, Revokes: *revokes}
	}
	rep, err := bench.RunFaults(ctx, o)
	if err != nil {
		return err
	}
	fmt.Println(rep.Summary())
	if !rep.OK() {
		return fmt.Errorf("files were lost, doubled or moved without their files (log: %s)", filepath.Join(o.Dir, "mover.log"))
	}
	if u := rep.Unnamed(); u != "" {
		return fmt.Errorf("the mover's log does not name the token faults: %s (log: %s)", u, filepath.Join(o.Dir, "mover.log"))
	}
	if !c.keep {
		os.RemoveAll(o.Dir)
	}
	return nil
}
