package ui

import (
	"strings"
	"testing"

	"mailmover/store"
)

// The national clouds are presets of their own: each fills its IMAP host, its sign-in
// host (with the tenant) and its scope; the tenant field is used, and the profile passes
// the store's rules, so Save and GET are enabled.
func TestNationalCloudPresets(t *testing.T) {
	cases := []struct{ label, preset, host, login, scope string }{
		{"Microsoft 365 GCC High (US Government)", store.PresetMicrosoftUSGov, "outlook.office365.us", "login.microsoftonline.us", "https://outlook.office365.us/IMAP.AccessAsUser.All"},
		{"Microsoft 365 DoD (US Government)", store.PresetMicrosoftDoD, "outlook-dod.office365.us", "login.microsoftonline.us", "https://outlook-dod.office365.us/IMAP.AccessAsUser.All"},
		{"Microsoft 365 operated by 21Vianet (China)", store.PresetMicrosoftChina, "partner.outlook.cn", "login.partner.microsoftonline.cn", "https://partner.outlook.cn/IMAP.AccessAsUser.All"},
	}
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			h := newHarness(t)
			h.newProfile("p")
			v := h.v
			v.setup.preset.SetSelected(c.label)
			if got := v.setup.host.Text; got != c.host {
				t.Errorf("host = %q, want %q", got, c.host)
			}
			if !strings.HasPrefix(v.oauth.scope.Text, c.scope) || !strings.Contains(v.oauth.scope.Text, "offline_access") {
				t.Errorf("scope = %q", v.oauth.scope.Text)
			}
			if v.oauth.tenant.Disabled() {
				t.Error("tenant disabled for a Microsoft cloud")
			}
			v.oauth.tenant.SetText("contoso.example")
			for _, u := range []string{v.oauth.authURL.Text, v.oauth.tokenURL.Text} {
				if !strings.HasPrefix(u, "https://"+c.login+"/contoso.example/oauth2/v2.0/") {
					t.Errorf("URL %q, want the cloud's sign-in host with the tenant", u)
				}
			}
			p := v.profileFromForm()
			if p.OAuth2.Preset != c.preset {
				t.Errorf("preset written = %q", p.OAuth2.Preset)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("profile: %v", err)
			}
			if v.oauth.scopeWarn.Visible() {
				t.Errorf("scope warning: %s", v.oauth.scopeWarn.Text)
			}
			if v.oauth.get.Disabled() || v.act.save.Disabled() {
				t.Errorf("GET disabled %v, Save disabled %v (problem %q)", v.oauth.get.Disabled(), v.act.save.Disabled(), v.act.problem.Text)
			}
		})
	}
}
