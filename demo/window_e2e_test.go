package demo

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailmover/demo/signin"
	"mailmover/internal/testenv"
)

// TestDemoWindowServesAndStops is the README's first command as a user runs it: `make
// demo` is `mailmover demo`, the window on the built-in servers. Under Xvfb it must print
// the servers' addresses, serve IMAP and the sign-in server on them, and on SIGTERM
// close the window and leave nothing listening.
func TestDemoWindowServesAndStops(t *testing.T) {
	display := testenv.Display(t)
	root := t.TempDir()
	home, cwd := filepath.Join(root, "home"), filepath.Join(root, "cwd")
	for _, d := range []string{home, cwd} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	r := startDemoProcess(t, home, cwd, "/bin/false",
		[]string{"demo", "-interval", "0", "-redirect-port", strconv.Itoa(port)}, "DISPLAY="+display)
	imapAddr := r.waitLine(t, imapLine, 90*time.Second)[1]
	issuer := r.waitLine(t, issuerLine, 10*time.Second)[1]
	r.waitLine(t, regexp.MustCompile(`^Opening the window`), 10*time.Second)

	// The IMAP server greets.
	c, err := net.DialTimeout("tcp", imapAddr, 5*time.Second)
	if err != nil {
		t.Fatalf("IMAP server %s: %v", imapAddr, err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	greeting, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if err != nil || !strings.HasPrefix(greeting, "* OK") {
		t.Fatalf("IMAP greeting %q, %v", greeting, err)
	}
	// The sign-in server answers its metadata document (RFC 8414).
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + issuer + signin.PathMetadata)
	if err != nil {
		t.Fatalf("sign-in server: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %s", resp.Status)
	}
	// The profile is written.
	if _, err := os.Stat(filepath.Join(home, "profiles", "demo.toml")); err != nil {
		t.Errorf("demo profile: %v", err)
	}

	// Let the window open and settle, as a person would look at it before quitting:
	// fyne 2.7.1 can crash when its window is destroyed while GLFW still delivers the
	// first pointer events of a window that has just appeared under the pointer.
	time.Sleep(3 * time.Second)
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.exit:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, r.transcript())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the window did not close within 30s of SIGTERM:\n%s", r.transcript())
	}
	for _, a := range []string{imapAddr, issuer} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the demo exited", a)
		}
	}
}
