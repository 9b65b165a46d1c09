package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mailmover/internal/testenv"
	"mailmover/store"
)

// browserBackend is the real backend with a "browser" that signs in at the test
// provider's login page as a person would, then follows the redirect to the loopback
// listener, like a browser does.
type browserBackend struct {
	Backend
	browse func(authURL string)
}

func (b browserBackend) Login(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error) {
	open := opts.OpenBrowser
	opts.OpenBrowser = func(u string) error {
		if open != nil {
			if err := open(u); err != nil { // the window's opener (fyne's OpenURL)
				return err
			}
		}
		go b.browse(u)
		return nil
	}
	return b.Backend.Login(ctx, p, sec, opts)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestWindowAgainstRealServers is the "done means" with the real parts: the user
// fills the form, clicks GET and signs in at the OpenID provider, clicks Save and Start,
// and watches the file from Dovecot arrive in the log.
func TestWindowAgainstRealServers(t *testing.T) {
	o := testenv.OIDC(t)
	d := testenv.Dovecot(t)
	folder := d.NewMailbox(t, "ui")
	d.Append(t, folder, []byte("From: billing@example.com\r\nTo: "+d.User+"\r\nSubject: Invoice 9\r\nMessage-ID: <ui9@x>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"+
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice-9.pdf\"\r\n\r\n%PDF-9\r\n--b--\r\n"))

	a := test.NewTempApp(t)
	home := t.TempDir()
	sec := store.NewMemorySecrets()
	real := NewBackendWith(home, sec, nil)
	browsed := make(chan error, 1)
	be := browserBackend{Backend: real, browse: func(authURL string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		loc, err := o.SignIn(ctx, authURL)
		if err == nil {
			var resp *http.Response
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
			if resp, err = http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("the callback answered %s", resp.Status)
				}
			}
		}
		browsed <- err
	}}
	h := &harness{t: t, app: a, q: make(chan func(), 4096), timeout: 45 * time.Second}
	br := &bridge{do: func(f func()) { h.q <- f }}
	h.win = test.NewWindow(nil)
	h.v = newView(a, h.win, be, br)
	h.win.SetContent(h.v.content())
	h.win.Resize(fyne.NewSize(1000, 760))
	t.Cleanup(func() { h.v.cancel(); h.win.Close() })
	v := h.v

	dest := filepath.Join(t.TempDir(), "in")
	port := freePort(t)
	v.profiles.startNew(store.DefaultProfile("real"))
	v.setup.preset.SetSelected("Custom")
	v.setup.host.SetText(d.Host)
	v.setup.port.SetText(fmt.Sprint(d.IMAPSPort))
	test.Type(v.setup.username, o.User)
	v.setup.folder.SetText(folder)
	v.security.caFile.SetText(d.CAFile)
	v.oauth.authURL.SetText(o.AuthURL())
	v.oauth.tokenURL.SetText(o.TokenURL())
	test.Type(v.oauth.clientID, o.NativeClientID)
	v.oauth.scope.SetText(strings.Join(testenv.Scopes, " "))
	v.oauth.redirectURI.SetText(fmt.Sprintf("http://127.0.0.1:%d/callback", port))
	test.Type(v.dest.folder, dest)
	if f, err := v.firstInvalid(); f != nil {
		t.Fatalf("form invalid: %s: %v", f.label, err)
	}
	if v.oauth.redirectPort.Text != fmt.Sprint(port) {
		t.Fatalf("redirect port not in step: %q", v.oauth.redirectPort.Text)
	}

	// GET: the sign-in in the "browser".
	test.Tap(v.oauth.get)
	h.waitFor("the sign-in", func() bool { return !v.loginRunning() })
	select {
	case err := <-browsed:
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the browser was not opened")
	}
	if v.oauth.tokenState.Text != "Refresh token: held" {
		t.Fatalf("after GET: %q / %q (dialog %q)", v.oauth.tokenState.Text, v.oauth.getResult.Text, v.lastDialog)
	}
	if rt, err := sec.Get("real", store.SecretRefreshToken); err != nil || rt == "" {
		t.Fatalf("no refresh token stored: %v", err)
	}
	if strings.Contains(v.oauth.expiry.Text+v.oauth.getResult.Text, must(sec.Get("real", store.SecretRefreshToken))) {
		t.Fatal("a token value is shown in the window")
	}

	// Save and Start: the mover signs in to Dovecot with XOAUTH2 and saves the PDF.
	test.Tap(v.act.save)
	h.waitFor("save", func() bool { return !v.isNew && !v.dirty })
	test.Tap(v.act.start)
	h.waitFor("the file in the log", func() bool { return v.log.files.Text == "1" || v.log.errors.Text != "0" })
	if v.log.errors.Text != "0" {
		for _, ev := range v.log.entries {
			t.Log(eventText(ev))
		}
		t.Fatalf("the run had errors\n%s", d.LogTail(20))
	}
	if b, err := os.ReadFile(filepath.Join(dest, "invoice-9.pdf")); err != nil || string(b) != "%PDF-9" {
		t.Errorf("saved file: %q, %v", b, err)
	}
	test.Tap(v.act.stop)
	h.waitFor("stop", func() bool { return !v.running() })
}

func must(s string, err error) string {
	if err != nil && !errors.Is(err, store.ErrNoSecret) {
		panic(err)
	}
	if s == "" {
		return "\x00never"
	}
	return s
}
