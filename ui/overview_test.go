package ui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mailmover/internal/memimap"
	"mailmover/mover"
	"mailmover/store"
)

// fleetProfile is a profile of fleetHarness: its mailbox user and password on the server,
// the password stored for it in the keyring, and whether it is switched off.
type fleetProfile struct {
	name, password string // password: the one stored ("" = the right one)
	off            bool
	messages       int
}

// fleetHarness is a window on the real backend (temp home, memory secrets) with saved
// password profiles, each for its own user on one in-process IMAP server holding
// messages with one PDF each (NAME-invoice-I.pdf). It returns the destination folders.
func fleetHarness(t *testing.T, profiles []fleetProfile) (*harness, *memimap.Server, map[string]string) {
	t.Helper()
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	home := t.TempDir()
	sec := store.NewMemorySecrets()
	dests := map[string]string{}
	for _, fp := range profiles {
		user := fp.name + "@example.com"
		if err := srv.AddUser(user, "pw-"+fp.name); err != nil {
			t.Fatal(err)
		}
		for i := range fp.messages {
			appendInvoice(t, srv, fp.name, i)
		}
		p := store.DefaultProfile(fp.name)
		p.Setup.Host, p.Setup.Port, p.Setup.Username = srv.Host(), srv.Port(), user
		p.Setup.Enabled = !fp.off
		p.Security.TLS, p.Security.Auth = store.TLSNone, store.AuthPassword
		p.OAuth2.Preset = store.PresetCustom
		dests[fp.name] = filepath.Join(t.TempDir(), fp.name)
		p.Destination.Folder = dests[fp.name]
		if err := store.SaveProfile(home, p); err != nil {
			t.Fatal(err)
		}
		pw := fp.password
		if pw == "" {
			pw = "pw-" + fp.name
		}
		if err := sec.Set(fp.name, store.SecretPassword, pw); err != nil {
			t.Fatal(err)
		}
	}
	a := test.NewTempApp(t)
	be := &fakeBackend{Backend: NewBackendWith(home, sec, nil), home: home, sec: sec}
	h := &harness{t: t, app: a, be: be, q: make(chan func(), 4096)}
	br := &bridge{do: func(f func()) { h.q <- f }}
	h.win = test.NewWindow(nil)
	h.v = newView(a, h.win, be.Backend, br) // the real backend, no hooks
	h.win.SetContent(h.v.content())
	h.win.Resize(fyne.NewSize(1024, 768))
	t.Cleanup(func() {
		h.v.stopAll(nil)
		h.waitFor("every mover to stop", func() bool { return !h.v.running() })
		h.v.cancel()
		h.win.Close()
	})
	h.waitFor("the overview to list the profiles", func() bool { return len(h.v.overview.cards) == len(profiles) })
	return h, srv, dests
}

func appendInvoice(t *testing.T, srv *memimap.Server, name string, i int) {
	t.Helper()
	raw := fmt.Sprintf("From: billing@example.com\r\nSubject: Invoice %d\r\nMessage-ID: <%s-%d@x>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"+
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"%s-invoice-%d.pdf\"\r\n\r\npdf %d\r\n--b--\r\n",
		i, name, i, name, i, i)
	if _, err := srv.Append(name+"@example.com", "INBOX", []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

func fileThere(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// card returns profile's card of the overview.
func (h *harness) card(name string) *overviewCard {
	h.t.Helper()
	c := h.v.overview.cards[name]
	if c == nil {
		h.t.Fatalf("no card for %s (cards: %v)", name, h.v.overview.order)
	}
	return c
}

// Three profiles; two started from the overview run at once and their files arrive;
// one stopped, the other goes on with new mail; the cards show states and last files;
// the log shows one profile or all, with the profile in a column; Stop all ends the rest.
func TestOverviewRunsSeveralProfilesAtOnce(t *testing.T) {
	h, srv, dests := fleetHarness(t, []fleetProfile{{name: "invoices", messages: 2}, {name: "reports", messages: 3}, {name: "scans", messages: 1}})
	v := h.v
	if got := v.tabs.SelectedIndex(); tabKeys[got] != "overview" {
		t.Errorf("the window opens on tab %s, want the overview", tabKeys[got])
	}
	if c := h.card("scans"); c.state != "Not run yet" || c.start.Disabled() || !c.stop.Disabled() {
		t.Errorf("scans before any run: %q, start disabled %v, stop disabled %v", c.state, c.start.Disabled(), c.stop.Disabled())
	}
	test.Tap(h.card("invoices").start)
	test.Tap(h.card("reports").start)
	if got := v.runningNames(); !slices.Equal(got, []string{"invoices", "reports"}) {
		t.Fatalf("running after two Starts: %v", got)
	}
	idle := func(name string) bool { return strings.HasPrefix(h.card(name).state, "Idle") }
	h.waitFor("both idle with their files", func() bool {
		return idle("invoices") && idle("reports") &&
			fileThere(dests["invoices"], "invoices-invoice-1.pdf") && fileThere(dests["reports"], "reports-invoice-2.pdf")
	})
	// Both run at once: each is idle on its own connection while the other runs.
	if got := v.runningNames(); !slices.Equal(got, []string{"invoices", "reports"}) {
		t.Fatalf("running: %v", got)
	}
	for name, n := range map[string]int{"invoices": 2, "reports": 3} {
		c := h.card(name)
		if c.where != "in this window" || !c.start.Disabled() || c.stop.Disabled() {
			t.Errorf("%s: where %q, start disabled %v, stop disabled %v", name, c.where, c.start.Disabled(), c.stop.Disabled())
		}
		if want := fmt.Sprintf("last file %s-invoice-%d.pdf at ", name, n-1); !strings.Contains(c.detail.Text, want) ||
			!strings.Contains(c.detail.Text, fmt.Sprintf("today %d files, %d messages", n, n)) {
			t.Errorf("%s: detail %q, want %q and today's counts", name, c.detail.Text, want)
		}
		for i := range n {
			if b, err := os.ReadFile(filepath.Join(dests[name], fmt.Sprintf("%s-invoice-%d.pdf", name, i))); err != nil || string(b) != fmt.Sprint("pdf ", i) {
				t.Errorf("%s-invoice-%d.pdf: %q %v", name, i, b, err)
			}
		}
	}
	if entries, _ := os.ReadDir(dests["scans"]); len(entries) != 0 {
		t.Errorf("scans was not started but has %d files", len(entries))
	}
	if !strings.Contains(v.overview.summary.Text, "3 profiles · 2 running in this window") {
		t.Errorf("summary = %q", v.overview.summary.Text)
	}

	// Closing the window asks and names both.
	v.onClose()
	if !strings.Contains(v.lastDialog, "invoices, reports") || !v.running() {
		t.Errorf("close question %q (running %v)", v.lastDialog, v.running())
	}

	// The log: every profile, with its name in a column; then one profile.
	l := v.log
	v.selectTab("log")
	l.flush()
	profilesIn := func() []string {
		var ps []string
		for _, ev := range l.entries {
			if !slices.Contains(ps, ev.Profile) {
				ps = append(ps, ev.Profile)
			}
		}
		slices.Sort(ps)
		return ps
	}
	if got := profilesIn(); !slices.Equal(got, []string{"invoices", "reports"}) {
		t.Errorf("the log of all profiles shows %v", got)
	}
	if l.files.Text != "5" {
		t.Errorf("all profiles' files = %s, want 5", l.files.Text)
	}
	row := l.list.CreateItem()
	l.list.UpdateItem(0, row)
	if got := rowProfile(row); got != l.entries[0].Profile {
		t.Errorf("the profile column shows %q, want %q", got, l.entries[0].Profile)
	}
	l.showProfile("reports")
	if got := profilesIn(); !slices.Equal(got, []string{"reports"}) {
		t.Errorf("the log of reports shows %v", got)
	}
	if l.files.Text != "3" || l.messages.Text != "3" {
		t.Errorf("reports' counters: %s files, %s messages", l.files.Text, l.messages.Text)
	}
	l.showProfile("")
	if got := profilesIn(); len(got) != 2 {
		t.Errorf("all profiles again: %v", got)
	}

	// Stop one: the other goes on and moves new mail; the stopped one does not.
	test.Tap(h.card("invoices").stop)
	h.waitFor("invoices to stop", func() bool { return !v.runningProfile("invoices") })
	if !v.runningProfile("reports") {
		t.Fatal("stopping invoices stopped reports")
	}
	h.waitFor("invoices' card to say stopped", func() bool {
		c := h.card("invoices")
		return c.state == "Stopped" && c.where == "not running" && !c.start.Disabled()
	})
	appendInvoice(t, srv, "reports", 3)
	appendInvoice(t, srv, "invoices", 2)
	h.waitFor("reports' new file and card", func() bool {
		return fileThere(dests["reports"], "reports-invoice-3.pdf") && strings.Contains(h.card("reports").detail.Text, "last file reports-invoice-3.pdf")
	})
	if fileThere(dests["invoices"], "invoices-invoice-2.pdf") {
		t.Error("the stopped profile moved new mail")
	}

	// A third one started meanwhile; then Stop all ends both that run.
	test.Tap(h.card("scans").start)
	h.waitFor("scans idle with its file", func() bool { return idle("scans") && fileThere(dests["scans"], "scans-invoice-0.pdf") })
	if got := v.runningNames(); !slices.Equal(got, []string{"reports", "scans"}) {
		t.Fatalf("running before Stop all: %v", got)
	}
	test.Tap(v.overview.stopAll)
	h.waitFor("every mover to stop", func() bool { return !v.running() })
	if !v.overview.stopAll.Disabled() || v.overview.startAll.Disabled() {
		t.Errorf("after Stop all: Stop all disabled %v, Start all disabled %v", v.overview.stopAll.Disabled(), v.overview.startAll.Disabled())
	}
}

// rowProfile is the profile column of a rendered log row.
func rowProfile(row fyne.CanvasObject) string {
	left := row.(*fyne.Container).Objects[1].(*fyne.Container)
	return left.Objects[2].(*fyne.Container).Objects[0].(*widget.Label).Text
}

// fakeTray records the tray icons the window sets.
type fakeTray struct {
	mu    sync.Mutex
	icons []fyne.Resource
	menu  *fyne.Menu
}

func (f *fakeTray) SetSystemTrayMenu(m *fyne.Menu) { f.mu.Lock(); f.menu = m; f.mu.Unlock() }
func (f *fakeTray) SetSystemTrayIcon(r fyne.Resource) {
	f.mu.Lock()
	f.icons = append(f.icons, r)
	f.mu.Unlock()
}
func (f *fakeTray) SetSystemTrayWindow(fyne.Window) {}

func (f *fakeTray) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.icons) == 0 {
		return ""
	}
	if r := f.icons[len(f.icons)-1]; r != nil {
		return r.Name()
	}
	return "<nil>"
}

// A profile with a wrong password pauses with its advice, the others run; the tray shows
// the worst state and follows when the paused one stops; Start all leaves a profile that
// is switched off alone.
func TestOverviewWrongPasswordPausesAndTrayFollows(t *testing.T) {
	h, _, dests := fleetHarness(t, []fleetProfile{{name: "good", messages: 1}, {name: "bad", password: "wrong", messages: 1},
		{name: "off", off: true, messages: 1}})
	v := h.v
	tray := &fakeTray{}
	v.tray = tray
	v.updateTray()
	test.Tap(v.overview.startAll)
	if got := v.runningNames(); !slices.Equal(got, []string{"bad", "good"}) {
		t.Fatalf("Start all started %v, want bad and good (off is switched off)", got)
	}
	h.waitFor("bad paused, good idle", func() bool {
		return h.card("bad").state == "Paused — needs you" && strings.HasPrefix(h.card("good").state, "Idle")
	})
	bad := h.card("bad")
	if !bad.problem.Visible() || !strings.Contains(bad.problem.Text, "What to do: ") || strings.Contains(bad.problem.Text, "wrong") {
		t.Errorf("bad's problem line: visible %v, %q", bad.problem.Visible(), bad.problem.Text)
	}
	st, err := mover.ReadStatus(h.be.home, "bad")
	if err != nil || st.Advice == "" || !strings.Contains(bad.problem.Text, st.Advice) {
		t.Errorf("the card does not show the status's advice %q: %q (%v)", st.Advice, bad.problem.Text, err)
	}
	if !fileThere(dests["good"], "good-invoice-0.pdf") {
		t.Error("the good profile's file did not arrive")
	}
	if c := h.card("off"); c.state != "Not run yet" {
		t.Errorf("off: %q", c.state)
	}
	pause := pausedIcon().Name()
	if v.trayState != severityPaused || tray.last() != pause {
		t.Errorf("tray state %d, icon %q, want paused (%q)", v.trayState, tray.last(), pause)
	}
	if !strings.Contains(v.overview.summary.Text, "1 needs attention") {
		t.Errorf("summary = %q", v.overview.summary.Text)
	}
	// Open goes to the field to fix: the password of a password profile.
	test.Tap(bad.open)
	if v.profileName != "bad" || tabKeys[v.tabs.SelectedIndex()] != "security" {
		t.Errorf("Open shows %q on tab %s", v.profileName, tabKeys[v.tabs.SelectedIndex()])
	}
	v.selectTab("overview")

	// The user stops the paused one: the tray is back to all well.
	test.Tap(bad.stop)
	h.waitFor("bad to stop and the tray to follow", func() bool { return !v.runningProfile("bad") && v.trayState == severityOK })
	appIcon := "<nil>" // the test app has none
	if ic := v.app.Icon(); ic != nil {
		appIcon = ic.Name()
	}
	if tray.last() != appIcon {
		t.Errorf("tray icon %q after the paused profile stopped, want the app icon", tray.last())
	}
	if !v.runningProfile("good") {
		t.Error("good stopped too")
	}
	// The tray's Stop all ends the rest.
	stopAll := trayItem(t, tray, "Stop all")
	if stopAll.Disabled {
		t.Fatal("the tray's Stop all is disabled while a mover runs")
	}
	stopAll.Action()
	h.waitFor("the tray's Stop all", func() bool { return !v.running() })
	if !trayItem(t, tray, "Stop all").Disabled {
		t.Error("the tray's Stop all is enabled with nothing running")
	}
}

// trayItem finds the tray menu's item labelled label.
func trayItem(t *testing.T, tray *fakeTray, label string) *fyne.MenuItem {
	t.Helper()
	tray.mu.Lock()
	defer tray.mu.Unlock()
	if tray.menu != nil {
		for _, it := range tray.menu.Items {
			if it.Label == label {
				return it
			}
		}
	}
	t.Fatalf("no tray item %q", label)
	return nil
}

// pausedIcon is the tray icon of a paused profile.
func pausedIcon() fyne.Resource { return severityIcon(severityPaused) }

// writeStatus writes a profile's status file as another process's mover would.
func writeStatus(t *testing.T, home string, st mover.Status) {
	t.Helper()
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	path := store.StatusPath(home, st.Profile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Profiles run by another process (the service) show from their status files: which
// process, the state, the last file, today's counts and the advice; they cannot be
// started here twice; a status nobody updates any more says the process is gone.
func TestOverviewShowsProfilesOfAnotherProcess(t *testing.T) {
	h := newHarness(t)
	home := h.be.home
	now := time.Now()
	today := now.Format(time.DateOnly)
	for _, n := range []string{"svc", "stuck", "gone"} {
		p := store.DefaultProfile(n)
		p.Setup.Host, p.Setup.Username, p.OAuth2.ClientID = "outlook.office365.com", n+"@contoso.example", "11111111-2222-3333-4444-555555555555"
		p.Destination.Folder = t.TempDir()
		if err := store.SaveProfile(home, p); err != nil {
			t.Fatal(err)
		}
	}
	const other = 999999
	writeStatus(t, home, mover.Status{Profile: "svc", State: mover.StateIdle, Since: now.Add(-time.Hour), Updated: now, PID: other, Front: "service",
		LastFile: "/srv/in/2026-12-01_Invoice-77.pdf", LastFileTime: now.Add(-10 * time.Minute), Day: today, FilesToday: 3, MessagesToday: 2, BytesToday: 2048})
	writeStatus(t, home, mover.Status{Profile: "stuck", State: mover.StatePaused, Since: now, Updated: now, PID: other, Front: "run", Day: today,
		Reason: "paused: the refresh token was revoked", Advice: "Sign in again: GET on the OAuth2 tab, or mailmover login -profile stuck"})
	writeStatus(t, home, mover.Status{Profile: "gone", State: mover.StateIdle, Since: now.Add(-2 * time.Hour), Updated: now.Add(-time.Hour), PID: other, Front: "service", Day: today})
	v := h.v
	v.overview.model.refresh()
	h.waitFor("three cards", func() bool {
		return len(v.overview.cards) == 3 && v.overview.cards["svc"].where != "" && v.overview.cards["svc"].where != "not running"
	})

	svc := h.card("svc")
	if svc.where != fmt.Sprintf("in the service (pid %d)", other) || !strings.HasPrefix(svc.state, "Idle") {
		t.Errorf("svc: %q %q", svc.state, svc.where)
	}
	if !strings.Contains(svc.detail.Text, "last file 2026-12-01_Invoice-77.pdf at ") || !strings.Contains(svc.detail.Text, "today 3 files, 2 messages, 2.0 kB") {
		t.Errorf("svc detail: %q", svc.detail.Text)
	}
	if !svc.start.Disabled() || !svc.stop.Disabled() {
		t.Error("a profile another process runs can be started or stopped here")
	}
	test.Tap(svc.open)
	if v.profileName != "svc" || !v.act.start.Disabled() {
		t.Errorf("the form shows %q with Start enabled %v: the service runs it", v.profileName, !v.act.start.Disabled())
	}
	stuck := h.card("stuck")
	if stuck.state != "Paused — needs you" || stuck.where != fmt.Sprintf("in 'mailmover run' (pid %d)", other) ||
		!strings.Contains(stuck.problem.Text, "the refresh token was revoked\nWhat to do: Sign in again") {
		t.Errorf("stuck: %q %q %q", stuck.state, stuck.where, stuck.problem.Text)
	}
	gone := h.card("gone")
	if !strings.HasPrefix(gone.state, "Gone — no news since ") || gone.where != "not running" || gone.start.Disabled() {
		t.Errorf("gone: %q %q start disabled %v", gone.state, gone.where, gone.start.Disabled())
	}
	if !strings.Contains(gone.problem.Text, fmt.Sprintf("Its process (pid %d) stopped updating the status file", other)) {
		t.Errorf("gone's problem: %q", gone.problem.Text)
	}
	if v.trayState != severityPaused {
		t.Errorf("tray state %d: the paused profile of the other process should show", v.trayState)
	}
	if !strings.Contains(v.overview.summary.Text, "3 profiles · 0 running in this window · 2 running in another process · 2 need attention") {
		t.Errorf("summary = %q", v.overview.summary.Text)
	}
	// Open on the paused OAuth2 profile goes to the OAuth2 tab (GET).
	test.Tap(stuck.open)
	if v.profileName != "stuck" || tabKeys[v.tabs.SelectedIndex()] != "oauth2" {
		t.Errorf("Open shows %q on tab %s", v.profileName, tabKeys[v.tabs.SelectedIndex()])
	}
}

func TestLogModelProfileFilter(t *testing.T) {
	m := newLogModel(100)
	m.add(mover.Event{Profile: "a", Kind: mover.KindFileSaved, Counters: mover.Counters{Files: 1, Bytes: 10}})
	m.add(mover.Event{Profile: "b", Kind: mover.KindFileSaved, Counters: mover.Counters{Files: 1, Bytes: 5}})
	m.add(mover.Event{Profile: "b", Kind: mover.KindError, UID: 3, Counters: mover.Counters{Files: 1, Bytes: 5, Errors: 1}})
	m.add(mover.Event{Profile: "a", Kind: mover.KindFileSaved, Counters: mover.Counters{Files: 2, Bytes: 20}})
	all, _ := m.snapshot(0, logFilter{}, nil)
	if len(all.entries) != 4 || all.counters != (mover.Counters{Files: 3, Bytes: 25, Errors: 1}) {
		t.Errorf("all: %d entries, counters %+v", len(all.entries), all.counters)
	}
	a, _ := m.snapshot(0, logFilter{profile: "a"}, nil)
	if len(a.entries) != 2 || a.entries[0].Profile != "a" || a.entries[1].Profile != "a" || a.counters != (mover.Counters{Files: 2, Bytes: 20}) {
		t.Errorf("a: %+v counters %+v", a.entries, a.counters)
	}
	be, _ := m.snapshot(0, logFilter{profile: "b", errorsOnly: true}, nil)
	if len(be.entries) != 1 || be.entries[0].UID != 3 {
		t.Errorf("b's errors: %+v", be.entries)
	}
	if _, ok := m.lastProblem("a"); ok {
		t.Error("a has no problem")
	}
	if p, ok := m.lastProblem("b"); !ok || p.UID != 3 {
		t.Errorf("b's problem = %+v %v", p, ok)
	}
	m.resetProfile("b")
	if s, _ := m.snapshot(0, logFilter{}, nil); len(s.entries) != 4 || s.counters.Files != 2 {
		t.Errorf("after b's new run: %d lines (kept), %d files (a's only)", len(s.entries), s.counters.Files)
	}
}
