package ui

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/store"
)

// securityTab is the Security tab: transport, sign-in method, password, certificates.
type securityTab struct {
	tls      *widget.Select
	auth     *widget.Select
	password *widget.Entry
	verify   *widget.Check
	caFile   *widget.Entry
	lastTLS  string
}

func (v *view) buildSecurity() fyne.CanvasObject {
	t := &v.security
	t.tls = v.newSelect(translated(tlsLabels), v.tlsChanged)
	t.auth = v.newSelect(translated(authLabels), nil)
	t.password = v.newPassword(lang.L("Security"), lang.L("Password"), "security.password", v.validatePassword)
	t.verify = widget.NewCheck(lang.L("Verify the server's certificate"), func(bool) { v.changed() })
	t.caFile = v.newEntry(lang.L("Security"), lang.L("CA file"), "security.ca_file", lang.L("/etc/ssl/private-ca.pem (optional)"), validateCAFile)
	browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			_ = r.Close()
			t.caFile.SetText(r.URI().Path())
		}, v.win)
		d.Show()
	})

	form := widget.NewForm(
		&widget.FormItem{Text: lang.L("Encryption"), Widget: t.tls, HintText: lang.L("Changing it suggests the usual port")},
		&widget.FormItem{Text: lang.L("Sign-in"), Widget: t.auth,
			HintText: lang.L("Microsoft 365 and Gmail need OAuth2 (set it up on the OAuth2 tab)")},
		&widget.FormItem{Text: lang.L("Password"), Widget: t.password,
			HintText: lang.L("Only for password sign-in; kept in the system keyring, never in the profile file")},
		&widget.FormItem{Text: lang.L("Certificate"), Widget: t.verify},
		&widget.FormItem{Text: lang.L("CA file"), Widget: container.NewBorder(nil, nil, nil, browse, t.caFile),
			HintText: lang.L("An extra PEM bundle for a server with a private certificate authority")},
	)
	return tabPage(lang.L("Security"), lang.L("How MailMover connects and signs in."), form)
}

// tlsChanged suggests the usual port of the new TLS mode when the port was the usual
// one of the old mode (or empty).
func (v *view) tlsChanged(label string) {
	t := &v.security
	mode := valueOf(tlsLabels, tlsValues, label)
	old := t.lastTLS
	t.lastTLS = mode
	cur, _ := strconv.Atoi(strings.TrimSpace(v.setup.port.Text))
	if cur == 0 || (old != "" && cur == defaultPort(old)) {
		v.setup.port.SetText(strconv.Itoa(defaultPort(mode)))
	}
}

// validatePassword needs a password for password sign-in unless one is stored already.
func (v *view) validatePassword(s string) error {
	if v.security.auth == nil || valueOf(authLabels, authValues, v.security.auth.Selected) != store.AuthPassword {
		return nil
	}
	if s == "" && !v.stored[secretPassword] {
		return hint(lang.L("Enter the mailbox password (it is saved in the system keyring)"))
	}
	return nil
}

func (v *view) readSecurity(p *store.Profile) {
	t := &v.security
	p.Security.TLS = valueOf(tlsLabels, tlsValues, t.tls.Selected)
	p.Security.Auth = valueOf(authLabels, authValues, t.auth.Selected)
	p.Security.VerifyCertificate = t.verify.Checked
	p.Security.CAFile = strings.TrimSpace(t.caFile.Text)
}

func (v *view) fillSecurity(p *store.Profile) {
	t := &v.security
	t.tls.SetSelected(labelOf(tlsLabels, tlsValues, p.Security.TLS))
	t.lastTLS = valueOf(tlsLabels, tlsValues, t.tls.Selected)
	t.auth.SetSelected(labelOf(authLabels, authValues, p.Security.Auth))
	t.verify.SetChecked(p.Security.VerifyCertificate)
	t.caFile.SetText(p.Security.CAFile)
}

// updateSecretHints says in the placeholders whether the keyring holds a password /
// client secret, without ever showing a value.
func (v *view) updateSecretHints() {
	stored := func(kind, none string) string {
		if v.stored[kind] {
			return lang.L("•••••••• stored in the keyring — type to replace")
		}
		return none
	}
	v.security.password.SetPlaceHolder(stored(secretPassword, lang.L("not stored")))
	v.oauth.clientSecret.SetPlaceHolder(stored(secretClientSecret, lang.L("optional — not stored")))
}
