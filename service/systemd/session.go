//go:build linux

package systemd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"

	"mailmover/i18n"
)

// ConfigError is a problem only an administrator can fix (a missing or wrong keyring
// password, a missing program): 'mailmover service run' exits with ExitConfig on it,
// and the unit does not restart.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(err error) error { return &ConfigError{Err: err} }

// maxPassword bounds what is read as the keyring password.
const maxPassword = 4096

// ReadPassword returns the keyring password and where it came from: the unit's
// credential ($CREDENTIALS_DIRECTORY/keyring-password), the inherited file descriptor
// $MAILMOVER_KEYRING_PASSWORD_FD ('mailmover service shell'), or the file
// $MAILMOVER_KEYRING_PASSWORD_FILE (a user unit). One trailing newline is dropped, so
// 'echo PASSWORD | systemd-creds encrypt …' works. Errors never hold the password.
func ReadPassword(getenv func(string) string) (pw []byte, from string, err error) {
	var r io.Reader
	switch {
	case getenv("CREDENTIALS_DIRECTORY") != "":
		from = filepath.Join(getenv("CREDENTIALS_DIRECTORY"), CredentialName)
		f, err := os.Open(from)
		if err != nil {
			return nil, from, configErr(i18n.Errorf("the keyring password: the credential %s is missing (%w); check the unit's LoadCredentialEncrypted=/LoadCredential= line and that its file exists ('mailmover service keyring-password' makes one)", CredentialName, err))
		}
		defer f.Close()
		r = f
	case getenv(EnvPasswordFD) != "":
		fd, err := strconv.Atoi(getenv(EnvPasswordFD))
		if err != nil || fd < 3 {
			return nil, "", configErr(i18n.Errorf("%s=%q is not a file descriptor number", EnvPasswordFD, getenv(EnvPasswordFD)))
		}
		from = "fd " + strconv.Itoa(fd) // i18n:keep
		f := os.NewFile(uintptr(fd), "keyring-password")
		defer f.Close()
		r = f
	case getenv(EnvPasswordFile) != "":
		from = getenv(EnvPasswordFile)
		f, err := os.Open(from)
		if err != nil {
			return nil, from, configErr(i18n.Errorf("the keyring password file: %w; 'mailmover service keyring-password --user' makes one", err))
		}
		defer f.Close()
		r = f
	default:
		return nil, "", configErr(i18n.Errorf("no keyring password: CREDENTIALS_DIRECTORY (set by systemd for the unit's credential %s), %s and %s are all unset; start the mover through its unit ('mailmover service start') or 'mailmover service shell'", CredentialName, EnvPasswordFD, EnvPasswordFile))
	}
	pw, err = io.ReadAll(io.LimitReader(r, maxPassword+1))
	if err != nil {
		return nil, from, configErr(i18n.Errorf("read the keyring password from %s: %w", from, err))
	}
	if len(pw) > maxPassword {
		return nil, from, configErr(i18n.Errorf("the keyring password in %s is longer than %d bytes", from, maxPassword))
	}
	pw = bytes.TrimSuffix(pw, []byte("\n"))
	pw = bytes.TrimSuffix(pw, []byte("\r"))
	if len(pw) == 0 {
		return nil, from, configErr(i18n.Errorf("the keyring password in %s is empty", from))
	}
	return pw, from, nil
}

// SessionOptions configure StartSession.
type SessionOptions struct {
	// DataHome is the keyring's XDG_DATA_HOME: its files are DataHome/keyrings/*.
	DataHome string
	// RuntimeDir holds the bus's and the keyring's sockets; "" makes a private temporary
	// folder (removed by Close). The unit passes $RUNTIME_DIRECTORY.
	RuntimeDir string
	// Password unlocks the keyring (or makes it, the first time).
	Password []byte
	// PasswordFrom says where the password came from, for error messages.
	PasswordFrom string
	// Stderr receives the daemons' own messages (the journal, in the service).
	Stderr io.Writer
	// Timeout bounds each start-up step; 0 means 15 s.
	Timeout time.Duration
}

// Session is a private D-Bus session bus with a gnome-keyring-daemon on it, unlocked:
// go-keyring (store.Keyring) reaches it through Env's DBUS_SESSION_BUS_ADDRESS. Its bus
// activates no services, so nothing can start a second, locked keyring behind it.
type Session struct {
	// Addr is the bus's address (DBUS_SESSION_BUS_ADDRESS).
	Addr       string
	runtimeDir string
	dataHome   string
	tmpRuntime bool
	bus        *exec.Cmd
	keyring    *exec.Cmd
	busDone    chan struct{}
	keyDone    chan struct{}
	lock       *os.File
	done       chan struct{} // closed when the bus or the keyring ends by itself
}

// SecretsName is the bus name of the Secret Service.
const SecretsName = "org.freedesktop.secrets"

// loginCollection is the collection go-keyring keeps its items in.
const loginCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")

// ErrKeyringBusy says another process holds the service's keyring (the service runs).
var ErrKeyringBusy = i18n.NewError("the service's keyring is in use by another process (is the service running? stop it with 'mailmover service stop' first)")

// StartSession starts the private bus and the keyring, unlocks the keyring with
// o.Password, and checks that it is unlocked. A password that does not open the keyring
// is a *ConfigError naming what to check. On error nothing is left running.
func StartSession(ctx context.Context, o SessionOptions) (s *Session, err error) {
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	for _, prog := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(prog); err != nil {
			return nil, configErr(i18n.Errorf("%s is not installed (Debian/Ubuntu: apt install dbus-daemon gnome-keyring); the service needs it for its keyring", prog))
		}
	}
	if !filepath.IsAbs(o.DataHome) {
		return nil, configErr(i18n.Errorf("%s=%q: the keyring's folder must be an absolute path", EnvDataHome, o.DataHome))
	}
	if err := os.MkdirAll(filepath.Join(o.DataHome, "keyrings"), 0o700); err != nil {
		return nil, i18n.Errorf("the keyring's folder: %w", err)
	}
	s = &Session{dataHome: o.DataHome, runtimeDir: o.RuntimeDir, done: make(chan struct{})}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.lock, err = lockFile(filepath.Join(o.DataHome, "mailmover-service.lock")); err != nil {
		return s, err
	}
	if s.runtimeDir == "" {
		if s.runtimeDir, err = os.MkdirTemp("", "mailmover-service-"); err != nil {
			return s, err
		}
		s.tmpRuntime = true
	}
	if err := os.Chmod(s.runtimeDir, 0o700); err != nil {
		return s, i18n.Errorf("the runtime folder: %w", err)
	}
	if err := s.startBus(o); err != nil {
		return s, err
	}
	if err := s.startKeyring(o); err != nil {
		return s, err
	}
	if err := s.checkUnlocked(ctx, o); err != nil {
		return s, err
	}
	go func() {
		select {
		case <-s.busDone:
		case <-s.keyDone:
		}
		close(s.done)
	}()
	return s, nil
}

// Env is the environment that reaches the session's keyring: the bus address, the
// runtime folder and the keyring's data folder.
func (s *Session) Env() []string {
	return []string{"DBUS_SESSION_BUS_ADDRESS=" + s.Addr, "XDG_RUNTIME_DIR=" + s.runtimeDir, EnvDataHome + "=" + s.dataHome}
}

// Done is closed when the bus or the keyring daemon ends by itself (crashed, killed):
// the service then exits, and systemd starts it again.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close stops the keyring, then the bus (SIGTERM, then SIGKILL after 5 s), removes a
// temporary runtime folder and releases the keyring's lock.
func (s *Session) Close() {
	stop(s.keyring, s.keyDone)
	stop(s.bus, s.busDone)
	if s.tmpRuntime {
		_ = os.RemoveAll(s.runtimeDir)
	} else if s.runtimeDir != "" {
		_ = os.Remove(filepath.Join(s.runtimeDir, "bus.conf"))
	}
	if s.lock != nil {
		_ = s.lock.Close()
	}
}

func stop(cmd *exec.Cmd, done chan struct{}) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// childEnv is the daemons' environment: nothing of ours but what they need.
func (s *Session) childEnv() []string {
	env := []string{"XDG_RUNTIME_DIR=" + s.runtimeDir, EnvDataHome + "=" + s.dataHome}
	for _, k := range []string{"PATH", "HOME", "LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if s.Addr != "" {
		env = append(env, "DBUS_SESSION_BUS_ADDRESS="+s.Addr)
	}
	return env
}

// busConfig is a session bus that listens in dir and activates no services.
func busConfig(dir string) string {
	var esc strings.Builder
	for _, b := range []byte(dir) { // D-Bus address escaping
		if b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || strings.IndexByte("-_/.\\*", b) >= 0 {
			esc.WriteByte(b)
		} else {
			fmt.Fprintf(&esc, "%%%02x", b)
		}
	}
	var x bytes.Buffer
	_ = xmlEscape(&x, "unix:dir="+esc.String()) // i18n:keep (a D-Bus address)
	return strings.Replace(busConfigTemplate, "LISTEN", x.String(), 1)
}

// busConfigTemplate is a session bus without <standard_session_servicedirs/>: it starts
// no service on demand.
const busConfigTemplate = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" ` + /* i18n:keep */ `
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>LISTEN</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
` // i18n:keep (D-Bus configuration)

func xmlEscape(w *bytes.Buffer, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	_, err := r.WriteString(w, s)
	return err
}

func (s *Session) startBus(o SessionOptions) error {
	conf := filepath.Join(s.runtimeDir, "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig(s.runtimeDir)), 0o600); err != nil {
		return err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile", "--nosyslog", "--print-address=3")
	cmd.Env = s.childEnv()
	cmd.Stdout, cmd.Stderr = o.Stderr, o.Stderr
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return i18n.Errorf("start the private D-Bus bus: %w", err)
	}
	pw.Close()
	s.bus, s.busDone = cmd, waitIn(cmd)
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			return i18n.Errorf("the private D-Bus bus (dbus-daemon) ended without an address; see its messages above")
		}
		s.Addr = a
		return nil
	case <-time.After(o.Timeout):
		return i18n.Errorf("the private D-Bus bus (dbus-daemon) gave no address within %s", o.Timeout)
	}
}

// waitIn waits for cmd in the background; the channel is closed when it has ended.
func waitIn(cmd *exec.Cmd) chan struct{} {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return done
}

func (s *Session) startKeyring(o SessionOptions) error {
	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	cmd.Env = s.childEnv()
	// The password goes through a pipe on standard input: never in argv or the environment.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = o.Stderr, o.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return i18n.Errorf("start gnome-keyring-daemon: %w", err)
	}
	s.keyring, s.keyDone = cmd, waitIn(cmd)
	_, werr := stdin.Write(o.Password)
	cerr := stdin.Close()
	if werr != nil || cerr != nil {
		return i18n.Errorf("hand the password to gnome-keyring-daemon: %w", errors.Join(werr, cerr))
	}
	return nil
}

// checkUnlocked waits until the keyring owns its bus name, then asks whether the login
// collection is unlocked.
func (s *Session) checkUnlocked(ctx context.Context, o SessionOptions) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conn, err := dbus.Connect(s.Addr, dbus.WithContext(ctx))
	if err != nil {
		return i18n.Errorf("connect to the private D-Bus bus: %w", err)
	}
	defer conn.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var has bool
		err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, SecretsName).Store(&has)
		if err == nil && has {
			break
		}
		select {
		case <-s.keyDone:
			return configErr(i18n.Errorf("gnome-keyring-daemon ended at start (exit status %d); see its messages above", s.keyring.ProcessState.ExitCode()))
		case <-ctx.Done():
			return i18n.Errorf("gnome-keyring-daemon did not offer the Secret Service within %s", o.Timeout)
		case <-tick.C:
		}
	}
	var locked dbus.Variant
	err = conn.Object(SecretsName, loginCollection).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
		"org.freedesktop.Secret.Collection", "Locked").Store(&locked)
	if err != nil {
		return i18n.Errorf("ask the keyring whether it is unlocked: %w", err)
	}
	if l, ok := locked.Value().(bool); !ok || l {
		file := filepath.Join(s.dataHome, "keyrings", "login.keyring")
		return configErr(i18n.Errorf("the keyring %s did not unlock with the password from %s: the password is not the one the keyring was made with. Check that the credential belongs to this keyring (the unit's credential line, or the file made by 'mailmover service keyring-password'); if that password is lost, move %s aside, start again (a new keyring is made with the current password) and put the secrets in again with 'mailmover service shell'",
			file, o.PasswordFrom, file))
	}
	return nil
}

// lockFile takes an exclusive lock on path, failing at once with ErrKeyringBusy when
// another process holds it.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, ErrKeyringBusy
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
