//go:build linux

package systemd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// ThisHost is this machine.
func ThisHost() Host {
	return Host{Getenv: os.Getenv, Run: runProgram, Euid: os.Geteuid(), Booted: exists("/run/systemd/system"),
		LookupUser: user.Lookup}
}

// runProgram runs name with stdin (nil: none) within two minutes and returns its
// standard output; on failure the error holds what it wrote to stderr.
func runProgram(stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			msg = ": " + msg
		}
		return out, fmt.Errorf("%s %s: %w%s", name, strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// errNoSystemd says the service cannot be managed here.
func errNoSystemd() error {
	return i18n.Errorf("systemd is not running on this system (/run/systemd/system does not exist), so there is no service to manage: 'mailmover service install --print' shows the unit, and 'mailmover run -all' can be started by another init system")
}

// systemctl runs systemctl for c's manager (--user for a user unit).
func (h Host) systemctl(c Config, args ...string) ([]byte, error) {
	if c.User {
		args = append([]string{"--user"}, args...)
	}
	return h.Run(nil, "systemctl", args...)
}

// InstallOptions are install's switches.
type InstallOptions struct {
	Now bool // also start it
	// Auto: the credential's kind was not given, so a failing systemd-creds falls back
	// to the plain file.
	Auto bool
}

// Install writes c's unit (atomically), makes what it needs (the account, the home, the
// keyring password, missing destination folders), runs daemon-reload and enable, and
// for a user unit switches on lingering. It says each step on out.
func (h Host) Install(c Config, o InstallOptions, out io.Writer) (Config, error) {
	if !h.Booted {
		return c, errNoSystemd()
	}
	if !c.User && h.Euid != 0 {
		return c, errNotRoot()
	}
	var acct *user.User
	if !c.User {
		var err error
		if acct, err = h.ensureAccount(c, out); err != nil {
			return c, err
		}
		if err := prepareHome(c); err != nil {
			return c, err
		}
		c.WritePaths = h.destinations(c, acct, out)
		h.checkBinary(c, out)
	} else {
		for _, d := range []string{c.Home, filepath.Join(c.DataHome, "keyrings")} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return c, err
			}
		}
	}
	c, err := h.MakeCredential(c, false, o.Auto, out)
	if err != nil {
		return c, err
	}
	if !c.User && acct != nil {
		if err := chownHome(c.Home, acct); err != nil {
			return c, err
		}
	}
	unit, err := c.Unit()
	if err != nil {
		return c, err
	}
	if err := writeUnit(c.UnitPath(), unit); err != nil {
		return c, err
	}
	i18n.Fprintf(out, "Wrote %s\n", c.UnitPath())
	if _, err := h.systemctl(c, "daemon-reload"); err != nil {
		return c, err
	}
	enable := []string{"enable", UnitName}
	if o.Now {
		enable = []string{"enable", "--now", UnitName}
	}
	if _, err := h.systemctl(c, enable...); err != nil {
		return c, err
	}
	if o.Now {
		i18n.Fprintf(out, "Enabled and started %s: it starts with the system from now on.\n", UnitName)
	} else {
		i18n.Fprintf(out, "Enabled %s: it starts with the system from now on.\n", UnitName)
	}
	if c.User {
		h.enableLinger(out)
	}
	return c, nil
}

// ensureAccount finds the service's account, or makes it (a system account without a
// login, home = the service's home).
func (h Host) ensureAccount(c Config, out io.Writer) (*user.User, error) {
	if u, err := h.LookupUser(c.UserName); err == nil {
		return u, nil
	}
	_, err := h.Run(nil, "useradd", "--system", "--user-group", "--home-dir", c.Home, "--no-create-home",
		"--shell", "/usr/sbin/nologin", "--comment", "MailMover service", c.UserName) // i18n:keep (account comment)
	if err != nil {
		return nil, i18n.Errorf("make the account %s: %w", c.UserName, err)
	}
	u, err := h.LookupUser(c.UserName)
	if err != nil {
		return nil, i18n.Errorf("the account %s was made but cannot be found: %w", c.UserName, err)
	}
	i18n.Fprintf(out, "Made the system account %s (no login; home %s).\n", c.UserName, c.Home)
	return u, nil
}

// prepareHome makes the service's home and the keyring's folder.
func prepareHome(c Config) error {
	for _, d := range []string{c.Home, store.ProfileDir(c.Home), filepath.Join(c.DataHome, "keyrings")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// destinations reads the destination folders from the profiles, makes missing ones
// (owned by the account) and says what the unit will let the service write to.
func (h Host) destinations(c Config, acct *user.User, out io.Writer) []string {
	folders, problems := Destinations(c.Home, acct.HomeDir)
	for _, p := range problems {
		i18n.Fprintf(out, "note: %s\n", p)
	}
	if len(folders) == 0 {
		i18n.Fprintf(out, "No profile in %s names a destination folder yet: the service may write only to its home. Run 'mailmover service install' again after adding profiles.\n", store.ProfileDir(c.Home))
		return nil
	}
	i18n.Fprintf(out, "The service may write to these destination folders (read from the profiles in %s; after adding a profile with another destination, run 'mailmover service install' again):\n", store.ProfileDir(c.Home))
	uid, _ := strconv.Atoi(acct.Uid)
	gid, _ := strconv.Atoi(acct.Gid)
	for _, f := range folders {
		fmt.Fprintf(out, "  %s\n", f)
		st, err := os.Stat(f)
		switch {
		case os.IsNotExist(err):
			if err := os.MkdirAll(f, 0o750); err == nil && os.Chown(f, uid, gid) == nil {
				i18n.Fprintf(out, "    made it, owned by %s\n", c.UserName)
			} else {
				i18n.Fprintf(out, "    does not exist and could not be made: make it, writable by %s\n", c.UserName)
			}
		case err != nil:
			fmt.Fprintf(out, "    %v\n", err)
		default:
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != uid && st.Mode().Perm()&0o002 == 0 &&
				!(int(sys.Gid) == gid && st.Mode().Perm()&0o020 != 0) {
				i18n.Fprintf(out, "    belongs to another account: make sure %s may write there (chown, chgrp or setfacl)\n", c.UserName)
			}
		}
	}
	return folders
}

// checkBinary warns when the account the unit runs as may not reach the program.
func (h Host) checkBinary(c Config, out io.Writer) {
	st, err := os.Stat(c.Binary)
	bad := err != nil || st.Mode().Perm()&0o001 == 0
	for _, p := range []string{"/root/", "/home/", "/tmp/", "/var/tmp/"} {
		bad = bad || strings.HasPrefix(c.Binary, p)
	}
	if bad {
		i18n.Fprintf(out, "note: the unit runs %s as %s, who may not reach it there (ProtectHome= hides /home and /root). Copy it: 'install -m 0755 %s /usr/local/bin/mailmover', then run '/usr/local/bin/mailmover service install' again.\n",
			c.Binary, c.UserName, c.Binary)
	}
}

// chownHome gives the service's home and MailMover's own folders and files in it to
// its account — not whatever else a --home folder may hold.
func chownHome(home string, acct *user.User) error {
	uid, err1 := strconv.Atoi(acct.Uid)
	gid, err2 := strconv.Atoi(acct.Gid)
	if err1 != nil || err2 != nil {
		return i18n.Errorf("the account %s has no numeric user id", acct.Username)
	}
	if err := os.Lchown(home, uid, gid); err != nil {
		return err
	}
	for _, name := range []string{"profiles", "state", "status", "logs", "keyring", "alerts", "mailmover.toml"} {
		err := filepath.WalkDir(filepath.Join(home, name), func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// writeUnit writes the unit file atomically (mode 0644).
func writeUnit(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".mailmover.service-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // gone after the rename; removes a failed write
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// enableLinger switches on lingering for the user, so the user unit runs from boot
// without a login; when not permitted it prints the command for an administrator.
func (h Host) enableLinger(out io.Writer) {
	name := h.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if b, err := h.Run(nil, "loginctl", "show-user", name, "--property=Linger"); err == nil && strings.TrimSpace(string(b)) == "Linger=yes" {
		i18n.Fprintf(out, "Lingering is on for %s: the service runs from boot, without a login.\n", name)
		return
	}
	if _, err := h.Run(nil, "loginctl", "enable-linger", name); err != nil {
		i18n.Fprintf(out, "Could not switch on lingering (%v). Without it the service runs only while %s is logged in: ask an administrator to run 'sudo loginctl enable-linger %s'.\n", err, name, name)
		return
	}
	i18n.Fprintf(out, "Switched on lingering for %s (loginctl enable-linger): the service runs from boot, without a login.\n", name)
}

// Uninstall disables and stops the unit and removes its file. The home, the keyring and
// its password, and the account stay; it says where they are.
func (h Host) Uninstall(c Config, out io.Writer) error {
	if !h.Booted {
		return errNoSystemd()
	}
	if !c.User && h.Euid != 0 {
		return errNotRoot()
	}
	if !exists(c.UnitPath()) {
		i18n.Fprintf(out, "%s is not installed (no %s).\n", UnitName, c.UnitPath())
		return nil
	}
	if _, err := h.systemctl(c, "disable", "--now", UnitName); err != nil {
		i18n.Fprintf(out, "note: %v\n", err)
	}
	if err := os.Remove(c.UnitPath()); err != nil {
		return err
	}
	if _, err := h.systemctl(c, "daemon-reload"); err != nil {
		return err
	}
	i18n.Fprintf(out, "Stopped, disabled and removed %s.\n", c.UnitPath())
	i18n.Fprintf(out, "Kept: the profiles, state and logs in %s, the keyring in %s and its password in %s. Remove them yourself when they are no longer needed.\n",
		c.Home, filepath.Join(c.DataHome, "keyrings"), h.credPath(c))
	if !c.User {
		i18n.Fprintf(out, "The account %s stays too ('userdel %s' removes it).\n", c.UserName, c.UserName)
	}
	return nil
}

// Start starts the unit.
func (h Host) Start(c Config) error {
	if !h.Booted {
		return errNoSystemd()
	}
	_, err := h.systemctl(c, "start", UnitName)
	return err
}

// Stop stops the unit: the mover finishes the file in hand (systemd waits up to
// TimeoutStopSec).
func (h Host) Stop(c Config) error {
	if !h.Booted {
		return errNoSystemd()
	}
	_, err := h.systemctl(c, "stop", UnitName)
	return err
}

// Status returns what 'systemctl status' says about the unit (its last journal lines
// included) and whether it is active.
func (h Host) Status(c Config) (text string, active bool, err error) {
	if !h.Booted {
		return "", false, errNoSystemd()
	}
	b, _ := h.systemctl(c, "status", "--no-pager", "--lines=10", UnitName)
	_, aerr := h.systemctl(c, "is-active", "--quiet", UnitName)
	return string(b), aerr == nil, nil
}

// IsActive reports whether the unit runs (false where systemd does not run).
func (h Host) IsActive(c Config) bool {
	if !h.Booted {
		return false
	}
	_, err := h.systemctl(c, "is-active", "--quiet", UnitName)
	return err == nil
}
