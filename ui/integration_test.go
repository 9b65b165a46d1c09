package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mailmover/internal/memimap"
	"mailmover/mover"
	"mailmover/store"
)

// realHarness is a window on the real backend (temp home, memory secrets) next to an
// in-process IMAP server holding n messages with one PDF each.
func realHarness(t *testing.T, n int) (*harness, string) {
	t.Helper()
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser("u@example.com", "pw-777"); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		raw := fmt.Sprintf("From: billing@example.com\r\nSubject: Invoice %d\r\nMessage-ID: <m%d@x>\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"+
			"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice-%d.pdf\"\r\n\r\npdf %d\r\n--b--\r\n", i, i, i, i)
		if _, err := srv.Append("u@example.com", "INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.CreateFolder("u@example.com", "Archive"); err != nil {
		t.Fatal(err)
	}

	a := test.NewTempApp(t)
	home := t.TempDir()
	sec := store.NewMemorySecrets()
	be := &fakeBackend{Backend: NewBackendWith(home, sec, nil), home: home, sec: sec}
	h := &harness{t: t, app: a, be: be, q: make(chan func(), 4096)}
	br := &bridge{do: func(f func()) { h.q <- f }}
	h.win = test.NewWindow(nil)
	h.v = newView(a, h.win, be.Backend, br) // the real backend, no hooks
	h.win.SetContent(h.v.content())
	h.win.Resize(fyne.NewSize(1000, 760))
	t.Cleanup(func() {
		h.v.cancel()
		h.win.Close()
	})

	// The user fills in a password profile for the server, as they would in the window.
	dest := filepath.Join(t.TempDir(), "in")
	v := h.v
	v.profiles.startNew(store.DefaultProfile("local"))
	v.setup.preset.SetSelected("Custom")
	v.security.tls.SetSelected(labelOf(tlsLabels, tlsValues, store.TLSNone))
	v.security.auth.SetSelected(labelOf(authLabels, authValues, store.AuthPassword))
	v.setup.host.SetText(srv.Host())
	v.setup.port.SetText(fmt.Sprint(srv.Port()))
	test.Type(v.setup.username, "u@example.com")
	test.Type(v.security.password, "pw-777")
	test.Type(v.dest.folder, dest)
	if f, err := v.firstInvalid(); f != nil {
		t.Fatalf("profile invalid: %s: %v", f.label, err)
	}
	return h, dest
}

func TestRealBackendCheckStartStop(t *testing.T) {
	h, dest := realHarness(t, 3)
	v := h.v

	// Check: the same check as `mailmover check`, on the typed (unsaved) password.
	test.Tap(v.act.check)
	h.waitFor("check", func() bool { return !v.act.checking })
	if !strings.Contains(v.lastDialog, "3 messages match") || strings.Contains(v.lastDialog, "pw-777") {
		t.Fatalf("check said:\n%s", v.lastDialog)
	}

	// Save, then Start: the mover moves the three PDFs; the log and counters show it.
	test.Tap(v.act.save)
	h.waitFor("save", func() bool { return !v.isNew && !v.dirty })
	if got, _ := h.be.sec.Get("local", store.SecretPassword); got != "pw-777" {
		t.Fatalf("password not in the keyring: %q", got)
	}
	test.Tap(v.act.start)
	l := v.log
	h.waitFor("three files and idle", func() bool {
		return l.files.Text == "3" && strings.HasPrefix(l.status.Text, "Idle")
	})
	saved := 0
	for _, ev := range l.entries {
		if ev.Kind == mover.KindFileSaved {
			saved++
			if !strings.HasPrefix(ev.Path, dest) {
				t.Errorf("saved outside the destination: %s", ev.Path)
			}
		}
	}
	if saved != 3 || l.messages.Text != "3" || l.errors.Text != "0" {
		t.Errorf("log: %d saved lines, counters %s/%s/%s", saved, l.messages.Text, l.files.Text, l.errors.Text)
	}
	for i := range 3 {
		if b, err := os.ReadFile(filepath.Join(dest, fmt.Sprintf("invoice-%d.pdf", i))); err != nil || string(b) != fmt.Sprintf("pdf %d", i) {
			t.Errorf("invoice-%d.pdf: %q %v", i, b, err)
		}
	}
	test.Tap(v.act.stop)
	h.waitFor("stop", func() bool { return !v.running() })
	if l.status.Text != "Stopped" {
		t.Errorf("status after Stop = %q", l.status.Text)
	}
}

func TestRealBackendLoadFolders(t *testing.T) {
	h, _ := realHarness(t, 0)
	test.Tap(h.v.setup.loadFolders)
	h.waitFor("folders", func() bool { return !h.v.setup.loadFolders.Disabled() })
	opts := strings.Join(h.v.setup.folderNames, ",")
	if !strings.Contains(opts, "INBOX") || !strings.Contains(opts, "Archive") {
		t.Errorf("folder options = %q (%s)", opts, h.v.lastDialog)
	}
}
