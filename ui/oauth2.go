package ui

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/store"
)

// oauthTab is the OAuth2 tab: the app registration, GET and the state of the tokens.
type oauthTab struct {
	flow *widget.Select
	// keptFlow is a profile's flow the window has no choice for (service_account, set in
	// the file): kept as it is while the flow choice is left alone.
	keptFlow     string
	tenant       *widget.Entry
	authURL      *widget.Entry
	tokenURL     *widget.Entry
	deviceURL    *widget.Entry
	clientID     *widget.Entry
	clientSecret *widget.Entry
	scope        *widget.Entry
	scopeWarn    *widget.Label
	redirectURI  *widget.Entry
	redirectPort *widget.Entry
	// App-only credentials: how a client_credentials app proves itself (secret or
	// certificate), the certificate's file, a service account's key file.
	clientAuth         *widget.Select
	certFile           *widget.Entry
	serviceAccountFile *widget.Entry
	appForm            *fyne.Container
	certItem, saItem   *widget.FormItem
	clientAuthItem     *widget.FormItem
	appFormInner       *widget.Form

	get      *widget.Button
	cancel   *widget.Button
	progress *widget.ProgressBarInfinite
	getBox   *fyne.Container // GET, or progress + Cancel while signing in
	urlEntry *widget.Entry   // the sign-in URL, read-only, to copy
	urlBox   *fyne.Container
	// pasteEntry takes the address a browser on another machine ended on (paste-back);
	// paste is where it goes while a sign-in runs (nil otherwise).
	pasteEntry *widget.Entry
	pasteUse   *widget.Button
	paste      *io.PipeWriter
	tokenState *widget.Label
	expiry     *widget.Label
	getResult  *widget.Label

	// Device-code sign-in: the user code, large, with a copy button.
	deviceCode *widget.Label
	copyCode   *widget.Button
	deviceBox  *fyne.Container
	// appOnly replaces GET for client credentials (no sign-in happens).
	appOnly *widget.Label
	// lastTokens is the token state last shown (to re-render it when the flow changes).
	lastTokens TokenState
	// browserForm (authorization URL, redirect) shows only for browser sign-in;
	// deviceForm (device URL) only for the device-code flow.
	browserForm *fyne.Container
	deviceForm  *fyne.Container
}

func (v *view) buildOAuth() fyne.CanvasObject {
	t := &v.oauth
	t.flow = v.newSelect(translated(flowLabels), nil)
	t.tenant = v.newEntry(lang.L("OAuth2"), lang.L("Tenant"), "oauth2.tenant", "organizations", v.validateTenant)
	t.tenant.OnChanged = func(string) { v.tenantChanged() }
	t.authURL = v.newEntry(lang.L("OAuth2"), lang.L("Authorization URL"), "oauth2.authorization_url",
		"https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
		v.whenOAuthFlow(store.FlowAuthCode, validateURL(lang.L("authorization URL"), "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize")))
	t.tokenURL = v.newEntry(lang.L("OAuth2"), lang.L("Token URL"), "oauth2.token_url",
		"https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
		v.whenOAuth(validateURL(lang.L("token URL"), "https://oauth2.googleapis.com/token")))
	t.deviceURL = v.newEntry(lang.L("OAuth2"), lang.L("Device URL"), "oauth2.device_url",
		"https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode",
		v.whenOAuthFlow(store.FlowDevice, validateURL(lang.L("device authorization URL"), "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode")))
	t.clientID = v.newEntry(lang.L("OAuth2"), lang.L("Client ID"), "oauth2.client_id", "00000000-0000-0000-0000-000000000000", v.whenOAuth(validateClientID))
	t.clientSecret = v.newPassword(lang.L("OAuth2"), lang.L("Client secret"), "oauth2.client_secret", v.validateClientSecret)
	t.scope = v.newEntry(lang.L("OAuth2"), lang.L("Scope"), "oauth2.scope", "https://outlook.office.com/IMAP.AccessAsUser.All offline_access", v.whenOAuth(validateScope))
	t.scope.MultiLine = false
	t.scopeWarn = widget.NewLabel("")
	t.scopeWarn.Wrapping = fyne.TextWrapWord
	t.scopeWarn.Importance = widget.WarningImportance
	t.scopeWarn.Hide()
	t.redirectURI = v.newEntry(lang.L("OAuth2"), lang.L("Redirect URI"), "oauth2.redirect_uri", "http://localhost:3017/", v.whenOAuthFlow(store.FlowAuthCode, v.validateRedirectURI))
	t.redirectPort = v.newEntry(lang.L("OAuth2"), lang.L("Redirect port"), "oauth2.redirect_port", "3017", v.whenOAuthFlow(store.FlowAuthCode, validateRedirectPort))
	t.redirectURI.OnChanged = func(s string) { v.redirectURIChanged(s) }
	t.redirectPort.OnChanged = func(s string) { v.redirectPortChanged(s) }

	t.get = widget.NewButtonWithIcon(lang.L("GET tokens"), theme.LoginIcon(), v.startLogin)
	t.get.Importance = widget.HighImportance
	t.progress = widget.NewProgressBarInfinite()
	t.progress.Stop()
	t.cancel = widget.NewButtonWithIcon(lang.L("Cancel"), theme.CancelIcon(), v.cancelLogin)
	t.getBox = container.NewStack(container.NewHBox(t.get))
	t.urlEntry = widget.NewEntry()
	t.urlEntry.Disable()
	copyURL := widget.NewButtonWithIcon(lang.L("Copy"), theme.ContentCopyIcon(), func() {
		v.app.Clipboard().SetContent(t.urlEntry.Text)
	})
	t.pasteEntry = widget.NewEntry()
	t.pasteEntry.SetPlaceHolder(lang.L("http://localhost:PORT/?code=…&state=…"))
	t.pasteUse = widget.NewButtonWithIcon(lang.L("Use"), theme.ConfirmIcon(), v.usePastedAddress)
	t.pasteEntry.OnSubmitted = func(string) { v.usePastedAddress() }
	t.urlBox = container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel(lang.L("Sign-in page:")), copyURL, t.urlEntry),
		widget.NewLabel(lang.L("Browser on another machine? Open the page there, sign in, and paste the address it ends on here:")),
		container.NewBorder(nil, nil, nil, t.pasteUse, t.pasteEntry))
	t.urlBox.Hide()
	t.tokenState = widget.NewLabel(lang.L("Refresh token: none"))
	t.tokenState.TextStyle.Bold = true
	t.expiry = widget.NewLabel("")
	t.expiry.Wrapping = fyne.TextWrapWord
	t.getResult = widget.NewLabel("")
	t.getResult.Wrapping = fyne.TextWrapWord
	t.getResult.Hide()

	t.deviceCode = widget.NewLabel("")
	t.deviceCode.SizeName = theme.SizeNameHeadingText
	t.deviceCode.TextStyle = fyne.TextStyle{Monospace: true}
	t.deviceCode.Selectable = true
	t.copyCode = widget.NewButtonWithIcon(lang.L("Copy code"), theme.ContentCopyIcon(), func() {
		v.app.Clipboard().SetContent(t.deviceCode.Text)
	})
	t.deviceBox = container.NewVBox(
		widget.NewLabel(lang.L("Enter this code on the sign-in page (below), on any device:")),
		container.NewHBox(t.deviceCode, container.NewCenter(t.copyCode)))
	t.deviceBox.Hide()
	t.appOnly = widget.NewLabel(lang.L("App-only access: no sign-in. MailMover gets its tokens with the client secret; Check tests them."))
	t.appOnly.Wrapping = fyne.TextWrapWord
	t.appOnly.Hide()

	reg := widget.NewForm(
		&widget.FormItem{Text: lang.L("Flow"), Widget: t.flow, HintText: lang.L("Browser sign-in suits people; client credentials suit app-only Microsoft 365 access")},
		&widget.FormItem{Text: lang.L("Tenant"), Widget: t.tenant, HintText: lang.L("Microsoft 365: your tenant ID or domain, or organizations / common")},
		&widget.FormItem{Text: lang.L("Token URL"), Widget: t.tokenURL, HintText: lang.L("Where MailMover exchanges and refreshes tokens")},
		&widget.FormItem{Text: lang.L("Client ID"), Widget: t.clientID, HintText: lang.L("The Application (client) ID of your app registration")},
		&widget.FormItem{Text: lang.L("Client secret"), Widget: t.clientSecret,
			HintText: lang.L("Only for confidential (web) clients; leave empty for a public client. Kept in the keyring")},
		&widget.FormItem{Text: lang.L("Scope"), Widget: t.scope, HintText: lang.L("Space-separated; offline_access gives a refresh token")},
		&widget.FormItem{Text: "", Widget: t.scopeWarn},
	)
	// The fields of one flow only, hidden for the others.
	t.browserForm = flowSection(lang.L("Browser sign-in"), widget.NewForm(
		&widget.FormItem{Text: lang.L("Authorization URL"), Widget: t.authURL, HintText: lang.L("Where the browser signs in")},
		&widget.FormItem{Text: lang.L("Redirect URI"), Widget: t.redirectURI, HintText: lang.L("Exactly as registered; kept in step with the port")},
		&widget.FormItem{Text: lang.L("Redirect port"), Widget: t.redirectPort, HintText: lang.L("The local port the sign-in answer comes back to")},
	))
	t.deviceForm = flowSection(lang.L("Device code"), widget.NewForm(
		&widget.FormItem{Text: lang.L("Device URL"), Widget: t.deviceURL, HintText: lang.L("Only for the device-code flow")},
	))
	t.deviceForm.Hide()
	t.clientAuth = v.newSelect(translated(clientAuthLabels), nil)
	t.certFile = v.newEntry(lang.L("OAuth2"), lang.L("Certificate file"), "oauth2.client_certificate_file",
		lang.L("/etc/mailmover/app.pem (empty: the keyring)"), nil)
	t.serviceAccountFile = v.newEntry(lang.L("OAuth2"), lang.L("Key file"), "oauth2.service_account_file",
		lang.L("/etc/mailmover/sa.json (empty: the keyring)"), nil)
	t.clientAuthItem = &widget.FormItem{Text: lang.L("App credential"), Widget: t.clientAuth,
		HintText: lang.L("A certificate is what Microsoft recommends for app-only access")}
	t.certItem = &widget.FormItem{Text: lang.L("Certificate file"), Widget: t.certFile,
		HintText: lang.L("PEM with the private key and the certificate, readable only by you; empty: 'mailmover secret set -profile P client-certificate'")}
	t.saItem = &widget.FormItem{Text: lang.L("Key file"), Widget: t.serviceAccountFile,
		HintText: lang.L("The service account's JSON key, readable only by you; empty: 'mailmover secret set -profile P service-account'")}
	t.appFormInner = widget.NewForm(t.clientAuthItem)
	t.appForm = flowSection(lang.L("App-only access"), t.appFormInner)
	t.appForm.Hide()
	tokens := widget.NewCard("", "",
		container.NewVBox(
			container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), container.NewVBox(t.getBox),
				container.NewVBox(t.tokenState, t.expiry)),
			t.appOnly, t.deviceBox, t.urlBox, t.getResult,
		))
	return tabPage(lang.L("OAuth2 sign-in"),
		lang.L("The app registration MailMover signs in with. Microsoft 365 and Gmail presets fill the URLs and scope."),
		tokens, reg, t.browserForm, t.deviceForm, t.appForm)
}

// flowSection is the part of the OAuth2 tab that only one flow uses, under its name.
func flowSection(title string, form *widget.Form) *fyne.Container {
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVBox(widget.NewSeparator(), head, form)
}

// showDeviceCode shows the device-code flow's user code, large, and the page to enter
// it on (an empty code hides both).
func (v *view) showDeviceCode(code, verifyURL string) {
	t := &v.oauth
	if code == "" {
		t.deviceCode.SetText("")
		t.deviceBox.Hide()
		return
	}
	t.deviceCode.SetText(code)
	t.deviceBox.Show()
	t.urlEntry.SetText(verifyURL)
	t.urlBox.Show()
	v.setLoginResult(lang.L("Waiting for the code to be entered on the sign-in page…"))
}

// setLoginResult shows the outcome of GET under the token state ("" hides it).
func (v *view) setLoginResult(text string) {
	r := v.oauth.getResult
	r.SetText(text)
	if text == "" {
		r.Hide()
	} else {
		r.Show()
	}
}

// isOAuth reports whether the sign-in method uses OAuth2.
func (v *view) isOAuth() bool {
	return v.security.auth != nil && valueOf(authLabels, authValues, v.security.auth.Selected) != store.AuthPassword
}

func (v *view) flow() string {
	if v.oauth.flow == nil {
		return store.FlowAuthCode
	}
	if v.oauth.keptFlow != "" && v.oauth.flow.Selected == "" {
		return v.oauth.keptFlow
	}
	return valueOf(flowLabels, flowValues, v.oauth.flow.Selected)
}

// whenOAuth applies a validator only when the sign-in method is OAuth2.
func (v *view) whenOAuth(f func(string) error) func(string) error {
	return func(s string) error {
		if !v.isOAuth() {
			return nil
		}
		return f(s)
	}
}

// whenOAuthFlow applies a validator only for OAuth2 with the given flow.
func (v *view) whenOAuthFlow(flow string, f func(string) error) func(string) error {
	return func(s string) error {
		if !v.isOAuth() || v.flow() != flow {
			return nil
		}
		return f(s)
	}
}

func (v *view) validateTenant(s string) error {
	if !v.isOAuth() || !store.IsMicrosoftPreset(presetFromLabel(v.setup.preset.Selected)) {
		return nil
	}
	return validateTenant(s)
}

func (v *view) validateClientSecret(s string) error {
	cert := v.oauth.clientAuth != nil && valueOf(clientAuthLabels, clientAuthValues, v.oauth.clientAuth.Selected) == store.ClientAuthCertificate
	if v.isOAuth() && v.flow() == store.FlowClientCredentials && !cert && s == "" && !v.stored[secretClientSecret] {
		return hint(lang.L("Client credentials need the client secret of the app registration"))
	}
	return nil
}

// validateRedirectURI checks the URI and that it agrees with the port.
func (v *view) validateRedirectURI(s string) error {
	if err := validateRedirectURI(s); err != nil {
		return err
	}
	port, err := strconv.Atoi(strings.TrimSpace(v.oauth.redirectPort.Text))
	if err != nil {
		return nil // the port field says what is wrong
	}
	if err := v.be.ValidateRedirect(strings.TrimSpace(s), port); err != nil {
		return hint(err.Error())
	}
	return nil
}

// redirectURIChanged copies the URI's port into the port field.
func (v *view) redirectURIChanged(s string) {
	if v.loading || v.syncing {
		return
	}
	if u, err := url.Parse(strings.TrimSpace(s)); err == nil && u.Port() != "" && u.Port() != strings.TrimSpace(v.oauth.redirectPort.Text) {
		v.syncing = true
		v.oauth.redirectPort.SetText(u.Port())
		v.syncing = false
	}
	v.changed()
}

// redirectPortChanged writes the port into the URI (keeping its host and path).
func (v *view) redirectPortChanged(s string) {
	if v.loading || v.syncing {
		return
	}
	port, err := strconv.Atoi(strings.TrimSpace(s))
	if err == nil && port > 0 && port <= 65535 {
		uri := strings.TrimSpace(v.oauth.redirectURI.Text)
		u, perr := url.Parse(uri)
		if perr != nil || u.Host == "" {
			u = &url.URL{Scheme: "http", Host: "localhost", Path: "/"}
		}
		u.Host = hostPort(u.Hostname(), port)
		if u.String() != uri {
			v.syncing = true
			v.oauth.redirectURI.SetText(u.String())
			v.syncing = false
		}
	}
	v.changed()
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// tenantChanged re-fills the Microsoft URLs for the new tenant.
func (v *view) tenantChanged() {
	if v.loading {
		return
	}
	if preset := presetFromLabel(v.setup.preset.Selected); store.IsMicrosoftPreset(preset) {
		if err := validateTenant(v.oauth.tenant.Text); err == nil {
			p := v.profileFromForm()
			v.be.ApplyPreset(&p.OAuth2, preset, strings.TrimSpace(v.oauth.tenant.Text))
			v.loading = true
			v.oauth.authURL.SetText(p.OAuth2.AuthorizationURL)
			v.oauth.tokenURL.SetText(p.OAuth2.TokenURL)
			v.oauth.deviceURL.SetText(p.OAuth2.DeviceURL)
			v.loading = false
		}
	}
	v.changed()
}

func (v *view) readOAuth(p *store.Profile) {
	t := &v.oauth
	p.OAuth2.Flow = v.flow()
	p.OAuth2.Tenant = strings.TrimSpace(t.tenant.Text)
	p.OAuth2.AuthorizationURL = strings.TrimSpace(t.authURL.Text)
	p.OAuth2.TokenURL = strings.TrimSpace(t.tokenURL.Text)
	p.OAuth2.DeviceURL = strings.TrimSpace(t.deviceURL.Text)
	p.OAuth2.ClientID = strings.TrimSpace(t.clientID.Text)
	p.OAuth2.Scope = strings.Join(strings.Fields(t.scope.Text), " ")
	p.OAuth2.RedirectURI = strings.TrimSpace(t.redirectURI.Text)
	p.OAuth2.RedirectPort, _ = strconv.Atoi(strings.TrimSpace(t.redirectPort.Text))
	p.OAuth2.ClientAuth, p.OAuth2.ClientCertificateFile, p.OAuth2.ServiceAccountFile = "", "", ""
	switch p.OAuth2.Flow {
	case store.FlowClientCredentials:
		p.OAuth2.ClientAuth = valueOf(clientAuthLabels, clientAuthValues, t.clientAuth.Selected)
		if p.OAuth2.ClientAuth == store.ClientAuthCertificate {
			p.OAuth2.ClientCertificateFile = strings.TrimSpace(t.certFile.Text)
		}
	case store.FlowServiceAccount:
		p.OAuth2.ServiceAccountFile = strings.TrimSpace(t.serviceAccountFile.Text)
	}
}

func (v *view) fillOAuth(p *store.Profile) {
	t := &v.oauth
	t.keptFlow = ""
	if !slices.Contains(flowValues, p.OAuth2.Flow) {
		t.keptFlow = p.OAuth2.Flow
		t.flow.ClearSelected()
	} else {
		t.flow.SetSelected(labelOf(flowLabels, flowValues, p.OAuth2.Flow))
	}
	t.tenant.SetText(p.OAuth2.Tenant)
	t.authURL.SetText(p.OAuth2.AuthorizationURL)
	t.tokenURL.SetText(p.OAuth2.TokenURL)
	t.deviceURL.SetText(p.OAuth2.DeviceURL)
	t.clientID.SetText(p.OAuth2.ClientID)
	t.scope.SetText(p.OAuth2.Scope)
	t.redirectURI.SetText(p.OAuth2.RedirectURI)
	t.redirectPort.SetText(itoa(p.OAuth2.RedirectPort))
	ca := p.OAuth2.ClientAuth
	if ca == "" {
		ca = store.ClientAuthSecret
	}
	t.clientAuth.SetSelected(labelOf(clientAuthLabels, clientAuthValues, ca))
	t.certFile.SetText(p.OAuth2.ClientCertificateFile)
	t.serviceAccountFile.SetText(p.OAuth2.ServiceAccountFile)
}

// updateOAuthDerived shows the scope warning at the Scope field and enables the fields
// the chosen preset and flow use.
func (v *view) updateOAuthDerived() {
	t := &v.oauth
	p := v.profileFromForm()
	warn := ""
	if v.isOAuth() {
		warn = v.be.ScopeWarning(p.OAuth2)
	}
	if warn != t.scopeWarn.Text {
		t.scopeWarn.SetText(warn)
	}
	if warn == "" {
		t.scopeWarn.Hide()
	} else {
		t.scopeWarn.Show()
	}
	oauth := v.isOAuth()
	setEnabled(v.security.password, !oauth)
	for _, e := range []*widget.Entry{t.tokenURL, t.clientID, t.clientSecret, t.scope} {
		setEnabled(e, oauth)
	}
	setEnabled(t.flow, oauth)
	setEnabled(t.tenant, oauth && store.IsMicrosoftPreset(presetFromLabel(v.setup.preset.Selected)))
	code := oauth && v.flow() == store.FlowAuthCode
	for _, e := range []*widget.Entry{t.authURL, t.redirectURI, t.redirectPort} {
		setEnabled(e, code)
	}
	setEnabled(t.deviceURL, oauth && v.flow() == store.FlowDevice)
	v.updateGet()
	// Show only what the flow uses: client credentials have no sign-in (no GET, no
	// redirect), the device flow no redirect.
	appOnly := oauth && (v.flow() == store.FlowClientCredentials || v.flow() == store.FlowServiceAccount)
	setShown(t.browserForm, v.flow() == store.FlowAuthCode)
	setShown(t.deviceForm, v.flow() == store.FlowDevice)
	setShown(t.appForm, appOnly)
	cert := v.flow() == store.FlowClientCredentials && valueOf(clientAuthLabels, clientAuthValues, t.clientAuth.Selected) == store.ClientAuthCertificate
	var items []*widget.FormItem
	switch {
	case v.flow() == store.FlowServiceAccount:
		items = []*widget.FormItem{t.saItem}
	case cert:
		items = []*widget.FormItem{t.clientAuthItem, t.certItem}
	default:
		items = []*widget.FormItem{t.clientAuthItem}
	}
	if !slices.Equal(items, t.appFormInner.Items) {
		t.appFormInner.Items = items
		t.appFormInner.Refresh()
	}
	setEnabled(t.clientSecret, oauth && !cert && v.flow() != store.FlowServiceAccount)
	wasAppOnly := t.appOnly.Visible()
	setShown(t.appOnly, appOnly)
	setShown(t.getBox, !appOnly)
	if wasAppOnly != appOnly {
		v.showTokenState(t.lastTokens)
	}
}

// updateGet enables GET only for an OAuth2 profile whose OAuth2 fields are all valid, so
// a sign-in never runs on fields that would send a code, verifier or secret elsewhere
// (a redirect or an endpoint that is not loopback over plain http).
func (v *view) updateGet() {
	if v.loginRunning() {
		return
	}
	setEnabled(v.oauth.get, v.isOAuth() && v.profileName != "" && v.oauthProblem() == "")
}

// oauthProblem returns the first problem of the OAuth2 fields, by the window's validators
// and then by the store's rules (the ones the profile file must pass), or "" when there
// is none.
func (v *view) oauthProblem() string {
	for _, f := range v.fields {
		if strings.HasPrefix(f.key, "oauth2.") && f.entry.Validator != nil {
			if err := f.entry.Validator(f.entry.Text); err != nil {
				return err.Error()
			}
		}
	}
	for _, fe := range store.FieldErrors(v.profileFromForm().Validate()) {
		if strings.HasPrefix(fe.Key, "oauth2.") {
			return fe.Msg
		}
	}
	return ""
}

// setShown shows or hides o, refreshing only on a change.
func setShown(o fyne.CanvasObject, show bool) {
	if o.Visible() == show {
		return
	}
	if show {
		o.Show()
	} else {
		o.Hide()
	}
}

// showTokenState renders the stored tokens' state; never a value.
func (v *view) showTokenState(ts TokenState) {
	t := &v.oauth
	t.lastTokens = ts
	if v.isOAuth() && (v.flow() == store.FlowClientCredentials || v.flow() == store.FlowServiceAccount) {
		t.tokenState.SetText(lang.L("Refresh token: not used (app-only access)"))
	} else if ts.RefreshToken {
		t.tokenState.SetText(lang.L("Refresh token: held"))
	} else {
		t.tokenState.SetText(lang.L("Refresh token: none — click GET to sign in"))
	}
	exp := describeExpiry(ts.AccessToken, ts.Expiry, time.Now())
	if ts.Lapse != "" {
		exp += "\n⚠ " + ts.Lapse
		v.notes.lapse(v.profileName, ts.Lapse)
	}
	t.expiry.SetText(exp)
}

// describeExpiry says when the access token expires, in words.
func describeExpiry(held bool, exp, now time.Time) string {
	switch {
	case !held && exp.IsZero():
		return lang.L("Access token: none (fetched when needed)")
	case exp.IsZero():
		return lang.L("Access token: held (••••••••)")
	case exp.Before(now):
		return fmt.Sprintf(lang.L("Access token: expired %s (renewed with the refresh token when needed)"), formatDate(exp.Local())+" "+exp.Local().Format("15:04"))
	}
	return fmt.Sprintf(lang.L("Access token: held (••••••••), expires %s (in %s)"), exp.Local().Format("15:04"), roundDur(exp.Sub(now)))
}

func roundDur(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	if d >= time.Minute {
		return fmt.Sprintf(lang.L("%d min"), int(d.Minutes()))
	}
	return fmt.Sprintf("%d s", int(d.Seconds()))
}

// usePastedAddress hands the pasted address to the running sign-in (paste-back).
func (v *view) usePastedAddress() {
	t := &v.oauth
	addr := strings.TrimSpace(t.pasteEntry.Text)
	if addr == "" || t.paste == nil {
		return
	}
	t.pasteEntry.SetText("")
	w := t.paste
	go func() { _, _ = io.WriteString(w, addr+"\n") }() // the sign-in reads it
}
