package winetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailmover/internal/testenv"
)

// tempPrefix starts the mover's temporary files (mover.tempPrefix).
const tempPrefix = ".mailmover-tmp-"

// result is what a Windows program printed and how it ended.
type result struct {
	out  string
	code int
}

// run runs the Windows program exe under Wine with args, extra environment and stdin,
// and waits for it (at most timeout).
func run(t *testing.T, w testenv.WineEnv, timeout time.Duration, env []string, stdin, exe string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := w.Command(ctx, exe, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not end within %s:\n%s", exe, strings.Join(args, " "), timeout, out.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", exe, strings.Join(args, " "), err)
	}
	return result{out.String(), code}
}

// cli runs mailmover-cli.exe (the console build) and fails the test unless it exits 0.
func cli(t *testing.T, w testenv.WineEnv, env []string, stdin string, args ...string) string {
	t.Helper()
	r := run(t, w, 3*time.Minute, env, stdin, "mailmover-cli.exe", args...)
	if r.code != 0 {
		t.Fatalf("mailmover-cli.exe %s: exit %d\n%s", strings.Join(args, " "), r.code, r.out)
	}
	return r.out
}

// mailWith makes a message with base64 attachments (name → content).
func mailWith(id string, files ...[2]string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender@example.com\r\nTo: in@example.com\r\nSubject: wine %s\r\n"+
		"Message-ID: <wine-%s@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n", id, id)
	for _, f := range files {
		fmt.Fprintf(&b, "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=%q\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n", f[0], base64.StdEncoding.EncodeToString([]byte(f[1])))
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

// randomContent returns n bytes of printable random content, unique per call.
func randomContent(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// profile writes a password profile for Dovecot's mailbox with Windows paths: the home
// (MAILMOVER_HOME), the CA file and the destination are on Wine's Z: drive. It returns
// the environment for the program.
func profile(t *testing.T, d testenv.DovecotEnv, home, name, mailbox, dest string) []string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(home, "profiles"), 0o700); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf(`[setup]
host = %q
port = %d
username = %q
folder = %q
[security]
tls = "implicit"
auth = "password"
ca_file = %q
[common]
search = "unseen"
attachment_mask = "*.pdf"
after = "seen"
[destination]
folder = %q
on_conflict = "rename"
`, d.Host, d.IMAPSPort, d.User, mailbox, testenv.WinPath(d.CAFile), testenv.WinPath(dest))
	if err := os.WriteFile(filepath.Join(home, "profiles", name+".toml"), []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"MAILMOVER_HOME=" + testenv.WinPath(home), "LANG=C.UTF-8", "LANGUAGE=en_US"}
}

// setPassword stores Dovecot's password for profile in Wine's Credential Manager and
// removes it when the test ends.
func setPassword(t *testing.T, w testenv.WineEnv, env []string, name, password string) {
	t.Helper()
	cli(t, w, env, password+"\n", "secret", "set", "-profile", name, "password")
	t.Cleanup(func() {
		run(t, w, time.Minute, env, "", "mailmover-cli.exe", "secret", "delete", "-profile", name, "password")
	})
}

// contents maps the SHA-256 of each file under dir to its names; temporary files of the
// mover are returned apart.
func contents(t *testing.T, dir string) (map[string][]string, []string) {
	t.Helper()
	byHash, temps := map[string][]string{}, []string(nil)
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(e.Name(), tempPrefix) {
			temps = append(temps, rel)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		byHash[hex.EncodeToString(h[:])] = append(byHash[hex.EncodeToString(h[:])], rel)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return byHash, temps
}

// placedFiles counts the files in dir that are not temporary files (cheap enough to
// poll).
func placedFiles(dir string) int {
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), tempPrefix) {
			n++
		}
	}
	return n
}

// exactlyOnce fails unless every wanted content is in dir exactly once, nothing else
// is there, and no temporary file is left.
func exactlyOnce(t *testing.T, dir string, want []string) {
	t.Helper()
	got, temps := contents(t, dir)
	if len(temps) > 0 {
		t.Errorf("temporary files left in the destination: %v", temps)
	}
	seen := map[string]bool{}
	for _, c := range want {
		h := sha256.Sum256([]byte(c))
		k := hex.EncodeToString(h[:])
		seen[k] = true
		switch n := len(got[k]); {
		case n == 0:
			t.Errorf("a file (%d bytes) is missing", len(c))
		case n > 1:
			t.Errorf("a file is there %d times: %v", n, got[k])
		}
	}
	for k, names := range got {
		if !seen[k] {
			t.Errorf("unexpected file(s) %v", names)
		}
	}
}

// unseen counts the messages in mailbox without \Seen.
func unseen(t *testing.T, d testenv.DovecotEnv, mailbox string) int {
	t.Helper()
	c := d.Dial(t)
	if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := c.Search(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return len(data.AllSeqNums())
}

// TestCommandsUnderWine: version; secret set into the Credential Manager; check and
// run -once against Dovecot with Windows paths; every file exactly once, including
// names that are one file on Windows (Invoice.pdf, invoice.pdf), reserved device names
// and trailing dots; a second run -once moves nothing again.
func TestCommandsUnderWine(t *testing.T) {
	w := testenv.Wine(t)
	d := testenv.Dovecot(t)

	out := cli(t, w, nil, "", "version")
	if !strings.Contains(out, "windows/amd64") {
		t.Fatalf("version does not say windows/amd64: %q", out)
	}

	home, dest := t.TempDir(), filepath.Join(t.TempDir(), "in box")
	mailbox := d.NewMailbox(t, "wine")
	name := "wine" + strconv.FormatInt(time.Now().UnixNano()%1_000_000, 10)
	env := profile(t, d, home, name, mailbox, dest)
	setPassword(t, w, env, name, d.Password)
	filepath.WalkDir(home, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(d.Password)) {
				t.Errorf("the password is in %s", p)
			}
		}
		return nil
	})

	var want []string
	var msgs [][]byte
	for i, names := range [][]string{
		{"Invoice.pdf", "report.pdf"},
		{"invoice.pdf"}, // one name with Invoice.pdf on Windows: saved as "invoice (2).pdf"
		{"CON.pdf", "trailing dots.pdf..."},
		{"INVOICE.PDF", "a/../../escape.pdf"},
	} {
		var files [][2]string
		for _, n := range names {
			c := fmt.Sprintf("%%PDF %s #%d %s", n, i, randomContent(64))
			files = append(files, [2]string{n, c})
			want = append(want, c)
		}
		msgs = append(msgs, mailWith(fmt.Sprint(i), files...))
	}
	d.Append(t, mailbox, msgs...)

	out = cli(t, w, env, "", "check", "-profile", name)
	if !strings.Contains(out, "OK") {
		t.Errorf("check does not say OK:\n%s", out)
	}
	out = cli(t, w, env, "", "run", "-profile", name, "-once")
	exactlyOnce(t, dest, want)
	if n := unseen(t, d, mailbox); n != 0 {
		t.Errorf("%d messages are still unseen after run -once\n%s", n, out)
	}
	entries, _ := os.ReadDir(dest)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	t.Logf("destination after run -once: %q", names)
	for _, n := range names {
		base := strings.ToUpper(strings.SplitN(n, ".", 2)[0])
		if base == "CON" || strings.HasSuffix(n, ".") || strings.HasSuffix(n, " ") {
			t.Errorf("unsafe name %q in the destination", n)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dest), "escape.pdf")); err == nil {
		t.Errorf("a file was written outside the destination")
	}

	// Mark everything unread again: the state keeps it from being moved twice.
	c := d.Dial(t)
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsDel, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
	cli(t, w, env, "", "run", "-profile", name, "-once")
	exactlyOnce(t, dest, want)
}

// TestKill9UnderWine: run -once is killed with SIGKILL while it saves a backlog (in its
// second batch), then started again: every file is there exactly once and no temporary
// file is left. Under Wine the process that exec.Cmd started is the Windows program
// itself (wine64 execs it), so the kill is not softened by a launcher.
func TestKill9UnderWine(t *testing.T) {
	w := testenv.Wine(t)
	d := testenv.Dovecot(t)
	home, dest := t.TempDir(), filepath.Join(t.TempDir(), "in")
	mailbox := d.NewMailbox(t, "winekill")
	name := "winekill" + strconv.FormatInt(time.Now().UnixNano()%1_000_000, 10)
	env := profile(t, d, home, name, mailbox, dest)
	setPassword(t, w, env, name, d.Password)

	const messages, size = 160, 192 << 10
	var want []string
	var msgs [][]byte
	for i := range messages {
		c := fmt.Sprintf("%%PDF %d %s", i, randomContent(size))
		want = append(want, c)
		msgs = append(msgs, mailWith(fmt.Sprint(i), [2]string{fmt.Sprintf("scan-%03d.pdf", i), c}))
	}
	d.Append(t, mailbox, msgs...)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := w.Command(ctx, "mailmover-cli.exe", "run", "-profile", name, "-once")
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	placed := 0
	tick := time.NewTicker(10 * time.Millisecond)
wait:
	for {
		select {
		case err := <-exited:
			t.Fatalf("run -once ended (%v) before the kill; make the backlog larger\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("no file was placed within 3 minutes\n%s", out.String())
		case <-tick.C:
			if placed = placedFiles(dest); placed >= 40 { // past the first batch of 32
				break wait
			}
		}
	}
	tick.Stop()
	if err := cmd.Process.Kill(); err != nil { // SIGKILL to the Windows process itself
		t.Fatal(err)
	}
	<-exited
	got, temps := contents(t, dest)
	t.Logf("killed with %d of %d files in place and %d temporary files", len(got), messages, len(temps))
	if len(got) == messages {
		t.Fatalf("every file was in place before the kill; make the backlog larger")
	}
	// The killed process is gone for wineserver too before the next one starts.
	w.ServerCommand(context.Background(), "-w").Run()

	cli(t, w, env, "", "run", "-profile", name, "-once")
	exactlyOnce(t, dest, want)
	if n := unseen(t, d, mailbox); n != 0 {
		t.Errorf("%d messages are still unseen after the restart", n)
	}
}

// startXvfb starts an X server of the test's own (the window tests of other packages
// grab the shared one's screen while this one runs) and returns its display.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x900x24", "-dpi", "96", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{wr}
	var logBuf bytes.Buffer
	cmd.Stderr = &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	wr.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 32)
		n, _ := r.Read(buf)
		got <- strings.TrimSpace(string(buf[:n]))
	}()
	select {
	case d := <-got:
		if d == "" {
			t.Fatalf("Xvfb did not report a display: %s", logBuf.String())
		}
		return ":" + d
	case <-time.After(15 * time.Second):
		t.Fatalf("Xvfb did not start: %s", logBuf.String())
	}
	return ""
}

// TestWindowUnderWine: the GUI build opens its window under Wine and Xvfb, on a profile
// whose destination has a drive letter; the screenshot is not blank.
func TestWindowUnderWine(t *testing.T) {
	w := testenv.Wine(t)
	testenv.Display(t) // the test environment has X; this test starts its own server
	for _, tool := range []string{"Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for the screenshot (scripts/setup.sh)", tool)
		}
	}
	display := startXvfb(t)
	// Wine's desktop process of earlier tests was started without this display: let the
	// prefix's processes end first.
	quiet, cancelQuiet := context.WithTimeout(context.Background(), 30*time.Second)
	w.ServerCommand(quiet, "-w").Run()
	cancelQuiet()
	home, priv := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(home, "profiles"), 0o700)
	err := os.WriteFile(filepath.Join(home, "profiles", "invoices.toml"), []byte(`[setup]
host = "outlook.office365.com"
port = 993
username = "invoices@contoso.example"
[oauth2]
preset = "microsoft"
client_id = "3f2b6c1e-8a4d-4e5f-9b7a-2c1d0e9f8a7b"
[destination]
folder = 'C:\mail-in\invoices'
filename = "{date}_{filename}"
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(priv, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := w.Command(ctx, "mailmover.exe")
	cmd.Env = append(cmd.Env, "DISPLAY="+display, "FYNE_SCALE=1", "LANG=C.UTF-8", "LANGUAGE=en_US",
		"MAILMOVER_HOME="+testenv.WinPath(home),
		"MAILMOVER_SCREENSHOT_TAB=destination", "MAILMOVER_SCREENSHOT_READY="+testenv.WinPath(ready))
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	for {
		b, _ := os.ReadFile(ready)
		if bytes.HasSuffix(b, []byte("\n")) {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the window ended before the screenshot: %v\n%s", err, logBuf.String())
		case <-deadline:
			t.Fatalf("the window did not become ready under Wine\n%s", logBuf.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	shot := filepath.Join(priv, "window.png")
	if out, err := exec.Command("import", "-display", display, "-window", "root", shot).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	os.Remove(ready) // the window quits
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the window exited with %v\n%s", err, logBuf.String())
		}
	case <-time.After(time.Minute):
		t.Errorf("the window did not quit after the screenshot\n%s", logBuf.String())
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := notBlank(img); err != nil {
		t.Fatalf("the window under Wine: %v", err)
	}
	if out := os.Getenv("MM_WINE_SHOT"); out != "" { // keep the picture to look at
		os.WriteFile(out, data, 0o644)
	}
}

// notBlank fails for a picture with few colours or one colour almost everywhere.
func notBlank(img image.Image) error {
	b := img.Bounds()
	counts := map[uint32]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			counts[(r>>8)<<16|(g>>8)<<8|bl>>8]++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	if len(counts) < 32 {
		return fmt.Errorf("blank: only %d distinct colours", len(counts))
	}
	if most*100 > b.Dx()*b.Dy()*97 {
		return fmt.Errorf("blank: one colour covers %d%% of the screen", most*100/(b.Dx()*b.Dy()))
	}
	return nil
}

func TestNotBlank(t *testing.T) {
	if notBlank(image.NewRGBA(image.Rect(0, 0, 64, 64))) == nil {
		t.Fatal("a blank picture passed")
	}
}

// TestInstallerUnderWine: the MSI installs silently (msiexec /qn) with both exes and a
// Start-menu entry, the installed console build runs, and a silent uninstall removes
// what was installed.
func TestInstallerUnderWine(t *testing.T) {
	w := testenv.Wine(t)
	if w.MSI == "" {
		msg := "no installer built (MM_WINDOWS_MSI is not set; make windows builds it)"
		if testenv.RequireReal() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := filepath.Join(w.DriveC(), "Program Files", "MailMover")
	// The Start-menu entry: per machine (ALLUSERS=1) under ProgramData on Windows; Wine 8's
	// msi puts it in the user's Start menu.
	menu := filepath.Join("Microsoft", "Windows", "Start Menu", "Programs", "MailMover.lnk")
	shortcut := func() string {
		links, _ := filepath.Glob(filepath.Join(w.DriveC(), "users", "*", "AppData", "Roaming", menu))
		for _, l := range append(links, filepath.Join(w.DriveC(), "ProgramData", menu)) {
			if _, err := os.Stat(l); err == nil {
				return l
			}
		}
		return ""
	}
	r := run(t, w, 3*time.Minute, nil, "", `C:\windows\system32\msiexec.exe`, "/i", testenv.WinPath(w.MSI), "/qn")
	if r.code != 0 {
		t.Fatalf("msiexec /i /qn: exit %d\n%s", r.code, r.out)
	}
	for _, p := range []string{filepath.Join(dir, "mailmover.exe"), filepath.Join(dir, "mailmover-cli.exe")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	if shortcut() == "" {
		t.Errorf("no Start-menu entry %s", menu)
	}
	r = run(t, w, time.Minute, nil, "", `C:\Program Files\MailMover\mailmover-cli.exe`, "version")
	if r.code != 0 || !strings.Contains(r.out, "windows/amd64") {
		t.Errorf("the installed mailmover-cli.exe version: exit %d\n%s", r.code, r.out)
	}
	r = run(t, w, 3*time.Minute, nil, "", `C:\windows\system32\msiexec.exe`, "/x", testenv.WinPath(w.MSI), "/qn")
	if r.code != 0 {
		t.Fatalf("msiexec /x /qn: exit %d\n%s", r.code, r.out)
	}
	for _, p := range []string{filepath.Join(dir, "mailmover.exe"), filepath.Join(dir, "mailmover-cli.exe"), dir, shortcut()} {
		if _, err := os.Stat(p); p != "" && err == nil {
			t.Errorf("still there after uninstall: %s", p)
		}
	}
}

// TestWindowsUnitTestsUnderWine cross-compiles the Windows tests of the mover's write
// path (package mover, TestWindows*) and of the store's paths (TestWindows*) and runs
// them under Wine. Each named test must have run and passed.
func TestWindowsUnitTestsUnderWine(t *testing.T) {
	w := testenv.Wine(t)
	for _, pkg := range []struct {
		dir   string
		tests []string
	}{
		{"mover", []string{"TestWindowsRenameNoReplace", "TestWindowsPlaceRenamesOnCaseCollision", "TestWindowsLongPaths", "TestWindowsPlaceAfterCrash"}},
		{"store", []string{"TestWindowsPaths"}},
	} {
		t.Run(pkg.dir, func(t *testing.T) {
			exe := filepath.Join(t.TempDir(), pkg.dir+".test.exe")
			build := exec.Command("go", "test", "-c", "-o", exe, "./"+pkg.dir)
			build.Dir = ".."
			build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("cross-compiling the %s tests: %v\n%s", pkg.dir, err, out)
			}
			r := run(t, w, 5*time.Minute, nil, "", exe, "-test.run", "^TestWindows", "-test.v")
			if r.code != 0 {
				t.Fatalf("%s tests under Wine: exit %d\n%s", pkg.dir, r.code, r.out)
			}
			for _, name := range pkg.tests {
				if !strings.Contains(r.out, "--- PASS: "+name+" ") {
					t.Errorf("%s did not run and pass under Wine\n%s", name, r.out)
				}
			}
		})
	}
}
