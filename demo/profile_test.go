package demo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailmover/store"
)

// userProfiles are profiles named demo that belong to the user: each must survive the
// demo byte for byte, with its keyring entries.
func userProfiles(t *testing.T) map[string][]byte {
	t.Helper()
	enc := func(p *store.Profile) []byte {
		home := t.TempDir()
		if err := store.SaveProfile(home, p); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(store.ProfilePath(home, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	real := store.DefaultProfile(ProfileName)
	real.Setup.Host, real.Setup.Username = "outlook.office365.com", "invoices@contoso.example"
	real.OAuth2.ClientID = "11111111-2222-3333-4444-555555555555"
	real.Destination.Folder = "/srv/mail-in"
	// A user's own test setup on this machine: loopback, as the demo's is.
	loop := store.DefaultProfile(ProfileName)
	loop.Setup.Host, loop.Setup.Port, loop.Setup.Username = "127.0.0.1", 10143, "mmtest"
	loop.Security.TLS, loop.Security.Auth = store.TLSNone, store.AuthPassword
	loop.Destination.Folder = "/srv/test-in"
	return map[string][]byte{
		"real server":  enc(real),
		"loopback":     enc(loop),
		"invalid TOML": []byte("[setup]\nhost = \"127.0.0.1\"\nthis is not toml\n"),
		"unknown key":  []byte("[setup]\nhost = \"localhost\"\nmine = 1\n"),
		"empty":        {},
	}
}

var userSecrets = map[string]string{
	store.SecretRefreshToken: "user-refresh", store.SecretAccessToken: "user-access",
	store.SecretClientSecret: "user-client-secret", store.SecretPassword: "user-password",
}

func checkUserProfileKept(t *testing.T, home string, want []byte, sec store.Secrets) {
	t.Helper()
	got, err := os.ReadFile(store.ProfilePath(home, ProfileName))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("profiles/demo.toml changed: %q (err %v), want %q", got, err, want)
	}
	for kind, v := range userSecrets {
		if got, err := sec.Get(ProfileName, kind); err != nil || got != v {
			t.Errorf("keyring demo/%s = %q, %v; want the user's value kept", kind, got, err)
		}
	}
}

// A profile named demo that the demo did not write is never rewritten, whatever it
// holds: the demo uses demo-2, keeps using it on the next start, and says so.
func TestDemoLeavesAUserProfileNamedDemoAlone(t *testing.T) {
	for name, content := range userProfiles(t) {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			path := store.ProfilePath(home, ProfileName)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			sec := store.NewMemorySecrets()
			for kind, v := range userSecrets {
				if err := sec.Set(ProfileName, kind, v); err != nil {
					t.Fatal(err)
				}
			}
			for run := 1; run <= 2; run++ {
				d := startDemo(t, Options{Home: home}, sec)
				checkUserProfileKept(t, home, content, sec)
				if d.Profile.Name != "demo-2" {
					t.Fatalf("run %d: the demo uses profile %q, want demo-2", run, d.Profile.Name)
				}
				if _, err := store.LoadProfile(home, "demo-2"); err != nil {
					t.Fatalf("run %d: demo-2 does not load: %v", run, err)
				}
				var b strings.Builder
				d.PrintSummary(&b)
				if !strings.Contains(b.String(), path) || !strings.Contains(b.String(), `"demo-2"`) {
					t.Errorf("run %d: the summary does not say the user's profile was left alone:\n%s", run, b.String())
				}
				if err := d.Close(); err != nil {
					t.Fatal(err)
				}
				checkUserProfileKept(t, home, content, sec)
			}
		})
	}
}

// The demo's own profile is rewritten on the next start, also after the window saved it
// unchanged; one the user changed becomes the user's.
func TestDemoRewritesOnlyItsOwnProfile(t *testing.T) {
	home := t.TempDir()
	sec := store.NewMemorySecrets()
	d := startDemo(t, Options{Home: home}, sec)
	if d.Profile.Name != ProfileName {
		t.Fatalf("fresh home: profile %q, want demo", d.Profile.Name)
	}
	_ = d.Close()
	// The window's Save of the unchanged profile.
	p, err := store.LoadProfile(home, ProfileName)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	if err := sec.Set(ProfileName, store.SecretRefreshToken, "stale"); err != nil {
		t.Fatal(err)
	}
	d = startDemo(t, Options{Home: home}, sec)
	if d.Profile.Name != ProfileName {
		t.Fatalf("second start: profile %q, want its own demo again", d.Profile.Name)
	}
	if _, err := sec.Get(ProfileName, store.SecretRefreshToken); !errors.Is(err, store.ErrNoSecret) {
		t.Errorf("the demo's stale token was kept: %v", err)
	}
	_ = d.Close()

	// Changed by the user: the user's from now on.
	p.Destination.Folder = t.TempDir()
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	changed, _ := os.ReadFile(store.ProfilePath(home, ProfileName))
	if err := sec.Set(ProfileName, store.SecretRefreshToken, "user-refresh"); err != nil {
		t.Fatal(err)
	}
	d = startDemo(t, Options{Home: home}, sec)
	if d.Profile.Name != "demo-2" {
		t.Fatalf("after the user changed demo: profile %q, want demo-2", d.Profile.Name)
	}
	if got, _ := os.ReadFile(store.ProfilePath(home, ProfileName)); !bytes.Equal(got, changed) {
		t.Error("the user's changed demo profile was rewritten")
	}
	if v, err := sec.Get(ProfileName, store.SecretRefreshToken); err != nil || v != "user-refresh" {
		t.Errorf("the user's token: %q, %v", v, err)
	}
}

// With every name taken by the user's profiles the demo refuses, naming the file.
func TestDemoRefusesWhenNoNameIsFree(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(store.ProfileDir(home), 0o700); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= maxDemoProfiles; i++ {
		if err := os.WriteFile(store.ProfilePath(home, demoProfileName(i)), []byte("# mine\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A marker naming one of them with another hash does not make it the demo's.
	if err := os.WriteFile(ownerMarkPath(home), []byte(`{"profile":"demo","sha256":"00"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{Home: home, Dest: t.TempDir(), Interval: -1, RedirectPort: freePort(t)}, nil)
	if !errors.Is(err, ErrForeignProfile) || !strings.Contains(err.Error(), store.ProfilePath(home, ProfileName)) {
		t.Fatalf("Start with every name taken: %v, want ErrForeignProfile naming the file", err)
	}
	for i := 1; i <= maxDemoProfiles; i++ {
		if b, _ := os.ReadFile(store.ProfilePath(home, demoProfileName(i))); string(b) != "# mine\n" {
			t.Fatalf("%s changed", demoProfileName(i))
		}
	}
}

// A link named demo.toml (even a broken one) is not a free name.
func TestDemoDoesNotWriteThroughALink(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(store.ProfileDir(home), 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere.toml")
	if err := os.Symlink(target, store.ProfilePath(home, ProfileName)); err != nil {
		t.Skip("no symlinks here:", err)
	}
	d := startDemo(t, Options{Home: home}, nil)
	if d.Profile.Name != "demo-2" {
		t.Fatalf("profile %q, want demo-2", d.Profile.Name)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link's target was written: %v", err)
	}
}
