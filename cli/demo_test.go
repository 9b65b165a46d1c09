package cli

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

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
