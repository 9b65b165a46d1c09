//go:build linux

package systemd

import (
	"bytes"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mailmover/store"
)

// fakeHost is a machine with systemd, root, and recorded programs: systemd-creds
// "encrypts" by writing a marker and the input's length, unless failCreds.
type fakeHost struct {
	Host
	calls     []string
	stdins    [][]byte
	failCreds bool
	failLing  bool
}

func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	f := &fakeHost{}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	env := map[string]string{"HOME": filepath.Join(root, "home", "ann"), "USER": me.Username}
	f.Host = Host{Root: root, Euid: 0, Booted: true,
		Getenv:     func(k string) string { return env[k] },
		LookupUser: func(string) (*user.User, error) { return me, nil },
		Run: func(stdin []byte, name string, args ...string) ([]byte, error) {
			f.calls = append(f.calls, name+" "+strings.Join(args, " "))
			f.stdins = append(f.stdins, stdin)
			switch {
			case name == "systemd-creds" && args[0] == "encrypt":
				if f.failCreds {
					return nil, errors.New("systemd-creds: no such program")
				}
				return nil, os.WriteFile(args[len(args)-1], []byte("ENCRYPTED"), 0o600)
			case name == "loginctl" && f.failLing && args[0] == "enable-linger":
				return nil, errors.New("loginctl: Access denied")
			}
			return nil, nil
		}}
	return f
}

func saveProfile(t *testing.T, home, name, dest string) {
	t.Helper()
	p := store.DefaultProfile(name)
	p.Setup.Host, p.Setup.Username = "imap.example.com", name+"@example.com"
	p.Security.Auth = store.AuthPassword
	p.Destination.Folder = dest
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
}

func TestInstallSystemWide(t *testing.T) {
	f := newFakeHost(t)
	home := filepath.Join(f.Root, "var/lib/mm")
	existing := filepath.Join(f.Root, "srv/invoices")
	if err := os.MkdirAll(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(f.Root, "srv/reports")
	saveProfile(t, home, "invoices", existing)
	saveProfile(t, home, "reports", missing)
	c, err := f.Resolve(Options{Home: home, Binary: "/usr/local/bin/mailmover", Credential: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c, err = f.Install(c, InstallOptions{Auto: true}, &out)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, &out)
	}
	unitPath := filepath.Join(f.Root, "etc/systemd/system/mailmover.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"ReadWritePaths=" + quote(home) + " " + quote("-"+existing) + " " + quote("-"+missing),
		"LoadCredentialEncrypted=keyring-password:/etc/credstore.encrypted/mailmover.keyring-password",
		"ExecStart=/usr/local/bin/mailmover service run"} {
		if !strings.Contains(string(unit), w+"\n") {
			t.Errorf("unit lacks %q:\n%s", w, unit)
		}
	}
	if _, err := os.Stat(missing); err != nil {
		t.Errorf("the missing destination was not made: %v", err)
	}
	want := []string{"systemd-creds encrypt --name=keyring-password - " + filepath.Join(f.Root, encryptedCredPath) + ".new",
		"systemctl daemon-reload", "systemctl enable mailmover.service"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls:\n%q\nwant\n%q", f.calls, want)
	}
	// The password went to systemd-creds on stdin only: not in an argument, not in the unit.
	pw := f.stdins[0]
	if len(pw) < 40 || strings.Contains(strings.Join(f.calls, " "), string(pw)) || bytes.Contains(unit, pw) || bytes.Contains(out.Bytes(), pw) {
		t.Errorf("the keyring password (%d bytes) leaked into an argument, the unit or the output", len(pw))
	}
	text := out.String()
	for _, w := range []string{existing, missing, "run 'mailmover service install' again", "encrypted with systemd-creds"} {
		if !strings.Contains(text, w) {
			t.Errorf("install did not say %q:\n%s", w, text)
		}
	}
	// A second install keeps the password.
	f.calls = nil
	if _, err := f.Install(c, InstallOptions{Auto: true}, &out); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(f.calls, func(s string) bool { return strings.HasPrefix(s, "systemd-creds") }) {
		t.Errorf("a second install made a new password: %q", f.calls)
	}

	// uninstall
	f.calls = nil
	out.Reset()
	if err := f.Uninstall(c, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(unitPath); !os.IsNotExist(err) {
		t.Errorf("the unit file is still there: %v", err)
	}
	if want := []string{"systemctl disable --now mailmover.service", "systemctl daemon-reload"}; !slices.Equal(f.calls, want) {
		t.Errorf("uninstall calls %q, want %q", f.calls, want)
	}
	if !strings.Contains(out.String(), home) {
		t.Errorf("uninstall does not say what stays:\n%s", &out)
	}
}

// Without systemd-creds the password goes to a root-only file, and the unit and the
// output say so.
func TestInstallFallsBackToAPlainCredential(t *testing.T) {
	f := newFakeHost(t)
	f.failCreds = true
	c, err := f.Resolve(Options{Home: filepath.Join(f.Root, "var/lib/mm"), Binary: "/usr/local/bin/mailmover"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if c, err = f.Install(c, InstallOptions{Auto: true}, &out); err != nil {
		t.Fatalf("install: %v\n%s", err, &out)
	}
	unit, _ := os.ReadFile(c.UnitPath())
	if !strings.Contains(string(unit), "\nLoadCredential=keyring-password:/etc/credstore/mailmover.keyring-password\n") {
		t.Errorf("unit:\n%s", unit)
	}
	st, err := os.Stat(filepath.Join(f.Root, plainCredPath))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the plain credential: %v, %v", st, err)
	}
	if !strings.Contains(out.String(), "not encrypted") || !strings.Contains(out.String(), "no such program") {
		t.Errorf("the fallback is not explained:\n%s", &out)
	}
	// Asked for explicitly, encryption failing is an error.
	f2 := newFakeHost(t)
	f2.failCreds = true
	c2, _ := f2.Resolve(Options{Home: filepath.Join(f2.Root, "var/lib/mm"), Binary: "/usr/local/bin/mailmover", Credential: "encrypted"})
	if _, err := f2.Install(c2, InstallOptions{}, &out); err == nil {
		t.Error("--credential encrypted fell back silently")
	}
}

func TestInstallSaysWhatToDo(t *testing.T) {
	f := newFakeHost(t)
	c, _ := f.Resolve(Options{Home: filepath.Join(f.Root, "h"), Binary: "/usr/local/bin/mailmover"})
	f.Euid = 1000
	var out bytes.Buffer
	if _, err := f.Install(c, InstallOptions{}, &out); err == nil || !strings.Contains(err.Error(), "sudo") || !strings.Contains(err.Error(), "--user") {
		t.Errorf("not root: %v", err)
	}
	f.Booted = false
	if _, err := f.Install(c, InstallOptions{}, &out); err == nil || !strings.Contains(err.Error(), "systemd is not running") {
		t.Errorf("no systemd: %v", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("ran %q", f.calls)
	}
}

func TestInstallUserUnit(t *testing.T) {
	f := newFakeHost(t)
	f.Euid = 1000
	f.failLing = true
	t.Setenv("HOME", f.Getenv("HOME")) // os.UserConfigDir reads the process's
	t.Setenv("XDG_CONFIG_HOME", "")
	c, err := f.Resolve(Options{User: true, Binary: "/usr/local/bin/mailmover"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(f.Getenv("HOME"), ".config/mailmover"); c.Home != want {
		t.Errorf("home %s, want %s", c.Home, want)
	}
	var out bytes.Buffer
	if c, err = f.Install(c, InstallOptions{Now: true}, &out); err != nil {
		t.Fatalf("install --user: %v\n%s", err, &out)
	}
	unitPath := filepath.Join(f.Getenv("HOME"), ".config/systemd/user/mailmover.service")
	if c.UnitPath() != unitPath {
		t.Errorf("unit at %s, want %s", c.UnitPath(), unitPath)
	}
	st, err := os.Stat(c.CredentialPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the password file: %v, %v", st, err)
	}
	me, _ := user.Current()
	want := []string{"systemctl --user daemon-reload", "systemctl --user enable --now mailmover.service",
		"loginctl show-user " + me.Username + " --property=Linger", "loginctl enable-linger " + me.Username}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
	if !strings.Contains(out.String(), "sudo loginctl enable-linger "+me.Username) {
		t.Errorf("lingering refused, but no command for an administrator:\n%s", &out)
	}
}

// keyring-password --force makes a new password and moves the keyring it locked aside.
func TestKeyringPasswordForce(t *testing.T) {
	f := newFakeHost(t)
	f.Euid = 1000
	c, _ := f.Resolve(Options{User: true, Binary: "/usr/local/bin/mailmover"})
	var out bytes.Buffer
	if _, err := f.MakeCredential(c, false, true, &out); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(c.CredentialPath)
	if _, err := f.MakeCredential(c, false, true, &out); err != nil || !strings.Contains(out.String(), "already set up") {
		t.Fatalf("second call: %v\n%s", err, &out)
	}
	if again, _ := os.ReadFile(c.CredentialPath); !bytes.Equal(first, again) {
		t.Error("the password changed without --force")
	}
	if err := os.MkdirAll(filepath.Dir(c.keyringFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyringFile(), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.MakeCredential(c, true, true, &out); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(c.CredentialPath); bytes.Equal(first, again) {
		t.Error("--force kept the password")
	}
	if exists(c.keyringFile()) {
		t.Error("--force left the old keyring in place, where the new password cannot open it")
	}
	if bytes.Contains(out.Bytes(), first) {
		t.Error("the password was printed")
	}
}
