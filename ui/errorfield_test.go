package ui

import (
	"testing"

	"mailmover/imapsrc"
)

// An error the engine knows the field of brings that field's tab to the front (the
// engine's advice as data, rendered by the window).
func TestErrorShowsItsField(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	v.tabs.SelectIndex(0)
	v.showError("Check failed", &imapsrc.Error{Kind: imapsrc.KindTLS, Host: "imap.example.com:993", Op: "tls",
		Reason: "the certificate is not trusted", Advice: "set [security] ca_file"})
	if got := v.tabs.Selected().Text; got != "Security" {
		t.Errorf("tab %q after a TLS error, want Security", got)
	}
	v.tabs.SelectIndex(0)
	v.showError("Check failed", &imapsrc.Error{Kind: imapsrc.KindFolder, Op: "select", Reason: "no such folder"})
	if got := v.tabs.Selected().Text; got != "Setup" {
		t.Errorf("tab %q after a folder error, want Setup", got)
	}
}
