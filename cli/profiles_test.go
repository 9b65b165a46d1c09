package cli

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"mailmover/store"
)

func TestProfilesList(t *testing.T) {
	env, out, errb, _, home := secretTestEnv(t, "")
	if code := Run(context.Background(), []string{"profiles"}, env); code != 0 || out.Len() != 0 {
		t.Fatalf("empty home: exit %d, %q %s", code, out, errb)
	}
	secretTestProfile(t, home, "b")
	secretTestProfile(t, home, "a")
	os.WriteFile(store.ProfilePath(home, "broken"), []byte("[setup]\nhots = 1\n"), 0o600)

	if code := Run(context.Background(), []string{"profiles"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if out.String() != "a\nb\nbroken\n" {
		t.Errorf("list = %q", out)
	}

	out.Reset()
	if code := Run(context.Background(), []string{"profiles", "-l"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "u@example.com@imap.example.com:993") ||
		!strings.Contains(lines[0], "xoauth2 (microsoft, authcode)") || !strings.Contains(lines[2], "INVALID") ||
		!strings.Contains(lines[2], "setup.hots") {
		t.Errorf("long list:\n%s", out)
	}

	if code := Run(context.Background(), []string{"profiles", "extra"}, env); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
}

func TestProfilesActions(t *testing.T) {
	env, _, errb, sec, home := secretTestEnv(t, "")
	secretTestProfile(t, home, "a")
	sec.Set("a", store.SecretPassword, "pw")
	sec.Set("a", store.SecretRefreshToken, "rt")

	run := func(args ...string) int {
		errb.Reset()
		return Run(context.Background(), append([]string{"profiles"}, args...), env)
	}
	if code := run("rename", "a", "b"); code != 0 {
		t.Fatalf("rename: %d %s", code, errb)
	}
	if code := run("copy", "b", "c"); code != 0 {
		t.Fatalf("copy: %d %s", code, errb)
	}
	want := []string{"b/password", "b/refresh-token", "c/password"}
	if got := sec.Accounts(); !reflect.DeepEqual(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
	if code := run("delete", "b"); code != 0 {
		t.Fatalf("delete: %d %s", code, errb)
	}
	if names, _ := store.ListProfiles(home); !reflect.DeepEqual(names, []string{"c"}) {
		t.Errorf("profiles %v", names)
	}
	if code := run("delete", "b"); code != 1 || !strings.Contains(errb.String(), "not found") {
		t.Errorf("delete missing: %d %s", code, errb)
	}
	if code := run("rename", "c"); code != 2 {
		t.Errorf("rename with one name: %d", code)
	}
	if code := run("delete", "a/b"); code != 2 {
		t.Errorf("bad name: %d", code)
	}
}
