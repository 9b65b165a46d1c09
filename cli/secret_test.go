package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/store"
)

// secretTestEnv is an Env with MAILMOVER_HOME in a temp dir and the keyring in memory.
func secretTestEnv(t *testing.T, stdin string) (Env, *bytes.Buffer, *bytes.Buffer, *store.MemorySecrets, string) {
	t.Helper()
	home := t.TempDir()
	sec := store.NewMemorySecrets()
	old := openSecrets
	openSecrets = func() store.Secrets { return sec }
	t.Cleanup(func() { openSecrets = old })
	var out, errb bytes.Buffer
	env := Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string {
			if k == store.HomeEnv {
				return home
			}
			return ""
		},
	}
	return env, &out, &errb, sec, home
}

func secretTestProfile(t *testing.T, home, name string) {
	t.Helper()
	p := store.DefaultProfile(name)
	p.Setup.Host = "imap.example.com"
	p.Setup.Username = "u@example.com"
	p.OAuth2.ClientID = "client"
	p.Destination.Folder = "/srv/in"
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
}

func TestSecretSet(t *testing.T) {
	tests := []struct {
		stdin, want string
	}{
		{"s3cret\n", "s3cret"},
		{"s3cret", "s3cret"},
		{"s3cret\r\n", "s3cret"},
		{" spaced  \n", " spaced  "},
	}
	for _, tt := range tests {
		env, out, errb, sec, home := secretTestEnv(t, tt.stdin)
		secretTestProfile(t, home, "p")
		code := Run(context.Background(), []string{"secret", "set", "-profile", "p", "client-secret"}, env)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb)
		}
		if v, _ := sec.Get("p", store.SecretClientSecret); v != tt.want {
			t.Errorf("stdin %q stored %q, want %q", tt.stdin, v, tt.want)
		}
		if strings.Contains(out.String()+errb.String(), strings.TrimSpace(tt.want)) {
			t.Errorf("the secret was printed: %s %s", out, errb)
		}
	}
}

func TestSecretErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		msg   string
	}{
		{"no action", []string{"secret"}, "", 2, "usage"},
		{"bad action", []string{"secret", "show", "-profile", "p", "password"}, "", 2, `unknown action "show"`},
		{"no profile", []string{"secret", "set", "password"}, "x", 2, "give -profile"},
		{"bad kind", []string{"secret", "set", "-profile", "p", "pin"}, "x", 2, `"pin" is not one of client-secret, password`},
		{"token kind", []string{"secret", "set", "-profile", "p", "refresh-token"}, "x", 2, "mailmover login"},
		{"bad name", []string{"secret", "set", "-profile", "../p", "password"}, "x", 2, "bad profile name"},
		{"empty stdin", []string{"secret", "set", "-profile", "p", "password"}, "\n", 1, "standard input is empty"},
		{"two lines", []string{"secret", "set", "-profile", "p", "password"}, "a\nb\n", 1, "more than one line"},
		{"too long", []string{"secret", "set", "-profile", "p", "password"}, strings.Repeat("x", maxSecretInput+1), 1, "more than"},
		{"binary", []string{"secret", "set", "-profile", "p", "password"}, "B\x00IN\xff\x01", 1, "NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _, errb, sec, home := secretTestEnv(t, tt.stdin)
			secretTestProfile(t, home, "p")
			if code := Run(context.Background(), tt.args, env); code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, errb)
			}
			if !strings.Contains(errb.String(), tt.msg) {
				t.Errorf("stderr %q lacks %q", errb, tt.msg)
			}
			if n := len(sec.Accounts()); n != 0 {
				t.Errorf("%d secrets stored", n)
			}
		})
	}
}

func TestSecretSetBeforeProfile(t *testing.T) {
	env, _, errb, sec, _ := secretTestEnv(t, "v\n")
	if code := Run(context.Background(), []string{"secret", "set", "-profile", "later", "client-secret"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if !strings.Contains(errb.String(), `there is no profile "later"`) {
		t.Errorf("no note: %s", errb)
	}
	if v, _ := sec.Get("later", store.SecretClientSecret); v != "v" {
		t.Errorf("stored %q", v)
	}
}

func TestSecretKeyringDown(t *testing.T) {
	env, _, errb, sec, home := secretTestEnv(t, "value-that-must-not-show\n")
	secretTestProfile(t, home, "p")
	sec.SetUnavailable(true)
	if code := Run(context.Background(), []string{"secret", "set", "-profile", "p", "password"}, env); code != 1 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "Secret Service") || strings.Contains(errb.String(), "value-that-must-not-show") {
		t.Errorf("stderr: %s", errb)
	}
}

func TestSecretDelete(t *testing.T) {
	env, out, errb, sec, _ := secretTestEnv(t, "")
	sec.Set("p", store.SecretRefreshToken, "rt")
	if code := Run(context.Background(), []string{"secret", "delete", "-profile", "p", "refresh-token"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if _, err := sec.Get("p", store.SecretRefreshToken); !errors.Is(err, store.ErrNoSecret) {
		t.Errorf("still there: %v", err)
	}
	if !strings.Contains(out.String(), "deleted the refresh-token of profile p") {
		t.Errorf("stdout: %s", out)
	}
}

// Deleting a secret that is not stored says so instead of claiming a deletion.
func TestSecretDeleteMissing(t *testing.T) {
	env, out, errb, _, _ := secretTestEnv(t, "")
	if code := Run(context.Background(), []string{"secret", "delete", "-profile", "p", "password"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "had no password") || strings.Contains(out.String(), "deleted") {
		t.Errorf("stdout: %s", out)
	}
}

// A pipe is read as before, with no prompt: up to EOF, one trailing newline dropped.
func TestSecretSetFromAPipe(t *testing.T) {
	env, out, errb, sec, home := secretTestEnv(t, "")
	secretTestProfile(t, home, "p")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		_, _ = w.WriteString("piped s3cret\n")
		w.Close()
	}()
	env.Stdin = r
	if code := Run(context.Background(), []string{"secret", "set", "-profile", "p", "password"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if v, _ := sec.Get("p", store.SecretPassword); v != "piped s3cret" {
		t.Errorf("stored %q, want %q", v, "piped s3cret")
	}
	if strings.Contains(errb.String(), "not shown") || strings.Contains(out.String()+errb.String(), "s3cret") {
		t.Errorf("a pipe got a prompt or the value was shown:\nstdout %q\nstderr %q", out.String(), errb.String())
	}
}

// At a terminal the value is read with echo off, after a prompt on standard error.
func TestSecretSetFromATerminal(t *testing.T) {
	oldTerm, oldRead := stdinTerminal, readHidden
	t.Cleanup(func() { stdinTerminal, readHidden = oldTerm, oldRead })
	stdinTerminal = func(io.Reader) (int, bool) { return 7, true }
	var readFd int
	readHidden = func(ctx context.Context, fd int) ([]byte, error) {
		readFd = fd
		return []byte("typed s3cret"), nil
	}
	env, out, errb, sec, home := secretTestEnv(t, "must not be read\n")
	secretTestProfile(t, home, "p")
	if code := Run(context.Background(), []string{"secret", "set", "-profile", "p", "client-secret"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if v, _ := sec.Get("p", store.SecretClientSecret); v != "typed s3cret" || readFd != 7 {
		t.Errorf("stored %q from fd %d, want %q from the terminal", v, readFd, "typed s3cret")
	}
	if !strings.Contains(errb.String(), "client-secret of profile p (typing is not shown): ") {
		t.Errorf("no prompt on stderr: %q", errb.String())
	}
	if strings.Contains(out.String()+errb.String(), "s3cret") {
		t.Errorf("the value was shown:\nstdout %q\nstderr %q", out.String(), errb.String())
	}

	// The rules of a piped value hold for a typed one; Ctrl-C (ctx) stores nothing.
	readHidden = func(ctx context.Context, fd int) ([]byte, error) { return nil, nil }
	env, _, errb, _, _ = secretTestEnv(t, "")
	if code := Run(context.Background(), []string{"secret", "set", "-profile", "p", "password"}, env); code != 1 || !strings.Contains(errb.String(), "empty") {
		t.Errorf("empty typed value: exit %d, %q", code, errb.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	readHidden = func(ctx context.Context, fd int) ([]byte, error) { cancel(); <-ctx.Done(); return nil, ctx.Err() }
	env, _, errb, sec, _ = secretTestEnv(t, "")
	if code := Run(ctx, []string{"secret", "set", "-profile", "p", "password"}, env); code != 1 || !strings.Contains(errb.String(), "cancelled") {
		t.Errorf("cancelled: exit %d, %q", code, errb.String())
	}
	if _, err := sec.Get("p", store.SecretPassword); !errors.Is(err, store.ErrNoSecret) {
		t.Errorf("something was stored after a cancel: %v", err)
	}
}

// secretHelperEnv makes this test binary run `mailmover secret set` for
// TestSecretSetOnARealTerminal, inside the terminal that script(1) gives it.
const secretHelperEnv = "MM_SECRET_SET_HELPER"

func TestSecretSetHelperProcess(t *testing.T) {
	home := os.Getenv(secretHelperEnv)
	if home == "" {
		return // not a test of its own
	}
	sec := store.NewMemorySecrets()
	openSecrets = func() store.Secrets { return sec }
	env := Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: func(k string) string {
		if k == store.HomeEnv {
			return home
		}
		return ""
	}}
	code := Run(context.Background(), []string{"secret", "set", "-profile", "p", "password"}, env)
	v, _ := sec.Get("p", store.SecretPassword)
	if err := os.WriteFile(filepath.Join(home, "stored"), []byte(v), 0o600); err != nil {
		code = 3
	}
	os.Exit(code)
}

// On a real terminal (a pty from script(1)) the typed value is not echoed: what the
// terminal shows holds the prompt but not the value, and the value is stored.
func TestSecretSetOnARealTerminal(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) from util-linux is not installed")
	}
	self, err := os.Executable()
	if err != nil || strings.ContainsAny(self, "'\"\\$` ") {
		t.Skipf("test binary path %q cannot be quoted simply", self)
	}
	home := t.TempDir()
	cmd := exec.Command(scriptBin, "-qec", self+" -test.run=^TestSecretSetHelperProcess$", "/dev/null")
	cmd.Env = append(os.Environ(), secretHelperEnv+"="+home, "LANGUAGE=en", "LANG=C.UTF-8", "LC_ALL=")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var screen bytes.Buffer
	prompt := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var once sync.Once
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			if strings.Contains(screen.String(), "(typing is not shown): ") {
				once.Do(func() { close(prompt) })
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	shown := func() string { mu.Lock(); defer mu.Unlock(); return screen.String() }
	select {
	case <-prompt:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no prompt within 30s; the terminal showed %q", shown())
	}
	// Typed a moment after the prompt, as a person does: the prompt is written just
	// before echo goes off, and what arrives before that is echoed by the terminal.
	time.Sleep(500 * time.Millisecond)
	if _, err := io.WriteString(stdin, "typed-s3cret\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no end within 30s; the terminal showed %q", shown())
	}
	err = cmd.Wait()
	stdin.Close()
	if err != nil {
		t.Fatalf("exit: %v; the terminal showed %q", err, shown())
	}
	if strings.Contains(shown(), "typed-s3cret") {
		t.Errorf("the value was echoed: %q", shown())
	}
	if b, _ := os.ReadFile(filepath.Join(home, "stored")); string(b) != "typed-s3cret" {
		t.Errorf("stored %q, want %q; the terminal showed %q", b, "typed-s3cret", shown())
	}
}
