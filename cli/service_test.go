//go:build !windows && !linux

package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// On systems other than Windows the service command says plainly that it is not there
// yet, and fails.
func TestServiceNotYetHere(t *testing.T) {
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if code := Run(context.Background(), []string{"service", "install"}, env); code != 1 {
		t.Fatalf("service install = %d, want 1\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "not yet") || !strings.Contains(errb.String(), "run -all") {
		t.Errorf("the message does not say 'not yet' and what to use: %q", errb.String())
	}
	if code := Run(context.Background(), []string{"service"}, env); code != 2 {
		t.Errorf("service without a subcommand = %d, want 2", code)
	}
}
