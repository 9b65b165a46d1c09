package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/internal/testenv"
)

// Issue 14 on the real binary and Dovecot: `mailmover run -all` moves three mailboxes in
// one process; a kill -9 in the middle and a fresh `run -all -once` leave every
// attachment of every profile exactly once, and `mailmover status` reports each profile.
func TestRunAllKilledAndRestartedExactlyOnce(t *testing.T) {
	d := testenv.Dovecot(t)
	testenv.Keyring(t)
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, "profiles"), 0o700)
	env := []string{"MAILMOVER_HOME=" + home, "LANG=C.UTF-8", "LANGUAGE=en_US"}
	const perProfile = 60
	type prof struct{ name, mailbox, dest string }
	var profs []prof
	want := map[string]map[[32]byte]bool{}
	suffix := time.Now().UnixNano() % 1_000_000
	for i := range 3 {
		p := prof{name: fmt.Sprintf("fleet%d-%d", i, suffix), mailbox: d.NewMailbox(t, "fleet"), dest: filepath.Join(t.TempDir(), "in")}
		profs = append(profs, p)
		toml := fmt.Sprintf("[setup]\nhost = %q\nport = %d\nusername = %q\nfolder = %q\n[security]\ntls = \"implicit\"\nauth = \"password\"\nca_file = %q\n[common]\nafter = \"delete\"\nwatch = \"poll\"\npoll_interval = \"5s\"\n[destination]\nfolder = %q\n",
			d.Host, d.IMAPSPort, d.User, p.mailbox, d.CAFile, p.dest)
		if err := os.WriteFile(filepath.Join(home, "profiles", p.name+".toml"), []byte(toml), 0o600); err != nil {
			t.Fatal(err)
		}
		set := exec.Command(mailmover(t), "secret", "set", "-profile", p.name, "password")
		set.Env = append(os.Environ(), env...)
		set.Stdin = strings.NewReader(d.Password + "\n")
		if out, err := set.CombinedOutput(); err != nil {
			t.Fatalf("secret set: %v\n%s", err, out)
		}
		t.Cleanup(func() {
			del := exec.Command(mailmover(t), "secret", "delete", "-profile", p.name, "password")
			del.Env = append(os.Environ(), env...)
			del.Run()
		})
		want[p.name] = map[[32]byte]bool{}
		var msgs [][]byte
		for j := range perProfile {
			data := bytes.Repeat([]byte(fmt.Sprintf("%s attachment %d ", p.name, j)), 4000) // ~100 KB
			want[p.name][sha256.Sum256(data)] = true
			msgs = append(msgs, mailWith(fmt.Sprintf("%s-%d", p.name, j), fmt.Sprintf("doc-%d.pdf", j), "application/pdf", data))
		}
		d.Append(t, p.mailbox, msgs...)
	}
	count := func() (files, temps int) {
		for _, p := range profs {
			entries, _ := os.ReadDir(p.dest)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".mailmover-tmp") {
					temps++
				} else {
					files++
				}
			}
		}
		return
	}

	// run -all, killed with SIGKILL while the backlogs are being moved.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mailmover(t), "run", "-all")
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if files, _ := count(); files >= perProfile/2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress within 90 s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	files, temps := count()
	t.Logf("killed with %d of %d files in place and %d temporary files", files, 3*perProfile, temps)
	if files == 3*perProfile {
		t.Fatalf("every file was in place before the kill; make the backlog larger")
	}
	if !strings.Contains(out.String(), "["+profs[0].name+"]") || !strings.Contains(out.String(), "["+profs[2].name+"]") {
		t.Errorf("the output does not name the profiles:\n%s", out.String())
	}

	// A fresh start finishes every profile.
	res, code := run(t, 3*time.Minute, env, "run", "-all", "-once")
	if code != 0 || !strings.Contains(res, "all 3 profile(s) went well") {
		t.Fatalf("run -all -once after the kill: exit %d\n%s", code, res)
	}
	for _, p := range profs {
		got := map[[32]byte]int{}
		entries, _ := os.ReadDir(p.dest)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".mailmover-tmp") {
				t.Errorf("%s: temporary file left: %s", p.name, e.Name())
				continue
			}
			b, err := os.ReadFile(filepath.Join(p.dest, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			got[sha256.Sum256(b)]++
		}
		for h := range want[p.name] {
			if got[h] != 1 {
				t.Errorf("%s: an attachment is there %d times", p.name, got[h])
			}
		}
		if len(got) != perProfile {
			t.Errorf("%s: %d distinct files, want %d", p.name, len(got), perProfile)
		}
		if left := subjects(t, d, p.mailbox); len(left) != 0 {
			t.Errorf("%s: %d messages still in the mailbox after after = delete", p.name, len(left))
		}
	}
	st, code := run(t, time.Minute, env, "status")
	if code != 0 || strings.Count(st, "OK ") != 3 || !strings.Contains(st, "one-pass run ended") {
		t.Errorf("status after run -all -once: exit %d\n%s", code, st)
	}
}
