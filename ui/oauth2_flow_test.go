package ui

import (
	"testing"

	"mailmover/store"
)

// A profile whose flow the window offers no choice for (a Google service account, set
// in the file) and its app-only keys come back unchanged from the form: opening and
// saving it in the window does not turn it into another flow.
func TestFormKeepsAFlowItCannotShow(t *testing.T) {
	h := newHarness(t)
	h.newProfile("gw")
	v := h.v
	p := v.profileFromForm()
	p.OAuth2.Preset, p.OAuth2.Flow, p.OAuth2.ServiceAccountFile = store.PresetGoogle, store.FlowServiceAccount, "/etc/mailmover/sa.json"
	v.saved = p
	v.fillForm(p)
	got := v.profileFromForm()
	if got.OAuth2.Flow != store.FlowServiceAccount || got.OAuth2.ServiceAccountFile != "/etc/mailmover/sa.json" {
		t.Fatalf("read back flow %q, file %q", got.OAuth2.Flow, got.OAuth2.ServiceAccountFile)
	}
	// Choosing a flow in the window replaces it.
	v.oauth.flow.SetSelected(labelOf(flowLabels, flowValues, store.FlowClientCredentials))
	if got := v.profileFromForm(); got.OAuth2.Flow != store.FlowClientCredentials {
		t.Fatalf("after choosing: %q", got.OAuth2.Flow)
	}
	// A certificate profile keeps client_auth and its file.
	p.OAuth2.Flow, p.OAuth2.ClientAuth, p.OAuth2.ClientCertificateFile = store.FlowClientCredentials, store.ClientAuthCertificate, "/etc/mailmover/app.pem"
	v.saved = p
	v.fillForm(p)
	if got := v.profileFromForm(); got.OAuth2.ClientAuth != store.ClientAuthCertificate || got.OAuth2.ClientCertificateFile != "/etc/mailmover/app.pem" {
		t.Fatalf("certificate profile read back as %+v", got.OAuth2)
	}
}
