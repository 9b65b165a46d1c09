package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailmover/service/systemd"
	"mailmover/store"
)

func serviceTestEnv(t *testing.T, vars map[string]string) (Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	return Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}, &out, &errb
}

// install --print shows the unit for the service's home, with the profiles' destination
// folders, without root or systemd.
func TestServiceInstallPrint(t *testing.T) {
	home := t.TempDir()
	p := store.DefaultProfile("invoices")
	p.Setup.Host, p.Setup.Username = "imap.example.com", "invoices@example.com"
	p.Security.Auth = store.AuthPassword
	p.Destination.Folder = "/srv/mail-in/invoices"
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	env, out, errb := serviceTestEnv(t, nil)
	code := Run(context.Background(), []string{"service", "install", "--print", "--home", home, "--binary", "/usr/local/bin/mailmover"}, env)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	for _, w := range []string{"ExecStart=/usr/local/bin/mailmover service run\n", "User=mailmover\n",
		"Environment=MAILMOVER_HOME=" + home + "\n", "-/srv/mail-in/invoices", "Restart=on-failure\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the printed unit lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "keyring")); err == nil {
		t.Error("--print made files")
	}
}

// service run without a keyring password says where it looks and exits 78, which the
// unit does not restart on.
func TestServiceRunWithoutPassword(t *testing.T) {
	env, _, errb := serviceTestEnv(t, map[string]string{store.HomeEnv: t.TempDir()})
	if code := Run(context.Background(), []string{"service", "run"}, env); code != systemd.ExitConfig {
		t.Fatalf("exit %d, want %d\n%s", code, systemd.ExitConfig, errb)
	}
	if !strings.Contains(errb.String(), "CREDENTIALS_DIRECTORY") || !strings.Contains(errb.String(), "mailmover service start") {
		t.Errorf("the error does not say where the password comes from: %s", errb)
	}
	dir := t.TempDir()
	env, _, errb = serviceTestEnv(t, map[string]string{store.HomeEnv: t.TempDir(), "CREDENTIALS_DIRECTORY": dir})
	if code := Run(context.Background(), []string{"service", "run"}, env); code != systemd.ExitConfig ||
		!strings.Contains(errb.String(), filepath.Join(dir, "keyring-password")) {
		t.Errorf("a missing credential file: exit %d\n%s", code, errb)
	}
}

func TestServiceUsage(t *testing.T) {
	env, out, errb := serviceTestEnv(t, nil)
	if code := Run(context.Background(), []string{"service", "frobnicate"}, env); code != 2 {
		t.Errorf("an unknown subcommand: exit %d", code)
	}
	if code := Run(context.Background(), []string{"service", "-h"}, env); code != 0 || !strings.Contains(out.String(), "keyring-password") {
		t.Errorf("service -h: exit %d\n%s%s", code, out, errb)
	}
	if code := Run(context.Background(), []string{"service", "install", "extra"}, env); code != 2 {
		t.Errorf("an extra argument: exit %d", code)
	}
}
