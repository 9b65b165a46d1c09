package demo

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mailmover/internal/testenv"
)

// fakeBrowserEnv makes this test binary act as a browser: it is named in $BROWSER, gets
// the sign-in URL as its last argument, fills the demo's login form over HTTP and
// delivers the redirect to the waiting loopback listener.
const fakeBrowserEnv = "MM_DEMO_FAKE_BROWSER"

func TestMain(m *testing.M) {
	if os.Getenv(fakeBrowserEnv) == "1" {
		os.Exit(fakeBrowser(os.Args[len(os.Args)-1]))
	}
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath)) // the built program
	}
	os.Exit(code)
}

func fakeBrowser(authURL string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	back, err := formLogin(ctx, authURL, os.Getenv("MM_DEMO_USER"), os.Getenv("MM_DEMO_PASSWORD"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake browser:", err)
		return 1
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, back.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake browser: deliver the redirect:", err)
		return 1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "fake browser: the callback answered", resp.Status)
		return 1
	}
	return 0
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// mailmoverBinary builds the real program once per test run.
func mailmoverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailmover-demo-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mailmover")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = ".." // the module root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build mailmover: %v", buildErr)
	}
	return binPath
}

// demoRun is a running `mailmover demo -headless` process.
type demoRun struct {
	cmd   *exec.Cmd
	lines chan string
	mu    sync.Mutex
	out   []string // every stdout and stderr line, for failure messages
	exit  chan error
}

func (r *demoRun) transcript() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.out, "\n")
}

// waitLine waits for a stdout line matching re and returns its submatches.
func (r *demoRun) waitLine(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				t.Fatalf("the demo ended before printing %q:\n%s", re, r.transcript())
			}
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("no line matching %q within %s:\n%s", re, timeout, r.transcript())
		}
	}
}

// startHeadless runs the built binary as `mailmover demo -headless` in cwd with home as
// MAILMOVER_HOME and browser as $BROWSER.
func startHeadless(t *testing.T, home, cwd, browser string, extraEnv ...string) *demoRun {
	t.Helper()
	// A free redirect port of its own: 3017 may be in use by a sign-in test of another
	// package running at the same time.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return startDemoProcess(t, home, cwd, browser, []string{"demo", "-headless", "-interval", "1s", "-login-timeout", "90s",
		"-user", DefaultUser, "-password", DefaultPassword, "-redirect-port", strconv.Itoa(port)}, extraEnv...)
}

// startDemoProcess runs the built binary with args in cwd, with home as MAILMOVER_HOME
// and browser as $BROWSER, collecting its output.
func startDemoProcess(t *testing.T, home, cwd, browser string, args []string, extraEnv ...string) *demoRun {
	t.Helper()
	cmd := exec.Command(mailmoverBinary(t), args...)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "MAILMOVER_HOME="+home, "BROWSER="+browser,
		"MM_DEMO_USER="+DefaultUser, "MM_DEMO_PASSWORD="+DefaultPassword)
	cmd.Env = append(cmd.Env, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // one transcript
	r := &demoRun{cmd: cmd, lines: make(chan string, 1024), exit: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the demo: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.mu.Lock()
			r.out = append(r.out, sc.Text())
			r.mu.Unlock()
			select {
			case r.lines <- sc.Text():
			default: // the test stopped reading; the transcript keeps it
			}
		}
		close(r.lines)
		r.exit <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return r
}

var (
	imapLine     = regexp.MustCompile(`IMAP server\s+imap://(\S+)`)
	issuerLine   = regexp.MustCompile(`sign-in server\s+http://(\S+)`)
	redirectLine = regexp.MustCompile(`redirect\s+http://localhost:(\d+)/`)
	signedInLine = regexp.MustCompile(`^Signed in`)
	liveSaved    = regexp.MustCompile(`^saved .*Invoice-LIVE-\d+.*\.pdf`)
)

// runDemoE2E drives the whole headless demo with browser as $BROWSER and checks that
// every file arrives exactly once, inside the destination, and that SIGTERM stops it all.
func runDemoE2E(t *testing.T, browser string, extraEnv ...string) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	cwd := filepath.Join(root, "work", "cwd")
	for _, d := range []string{home, cwd} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	escape := "/tmp/mailmover-demo-escape.csv"
	_, statErr := os.Stat(escape)
	escapeExisted := statErr == nil

	r := startHeadless(t, home, cwd, browser, extraEnv...)
	imapAddr := r.waitLine(t, imapLine, 60*time.Second)[1]
	issuer := r.waitLine(t, issuerLine, 5*time.Second)[1]
	redirectPort := r.waitLine(t, redirectLine, 5*time.Second)[1]
	r.waitLine(t, signedInLine, 120*time.Second)
	// The sample mail is saved first, then a live message proves IDLE pickup.
	r.waitLine(t, liveSaved, 60*time.Second)

	// Stop with SIGTERM: prompt, clean exit, nothing left listening.
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-r.exit:
		if err != nil {
			t.Errorf("the demo exited with %v after SIGTERM:\n%s", err, r.transcript())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the demo did not exit within 15s of SIGTERM:\n%s", r.transcript())
	}
	for _, a := range []string{imapAddr, issuer, net.JoinHostPort("127.0.0.1", redirectPort)} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the demo exited", a)
		}
	}
	transcript := r.transcript()
	if !strings.Contains(transcript, "Demo stopped") {
		t.Errorf("no clean stop reported:\n%s", transcript)
	}

	// Every file once: as many files as "saved" lines, no two with the same content, all
	// inside the destination, the hostile names included.
	dest := filepath.Join(cwd, DefaultDestFolder)
	hashes := map[string]string{}
	var files []string
	err := filepath.WalkDir(dest, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])
		if prev, dup := hashes[h]; dup {
			t.Errorf("%s and %s have the same content: a message was saved twice", prev, p)
		}
		hashes[h] = p
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatalf("walk the destination: %v", err)
	}
	saved := 0
	for _, l := range strings.Split(transcript, "\n") {
		if strings.HasPrefix(l, "saved ") {
			saved++
		}
	}
	if len(files) != saved {
		t.Errorf("%d files in %s, but %d saved lines:\n%s\nfiles: %q", len(files), dest, saved, transcript, files)
	}
	if len(files) < 15 {
		t.Errorf("only %d files arrived; the sample mail alone has more attachments: %q", len(files), files)
	}
	var rechnung bool
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "Rechnung") {
			rechnung = true
		}
		if strings.HasSuffix(f, ".tmp") || strings.Contains(filepath.Base(f), ".mailmover-") {
			t.Errorf("a temporary file was left behind: %s", f)
		}
	}
	if !rechnung {
		t.Errorf("the hostile \"../../Rechnung März 2026?.pdf\" did not arrive inside %s: %q", dest, files)
	}
	// Nothing outside the destination: the temp root holds only home, the destination
	// and the empty cwd around it.
	_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(p, dest+string(filepath.Separator)) || strings.HasPrefix(p, home+string(filepath.Separator)) {
			return nil
		}
		t.Errorf("file written outside the destination: %s", p)
		return nil
	})
	if _, err := os.Stat(escape); err == nil && !escapeExisted {
		t.Errorf("the absolute name %s escaped the destination", escape)
	}
}

// TestDemoHeadlessEndToEnd builds the program and runs `mailmover demo -headless` with
// this test binary as the browser (it fills the login form over HTTP).
func TestDemoHeadlessEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and runs it: not in -short mode")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(self, ":") {
		t.Skipf("test binary path %q contains ':', which $BROWSER cannot hold", self)
	}
	runDemoE2E(t, self, fakeBrowserEnv+"=1")
}

// TestDemoHeadlessWithChromium is the same with Debian's chromium driven by
// testenv/browser-login.mjs, typing the demo credentials into the sign-in page.
func TestDemoHeadlessWithChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and runs a browser: not in -short mode")
	}
	script, err := filepath.Abs(filepath.Join("..", "testenv", "browser-login.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	if _, err := os.Stat(script); err != nil {
		missing = append(missing, script)
	}
	if _, err := os.Stat(filepath.Join("..", "testenv", "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "testenv/node_modules/playwright-core (run scripts/setup.sh)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}
	if strings.ContainsAny(node+script, " :") {
		missing = append(missing, "a node and script path without spaces or ':' (they cannot be quoted in $BROWSER)")
	}
	if len(missing) > 0 {
		msg := "browser test parts missing: " + strings.Join(missing, ", ")
		if testenv.RequireReal() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	runDemoE2E(t, node+" "+script,
		"MM_OIDC_USER="+DefaultUser, "MM_OIDC_PASSWORD="+DefaultPassword)
}
