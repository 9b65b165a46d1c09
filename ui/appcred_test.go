package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"mailmover/store"
)

// The OAuth2 tab offers the app-only credentials the engine supports: a client_credentials
// profile may use a certificate (in a file), a Google service account its key file; both
// round-trip through Save.
func TestAppOnlyCredentialsInTheWindow(t *testing.T) {
	h := newHarness(t)
	h.newProfile("app")
	v := h.v
	v.oauth.flow.SetSelected(labelOf(flowLabels, flowValues, store.FlowClientCredentials))
	if !v.oauth.appForm.Visible() || len(v.oauth.appFormInner.Items) != 1 {
		t.Fatalf("client credentials: app form shown %v with %d items", v.oauth.appForm.Visible(), len(v.oauth.appFormInner.Items))
	}
	v.oauth.clientAuth.SetSelected(labelOf(clientAuthLabels, clientAuthValues, store.ClientAuthCertificate))
	if len(v.oauth.appFormInner.Items) != 2 || !v.oauth.clientSecret.Disabled() {
		t.Fatalf("certificate: %d items, client secret disabled %v", len(v.oauth.appFormInner.Items), v.oauth.clientSecret.Disabled())
	}
	v.oauth.certFile.SetText("relative.pem")
	if v.oauth.certFile.Validate() == nil {
		t.Error("a relative certificate file was accepted")
	}
	cert := t.TempDir() + "/app.pem"
	v.oauth.certFile.SetText(cert)
	if err := v.oauth.certFile.Validate(); err != nil {
		t.Fatalf("certificate file: %v", err)
	}
	if f, err := v.firstInvalid(); f != nil {
		t.Fatalf("invalid: %s: %v", f.label, err)
	}
	test.Tap(v.act.save)
	h.waitFor("save", func() bool { return !v.dirty })
	p, err := store.LoadProfile(h.be.home, "app")
	if err != nil {
		t.Fatal(err)
	}
	if p.OAuth2.Flow != store.FlowClientCredentials || p.OAuth2.ClientAuth != store.ClientAuthCertificate || p.OAuth2.ClientCertificateFile != cert {
		t.Errorf("saved oauth2 = %+v", p.OAuth2)
	}
	// Reopened, the choice is shown again.
	v.fillForm(p)
	if got := valueOf(clientAuthLabels, clientAuthValues, v.oauth.clientAuth.Selected); got != store.ClientAuthCertificate || v.oauth.certFile.Text != cert {
		t.Errorf("reopened: client auth %q, file %q", got, v.oauth.certFile.Text)
	}
}
