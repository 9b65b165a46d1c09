package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/internal/memimap"
	"mailmover/mover/journal"
	"mailmover/store"
)

// runTestSetup starts an in-memory IMAP server with n messages (one attachment each) and
// saves profile "p" pointing at it; the password is in the in-memory keyring.
func runTestSetup(t *testing.T, n int) (Env, string, string) {
	t.Helper()
	env, _, _, sec, home := secretTestEnv(t, "")
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	srv.AddUser("u@example.com", "pw-777")
	for i := range n {
		raw := fmt.Sprintf("From: a@example.com\r\nSubject: m%d\r\nMessage-ID: <m%d@x>\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"+
			"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"f%d.pdf\"\r\n\r\npdf %d\r\n--b--\r\n", i, i, i, i)
		if _, err := srv.Append("u@example.com", "INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "dest")
	p := store.DefaultProfile("p")
	p.Setup.Host, p.Setup.Port, p.Setup.Username = srv.Host(), srv.Port(), "u@example.com"
	p.Security.TLS, p.Security.Auth = store.TLSNone, store.AuthPassword
	p.Destination.Folder = dest
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	sec.Set("p", store.SecretPassword, "pw-777")
	return env, home, dest
}

func TestRunOnce(t *testing.T) {
	env, home, dest := runTestSetup(t, 3)
	out := env.Stdout.(*bytes.Buffer)
	if code := Run(context.Background(), []string{"run", "-profile", "p", "-once"}, env); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), env.Stderr)
	}
	for i := range 3 {
		b, err := os.ReadFile(filepath.Join(dest, fmt.Sprintf("f%d.pdf", i)))
		if err != nil || string(b) != fmt.Sprintf("pdf %d", i) {
			t.Errorf("f%d.pdf: %q, %v", i, b, err)
		}
	}
	text := out.String()
	if !strings.Contains(text, " saved ") || !strings.Contains(text, filepath.Join(dest, "f0.pdf")) || strings.Contains(text, "pw-777") {
		t.Errorf("stdout:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(home, "state", "p.json")); err != nil {
		t.Errorf("no state: %v", err)
	}
	// forget, then the mail is processed again (it is seen now: search all).
	if code := Run(context.Background(), []string{"forget", "-profile", "p"}, env); code != 0 {
		t.Fatalf("forget: exit %d: %s", code, env.Stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "state", "p.json")); !os.IsNotExist(err) {
		t.Errorf("state still there after forget: %v", err)
	}
}

func TestRunOnceFailedMessageExitsNonZero(t *testing.T) {
	env, _, dest := runTestSetup(t, 2)
	// A folder where the first file must go: the message fails, the other goes on.
	p, _ := store.LoadProfile(env.Getenv(store.HomeEnv), "p")
	p.Destination.OnConflict = store.ConflictOverwrite
	store.SaveProfile(env.Getenv(store.HomeEnv), p)
	os.MkdirAll(filepath.Join(dest, "f0.pdf", "x"), 0o755)
	code := Run(context.Background(), []string{"run", "-profile", "p", "-once"}, env)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, env.Stderr)
	}
	if !strings.Contains(fmt.Sprint(env.Stderr), "1 message(s) failed") {
		t.Errorf("stderr: %s", env.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dest, "f1.pdf")); err != nil {
		t.Errorf("the other message was not saved: %v", err)
	}
}

func TestRunUsageAndLocked(t *testing.T) {
	env, home, _ := runTestSetup(t, 0)
	for _, args := range [][]string{{"run"}, {"run", "-profile"}, {"run", "-profile", "../x"}, {"run", "-profile", "p", "extra"},
		{"forget"}, {"forget", "-profile", "a/b"}} {
		if code := Run(context.Background(), args, env); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code := Run(context.Background(), []string{"run", "-profile", "nope", "-once"}, env); code != 1 {
		t.Errorf("unknown profile: exit %d, want 1", code)
	}
	if code := Run(context.Background(), []string{"forget", "-profile", "nope"}, env); code != 1 {
		t.Errorf("forget unknown profile: exit %d, want 1", code)
	}
	sf, err := journal.Open(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	if code := Run(context.Background(), []string{"run", "-profile", "p", "-once"}, env); code != 1 ||
		!strings.Contains(fmt.Sprint(env.Stderr), "profile p is already running") {
		t.Errorf("locked: exit %d, stderr %s", code, env.Stderr)
	}
	if code := Run(context.Background(), []string{"forget", "-profile", "p"}, env); code != 1 ||
		!strings.Contains(fmt.Sprint(env.Stderr), "stop it first") {
		t.Errorf("forget while running: exit %d, stderr %s", code, env.Stderr)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	env, _, dest := runTestSetup(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"run", "-profile", "p"}, env) }()
	// The file appears, then the mover waits for mail; stop it.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(10 * time.Second)
	for saved := false; !saved; {
		select {
		case <-tick.C:
			_, err := os.Stat(filepath.Join(dest, "f0.pdf"))
			saved = err == nil
		case <-timeout:
			t.Fatal("no file within 10s")
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after stop, want 0: %s", code, env.Stderr)
	}
}

// forget -failed brings back the failed messages only; the rest of the state stays.
func TestForgetFailedOnly(t *testing.T) {
	env, home, _ := runTestSetup(t, 1)
	if code := Run(context.Background(), []string{"run", "-profile", "p", "-once"}, env); code != 0 {
		t.Fatalf("run: exit %d: %s", code, env.Stderr)
	}
	sf, err := journal.Open(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	for range journal.MaxFailures {
		sf.Fail("INBOX", 1, 99, "broken", time.Now())
	}
	sf.Close()
	out := env.Stdout.(*bytes.Buffer)
	out.Reset()
	if code := Run(context.Background(), []string{"forget", "-profile", "p", "-failed"}, env); code != 0 {
		t.Fatalf("forget -failed: exit %d: %s", code, env.Stderr)
	}
	if !strings.Contains(out.String(), "1 failed message(s)") {
		t.Errorf("stdout: %s", out)
	}
	st, err := journal.Load(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	if f := st.Mailbox("INBOX", 1).Failure(99); f == nil || f.Aside || f.Count != 0 {
		t.Errorf("failure after forget -failed: %+v", f)
	}
	if len(st.Messages) != 1 {
		t.Errorf("forget -failed dropped the done messages: %v", st.Messages)
	}
}
