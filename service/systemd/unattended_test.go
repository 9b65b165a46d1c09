//go:build linux

package systemd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/internal/testenv"
	"mailmover/store"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// mailmover builds the real program once (plain go build, as a user would).
func mailmover(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailmover-systemd-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mailmover")
		if out, err := exec.Command("go", "build", "-o", binPath, "mailmover").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build mailmover: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// needKeyringPrograms skips (fails under MM_REQUIRE_REAL=1) without the programs the
// service's keyring needs.
func needKeyringPrograms(t *testing.T) {
	t.Helper()
	for _, p := range []string{"dbus-daemon", "dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(p); err != nil {
			if testenv.RequireReal() {
				t.Fatalf("%s is missing (scripts/setup.sh installs dbus and gnome-keyring)", p)
			}
			t.Skipf("%s is missing", p)
		}
	}
}

// execStart returns the unit's command line and environment (Environment= lines).
func execStart(t *testing.T, unit string) (argv, env []string) {
	t.Helper()
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			argv = strings.Fields(v) // the test's paths have no blanks
		}
		if v, ok := strings.CutPrefix(l, "Environment="); ok {
			env = append(env, strings.Trim(v, `"`))
		}
	}
	if len(argv) == 0 {
		t.Fatalf("no ExecStart in\n%s", unit)
	}
	return argv, env
}

// service is one start of the unit's command, as systemd would run it.
type service struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startUnit runs the unit's ExecStart with the unit's environment plus what systemd adds:
// CREDENTIALS_DIRECTORY (the decrypted credential) and RUNTIME_DIRECTORY.
func startUnit(t *testing.T, unit, credDir string) *service {
	t.Helper()
	argv, env := execStart(t, unit)
	rt := t.TempDir()
	env = append(env, "CREDENTIALS_DIRECTORY="+credDir, "RUNTIME_DIRECTORY="+rt,
		"PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"), "LANG=C.UTF-8", "LANGUAGE=en_US")
	s := &service{cmd: exec.Command(argv[0], argv[1:]...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd.Env = env // nothing else: no DBUS_SESSION_BUS_ADDRESS, as under systemd
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// stop sends SIGTERM, as systemctl stop does, and waits (bounded) for the exit status.
func (s *service) stop(t *testing.T) int {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the service did not stop within 60 s of SIGTERM\nstdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
	}
	return s.cmd.ProcessState.ExitCode()
}

// waitFiles waits until dir holds n files.
func waitFiles(t *testing.T, dir string, n int, s *service) []string {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		if len(names) >= n {
			return names
		}
		select {
		case <-s.done:
			t.Fatalf("the service ended (status %d) before %d file(s) arrived\nstdout:\n%s\nstderr:\n%s", s.cmd.ProcessState.ExitCode(), n, s.stdout, s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d file(s) in %s after 45 s, want %d\nstdout:\n%s\nstderr:\n%s", len(names), dir, len(names), s.stdout, s.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tree returns pid and its descendants.
func tree(pid int) []int {
	parent := map[int]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold blanks and parentheses
		rest := string(b[bytes.LastIndexByte(b, ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		p, _ := strconv.Atoi(filepath.Base(d))
		pp, _ := strconv.Atoi(f[1])
		parent[p] = pp
	}
	out := []int{pid}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if slices.Contains(out, pp) && !slices.Contains(out, p) {
				out = append(out, p)
				changed = true
			}
		}
	}
	return out
}

// processesWith returns the processes of the tree under pid (the service and the bus
// and keyring it started) whose command line or environment holds secret.
func processesWith(pid int, secret string) []string {
	var found []string
	pids := tree(pid)
	if len(pids) < 3 {
		found = append(found, fmt.Sprintf("(only %d processes under the service: %v; want it, the bus and the keyring)", len(pids), pids))
	}
	for _, p := range pids {
		d := "/proc/" + strconv.Itoa(p)
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(filepath.Join(d, f))
			if err == nil && bytes.Contains(b, []byte(secret)) {
				found = append(found, d+"/"+f)
			}
		}
	}
	return found
}

// keyringDaemonsFor returns gnome-keyring-daemon processes whose data folder is dataHome.
func keyringDaemonsFor(dataHome string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, []byte("\x00"+EnvDataHome+"="+dataHome+"\x00")) && !bytes.HasPrefix(env, []byte(EnvDataHome+"="+dataHome+"\x00")) {
			continue
		}
		if cmd, _ := os.ReadFile(filepath.Join(d, "cmdline")); bytes.Contains(cmd, []byte("gnome-keyring-daemon")) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			pids = append(pids, pid)
		}
	}
	return pids
}

// appendNow appends msg with a connection of its own, closed at once (testenv's Append
// keeps its connection until the test ends, and Dovecot allows 10 per user, shared with
// the other packages' tests).
func appendNow(t *testing.T, dc testenv.DovecotEnv, mbox string, msg []byte) {
	t.Helper()
	c, err := imapclient.DialTLS(dc.IMAPSAddr(), &imapclient.Options{TLSConfig: dc.TLSConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(dc.User, dc.Password).Wait(); err != nil {
		t.Fatalf("login to Dovecot: %v", err)
	}
	cmd := c.Append(mbox, int64(len(msg)), &imap.AppendOptions{Time: time.Now()})
	if _, err := cmd.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	_ = c.Logout().Wait()
}

func message(n int) []byte {
	return []byte(fmt.Sprintf("From: scanner@example.com\r\nTo: scans@example.com\r\nSubject: scan %d\r\n"+
		"Message-ID: <scan-%d-%d@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nscan\r\n--b\r\nContent-Type: application/pdf\r\n"+
		"Content-Disposition: attachment; filename=\"scan-%d.pdf\"\r\n\r\n%%PDF-1.4 scan %d\r\n--b--\r\n", n, n, time.Now().UnixNano(), n, n))
}

// The unattended keyring, run as the unit runs it: the profile's password is put into the
// service's keyring the documented way ('mailmover service shell -- mailmover secret set'),
// then the unit's ExecStart — the same command line and environment, the credential
// decrypted into CREDENTIALS_DIRECTORY as systemd does — moves a message; SIGTERM stops it;
// a fresh start ("reboot") unlocks the keyring again from the credential, finds the secret
// and moves the next message. A wrong password is a clear error with exit status 78 (no
// restart loop). No secret appears in any argv, environment, output or file.
func TestUnattendedKeyringAsTheUnitRunsIt(t *testing.T) {
	needKeyringPrograms(t)
	dc := testenv.Dovecot(t)
	bin := mailmover(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	root := t.TempDir()
	home := filepath.Join(root, "home")
	dest := filepath.Join(root, "dest")
	mbox := dc.NewMailbox(t, "service")
	p := store.DefaultProfile("scans")
	p.Setup.Host, p.Setup.Port, p.Setup.Username, p.Setup.Folder = dc.Host, dc.IMAPSPort, dc.User, mbox
	p.Security.TLS, p.Security.Auth, p.Security.CAFile = store.TLSImplicit, store.AuthPassword, dc.CAFile
	p.Common.Watch = "idle"
	p.Destination.Folder = dest
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}

	// The keyring password: made by 'mailmover service keyring-password --user' for the
	// shell; the system unit's credential carries the same password (encrypted with
	// systemd-creds where it works here, and decrypted as systemd would at start).
	userEnv := []string{"HOME=" + filepath.Join(root, "userhome"), "XDG_CONFIG_HOME=" + filepath.Join(root, "config"),
		"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "LANGUAGE=en_US"}
	run := func(stdin string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = userEnv
		cmd.Stdin = strings.NewReader(stdin)
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("mailmover %s: no end in time\n%s", strings.Join(args, " "), out)
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := run("", "service", "keyring-password", "--user", "--home", home); code != 0 {
		t.Fatalf("service keyring-password --user: exit %d\n%s", code, out)
	}
	pwFile := filepath.Join(home, "service-keyring-password")
	keyringPW, err := os.ReadFile(pwFile)
	if err != nil || len(keyringPW) < 40 {
		t.Fatalf("the keyring password file: %v (%d bytes)", err, len(keyringPW))
	}
	credDir := t.TempDir()
	credential(t, keyringPW, credDir)

	// The documented way to put a secret in: a shell in the service's keyring.
	out, code := run(dc.Password+"\n", "service", "shell", "--user", "--home", home, "--", bin, "secret", "set", "-profile", "scans", "password")
	if code != 0 || !strings.Contains(out, "stored the password of profile scans") {
		t.Fatalf("service shell -- mailmover secret set: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(home, "keyring", "keyrings", "login.keyring")); err != nil {
		t.Fatalf("no keyring file in the service's home: %v", err)
	}

	c := Config{UserName: "mailmover", Home: home, DataHome: filepath.Join(home, "keyring"), Binary: bin,
		Credential: CredEncrypted, CredentialPath: encryptedCredPath, WritePaths: []string{dest}, UnitDir: t.TempDir()}
	unit, err := c.Unit()
	if err != nil {
		t.Fatal(err)
	}

	// Boot 1: the first message.
	appendNow(t, dc, mbox, message(1))
	s := startUnit(t, unit, credDir)
	waitFiles(t, dest, 1, s)
	if leaks := processesWith(s.cmd.Process.Pid, string(keyringPW)); len(leaks) > 0 {
		t.Errorf("the keyring password is in %v", leaks)
	}
	if leaks := processesWith(s.cmd.Process.Pid, dc.Password); len(leaks) > 0 {
		t.Errorf("the mail password is in %v", leaks)
	}
	status, err := os.ReadFile(store.StatusPath(home, "scans"))
	if err != nil || !strings.Contains(string(status), `"front": "service"`) && !strings.Contains(string(status), `"front":"service"`) {
		t.Errorf("the status file does not say front=service: %v\n%s", err, status)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("SIGTERM: exit %d\nstdout:\n%s\nstderr:\n%s", code, s.stdout, s.stderr)
	}
	if pids := keyringDaemonsFor(c.DataHome); len(pids) > 0 {
		t.Errorf("gnome-keyring-daemon still runs after the service stopped: %v", pids)
	}
	log1 := s.stdout.String() + s.stderr.String()

	// "Reboot": everything stopped; the next message arrives; the command starts fresh.
	appendNow(t, dc, mbox, message(2))
	s = startUnit(t, unit, credDir)
	names := waitFiles(t, dest, 2, s)
	if code := s.stop(t); code != 0 {
		t.Fatalf("second start, SIGTERM: exit %d\n%s\n%s", code, s.stdout, s.stderr)
	}
	if len(names) != 2 || names[0] != "scan-1.pdf" || names[1] != "scan-2.pdf" {
		t.Errorf("files after the reboot: %q, want scan-1.pdf and scan-2.pdf once each", names)
	}
	log2 := s.stdout.String() + s.stderr.String()

	// A wrong password: a clear error, exit 78 (the unit's RestartPreventExitStatus), at once.
	wrongDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(wrongDir, CredentialName), []byte("not-the-password"), 0o400); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s = startUnit(t, unit, wrongDir)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("with a wrong password the service still runs after 30 s\n%s\n%s", s.stdout, s.stderr)
	}
	errText := s.stderr.String()
	if code := s.cmd.ProcessState.ExitCode(); code != ExitConfig {
		t.Errorf("wrong password: exit %d, want %d\n%s", code, ExitConfig, errText)
	}
	for _, w := range []string{"did not unlock", filepath.Join(wrongDir, CredentialName), "login.keyring", "mailmover service shell"} {
		if !strings.Contains(errText, w) {
			t.Errorf("the wrong-password error does not name %q:\n%s", w, errText)
		}
	}
	t.Logf("wrong password: exit after %s", time.Since(start).Round(time.Millisecond))

	// No secret in what was said or written.
	all := log1 + log2 + errText + out + unit
	_ = filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, string(filepath.Separator)+"keyring"+string(filepath.Separator)) && p != pwFile {
			b, _ := os.ReadFile(p)
			all += string(b)
		}
		return nil
	})
	for name, secret := range map[string]string{"keyring password": string(keyringPW), "mail password": dc.Password} {
		if strings.Contains(all, secret) {
			t.Errorf("the %s appears in the output, the unit or a file in the home", name)
		}
	}
	keyringFile, _ := os.ReadFile(filepath.Join(home, "keyring", "keyrings", "login.keyring"))
	if bytes.Contains(keyringFile, []byte(dc.Password)) {
		t.Error("the mail password is in the keyring file in clear")
	}
}

// credential puts pw into dir/keyring-password as systemd would for
// LoadCredentialEncrypted=: encrypted with systemd-creds and decrypted again, where that
// works here (root, with a host key: 'systemd-creds setup' in scripts/setup.sh); else
// the plain file, as LoadCredential= would.
func credential(t *testing.T, pw []byte, dir string) {
	t.Helper()
	out := filepath.Join(dir, CredentialName)
	_, err := exec.LookPath("systemd-creds")
	if err == nil && os.Geteuid() == 0 && exists("/var/lib/systemd/credential.secret") {
		enc := filepath.Join(t.TempDir(), "enc")
		c := exec.Command("systemd-creds", "encrypt", "--name="+CredentialName, "-", enc)
		c.Stdin = bytes.NewReader(pw)
		if b, err := c.CombinedOutput(); err != nil {
			t.Fatalf("systemd-creds encrypt: %v\n%s", err, b)
		}
		if b, _ := os.ReadFile(enc); bytes.Contains(b, pw) {
			t.Fatal("systemd-creds left the password readable")
		}
		d := exec.Command("systemd-creds", "decrypt", "--name="+CredentialName, enc, out)
		if b, err := d.CombinedOutput(); err != nil {
			t.Fatalf("systemd-creds decrypt: %v\n%s", err, b)
		}
		t.Log("credential: encrypted and decrypted with systemd-creds")
	} else {
		if testenv.RequireReal() && err != nil {
			t.Fatal("systemd-creds is missing (Debian package systemd)")
		}
		t.Logf("credential: plain file (systemd-creds: %v, euid %d)", err, os.Geteuid())
		if err := os.WriteFile(out, pw, 0o400); err != nil {
			t.Fatal(err)
		}
	}
}
