package ui

import (
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/mover"
	"mailmover/store"
)

// scaledTheme is fyne's default theme (the one the window uses) with every size — text,
// padding, icons — multiplied, as a larger text setting does.
type scaledTheme struct {
	fyne.Theme
	factor float32
}

func (s scaledTheme) Size(n fyne.ThemeSizeName) float32 { return s.Theme.Size(n) * s.factor }

// useLanguage switches the window's texts to code for the test and back afterwards.
func useLanguage(t *testing.T, code string) {
	t.Helper()
	t.Cleanup(loadTranslations) // runs after the environment is restored below
	for _, env := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		t.Setenv(env, os.Getenv(env)) // restored when the test ends
		if env != "LANGUAGE" {
			os.Unsetenv(env)
		}
	}
	applyLanguage(code)
	if got := uiLanguage(); got != code {
		t.Fatalf("language %q, want %q", got, code)
	}
}

// newThemedHarness is newHarness with the theme th applied before the window is built, in
// a 1024×768 window.
func newThemedHarness(t *testing.T, th fyne.Theme) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	test.ApplyTheme(t, th)
	be := newFakeBackend(t)
	h := &harness{t: t, app: a, be: be, q: make(chan func(), 4096)}
	br := &bridge{do: func(f func()) { h.q <- f }}
	h.win = test.NewWindow(nil)
	h.v = newView(a, h.win, be, br)
	h.win.SetContent(h.v.content())
	h.win.Resize(fyne.NewSize(1024, 768))
	t.Cleanup(func() {
		h.v.cancel()
		h.win.Close()
	})
	return h
}

// TestWindowFits1024x768AllTabs builds the window with fyne's real theme, in English and
// German, in its busiest state (a profile, the problem bar, a pass with its progress bar)
// and checks that every tab fits 1024×768: at normal size, with all theme sizes (text,
// padding, icons) 1.25 times larger, and at fyne's scale 1.25 (FYNE_SCALE, the app-wide
// size setting: 1024×768 pixels are 819×614 units then).
func TestWindowFits1024x768AllTabs(t *testing.T) {
	for _, code := range []string{"en", "de"} {
		for _, c := range []struct {
			name          string
			factor, scale float32
		}{{"normal", 1, 1}, {"text-1.25", 1.25, 1}, {"scale-1.25", 1, 1.25}} {
			t.Run(code+"-"+c.name, func(t *testing.T) {
				useLanguage(t, code)
				h := newThemedHarness(t, scaledTheme{Theme: theme.DefaultTheme(), factor: c.factor})
				limit := fyne.NewSize(1024/c.scale, 768/c.scale)
				h.win.Resize(limit)
				h.newProfile("invoices-contoso-example")
				v := h.v
				// The problem bar: a field left invalid.
				test.Type(v.setup.port, "x")
				v.revalidate()
				v.updateActions()
				if !v.act.problemBox.Visible() {
					t.Fatal("the problem bar is not shown for an invalid port")
				}
				// The Log tab during a pass over a backlog: counters, progress bar, status.
				for _, ev := range sampleEvents(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)) {
					v.log.model.add(ev)
				}
				v.log.flush()
				if !v.log.progressBox.Visible() {
					t.Fatal("the progress bar is not shown during the pass")
				}
				// The overview with profiles of another process, one paused with its advice.
				fillOverview(t, h)
				for i, it := range v.tabs.Items {
					v.tabs.SelectIndex(i)
					if s := it.Content.MinSize(); s.Width > limit.Width || s.Height > limit.Height {
						t.Errorf("tab %q alone needs %v", it.Text, s)
					}
					s := h.win.Content().MinSize()
					if s.Width > limit.Width || s.Height > limit.Height {
						t.Errorf("with tab %q the window needs %v: more than %v", it.Text, s, limit)
					}
					if i == 0 {
						t.Logf("window minimum %v", s)
					}
				}
				// The buttons of the action bar are all on screen.
				for _, b := range []*widget.Button{v.act.save, v.act.check, v.act.start, v.act.stop} {
					if p := fyne.CurrentApp().Driver().AbsolutePositionForObject(b); p.X+b.Size().Width > limit.Width {
						t.Errorf("button %q ends at %v, past the window's edge", b.Text, p.X+b.Size().Width)
					}
				}
			})
		}
	}
}

// fillOverview saves three profiles with long names whose status files say another
// process runs them, one paused with a long reason and advice, and shows them.
func fillOverview(t *testing.T, h *harness) {
	t.Helper()
	now := time.Now()
	for i, n := range []string{"invoices-contoso-example-long", "reports-fabrikam-example-long", "scans-northwind-example-long"} {
		p := store.DefaultProfile(n)
		p.Setup.Host, p.Setup.Username, p.OAuth2.ClientID = "outlook.office365.com", n+"@contoso.example", "11111111-2222-3333-4444-555555555555"
		p.Destination.Folder = t.TempDir()
		if err := store.SaveProfile(h.be.home, p); err != nil {
			t.Fatal(err)
		}
		st := mover.Status{Profile: n, State: mover.StateIdle, Since: now, Updated: now, PID: 999999, Front: "service", Day: now.Format(time.DateOnly),
			LastFile: "/srv/mail-in/2026-11-28_Invoice-2026-1187-with-a-rather-long-name.pdf", LastFileTime: now,
			FilesToday: 12345, MessagesToday: 6789, BytesToday: 123_456_789, Backlog: 4711, FailedMessages: 3}
		if i == 2 {
			st.State = mover.StatePaused
			st.Reason = "paused: imap outlook.office365.com:993: sign-in (XOAUTH2): the refresh token was revoked or has lapsed (AADSTS700082); the server says: NO AUTHENTICATE failed"
			st.Advice = "Sign in again: GET on the OAuth2 tab, or mailmover login -profile " + n + "; if it keeps lapsing, the app's refresh tokens may be limited by a policy."
		}
		writeStatus(t, h.be.home, st)
	}
	h.v.overview.model.refresh()
	h.v.overview.model.poll(now)
	h.v.overview.flush()
	if len(h.v.overview.cards) < 3 || !h.v.overview.cards["scans-northwind-example-long"].problem.Visible() {
		t.Fatal("the overview does not show the profiles")
	}
}
