package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

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
