package cli

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestNoDisplayIsAClearError(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("a window needs no DISPLAY here")
	}
	opened := false
	old := OpenWindow
	OpenWindow = func([]string, WindowOptions) int { opened = true; return 0 }
	defer func() { OpenWindow = old }()
	for _, args := range [][]string{nil, {"demo"}} {
		var out, errb bytes.Buffer
		env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		if code := Run(context.Background(), args, env); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		if !strings.Contains(errb.String(), "no display") || !strings.Contains(errb.String(), "headless") {
			t.Errorf("%v: message %q", args, errb.String())
		}
	}
	if opened {
		t.Error("the window was opened without a display")
	}
	if displayProblem(func(k string) string {
		if k == "WAYLAND_DISPLAY" {
			return "wayland-0"
		}
		return ""
	}) != "" {
		t.Error("a Wayland display was not accepted")
	}
}

func TestWindowFlagsOpenTheWindow(t *testing.T) {
	var got []string
	old := OpenWindow
	OpenWindow = func(args []string, _ WindowOptions) int { got = args; return 0 }
	defer func() { OpenWindow = old }()
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "DISPLAY" {
			return ":99"
		}
		return ""
	}}
	if code := Run(context.Background(), []string{"-profile", "invoices"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if strings.Join(got, " ") != "-profile invoices" {
		t.Errorf("the window got %q", got)
	}
	if code := Run(context.Background(), []string{"-h"}, env); code != 0 || !strings.Contains(out.String(), "Usage") {
		t.Errorf("-h: exit %d, output %q", code, out.String())
	}
}
