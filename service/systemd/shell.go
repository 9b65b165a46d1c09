//go:build linux

package systemd

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"mailmover/i18n"
)

// ShellIO is where the shell's standard streams go.
type ShellIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Shell runs command (empty: /bin/sh) as the service would run: as its account (for a
// system-wide service; root runs this), with its MAILMOVER_HOME, inside its private bus
// with its keyring unlocked by the password from its credential — the same
// 'mailmover service run' the unit starts, with the command instead of the mover. There
// 'mailmover secret set' and 'mailmover login' store secrets where the service finds
// them. The password goes to the child through a pipe (file descriptor 3), never through
// argv or the environment. It returns the command's exit status.
func (h Host) Shell(c Config, command []string, sio ShellIO) (int, error) {
	if !c.User && h.Euid != 0 {
		return 1, errNotRoot()
	}
	if h.IsActive(c) {
		return 1, ErrKeyringBusy
	}
	var acct *user.User
	if !c.User {
		var err error
		if acct, err = h.LookupUser(c.UserName); err != nil {
			return 1, i18n.Errorf("the service's account %s does not exist: run 'mailmover service install' first", c.UserName)
		}
	}
	pw, err := h.ReadCredential(c)
	if err != nil {
		return 1, err
	}
	pr, pwr, err := os.Pipe()
	if err != nil {
		clear(pw)
		return 1, err
	}
	_, werr := pwr.Write(pw) // a pipe holds 64 KiB; the password is far smaller
	clear(pw)
	pwr.Close()
	defer pr.Close()
	if werr != nil {
		return 1, werr
	}
	if len(command) == 0 {
		command = []string{"/bin/sh"}
		i18n.Fprintf(sio.Stderr, "A shell in the service's keyring (MAILMOVER_HOME=%s). Store secrets with 'mailmover secret set -profile P password' or 'mailmover login -profile P -device'; 'exit' leaves.\n", c.Home)
	}
	cmd := exec.Command(c.Binary, append([]string{"service", "run", "--"}, command...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = sio.Stdin, sio.Stdout, sio.Stderr
	cmd.ExtraFiles = []*os.File{pr} // fd 3
	cmd.Env = h.shellEnv(c, acct)
	if acct != nil {
		uid, err1 := strconv.ParseUint(acct.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(acct.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			return 1, i18n.Errorf("the account %s has no numeric user id", acct.Username)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
		cmd.Dir = c.Home
	}
	// Ctrl-C belongs to the command; this process waits for it to end.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGQUIT)
	defer signal.Stop(sig)
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}

// shellEnv is the child's environment: the service's variables, the account's HOME and
// name, and the terminal's and language's settings of the caller.
func (h Host) shellEnv(c Config, acct *user.User) []string {
	path := filepath.Dir(c.Binary) + ":" + firstNonEmpty(h.Getenv("PATH"), "/usr/local/bin:/usr/bin:/bin")
	env := []string{
		"PATH=" + path,
		EnvHome + "=" + c.Home,
		EnvDataHome + "=" + c.DataHome,
		EnvPasswordFD + "=3",
	}
	if acct != nil {
		env = append(env, "HOME="+acct.HomeDir, "USER="+acct.Username, "LOGNAME="+acct.Username, "SHELL=/bin/sh")
	} else {
		for _, k := range []string{"HOME", "USER", "LOGNAME", "SHELL"} {
			if v := h.Getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
	}
	for _, k := range []string{"TERM", "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "BROWSER"} {
		if v := h.Getenv(k); v != "" && !strings.ContainsRune(v, 0) {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
