//go:build linux

package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mailmover/internal/testenv"
	"mailmover/store"
)

func systemConfig(t *testing.T) Config {
	t.Helper()
	exe, err := os.Executable() // any executable: systemd-analyze checks ExecStart's
	if err != nil {
		t.Fatal(err)
	}
	return Config{UserName: "mailmover", Home: "/var/lib/mailmover", DataHome: "/var/lib/mailmover/keyring",
		Binary: exe, Credential: CredEncrypted, CredentialPath: encryptedCredPath,
		WritePaths: []string{"/srv/mail-in", "/srv/scans 100%/in"}, UnitDir: t.TempDir()}
}

// unitLines returns the unit's lines without comments and blanks.
func unitLines(t *testing.T, c Config) (string, []string) {
	t.Helper()
	text, err := c.Unit()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return text, lines
}

func TestSystemUnit(t *testing.T) {
	c := systemConfig(t)
	_, lines := unitLines(t, c)
	want := []string{
		"User=mailmover", "Group=mailmover",
		"ExecStart=" + c.Binary + " service run",
		"Environment=MAILMOVER_FRONT=service",
		"Environment=MAILMOVER_HOME=/var/lib/mailmover",
		"Environment=XDG_DATA_HOME=/var/lib/mailmover/keyring",
		"LoadCredentialEncrypted=keyring-password:/etc/credstore.encrypted/mailmover.keyring-password",
		"StateDirectory=mailmover", "RuntimeDirectory=mailmover",
		"Restart=on-failure", "RestartSec=30s", "RestartPreventExitStatus=78",
		"StartLimitIntervalSec=30min", "StartLimitBurst=5",
		"KillMode=mixed", "KillSignal=SIGTERM", "TimeoutStopSec=5min",
		"StandardOutput=journal", "StandardError=journal",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes",
		// the destinations, "-" so a folder removed later does not stop the unit; % doubled
		`ReadWritePaths=-/srv/mail-in "-/srv/scans 100%%/in"`,
		"WantedBy=multi-user.target",
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("the unit lacks %q:\n%s", w, strings.Join(lines, "\n"))
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "Environment=") && strings.Contains(l, "PASSWORD") {
			t.Errorf("the system unit passes a password variable: %s", l)
		}
	}
}

func TestUserUnit(t *testing.T) {
	c := systemConfig(t)
	c.User, c.UserName, c.WritePaths = true, "", nil
	c.Home, c.DataHome = "/home/ann/.config/mailmover", "/home/ann/.config/mailmover/keyring"
	c.Credential, c.CredentialPath = CredUserFile, "/home/ann/.config/mailmover/service-keyring-password"
	_, lines := unitLines(t, c)
	for _, w := range []string{"Environment=MAILMOVER_KEYRING_PASSWORD_FILE=/home/ann/.config/mailmover/service-keyring-password",
		"Environment=MAILMOVER_HOME=/home/ann/.config/mailmover", "Restart=on-failure", "WantedBy=default.target"} {
		if !slices.Contains(lines, w) {
			t.Errorf("the user unit lacks %q", w)
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "User=") || strings.HasPrefix(l, "ProtectSystem=") || strings.HasPrefix(l, "LoadCredential") {
			t.Errorf("a user unit cannot use %s", l)
		}
	}
}

func TestUnitRefusesBadPaths(t *testing.T) {
	c := systemConfig(t)
	c.WritePaths = []string{"/srv/a\nExecStartPre=/bin/rm -rf /"}
	if _, err := c.Unit(); err == nil {
		t.Error("a path with a newline made a unit")
	}
	c = systemConfig(t)
	c.WritePaths = []string{"relative/dir"}
	if _, err := c.Unit(); err == nil {
		t.Error("a relative path made a unit")
	}
}

// systemd-analyze verify checks the generated units as systemd would load them; it exits
// 0 even on a bad directive, so any message at all fails the test.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if testenv.RequireReal() {
			t.Fatal("systemd-analyze is missing (Debian package systemd; scripts/setup.sh installs it)")
		}
		t.Skip("systemd-analyze is missing")
	}
	sys := systemConfig(t)
	user := systemConfig(t)
	user.User, user.UnitDir = true, t.TempDir()
	user.Credential, user.CredentialPath = CredUserFile, "/home/ann/.config/mailmover/service-keyring-password"
	plain := systemConfig(t)
	plain.Credential, plain.CredentialPath, plain.UnitDir = CredFile, plainCredPath, t.TempDir()
	plain.Home, plain.DataHome = "/srv/mailmover", "/srv/mailmover/keyring" // not under /var/lib: ReadWritePaths
	for name, c := range map[string]Config{"system": sys, "user": user, "plain credential": plain} {
		t.Run(name, func(t *testing.T) {
			text, err := c.Unit()
			if err != nil {
				t.Fatal(err)
			}
			if err := writeUnit(c.UnitPath(), text); err != nil {
				t.Fatal(err)
			}
			args := []string{"verify", c.UnitPath()}
			cmd := exec.Command(analyze, args...)
			if c.User {
				rt := t.TempDir()
				cmd = exec.Command(analyze, append([]string{"--user"}, args...)...)
				cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+rt)
			}
			out, err := cmd.CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("systemd-analyze verify: %v\n%s\nthe unit:\n%s", err, out, text)
			}
		})
	}
}

func TestDestinations(t *testing.T) {
	home := t.TempDir()
	for name, dest := range map[string]string{"a": "/srv/in", "b": "/srv/in/scans", "c": "~/mail", "d": "/srv/in", "e": "/data/x"} {
		p := store.DefaultProfile(name)
		p.Setup.Host, p.Setup.Username = "imap.example.com", "u@example.com"
		p.Security.Auth = store.AuthPassword
		p.Destination.Folder = dest
		if err := store.SaveProfile(home, p); err != nil {
			t.Fatal(err)
		}
	}
	got, problems := Destinations(home, "/var/lib/mailmover")
	want := []string{"/data/x", "/srv/in", "/var/lib/mailmover/mail"}
	if !slices.Equal(got, want) || len(problems) != 0 {
		t.Errorf("Destinations = %q, %q; want %q", got, problems, want)
	}
	_, problems = Destinations(home, "")
	if len(problems) != 1 || !strings.Contains(problems[0], "profile c") {
		t.Errorf("a ~ destination without the account's home: problems %q", problems)
	}
	if err := os.WriteFile(filepath.Join(store.ProfileDir(home), "broken.toml"), []byte("[setup]\nnope = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, problems = Destinations(home, "/h"); len(problems) != 1 || !strings.Contains(problems[0], "broken") {
		t.Errorf("a broken profile is not named: %q", problems)
	}
}
