// Package uishot starts the real MailMover binary under Xvfb and takes a screenshot of
// each tab of the window (docs/img/tab-*.png, used in the README), and of the Overview
// with profiles running against an in-process IMAP server. It fails when a screenshot
// is blank. The test needs Xvfb, dbus-run-session, gnome-keyring-daemon and
// ImageMagick's import; without them it skips, unless MM_REQUIRE_REAL=1.
package uishot

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailmover/internal/memimap"
	"mailmover/store"
)

// shots are the pictures of the form: each tab in English, and the OAuth2 and Log tabs
// in German. The Overview's are taken by TestScreenshotOfOverviewWithProfilesRunning.
var shots = []struct{ tab, lang string }{
	{"setup", "en"}, {"security", "en"}, {"common", "en"}, {"oauth2", "en"}, {"destination", "en"}, {"log", "en"},
	{"oauth2", "de"}, {"log", "de"},
}

func requireTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"Xvfb", "dbus-run-session", "gnome-keyring-daemon", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MM_REQUIRE_REAL") == "1" {
				t.Fatalf("%s is missing (MM_REQUIRE_REAL=1): %v", tool, err)
			}
			t.Skipf("%s is missing: %v", tool, err)
		}
	}
}

// moduleRoot is the folder of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// startXvfb starts a private X server and returns its display (":N").
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x900x24", "-dpi", "96", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	var logBuf bytes.Buffer
	cmd.Stderr = &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
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

// sampleHome makes a MAILMOVER_HOME with one complete profile.
func sampleHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	p := store.DefaultProfile("invoices")
	p.Setup.Host = "outlook.office365.com"
	p.Setup.Username = "invoices@contoso.example"
	p.Common.Subject = "Invoice"
	p.Common.AttachmentMask = "*.pdf;*.xml"
	p.Common.After = store.AfterMove
	p.Common.MoveTo = "Archive/Invoices"
	p.OAuth2.ClientID = "3f2b6c1e-8a4d-4e5f-9b7a-2c1d0e9f8a7b"
	p.Destination.Folder = "/srv/mail-in"
	p.Destination.Filename = "{date}_{filename}"
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatalf("writing the sample profile: %v", err)
	}
	return home
}

// session is run inside dbus-run-session: a throw-away unlocked keyring (its own data
// and runtime folders, never the user's), the test passwords of MM_SHOT_PASSWORDS
// ("profile:password ..."; test accounts of the in-process server) stored into it with
// 'secret set', then the program.
const session = `#!/bin/sh
export XDG_RUNTIME_DIR="$PRIV/runtime" XDG_DATA_HOME="$PRIV/data"
mkdir -m 0700 -p "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME"
eval "$(printf mailmover-test | gnome-keyring-daemon --unlock --components=secrets | sed 's/^/export /')"
for pw in $MM_SHOT_PASSWORDS; do
  printf %s "${pw#*:}" | "$1" secret set -profile "${pw%%:*}" password || exit 1
done
unset MM_SHOT_PASSWORDS
"$@"
rc=$?
[ -n "$GNOME_KEYRING_PID" ] && kill "$GNOME_KEYRING_PID" 2>/dev/null
exit $rc
`

// shotEnv is what every picture runs with: the program, its X display, the session
// script and where the pictures go.
type shotEnv struct {
	bin, display, script, outDir string
}

// newShotEnv builds the program and prepares the display and the session script.
func newShotEnv(t *testing.T) shotEnv {
	t.Helper()
	requireTools(t)
	root := moduleRoot(t)
	tmp := t.TempDir()
	e := shotEnv{bin: filepath.Join(tmp, "mailmover"), script: filepath.Join(tmp, "session.sh"), outDir: filepath.Join(root, "docs", "img")}
	build := exec.Command("go", "build", "-o", e.bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	e.display = os.Getenv("MM_DISPLAY") // the Xvfb of `make test`, else our own
	if e.display == "" {
		e.display = startXvfb(t)
	}
	if err := os.WriteFile(e.script, []byte(session), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

// shoot starts the window on home showing tab in lang (with env added), grabs the
// screen once it is ready, checks the picture is not blank and saves it as
// docs/img/NAME.png.
func (e shotEnv) shoot(t *testing.T, home, tab, lang, name string, env ...string) {
	t.Helper()
	locale := "LANG=C.UTF-8"
	if lang != "en" {
		locale = "LANG=de_DE.UTF-8"
	}
	priv := t.TempDir()
	ready := filepath.Join(priv, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dbus-run-session", "--", e.script, e.bin)
	cmd.Env = append(os.Environ(),
		"DISPLAY="+e.display, "FYNE_SCALE=1", "FYNE_THEME=dark", locale, "LANGUAGE="+lang, "LC_ALL=", "LC_MESSAGES=",
		"MAILMOVER_HOME="+home, "PRIV="+priv,
		"MAILMOVER_SCREENSHOT_TAB="+tab, "MAILMOVER_SCREENSHOT_READY="+ready)
	cmd.Env = append(cmd.Env, env...)
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the program: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	w, h := waitReady(t, ready, exited, &logBuf)
	shot := filepath.Join(priv, "tab.png")
	grab := exec.Command("import", "-display", e.display, "-window", "root",
		"-crop", fmt.Sprintf("%dx%d+0+0", w, h), "+repage", shot)
	if out, err := grab.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	_ = os.Remove(ready)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the program exited with %v\n%s", err, logBuf.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("the program did not quit after the screenshot\n%s", logBuf.String())
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkNotBlank(data); err != nil {
		t.Fatalf("screenshot of %s: %v", tab, err)
	}
	if err := os.WriteFile(filepath.Join(e.outDir, name+".png"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScreenshotsOfEachTab(t *testing.T) {
	e := newShotEnv(t)
	home := sampleHome(t)
	for _, shot := range shots {
		name := "tab-" + shot.tab
		if shot.lang != "en" {
			name += "-" + shot.lang
		}
		t.Run(name, func(t *testing.T) {
			e.shoot(t, home, shot.tab, shot.lang, name, "MAILMOVER_SCREENSHOT_SAMPLE=1")
		})
	}
}

// fleet are the Overview's profiles: three that run, one whose password is wrong.
var fleet = []struct {
	name, password string
	messages       int
}{{"invoices", "", 4}, {"reports", "", 2}, {"scans", "", 3}, {"archive", "not-the-password", 1}}

// fleetHome makes a MAILMOVER_HOME with the fleet's profiles on an in-process IMAP server
// (each its own user with mail), and returns it, the destinations and the passwords to
// store ("profile:password ...").
func fleetHome(t *testing.T) (home string, dests map[string]string, passwords string) {
	t.Helper()
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	home, dests = t.TempDir(), map[string]string{}
	var pws []string
	for _, f := range fleet {
		user, pw := f.name+"@contoso.example", "pw-"+f.name
		if err := srv.AddUser(user, pw); err != nil {
			t.Fatal(err)
		}
		for i := range f.messages {
			raw := fmt.Sprintf("From: billing@fabrikam.example\r\nSubject: %s %d\r\nMessage-ID: <%s-%d@fabrikam.example>\r\nMIME-Version: 1.0\r\n"+
				"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nattached\r\n"+
				"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"%s-2026-%04d.pdf\"\r\n\r\n%%PDF-1.4 %d\r\n--b--\r\n",
				f.name, i, f.name, i, strings.TrimSuffix(f.name, "s"), 1180+i, i)
			if _, err := srv.Append(user, "INBOX", []byte(raw)); err != nil {
				t.Fatal(err)
			}
		}
		p := store.DefaultProfile(f.name)
		p.Setup.Host, p.Setup.Port, p.Setup.Username = srv.Host(), srv.Port(), user
		p.Security.TLS, p.Security.Auth = store.TLSNone, store.AuthPassword
		p.OAuth2.Preset = store.PresetCustom
		p.Common.AttachmentMask = "*.pdf"
		dests[f.name] = filepath.Join(t.TempDir(), f.name)
		p.Destination.Folder = dests[f.name]
		if err := store.SaveProfile(home, p); err != nil {
			t.Fatalf("writing profile %s: %v", f.name, err)
		}
		if f.password != "" {
			pw = f.password
		}
		pws = append(pws, f.name+":"+pw)
	}
	return home, dests, strings.Join(pws, " ")
}

// The Overview with profiles running: the window starts every profile (Start all)
// against an in-process IMAP server; three move their mail (their files arrive), one
// with a wrong password is paused with its advice; the picture is taken once all settled.
func TestScreenshotOfOverviewWithProfilesRunning(t *testing.T) {
	e := newShotEnv(t)
	for _, lang := range []string{"en", "de"} {
		name := "tab-overview"
		if lang != "en" {
			name += "-" + lang
		}
		t.Run(name, func(t *testing.T) {
			home, dests, passwords := fleetHome(t)
			e.shoot(t, home, "overview", lang, name, "MAILMOVER_SCREENSHOT_START=all", "MM_SHOT_PASSWORDS="+passwords)
			for _, f := range fleet {
				entries, _ := os.ReadDir(dests[f.name])
				want := f.messages
				if f.password != "" {
					want = 0
				}
				if len(entries) != want {
					t.Errorf("%s: %d files in the destination, want %d", f.name, len(entries), want)
				}
			}
		})
	}
}

// waitReady waits until the window reports that the tab is rendered, and returns the
// window's size in pixels.
func waitReady(t *testing.T, ready string, exited <-chan error, logBuf *bytes.Buffer) (int, int) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			t.Fatalf("the program ended before the screenshot: %v\n%s", err, logBuf.String())
		case <-deadline:
			t.Fatalf("the window did not become ready\n%s", logBuf.String())
		case <-tick.C:
			b, err := os.ReadFile(ready)
			if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
				continue
			}
			f := strings.Fields(string(b))
			if len(f) != 2 {
				t.Fatalf("bad ready file %q", b)
			}
			w, _ := strconv.Atoi(f[0])
			h, _ := strconv.Atoi(f[1])
			if w < 400 || h < 300 {
				t.Fatalf("window too small: %dx%d", w, h)
			}
			return w, h
		}
	}
}

// checkNotBlank fails for an image with too few colours or one colour nearly everywhere.
func checkNotBlank(data []byte) error {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not a PNG: %w", err)
	}
	return colourCheck(img)
}

func colourCheck(img image.Image) error {
	b := img.Bounds()
	counts := map[uint32]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			counts[(r>>8)<<16|(g>>8)<<8|bl>>8]++
		}
	}
	total, most := b.Dx()*b.Dy(), 0
	for _, n := range counts {
		most = max(most, n)
	}
	if len(counts) < 32 {
		return fmt.Errorf("blank: only %d distinct colours", len(counts))
	}
	if most*100 > total*97 {
		return fmt.Errorf("blank: one colour covers %d%% of the picture", most*100/total)
	}
	return nil
}

func TestColourCheck(t *testing.T) {
	blank := image.NewRGBA(image.Rect(0, 0, 100, 100))
	if colourCheck(blank) == nil {
		t.Fatal("a blank image passed")
	}
}
