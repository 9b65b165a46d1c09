package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the tests run this program: with MAILMOVER_TEST_MAIN=1 the test binary is
// mailmover itself, translations and all, started in the environment a test chooses.
func TestMain(m *testing.M) {
	if os.Getenv("MAILMOVER_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// mailmover runs the program with args in the given locale and a private MAILMOVER_HOME,
// and returns its combined output and exit code.
func mailmover(t *testing.T, home, locale string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	env := []string{"MAILMOVER_TEST_MAIN=1", "MAILMOVER_HOME=" + home, "LANG=" + locale}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "MAILMOVER_HOME", "DISPLAY", "WAYLAND_DISPLAY":
		default:
			env = append(env, kv)
		}
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running mailmover %v: %v", args, err)
	}
	return string(out), code
}

const badPortProfile = `[setup]
host = "imap.example.org"
port = 0
username = "scans@example.org"
folder = "INBOX"

[security]
tls = "implicit"
auth = "password"

[destination]
folder = "/srv/scans"
`

// TestCommandLineSpeaksTheLocale runs the real program in German and in English: the help,
// a missing profile and a profile with a wrong setting (the field is named in both).
func TestCommandLineSpeaksTheLocale(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "profiles"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "profiles", "scans.toml"), []byte(badPortProfile), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, locale string
		args         []string
		code         int
		want         []string
		notWant      []string
	}{
		{"help de", "de_DE.UTF-8", []string{"help"}, 0,
			[]string{"Aufruf:", "Schlüsselbund", "mailmover run"}, []string{"Usage:"}},
		{"help en", "en_US.UTF-8", []string{"help"}, 0,
			[]string{"Usage:", "keyring"}, []string{"Aufruf:"}},
		{"missing profile de", "de_DE.UTF-8", []string{"check", "-profile", "nope"}, 1,
			[]string{"FEHLGESCHLAGEN", "Ursache:", "Abhilfe:", "nicht gefunden"}, []string{"FAILED", "not found"}},
		{"missing profile en", "C.UTF-8", []string{"check", "-profile", "nope"}, 1,
			[]string{"FAILED", "not found"}, []string{"FEHLGESCHLAGEN"}},
		{"bad port de", "de_DE.UTF-8", []string{"check", "-profile", "scans"}, 1,
			[]string{"setup.port", "0 ist kein Port"}, []string{"is not a port"}},
		{"bad port en", "en_GB.UTF-8", []string{"check", "-profile", "scans"}, 1,
			[]string{"setup.port", "0 is not a port"}, []string{"ist kein Port"}},
		{"no display de", "de_DE.UTF-8", []string{}, 1,
			[]string{"keine Anzeige", "mailmover run"}, []string{"no display"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := mailmover(t, home, c.locale, c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}
