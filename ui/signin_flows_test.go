package ui

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"golang.org/x/oauth2"

	"mailmover/auth"
	"mailmover/internal/oidcdev"
	"mailmover/internal/testenv"
	"mailmover/store"
)

// TestDeviceCodeShownLargeWithCopy: with the device-code flow, GET shows the user code
// large with a copy button, and the page to enter it on; both go when the sign-in ends.
func TestDeviceCodeShownLargeWithCopy(t *testing.T) {
	h := newHarness(t)
	h.newProfile("dev")
	v := h.v
	v.oauth.flow.SetSelected(labelOf(flowLabels, flowValues, store.FlowDevice))
	v.oauth.deviceURL.SetText("https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode")
	release := make(chan struct{})
	h.be.login = func(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error) {
		if p.OAuth2.Flow != store.FlowDevice || opts.OnDeviceCode == nil {
			return nil, fmt.Errorf("flow %q, OnDeviceCode set: %v", p.OAuth2.Flow, opts.OnDeviceCode != nil)
		}
		opts.OnDeviceCode("WDJB-MJHT", "https://microsoft.com/devicelogin")
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &LoginResult{RefreshToken: true, Expiry: time.Now().Add(time.Hour)}, nil
	}
	if v.oauth.browserForm.Visible() || !v.oauth.deviceForm.Visible() {
		t.Fatalf("device flow: browser fields shown %v, device URL shown %v", v.oauth.browserForm.Visible(), v.oauth.deviceForm.Visible())
	}
	test.Tap(v.oauth.get)
	h.waitFor("the code", func() bool { return v.oauth.deviceBox.Visible() })
	if v.oauth.deviceCode.Text != "WDJB-MJHT" || v.oauth.deviceCode.SizeName != "headingText" {
		t.Errorf("code %q in size %q", v.oauth.deviceCode.Text, v.oauth.deviceCode.SizeName)
	}
	if !v.oauth.urlBox.Visible() || v.oauth.urlEntry.Text != "https://microsoft.com/devicelogin" {
		t.Errorf("verification page %q shown %v", v.oauth.urlEntry.Text, v.oauth.urlBox.Visible())
	}
	test.Tap(v.oauth.copyCode)
	if got := h.app.Clipboard().Content(); got != "WDJB-MJHT" {
		t.Errorf("clipboard = %q", got)
	}
	close(release)
	h.waitFor("the sign-in to end", func() bool { return !v.loginRunning() })
	if v.oauth.deviceBox.Visible() || v.oauth.tokenState.Text != "Refresh token: held" {
		t.Errorf("after the sign-in: code shown %v, %q", v.oauth.deviceBox.Visible(), v.oauth.tokenState.Text)
	}
}

// TestClientCredentialsHideSignIn: app-only access has no sign-in: no GET, no redirect
// fields; switching back shows them again.
func TestClientCredentialsHideSignIn(t *testing.T) {
	h := newHarness(t)
	h.newProfile("app")
	v := h.v
	if !v.oauth.getBox.Visible() || !v.oauth.browserForm.Visible() || v.oauth.appOnly.Visible() {
		t.Fatal("browser sign-in: GET and the redirect fields must show")
	}
	v.oauth.flow.SetSelected(labelOf(flowLabels, flowValues, store.FlowClientCredentials))
	if v.oauth.getBox.Visible() || v.oauth.browserForm.Visible() || v.oauth.deviceForm.Visible() || !v.oauth.appOnly.Visible() {
		t.Fatalf("client credentials: GET %v, redirect %v, device %v, note %v", v.oauth.getBox.Visible(),
			v.oauth.browserForm.Visible(), v.oauth.deviceForm.Visible(), v.oauth.appOnly.Visible())
	}
	if v.oauth.tokenState.Text != "Refresh token: not used (app-only access)" {
		t.Errorf("token state for app-only access: %q", v.oauth.tokenState.Text)
	}
	// The redirect does not hold Save up, even when it is wrong.
	v.oauth.redirectURI.SetText("not a url")
	test.Type(v.oauth.clientSecret, "s3cret")
	if f, err := v.firstInvalid(); f != nil {
		t.Fatalf("client credentials form invalid at %s: %v", f.label, err)
	}
	v.oauth.flow.SetSelected(labelOf(flowLabels, flowValues, store.FlowAuthCode))
	if !v.oauth.getBox.Visible() || !v.oauth.browserForm.Visible() || v.oauth.appOnly.Visible() {
		t.Fatal("back to browser sign-in: GET and the redirect fields must show again")
	}
	if !strings.HasPrefix(v.oauth.tokenState.Text, "Refresh token: none") {
		t.Errorf("token state back on browser sign-in: %q", v.oauth.tokenState.Text)
	}
}

// TestLapseWarningWhenProfileOpens: opening a Microsoft profile whose refresh token was
// last used 80 days ago shows the lapse warning on the OAuth2 tab (the same words the
// mover logs on start).
func TestLapseWarningWhenProfileOpens(t *testing.T) {
	a := test.NewTempApp(t)
	home := t.TempDir()
	sec := store.NewMemorySecrets()
	now := time.Now()
	be := &realBackend{home: home, sec: sec, logger: slog.New(slog.DiscardHandler), clock: func() time.Time { return now }}
	p := store.DefaultProfile("ms")
	p.Setup.Host, p.Setup.Username = "outlook.office365.com", "invoices@contoso.example"
	if err := auth.ApplyPreset(&p.OAuth2, store.PresetMicrosoft, "organizations"); err != nil {
		t.Fatal(err)
	}
	p.OAuth2.ClientID = "11111111-2222-3333-4444-555555555555"
	p.Destination.Folder = t.TempDir()
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	tok := &oauth2.Token{AccessToken: "at-value", RefreshToken: "rt-value", Expiry: now.Add(-time.Hour)}
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(sec, "ms"), tok, now.Add(-80*auth.Day)); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, app: a, q: make(chan func(), 4096)}
	br := &bridge{do: func(f func()) { h.q <- f }}
	h.win = test.NewWindow(nil)
	h.v = newView(a, h.win, be, br)
	h.win.SetContent(h.v.content())
	h.win.Resize(fyne.NewSize(1000, 760))
	t.Cleanup(func() { h.v.cancel(); h.win.Close() })

	h.v.profiles.reload("ms")
	want := auth.LapseWarningForProfile("ms", p.OAuth2, sec, now)
	if want == "" {
		t.Fatal("no warning to expect")
	}
	h.waitFor("the lapse warning", func() bool { return strings.Contains(h.v.oauth.expiry.Text, want) })
	if strings.Contains(h.v.oauth.expiry.Text+h.v.oauth.tokenState.Text, "rt-value") {
		t.Fatal("a token value in the window")
	}
}

// TestDeviceCodeAgainstTheProvider: GET with the device-code flow against the real test
// provider: the window shows the code, "the user" enters it on the provider's page, the
// tokens are stored, and Check signs in to Dovecot with them.
func TestDeviceCodeAgainstTheProvider(t *testing.T) {
	o := testenv.OIDC(t)
	d := testenv.Dovecot(t)
	folder := d.NewMailbox(t, "uidev")
	a := test.NewTempApp(t)
	home := t.TempDir()
	sec := store.NewMemorySecrets()
	h := &harness{t: t, app: a, q: make(chan func(), 4096), timeout: 60 * time.Second}
	br := &bridge{do: func(f func()) { h.q <- f }}
	h.win = test.NewWindow(nil)
	h.v = newView(a, h.win, NewBackendWith(home, sec, nil), br)
	h.win.SetContent(h.v.content())
	h.win.Resize(fyne.NewSize(1000, 760))
	t.Cleanup(func() { h.v.cancel(); h.win.Close() })
	v := h.v

	v.profiles.startNew(store.DefaultProfile("dev"))
	v.setup.preset.SetSelected("Custom")
	v.setup.host.SetText(d.Host)
	v.setup.port.SetText(fmt.Sprint(d.IMAPSPort))
	test.Type(v.setup.username, o.User)
	v.setup.folder.SetText(folder)
	v.security.caFile.SetText(d.CAFile)
	v.oauth.flow.SetSelected(labelOf(flowLabels, flowValues, store.FlowDevice))
	v.oauth.tokenURL.SetText(o.TokenURL())
	v.oauth.deviceURL.SetText(o.DeviceAuthURL())
	test.Type(v.oauth.clientID, o.DeviceClientID)
	v.oauth.scope.SetText(strings.Join(testenv.Scopes, " "))
	test.Type(v.dest.folder, t.TempDir())
	if f, err := v.firstInvalid(); f != nil {
		t.Fatalf("form invalid: %s: %v", f.label, err)
	}

	test.Tap(v.oauth.get)
	h.waitFor("the code", func() bool { return v.oauth.deviceBox.Visible() })
	code, page := v.oauth.deviceCode.Text, v.oauth.urlEntry.Text
	if code == "" || !strings.HasPrefix(page, o.Issuer) {
		t.Fatalf("code %q, page %q", code, page)
	}
	approved := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		approved <- oidcdev.DeviceApprove(ctx, page, code, o.User, o.Password)
	}()
	h.waitFor("the sign-in", func() bool { return !v.loginRunning() })
	if err := <-approved; err != nil {
		t.Fatalf("entering the code: %v", err)
	}
	if v.oauth.tokenState.Text != "Refresh token: held" {
		t.Fatalf("after GET: %q / %q (dialog %q)", v.oauth.tokenState.Text, v.oauth.getResult.Text, v.lastDialog)
	}
	if rt, err := sec.Get("dev", store.SecretRefreshToken); err != nil || rt == "" {
		t.Fatalf("no refresh token stored: %v", err)
	}
	test.Tap(v.act.check)
	h.waitFor("check", func() bool { return !v.act.checking })
	if !strings.Contains(v.lastDialog, "✓ Signed in to") {
		t.Fatalf("check with the device-code tokens said:\n%s\n%s", v.lastDialog, d.LogTail(20))
	}
}
