package cli

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
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
				OpenWindow = func([]string) int { t.Fatal("the window opened on a usage error"); return 0 }
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
	OpenWindow = func(args []string) int { got = args; return 0 }
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "MAILMOVER_HOME" {
			return home
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
