//go:build unix

package alert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailmover/store"
)

// A command gets the alert as JSON on its standard input and as MAILMOVER_* variables.
func TestCommandGetsTheAlert(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "notify.sh")
	os.WriteFile(script, []byte("#!/bin/sh\ncat > \"$1/stdin.json\"\nenv | grep '^MAILMOVER_' | sort > \"$1/env\"\necho \"args: $2 $3\" > \"$1/args\"\n"), 0o755)
	t.Setenv("MAILMOVER_EVENT", "inherited") // replaced, not doubled
	var logs logBuffer
	n := New(t.TempDir(), Options{Host: "srv01", Settings: settings(nil, map[string]*store.Command{
		"log": {Argv: []string{script, dir, "--to", "ops"}}})})
	w := n.Watch("invoices", logs.logger())
	w.Observe(paused)
	w.Flush()

	data, err := os.ReadFile(filepath.Join(dir, "stdin.json"))
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	var a Alert
	if err := json.Unmarshal(data, &a); err != nil || a.Event != "paused" || a.Profile != "invoices" || a.Reason != paused.Reason || a.Host != "srv01" {
		t.Errorf("stdin: %s (%v)", data, err)
	}
	env, _ := os.ReadFile(filepath.Join(dir, "env"))
	for _, want := range []string{"MAILMOVER_EVENT=paused\n", "MAILMOVER_PROFILE=invoices\n", "MAILMOVER_STATE=paused\n",
		"MAILMOVER_REASON=" + paused.Reason + "\n", "MAILMOVER_ADVICE=" + paused.Advice + "\n", "MAILMOVER_HOST=srv01\n",
		"MAILMOVER_TITLE=MailMover on srv01: profile invoices is paused and needs you\n", "MAILMOVER_TIME="} {
		if !strings.Contains(string(env), want) {
			t.Errorf("environment lacks %q:\n%s", want, env)
		}
	}
	if strings.Count(string(env), "MAILMOVER_EVENT=") != 1 {
		t.Errorf("MAILMOVER_EVENT given twice:\n%s", env)
	}
	if args, _ := os.ReadFile(filepath.Join(dir, "args")); string(args) != "args: --to ops\n" {
		t.Errorf("args %q", args)
	}
	if l := logs.String(); !strings.Contains(l, `alert sent`) || !strings.Contains(l, `to="command log"`) {
		t.Errorf("log: %s", l)
	}
}

// A command that hangs is killed at its time limit, with the children it started; one
// that fails and one that is missing are logged; none holds up anything.
func TestCommandFailures(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	var logs logBuffer
	n := New(t.TempDir(), Options{Settings: settings(nil, map[string]*store.Command{
		"hang":    {Argv: []string{"/bin/sh", "-c", "sleep 60 & echo $! > " + pidFile + "; wait"}, Timeout: store.Duration{Duration: time.Second}},
		"fail":    {Argv: []string{"/bin/sh", "-c", "echo boom >&2; exit 3"}},
		"missing": {Argv: []string{filepath.Join(dir, "no-such-program")}},
	})})
	w := n.Watch("invoices", logs.logger())
	start := time.Now()
	w.Observe(paused)
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("Observe took %s", d)
	}
	w.Flush()
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("the hanging command held up Flush for %s", d)
	}
	l := logs.String()
	for _, want := range []string{"did not end within 1s and was stopped", "exit status 3; it wrote: boom", "no-such-program", "no such file or directory"} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil { // the child is killed with its group (and reaped by init)
		if time.Now().After(deadline) {
			t.Fatalf("the hanging command's child %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
