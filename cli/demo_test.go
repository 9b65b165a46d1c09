package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/store"
)

func TestDemoUsageErrors(t *testing.T) {
	saved := OpenWindow
	defer func() { OpenWindow = saved }()
	for _, tc := range []struct {
		name   string
		args   []string
		window bool
		code   int
		stderr string
	}{
		{"extra argument", []string{"now"}, true, 2, `unexpected argument "now"`},
		{"unknown flag", []string{"-fast"}, true, 2, "flag provided but not defined"},
		{"bad interval", []string{"-headless", "-interval", "soon"}, true, 2, "invalid value"},
		{"no window in this build", nil, false, 2, "use 'mailmover demo -headless'"},
		{"help", []string{"-h"}, true, 0, "usage: mailmover demo"},
		{"bad redirect port", []string{"-redirect-port", "70000"}, true, 2, "is not a port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			OpenWindow = nil
			if tc.window {
				OpenWindow = func([]string, WindowOptions) int { t.Fatal("the window opened on a usage error"); return 0 }
			}
			var out, errb bytes.Buffer
			env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
			code := Run(context.Background(), append([]string{"demo"}, tc.args...), env)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errb.String())
			}
		})
	}
}

func TestDemoOpensTheWindowOnTheDemoProfile(t *testing.T) {
	saved := OpenWindow
	defer func() { OpenWindow = saved }()
	home := t.TempDir()
	t.Chdir(t.TempDir())
	var got []string
	OpenWindow = func(args []string, _ WindowOptions) int { got = args; return 0 }
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		switch k {
		case "MAILMOVER_HOME":
			return home
		case "DISPLAY":
			return ":99" // the window is a stub here
		}
		return ""
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // keep off 3017, which sign-in tests use
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if code := Run(context.Background(), []string{"demo", "-interval", "0", "-redirect-port", strconv.Itoa(port)}, env); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	if strings.Join(got, " ") != "-profile demo -demo" {
		t.Errorf("OpenWindow(%q), want [-profile demo -demo]", got)
	}
	for _, want := range []string{"IMAP server", "sign-in server", "mailmover-demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDemoHandsTheWindowItsSecrets: without a keyring the demo keeps secrets in memory,
// and the window gets that very store (else GET could not store the tokens).
func TestDemoHandsTheWindowItsSecrets(t *testing.T) {
	savedWin, savedSec := OpenWindow, openDemoSecrets
	defer func() { OpenWindow, openDemoSecrets = savedWin, savedSec }()
	mem := store.NewMemorySecrets()
	openDemoSecrets = func() (store.Secrets, bool) { return mem, true }
	home := t.TempDir()
	t.Chdir(t.TempDir())
	var got store.Secrets
	OpenWindow = func(_ []string, o WindowOptions) int {
		got = o.Secrets
		// The demo wrote its profile's secrets (if any) into the same store the window gets.
		return 0
	}
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		switch k {
		case "MAILMOVER_HOME":
			return home
		case "DISPLAY":
			return ":99" // the window is a stub here
		}
		return ""
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if code := Run(context.Background(), []string{"demo", "-interval", "0", "-redirect-port", strconv.Itoa(port)}, env); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	if got != store.Secrets(mem) {
		t.Fatalf("the window got secrets %T %p, want the demo's memory store %p", got, got, mem)
	}
	if !strings.Contains(out.String(), "keeps its tokens in memory") {
		t.Errorf("stdout does not say the tokens stay in memory:\n%s", out.String())
	}
}

// notifyWriter collects output and closes seen once it contains want.
type notifyWriter struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *notifyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// `mailmover demo -headless` next to a profile demo of the user's (here one on
// loopback, which the demo used to take for its own, and one that does not load): the
// file stays byte for byte and its keyring entries stay; the demo runs on demo-2.
func TestDemoHeadlessLeavesTheUsersDemoProfile(t *testing.T) {
	for name, content := range map[string]string{
		"loopback":     "[setup]\nhost = \"127.0.0.1\"\nport = 10143\n",
		"invalid TOML": "not = [toml\n",
	} {
		t.Run(name, func(t *testing.T) {
			saved := openDemoSecrets
			defer func() { openDemoSecrets = saved }()
			mem := store.NewMemorySecrets()
			openDemoSecrets = func() (store.Secrets, bool) { return mem, false }
			kinds := []string{store.SecretRefreshToken, store.SecretAccessToken, store.SecretClientSecret, store.SecretPassword}
			for _, k := range kinds {
				if err := mem.Set("demo", k, "user-"+k); err != nil {
					t.Fatal(err)
				}
			}
			home := t.TempDir()
			t.Chdir(t.TempDir())
			path := store.ProfilePath(home, "demo")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			out := &notifyWriter{want: "Sign in as", seen: make(chan struct{})}
			var errb bytes.Buffer
			env := Env{Stdout: out, Stderr: &errb, Getenv: func(k string) string {
				if k == "MAILMOVER_HOME" {
					return home
				}
				return ""
			}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := make(chan int, 1)
			go func() {
				code <- Run(ctx, []string{"demo", "-headless", "-no-browser", "-interval", "0", "-redirect-port", strconv.Itoa(port)}, env)
			}()
			select {
			case <-out.seen:
			case c := <-code:
				t.Fatalf("the demo ended (exit %d) before the sign-in; stdout:\n%s\nstderr:\n%s", c, out.String(), errb.String())
			case <-time.After(60 * time.Second):
				t.Fatalf("no sign-in address within 60s; stdout:\n%s", out.String())
			}
			cancel() // as SIGINT does
			if c := <-code; c != 0 {
				t.Errorf("exit %d; stderr:\n%s", c, errb.String())
			}
			if got, err := os.ReadFile(path); err != nil || string(got) != content {
				t.Errorf("profiles/demo.toml = %q (err %v), want the user's %q byte for byte", got, err, content)
			}
			for _, k := range kinds {
				if v, err := mem.Get("demo", k); err != nil || v != "user-"+k {
					t.Errorf("keyring demo/%s = %q, %v; want the user's entry kept", k, v, err)
				}
			}
			if !strings.Contains(out.String(), store.ProfilePath(home, "demo-2")) {
				t.Errorf("the demo does not name its profile demo-2:\n%s", out.String())
			}
		})
	}
}
