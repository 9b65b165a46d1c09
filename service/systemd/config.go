//go:build linux

package systemd

import (
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"mailmover/i18n"
	"mailmover/store"
)

// Defaults of a system-wide service.
const (
	DefaultUserName = "mailmover"
	DefaultHome     = "/var/lib/mailmover"
	// systemUnitDir is where an administrator's units go.
	systemUnitDir = "/etc/systemd/system"
	// Where the keyring password's credential is kept: encrypted (systemd-creds), or
	// plain but readable by root only.
	encryptedCredPath = "/etc/credstore.encrypted/mailmover.keyring-password"
	plainCredPath     = "/etc/credstore/mailmover.keyring-password"
)

// Options are what the command line says about the service; Resolve turns them into a
// Config.
type Options struct {
	User     bool   // --user
	UserName string // --user-name (system-wide)
	Home     string // --home; "" = the default
	Binary   string // --binary; "" = this program
	// Credential: "auto" (encrypted where one exists or systemd-creds works, else the
	// plain file), "encrypted" or "file". Only for system-wide services.
	Credential string
}

// Host is what the service's commands need from the machine, so tests can fake it.
type Host struct {
	// Root is prepended to every system path written or read (tests); "" is /.
	Root string
	// Getenv reads the environment (HOME, MAILMOVER_HOME, XDG_CONFIG_HOME).
	Getenv func(string) string
	// Run runs a program (systemctl, loginctl, useradd, systemd-creds) with stdin and
	// returns its standard output; a failure's error holds what it said on stderr.
	Run func(stdin []byte, name string, args ...string) ([]byte, error)
	// Euid is the effective user id (os.Geteuid).
	Euid int
	// Booted reports whether systemd runs this system (/run/systemd/system exists).
	Booted bool
	// LookupUser finds an account (os/user.Lookup): the system-wide service's account,
	// whose home "~/" in its profiles means.
	LookupUser func(name string) (*user.User, error)
}

// path is p under h.Root.
func (h Host) path(p string) string {
	if h.Root == "" {
		return p
	}
	return filepath.Join(h.Root, p)
}

// userConfigDir is $XDG_CONFIG_HOME, else ~/.config.
func (h Host) userConfigDir() (string, error) {
	if d := h.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	home := h.Getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", i18n.Errorf("HOME is not set to an absolute path, so there is no place for a user unit")
	}
	return filepath.Join(home, ".config"), nil
}

// Resolve makes the Config for o: paths, the credential's kind and path, and the
// destination folders read from the profiles in the service's home.
func (h Host) Resolve(o Options) (Config, error) {
	c := Config{User: o.User, UserName: o.UserName, Home: o.Home, Binary: o.Binary}
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, i18n.Errorf("cannot find this program's path (%w); give it with --binary", err)
		}
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		c.Binary = exe
	}
	if o.User {
		if c.Home == "" {
			home, err := store.HomeFrom(h.Getenv)
			if err != nil {
				return c, err
			}
			c.Home = home
		}
		cfg, err := h.userConfigDir()
		if err != nil {
			return c, err
		}
		c.UnitDir = filepath.Join(cfg, "systemd", "user")
		c.Credential, c.CredentialPath = CredUserFile, filepath.Join(c.Home, "service-keyring-password")
	} else {
		if c.UserName == "" {
			c.UserName = DefaultUserName
		}
		if c.Home == "" {
			c.Home = DefaultHome
		}
		c.UnitDir = h.path(systemUnitDir)
		switch o.Credential {
		case "encrypted":
			c.Credential, c.CredentialPath = CredEncrypted, encryptedCredPath
		case "file":
			c.Credential, c.CredentialPath = CredFile, plainCredPath
		case "", "auto":
			// What exists wins; a new one is encrypted unless systemd-creds fails.
			c.Credential, c.CredentialPath = CredEncrypted, encryptedCredPath
			if !exists(h.path(encryptedCredPath)) && exists(h.path(plainCredPath)) {
				c.Credential, c.CredentialPath = CredFile, plainCredPath
			}
		default:
			return c, i18n.Errorf("--credential %q: give auto, encrypted or file", o.Credential)
		}
	}
	abs, err := filepath.Abs(c.Home)
	if err != nil {
		return c, err
	}
	c.Home = abs
	c.DataHome = filepath.Join(c.Home, "keyring")
	return c, nil
}

// Destinations returns the destination folders of the profiles in home, sorted and
// without duplicates or folders inside others, and the profiles whose destination could
// not be read (with why). "~/" is taken from userHome (the service account's home).
func Destinations(home, userHome string) (folders []string, problems []string) {
	names, err := store.ListProfiles(home)
	if err != nil {
		return nil, []string{err.Error()}
	}
	for _, n := range names {
		p, err := store.LoadProfile(home, n)
		if err != nil {
			problems = append(problems, i18n.Sprintf("profile %s: %v", n, err))
			continue
		}
		d := p.Destination.Folder
		if rest, ok := strings.CutPrefix(d, "~"); ok && (rest == "" || rest[0] == '/') {
			if userHome == "" {
				problems = append(problems, i18n.Sprintf("profile %s: destination %s starts with ~ but the service account has no home folder", n, d))
				continue
			}
			d = filepath.Join(userHome, rest)
		}
		if !filepath.IsAbs(d) {
			problems = append(problems, i18n.Sprintf("profile %s: destination %q is not an absolute path", n, d))
			continue
		}
		folders = append(folders, filepath.Clean(d))
	}
	slices.Sort(folders)
	folders = slices.Compact(folders)
	// A folder inside another one already listed is writable through it.
	var out []string
	for _, f := range folders {
		inside := slices.ContainsFunc(out, func(o string) bool {
			return o == "/" || strings.HasPrefix(f, o+"/")
		})
		if !inside {
			out = append(out, f)
		}
	}
	return out, problems
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
