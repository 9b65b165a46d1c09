package auth

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestBrowserArgv(t *testing.T) {
	u := "https://idp.example/authorize?a=1&b=2"
	tests := []struct {
		entry string
		want  []string
	}{
		{"firefox", []string{"firefox", u}},
		{"chromium --new-window", []string{"chromium", "--new-window", u}},
		{"w3m %s -o x", []string{"w3m", u, "-o", "x"}},
		{"echo 100%% %s", []string{"echo", "100%", u}},
		{"   ", nil},
	}
	for _, tc := range tests {
		got := browserArgv(tc.entry, u)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("browserArgv(%q) = %q, want %q", tc.entry, got, tc.want)
		}
	}
}

func TestSystemBrowserTriesListInOrder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	failing := filepath.Join(dir, "fail.sh")
	good := filepath.Join(dir, "good.sh")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BROWSER": filepath.Join(dir, "missing") + ":" + failing + ":" + good + " --flag %s"}
	u := "https://idp.example/authorize?x=1&state=a b;$(touch /tmp/pwned)"
	if err := SystemBrowser(func(k string) string { return env[k] })(u); err != nil {
		t.Fatalf("SystemBrowser: %v", err)
	}
	// The opener exited 0 before SystemBrowser returned, so its output is complete.
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != "--flag\n"+u+"\n" {
		t.Fatalf("opener got %q", got)
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Fatal("the URL went through a shell")
	}
}

func TestSystemBrowserAllFail(t *testing.T) {
	env := map[string]string{"BROWSER": "/nonexistent/a:/nonexistent/b"}
	err := SystemBrowser(func(k string) string { return env[k] })("https://x/")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/a") || !strings.Contains(err.Error(), "/nonexistent/b") {
		t.Fatalf("err = %v", err)
	}
}
