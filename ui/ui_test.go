package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mailmover/auth"
	"mailmover/mover"
	"mailmover/mover/journal"
	"mailmover/store"
)

func TestPresetsFillFields(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v

	v.setup.preset.SetSelected("Gmail")
	if got := v.setup.host.Text; got != "imap.gmail.com" {
		t.Errorf("Gmail host = %q", got)
	}
	if got := v.setup.port.Text; got != "993" {
		t.Errorf("Gmail port = %q", got)
	}
	if !strings.Contains(v.oauth.authURL.Text, "accounts.google.com") || !strings.Contains(v.oauth.tokenURL.Text, "oauth2.googleapis.com") {
		t.Errorf("Gmail URLs = %q, %q", v.oauth.authURL.Text, v.oauth.tokenURL.Text)
	}
	if got := v.oauth.scope.Text; got != "https://mail.google.com/" {
		t.Errorf("Gmail scope = %q", got)
	}
	if v.oauth.tenant.Disabled() == false {
		t.Error("tenant should be disabled for Gmail")
	}

	v.setup.preset.SetSelected("Microsoft 365")
	if got := v.setup.host.Text; got != "outlook.office365.com" {
		t.Errorf("Microsoft host = %q", got)
	}
	if !strings.Contains(v.oauth.scope.Text, "https://outlook.office.com/IMAP.AccessAsUser.All") {
		t.Errorf("Microsoft scope = %q", v.oauth.scope.Text)
	}
	if v.oauth.tenant.Disabled() {
		t.Error("tenant should be enabled for Microsoft 365")
	}
	// The tenant goes into both URLs.
	v.oauth.tenant.SetText("contoso.onmicrosoft.com")
	for _, u := range []string{v.oauth.authURL.Text, v.oauth.tokenURL.Text} {
		if !strings.Contains(u, "login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/") {
			t.Errorf("URL does not carry the tenant: %q", u)
		}
	}
	if !v.dirty {
		t.Error("a preset change must mark the profile unsaved")
	}
}

func TestTLSSuggestsPort(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	v.security.tls.SetSelected(labelOf(tlsLabels, tlsValues, store.TLSStartTLS))
	if got := v.setup.port.Text; got != "143" {
		t.Errorf("STARTTLS port = %q, want 143", got)
	}
	v.security.tls.SetSelected(labelOf(tlsLabels, tlsValues, store.TLSImplicit))
	if got := v.setup.port.Text; got != "993" {
		t.Errorf("implicit port = %q, want 993", got)
	}
	// A port the user chose is kept.
	v.setup.port.SetText("10993")
	v.security.tls.SetSelected(labelOf(tlsLabels, tlsValues, store.TLSStartTLS))
	if got := v.setup.port.Text; got != "10993" {
		t.Errorf("custom port overwritten: %q", got)
	}
}

func TestRedirectURIAndPortInStep(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	o := &h.v.oauth
	o.redirectPort.SetText("4100")
	if got := o.redirectURI.Text; got != "http://localhost:4100/" {
		t.Errorf("URI after port change = %q", got)
	}
	o.redirectURI.SetText("http://127.0.0.1:5200/callback")
	if got := o.redirectPort.Text; got != "5200" {
		t.Errorf("port after URI change = %q", got)
	}
	if err := o.redirectURI.Validate(); err != nil {
		t.Errorf("URI in step should be valid: %v", err)
	}
}

func TestValidatorMessages(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	cases := []struct {
		name  string
		entry *widget.Entry
		text  string
		want  string // part of the message; "" means valid
	}{
		{"host empty", v.setup.host, "", "host name"},
		{"host with scheme", v.setup.host, "https://outlook.office365.com", "without https://"},
		{"host ok", v.setup.host, "imap.example.com", ""},
		{"port text", v.setup.port, "abc", "1 to 65535"},
		{"port zero", v.setup.port, "0", "1 to 65535"},
		{"port ok", v.setup.port, "993", ""},
		{"mailbox empty", v.setup.username, "", "e-mail address"},
		{"folder empty", &v.setup.folder.Entry, "", "INBOX"},
		{"ca relative", v.security.caFile, "ca.pem", "full path"},
		{"since bad", v.common.since, "31.01.2026", "YYYY-MM-DD"},
		{"since ok", v.common.since, "2026-01-31", ""},
		{"mask empty", v.common.mask, "", "patterns"},
		{"mask bad", v.common.mask, "[.pdf", "not a valid pattern"},
		{"mask ok", v.common.mask, "*.pdf; *.xml", ""},
		{"poll short", v.common.poll, "1s", "5s to 24h"},
		{"subject two lines", v.common.subject, "a\nb", "one line"},
		{"dest home", v.dest.folder, "~/mail-in", ""},
		{"poll ok", v.common.poll, "5m", ""},
		{"auth url http", v.oauth.authURL, "http://login.example.com/authorize", "https://"},
		{"auth url empty", v.oauth.authURL, "", "authorization URL"},
		{"token url ok", v.oauth.tokenURL, "https://oauth2.googleapis.com/token", ""},
		{"client id empty", v.oauth.clientID, "", "Client ID"},
		{"client id spaces", v.oauth.clientID, "abc def", "no spaces"},
		{"scope empty", v.oauth.scope, "", "scope"},
		{"tenant bad", v.oauth.tenant, "my tenant", "tenant ID"},
		{"redirect https", v.oauth.redirectURI, "https://localhost:3017/", "http://localhost:PORT/"},
		{"redirect port zero", v.oauth.redirectPort, "0", ""},     // 0: the port of the URI (the store's rule)
		{"redirect port other", v.oauth.redirectPort, "3018", ""}, // the URI follows it
		{"redirect port low", v.oauth.redirectPort, "80", ""},     // 1–65535: the store's rule
		{"redirect port high", v.oauth.redirectPort, "70000", "1 to 65535"},
		{"dest empty", v.dest.folder, "", "Choose the folder"},
		{"dest relative", v.dest.folder, "mail-in", "full path"},
		{"template unknown", v.dest.filename, "{date}_{nope}", "{nope} is unknown"},
		{"template escape", v.dest.filename, "../{filename}", "inside the folder"},
		{"template ok", v.dest.filename, "{date}/{filename}", ""},
		{"template empty part", v.dest.filename, "a//{filename}", "empty part"},
		{"template dots in a name", v.dest.filename, "{name}..{ext}", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := c.entry.Text
			c.entry.SetText(c.text)
			err := c.entry.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%q: unexpected error %v", c.text, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("%q: error %v, want it to mention %q", c.text, err, c.want)
			}
			if c.want != "" {
				if !v.act.save.Disabled() {
					t.Error("Save must be disabled while a field is invalid")
				}
				if v.act.problemBox.Hidden || !strings.Contains(v.act.problem.Text, c.want) {
					t.Errorf("problem bar = %q (hidden %v), want it to mention %q", v.act.problem.Text, v.act.problemBox.Hidden, c.want)
				}
			}
			c.entry.SetText(old)
		})
	}
	if v.act.save.Disabled() {
		f, err := v.firstInvalid()
		t.Fatalf("Save disabled after restoring all fields: %v %v", f, err)
	}
}

func TestDeviceURLOnlyForDeviceFlow(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	o := &h.v.oauth
	o.deviceURL.SetText("http://example.com/devicecode")
	if err := o.deviceURL.Validate(); err != nil || !o.deviceURL.Disabled() {
		t.Fatalf("authcode flow: device URL error %v, disabled %v", err, o.deviceURL.Disabled())
	}
	o.flow.SetSelected(labelOf(flowLabels, flowValues, store.FlowDevice))
	if err := o.deviceURL.Validate(); err == nil || !strings.Contains(err.Error(), "https://") {
		t.Fatalf("device flow: %v", err)
	}
	if o.deviceURL.Disabled() || !o.redirectURI.Disabled() {
		t.Error("device flow: the device URL is used and the redirect is not")
	}
}

func TestStoreRulesBlockSave(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	// No TLS to a remote host passes the field checks but not the store's rules.
	v.security.tls.SetSelected(labelOf(tlsLabels, tlsValues, store.TLSNone))
	if !v.act.save.Disabled() || !strings.Contains(v.act.problem.Text, "security.tls") {
		t.Fatalf("save disabled %v, problem %q", v.act.save.Disabled(), v.act.problem.Text)
	}
}

func TestPasswordNeededOnlyForPasswordSignIn(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	if err := v.security.password.Validate(); err != nil {
		t.Fatalf("OAuth2 profile needs no password: %v", err)
	}
	v.security.auth.SetSelected(labelOf(authLabels, authValues, store.AuthPassword))
	if err := v.security.password.Validate(); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("password sign-in without a password: %v", err)
	}
	if !v.oauth.clientID.Disabled() {
		t.Error("OAuth2 fields should be disabled for password sign-in")
	}
	if !v.security.password.Password {
		t.Error("the password entry must mask its text")
	}
	if !v.oauth.clientSecret.Password {
		t.Error("the client secret entry must mask its text")
	}
}

func TestScopeWarningAtScopeField(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	o := &h.v.oauth
	if !o.scopeWarn.Hidden {
		t.Fatalf("no warning expected for the IMAP scope, got %q", o.scopeWarn.Text)
	}
	o.scope.SetText("openid profile offline_access")
	if o.scopeWarn.Hidden || o.scopeWarn.Text == "" {
		t.Fatal("the Microsoft scope warning should show for OIDC-only scopes")
	}
	if want := auth.ScopeWarning(store.OAuth2{Preset: store.PresetMicrosoft, Scope: "openid profile offline_access"}); want != "" && o.scopeWarn.Text != want {
		t.Errorf("warning = %q, want auth's %q", o.scopeWarn.Text, want)
	}
}

func TestSaveWritesProfileAndSecrets(t *testing.T) {
	h := newHarness(t)
	h.newProfile("invoices")
	v := h.v
	test.Type(v.oauth.clientSecret, "client-s3cret")
	if !v.security.password.Disabled() {
		t.Error("the password entry is for password sign-in only")
	}
	v.security.auth.SetSelected(labelOf(authLabels, authValues, store.AuthPassword))
	test.Type(v.security.password, "s3cret-pw")
	v.common.since.SetText("2026-01-31")
	if !strings.HasPrefix(h.win.Title(), "• ") {
		t.Errorf("title %q should show unsaved changes", h.win.Title())
	}
	if v.act.unsaved.Text == "" {
		t.Error("the unsaved-changes label should show")
	}
	test.Tap(v.act.save)
	h.waitFor("save", func() bool { return !v.dirty && !v.isNew })

	p, err := store.LoadProfile(h.be.home, "invoices")
	if err != nil {
		t.Fatalf("profile not written: %v", err)
	}
	if p.Setup.Username != "invoices@contoso.example" || p.Common.Since != "2026-01-31" || p.Setup.Host != "outlook.office365.com" {
		t.Errorf("saved profile = %+v", p.Setup)
	}
	if got, _ := h.be.sec.Get("invoices", store.SecretPassword); got != "s3cret-pw" {
		t.Errorf("password in keyring = %q", got)
	}
	if got, _ := h.be.sec.Get("invoices", store.SecretClientSecret); got != "client-s3cret" {
		t.Errorf("client secret in keyring = %q", got)
	}
	if v.security.password.Text != "" || v.oauth.clientSecret.Text != "" {
		t.Error("typed secrets must be cleared from the form after Save")
	}
	if !strings.Contains(v.security.password.PlaceHolder, "stored in the keyring") {
		t.Errorf("password placeholder = %q", v.security.password.PlaceHolder)
	}
	if strings.HasPrefix(h.win.Title(), "•") || v.act.unsaved.Text != "" {
		t.Errorf("title %q / label %q still show unsaved changes", h.win.Title(), v.act.unsaved.Text)
	}
	if !v.act.save.Disabled() {
		t.Error("Save should be disabled with nothing to save")
	}
	if got := v.profiles.sel.Selected; got != "invoices" {
		t.Errorf("picker shows %q", got)
	}
	// No secret in the profile file.
	data, _ := readFile(store.ProfilePath(h.be.home, "invoices"))
	if strings.Contains(data, "s3cret") {
		t.Error("a secret was written into the profile file")
	}
}

func TestProfilesRenameDuplicateDelete(t *testing.T) {
	h := newHarness(t)
	h.newProfile("a")
	test.Tap(h.v.act.save)
	h.waitFor("save a", func() bool { return !h.v.isNew })

	// Duplicate: a new unsaved profile with the same settings.
	cur := h.v.profileFromForm()
	p := *cur
	p.Name = "b"
	h.v.profiles.startNew(&p)
	if !h.v.isNew || h.v.setup.username.Text != "invoices@contoso.example" {
		t.Fatal("duplicate should copy the settings into a new profile")
	}
	test.Tap(h.v.act.save)
	h.waitFor("save b", func() bool { return !h.v.isNew })
	names, _ := h.be.ListProfiles()
	if strings.Join(names, ",") != "a,b" {
		t.Fatalf("profiles = %v", names)
	}
	if err := h.be.RenameProfile("b", "c"); err != nil {
		t.Fatal(err)
	}
	h.v.profileName = ""
	h.v.profiles.reload("c")
	if h.v.profileName != "c" || h.v.profiles.sel.Selected != "c" {
		t.Fatalf("after rename the picker shows %q", h.v.profiles.sel.Selected)
	}
	if err := h.be.DeleteProfile("c"); err != nil {
		t.Fatal(err)
	}
	h.v.profileName = ""
	h.v.profiles.reload("")
	if h.v.profileName != "a" {
		t.Fatalf("after delete the window shows %q", h.v.profileName)
	}
}

func TestGetShowsProgressSuccessAndFailure(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	release := make(chan error)
	var gotURL string
	h.be.login = func(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error) {
		opts.OnURL("https://login.example.com/authorize?client_id=x")
		if err := opts.OpenBrowser("https://login.example.com/authorize?client_id=x"); err != nil {
			return nil, err
		}
		select {
		case err := <-release:
			if err != nil {
				return nil, err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &LoginResult{RefreshToken: true, Expiry: time.Now().Add(59 * time.Minute)}, nil
	}
	test.Tap(v.oauth.get)
	if !v.loginRunning() || !v.oauth.progress.Running() {
		t.Fatal("GET should show progress")
	}
	h.waitFor("the URL to show", func() bool { gotURL = v.oauth.urlEntry.Text; return !v.oauth.urlBox.Hidden })
	if !strings.HasPrefix(gotURL, "https://login.example.com/") {
		t.Errorf("URL shown = %q", gotURL)
	}
	if v.oauth.getBox.Objects[0] == v.oauth.get {
		t.Error("GET button should be replaced by progress + Cancel")
	}
	send(h, release, nil)
	h.waitFor("sign-in to end", func() bool { return !v.loginRunning() })
	if v.oauth.tokenState.Text != "Refresh token: held" {
		t.Errorf("token state = %q", v.oauth.tokenState.Text)
	}
	if !strings.Contains(v.oauth.expiry.Text, "expires") || !strings.Contains(v.oauth.expiry.Text, "••••") {
		t.Errorf("expiry = %q", v.oauth.expiry.Text)
	}

	// Failure: a dialog with the error and its advice.
	test.Tap(v.oauth.get)
	send[error](h, release, &auth.ReauthError{Err: errors.New("invalid_grant")})
	h.waitFor("the failure", func() bool { return !v.loginRunning() })
	text, advice := describeError(&auth.ReauthError{Err: errors.New("invalid_grant")}, "")
	if !strings.Contains(v.lastDialog, text) || (advice != "" && !strings.Contains(v.lastDialog, advice)) {
		t.Errorf("dialog = %q, want %q and %q", v.lastDialog, text, advice)
	}

	// Cancel.
	test.Tap(v.oauth.get)
	test.Tap(v.oauth.cancel)
	h.waitFor("the cancel", func() bool { return !v.loginRunning() })
	if !strings.Contains(v.oauth.getResult.Text, "cancelled") {
		t.Errorf("after Cancel: %q", v.oauth.getResult.Text)
	}
}

func TestCheckShowsResult(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	h.be.check = func(ctx context.Context, p *store.Profile) (*CheckReport, error) {
		return &CheckReport{OK: true, Lines: []string{"✓ Signed in as " + p.Setup.Username}}, nil
	}
	test.Tap(h.v.act.check)
	h.waitFor("check", func() bool { return !h.v.act.checking })
	if !strings.Contains(h.v.lastDialog, "Signed in as invoices@contoso.example") {
		t.Errorf("check dialog = %q", h.v.lastDialog)
	}
}

// fakeRun emits events, then waits for cancellation and ends with KindStopped.
func fakeRun(evs []mover.Event) func(ctx context.Context, p *store.Profile) (<-chan mover.Event, error) {
	return func(ctx context.Context, p *store.Profile) (<-chan mover.Event, error) {
		ch := make(chan mover.Event)
		go func() {
			defer close(ch)
			for _, ev := range evs {
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
			<-ctx.Done()
			ch <- mover.Event{Time: time.Now(), Kind: mover.KindStopped, Profile: p.Name}
		}()
		return ch, nil
	}
}

func TestStartStopShowsLogAndCounters(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	test.Tap(h.v.act.save)
	h.waitFor("save", func() bool { return !h.v.isNew })
	now := time.Now()
	c := mover.Counters{}
	evs := []mover.Event{
		{Time: now, Kind: mover.KindConnecting, Text: "Connecting to outlook.office365.com:993"},
		{Time: now, Kind: mover.KindConnected, Text: "Signed in"},
		{Time: now, Kind: mover.KindFound, Total: 2},
		{Time: now, Kind: mover.KindMessage, UID: 7, From: "billing@example.com", Subject: "Invoice 7"},
	}
	c.Files, c.Bytes = 1, 2048
	evs = append(evs, mover.Event{Time: now, Kind: mover.KindFileSaved, UID: 7, Path: "/srv/in/invoice-7.pdf", Bytes: 2048, Counters: c})
	c.Messages = 1
	evs = append(evs, mover.Event{Time: now, Kind: mover.KindMessageDone, UID: 7, Counters: c})
	c.Errors = 1
	evs = append(evs, mover.Event{Time: now, Kind: mover.KindError, UID: 8, Text: "bad MIME", Advice: "it is retried next pass", Counters: c})
	evs = append(evs, mover.Event{Time: now, Kind: mover.KindIdle, Text: "Waiting for new mail", Counters: c})
	h.be.start = fakeRun(evs)

	test.Tap(h.v.act.start)
	if !h.v.running() || h.v.act.start.Disabled() == false || h.v.act.stop.Disabled() {
		t.Fatal("after Start, Start is disabled and Stop enabled")
	}
	l := h.v.log
	h.waitFor("the events in the log", func() bool { return len(l.entries) == len(evs) })
	if got := eventText(l.entries[4]); !strings.Contains(got, "/srv/in/invoice-7.pdf") {
		t.Errorf("saved line = %q", got)
	}
	if l.messages.Text != "1" || l.files.Text != "1" || l.bytes.Text != "2.0 kB" || l.errors.Text != "1" {
		t.Errorf("counters = %s %s %s %s", l.messages.Text, l.files.Text, l.bytes.Text, l.errors.Text)
	}
	if !strings.HasPrefix(l.status.Text, "Idle") {
		t.Errorf("status = %q", l.status.Text)
	}
	l.errorsOnly.SetChecked(true)
	if len(l.entries) != 1 || l.entries[0].Kind != mover.KindError {
		t.Errorf("errors only shows %d entries", len(l.entries))
	}
	l.errorsOnly.SetChecked(false)

	run := h.v.runs["p"]
	test.Tap(h.v.act.stop)
	h.waitFor("the run to end", func() bool { return !h.v.running() })
	if l.status.Text != "Stopped" || h.v.act.start.Disabled() {
		t.Errorf("after Stop: status %q, start disabled %v", l.status.Text, h.v.act.start.Disabled())
	}
	select {
	case <-run.done:
	default:
		t.Error("the run's events were not drained")
	}
}

func TestLogStaysCappedUnder100kEvents(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	test.Tap(h.v.act.save)
	h.waitFor("save", func() bool { return !h.v.isNew })
	const n = 100_000
	h.be.start = func(ctx context.Context, p *store.Profile) (<-chan mover.Event, error) {
		ch := make(chan mover.Event, 1024)
		go func() {
			defer close(ch)
			for i := 1; i <= n; i++ {
				ch <- mover.Event{Time: time.Now(), Kind: mover.KindFileSaved, Path: fmt.Sprintf("/srv/in/%d.pdf", i), Bytes: 100,
					Counters: mover.Counters{Files: i, Bytes: int64(i) * 100}}
			}
		}()
		return ch, nil
	}
	start := time.Now()
	test.Tap(h.v.act.start)
	h.waitFor("the run to end", func() bool { return !h.v.running() })
	l := h.v.log
	if got := l.model.size(); got != logCapacity {
		t.Errorf("model holds %d entries, want %d", got, logCapacity)
	}
	if c := cap(l.model.buf); c > logCapacity {
		t.Errorf("buffer grew to %d", c)
	}
	if len(l.entries) != logCapacity {
		t.Errorf("list shows %d entries", len(l.entries))
	}
	if last := l.entries[len(l.entries)-1]; last.Path != fmt.Sprintf("/srv/in/%d.pdf", n) {
		t.Errorf("last entry = %q", last.Path)
	}
	if l.files.Text != "100,000" || !strings.Contains(l.shown.Text, "of 100,000") {
		t.Errorf("files %q, shown %q", l.files.Text, l.shown.Text)
	}
	// A bound that catches a freeze (work per event growing with the log) without
	// failing on a busy 2-core CI machine; the race detector slows this 5–10×.
	limit := 8 * time.Second
	if raceEnabled {
		limit = 45 * time.Second
	}
	if d := time.Since(start); d > limit {
		t.Errorf("100k events took %v (limit %v)", d, limit)
	}
}

func TestLogModelRing(t *testing.T) {
	m := newLogModel(3)
	for i := 1; i <= 5; i++ {
		m.add(mover.Event{UID: uint32(i), Kind: mover.KindMessage})
	}
	m.add(mover.Event{UID: 6, Kind: mover.KindError})
	s, ok := m.snapshot(0, logFilter{}, nil)
	if !ok || len(s.entries) != 3 || s.entries[0].UID != 4 || s.entries[2].UID != 6 || s.dropped != 3 {
		t.Fatalf("snapshot = %+v", s)
	}
	if _, ok := m.snapshot(s.version, logFilter{}, nil); ok {
		t.Error("unchanged log reported as changed")
	}
	e, _ := m.snapshot(0, logFilter{errorsOnly: true}, nil)
	if len(e.entries) != 1 || e.entries[0].UID != 6 {
		t.Errorf("errors only = %+v", e.entries)
	}
}

func TestCloseWhileRunningAsks(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	test.Tap(h.v.act.save)
	h.waitFor("save", func() bool { return !h.v.isNew })
	h.be.start = fakeRun(nil)
	test.Tap(h.v.act.start)
	h.v.onClose()
	if !h.v.running() {
		t.Fatal("closing must not stop the mover before the user answers")
	}
	if !strings.Contains(h.v.lastDialog, `profile "p"`) {
		t.Errorf("the question does not name the profile: %q", h.v.lastDialog)
	}
	h.v.stopAll(nil)
	h.waitFor("stop", func() bool { return !h.v.running() })
}

func TestDescribeExpiry(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.Local)
	cases := []struct {
		held bool
		exp  time.Time
		want string
	}{
		{false, time.Time{}, "none"},
		{true, time.Time{}, "held"},
		{true, now.Add(-time.Minute), "expired"},
		{true, now.Add(90 * time.Minute), "in 1h 30m"},
	}
	for _, c := range cases {
		if got := describeExpiry(c.held, c.exp, now); !strings.Contains(got, c.want) {
			t.Errorf("describeExpiry(%v, %v) = %q, want %q", c.held, c.exp, got, c.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 2048: "2.0 kB", 17_000_000: "17.0 MB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestKeyboardShortcuts(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	sc := h.win.Canvas().(interface{ TypedShortcut(fyne.Shortcut) })
	sc.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.Key7, Modifier: fyne.KeyModifierShortcutDefault})
	if got := h.v.tabs.SelectedIndex(); tabKeys[got] != "log" {
		t.Errorf("Ctrl+7 selected tab %d (%s)", got, tabKeys[got])
	}
	sc.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.Key1, Modifier: fyne.KeyModifierShortcutDefault})
	if got := h.v.tabs.SelectedIndex(); tabKeys[got] != "overview" {
		t.Errorf("Ctrl+1 selected tab %d (%s)", got, tabKeys[got])
	}
	sc.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault})
	h.waitFor("Ctrl+S to save", func() bool { return !h.v.isNew && !h.v.dirty })
}

func TestBacklogProgress(t *testing.T) {
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	var p passProgress
	p.track(mover.Event{Kind: mover.KindFound, Total: 2000, Time: start, Counters: mover.Counters{Files: 10, Bytes: 1000}})
	if _, _, show := p.describe(); !show {
		t.Fatal("a backlog of 2000 should show progress")
	}
	p.track(mover.Event{Kind: mover.KindProgress, Done: 500, Total: 2000, Time: start.Add(100 * time.Second),
		Counters: mover.Counters{Files: 510, Bytes: 1_001_000}})
	frac, text, _ := p.describe()
	if frac != 0.25 {
		t.Errorf("fraction = %v", frac)
	}
	for _, want := range []string{"500 of 2000 messages", "500 files", "1.0 MB", "5.0 messages/s", "about 5 min left"} {
		if !strings.Contains(text, want) {
			t.Errorf("progress %q lacks %q", text, want)
		}
	}
	p.track(mover.Event{Kind: mover.KindIdle})
	if _, _, show := p.describe(); show {
		t.Error("progress should hide when the pass ends")
	}
	var small passProgress
	small.track(mover.Event{Kind: mover.KindFound, Total: 3})
	if _, _, show := small.describe(); show {
		t.Error("a handful of messages gets no progress bar")
	}
}

func TestBacklogProgressInLogTab(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	l := h.v.log
	now := time.Now()
	l.model.add(mover.Event{Kind: mover.KindFound, Total: 100, Time: now})
	l.model.add(mover.Event{Kind: mover.KindProgress, Done: 40, Total: 100, Time: now.Add(10 * time.Second)})
	l.flush()
	if l.progressBox.Hidden || l.progressBar.Value != 0.4 || !strings.Contains(l.progressText.Text, "40 of 100") {
		t.Errorf("progress hidden %v value %v text %q", l.progressBox.Hidden, l.progressBar.Value, l.progressText.Text)
	}
	l.model.add(mover.Event{Kind: mover.KindIdle, Time: now.Add(30 * time.Second)})
	l.flush()
	if !l.progressBox.Hidden {
		t.Error("progress still shown after the pass")
	}
}

func TestRunEndingWithErrorKeepsReason(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	test.Tap(h.v.act.save)
	h.waitFor("save", func() bool { return !h.v.isNew })
	h.be.start = func(ctx context.Context, p *store.Profile) (<-chan mover.Event, error) {
		ch := make(chan mover.Event, 4)
		ch <- mover.Event{Kind: mover.KindConnecting}
		ch <- mover.Event{Kind: mover.KindError, Text: "another mover runs this profile"}
		ch <- mover.Event{Kind: mover.KindStopped}
		close(ch)
		return ch, nil
	}
	test.Tap(h.v.act.start)
	h.waitFor("the run to end", func() bool { return !h.v.running() })
	if !strings.Contains(h.v.log.status.Text, "another mover runs this profile") {
		t.Errorf("status = %q", h.v.log.status.Text)
	}
}

func TestAutoScrollPausesWhileReadingUp(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	h.v.selectTab("log")
	l := h.v.log
	add := func(n int) {
		for i := 0; i < n; i++ {
			l.model.add(mover.Event{Time: time.Now(), Kind: mover.KindMessage, UID: uint32(i + 1)})
		}
		l.flush()
	}
	add(200)
	if !l.following || l.list.GetScrollOffset() == 0 {
		t.Fatalf("should follow the end: following %v offset %v", l.following, l.list.GetScrollOffset())
	}
	l.list.ScrollToTop() // the user scrolls up to read
	add(10)
	if l.following || l.list.GetScrollOffset() != 0 || l.jump.Disabled() {
		t.Fatalf("should stay where the user reads: following %v offset %v", l.following, l.list.GetScrollOffset())
	}
	test.Tap(l.jump)
	add(10)
	if !l.following || l.list.GetScrollOffset() == 0 || !l.jump.Disabled() {
		t.Fatalf("should follow again after Latest: following %v offset %v", l.following, l.list.GetScrollOffset())
	}
}

func TestForgetProgress(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	test.Tap(h.v.act.save)
	h.waitFor("save", func() bool { return !h.v.isNew })
	sf, err := journal.Open(h.be.home, "p")
	if err != nil {
		t.Fatal(err)
	}
	if err := sf.MarkUID("INBOX", 1, 7); err != nil {
		t.Fatal(err)
	}
	sf.Close()
	if st, _ := journal.Load(h.be.home, "p"); !st.IsDone("INBOX", 1, 7) {
		t.Fatal("state not written")
	}
	if h.v.log.forget.Disabled() {
		t.Fatal("Forget progress should be enabled for a saved profile")
	}
	h.v.log.forgetProgress()
	// Confirm the dialog as the user would.
	confirmTopDialog(t, h)
	h.waitFor("the progress to be forgotten", func() bool { return strings.Contains(h.v.lastDialog, "starts from the beginning") })
	if st, _ := journal.Load(h.be.home, "p"); st != nil && st.IsDone("INBOX", 1, 7) {
		t.Error("the state is still there")
	}
}

// confirmTopDialog taps the confirm button of the dialog on top of the window.
func confirmTopDialog(t *testing.T, h *harness) {
	t.Helper()
	top := h.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog shown")
	}
	var found *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			if x.Importance == widget.HighImportance || x.Importance == widget.DangerImportance {
				found = x
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(top)
	if found == nil {
		t.Fatal("no confirm button in the dialog")
	}
	test.Tap(found)
}

func TestWindowFits1024x768(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	for i := range h.v.tabs.Items {
		h.v.tabs.SelectIndex(i)
		if s := h.win.Content().MinSize(); s.Width > 1024 || s.Height > 768 {
			t.Errorf("tab %d needs %v: more than 1024×768", i, s)
		}
	}
}

func TestWindowSizeRemembered(t *testing.T) {
	h := newHarness(t)
	if got := windowSize(h.app); got != fyne.NewSize(980, 720) {
		t.Errorf("first start: %v", got)
	}
	h.win.Resize(fyne.NewSize(1111, 777))
	h.v.rememberSize()
	if got := windowSize(h.app); got != fyne.NewSize(1111, 777) {
		t.Errorf("remembered size = %v", got)
	}
}

func TestMinWidthLeavesRoomForLargeText(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	// Fyne scales every size with the text scale: 1.1 (a larger text setting) must still
	// fit 1024 pixels.
	if w := h.win.Content().MinSize().Width; w*1.1 > 1024 {
		t.Errorf("the window needs %v wide: too wide for larger text at 1024×768", w)
	}
}

// GET never runs on invalid OAuth2 fields: a redirect or endpoint that is not loopback by
// the store's rule (typed, not yet saved) disables it, so no code, PKCE verifier or client
// secret can go to another machine over plain http.
func TestGetDisabledWhileOAuthFieldsInvalid(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	o := &v.oauth
	called := false
	h.be.login = func(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error) {
		called = true
		return nil, errors.New("must not run")
	}
	if o.get.Disabled() {
		t.Fatal("GET disabled on a valid new profile")
	}
	cases := []struct {
		entry *widget.Entry
		text  string
	}{
		{o.redirectURI, "http://127.0.0.1.nip.io:3017/"},
		{o.redirectURI, "http://localhost.:3017/"},
		{o.redirectURI, "http://evil.example:3017/"},
		{o.tokenURL, "http://127.0.0.1.nip.io/token"},
		{o.tokenURL, "http://0x7f.1/token"},
		{o.authURL, "http://127.evil.example/authorize"},
	}
	for _, c := range cases {
		old := c.entry.Text
		c.entry.SetText("")
		test.Type(c.entry, c.text)
		if !o.get.Disabled() {
			t.Errorf("%q typed: GET is enabled", c.text)
		}
		test.Tap(o.get)
		v.startLogin() // the shortcut's way in, too
		if v.loginRunning() || called {
			t.Fatalf("%q typed: the sign-in ran", c.text)
		}
		c.entry.SetText(old)
		if o.get.Disabled() {
			t.Fatalf("GET still disabled after restoring %q", old)
		}
	}
}

// The window's rules are the store's: a profile name the store accepts can be saved from
// the window (the window once refused "max@firm" and "Büro"), and a template the store
// refuses cannot.
func TestWindowRulesAreTheStores(t *testing.T) {
	for _, name := range []string{"max@firm", "Büro", "reports 2026"} {
		if err := store.ValidProfileName(name); err != nil {
			t.Fatalf("the store refuses %q: %v", name, err)
		}
		h := newHarness(t)
		h.newProfile(name)
		test.Tap(h.v.act.save)
		h.waitFor("save", func() bool { return !h.v.dirty && !h.v.isNew })
		if !store.ProfileExists(h.be.home, name) {
			t.Errorf("profile %q was not saved from the window", name)
		}
	}
	h := newHarness(t)
	h.newProfile("p")
	for _, tmpl := range []string{"a//{filename}", "{date}/./{filename}", `a\{filename}`} {
		if store.FilenameTemplateProblem(tmpl) == "" {
			t.Fatalf("the store accepts %q", tmpl)
		}
		h.v.dest.filename.SetText(tmpl)
		if h.v.dest.filename.Validate() == nil || !h.v.act.save.Disabled() {
			t.Errorf("the window accepts the template %q that the store refuses", tmpl)
		}
	}
}

// "Retry failed mail" brings back a message set aside after failing too often, and
// forgets nothing else (issue 13: the window brings it back).
func TestRetryFailedMailFromTheWindow(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	test.Tap(h.v.act.save)
	h.waitFor("save", func() bool { return !h.v.dirty && !h.v.isNew })
	sf, err := journal.Open(h.be.home, "p")
	if err != nil {
		t.Fatal(err)
	}
	for range journal.MaxFailures {
		sf.Fail("INBOX", 1, 9, "broken MIME", time.Now())
	}
	sf.MarkUID("INBOX", 1, 7)
	sf.Close()
	if h.v.log.forget.Disabled() {
		t.Fatal("Progress… should be enabled for a saved profile that is not running")
	}
	test.Tap(h.v.log.forget)
	if top := h.win.Canvas().Overlays().Top(); top == nil {
		t.Fatal("Progress… opened no menu")
	} else {
		h.win.Canvas().Overlays().Remove(top)
	}
	h.v.log.retryFailed()
	h.waitFor("the retry", func() bool { return strings.Contains(h.v.lastDialog, "tried again") })
	st, _ := journal.Load(h.be.home, "p")
	if f := st.Mailbox("INBOX", 1).Failure(9); f == nil || f.Aside || f.Count != 0 {
		t.Errorf("failure after Retry failed mail: %+v", f)
	}
	if !st.IsDone("INBOX", 1, 7) {
		t.Error("Retry failed mail forgot a done message")
	}
}
