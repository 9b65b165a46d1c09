package auth

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/store"
)

// The national clouds' presets fill their own sign-in host, device URL and scope, as
// Microsoft's national-cloud and endpoint documentation gives them.
func TestApplyPresetNationalClouds(t *testing.T) {
	cases := []struct {
		preset, login, imapHost, scope, appScope string
	}{
		{store.PresetMicrosoft, "https://login.microsoftonline.com/", "outlook.office365.com",
			"https://outlook.office.com/IMAP.AccessAsUser.All offline_access", "https://outlook.office365.com/.default"},
		{store.PresetMicrosoftUSGov, "https://login.microsoftonline.us/", "outlook.office365.us",
			"https://outlook.office365.us/IMAP.AccessAsUser.All offline_access", "https://outlook.office365.us/.default"},
		{store.PresetMicrosoftDoD, "https://login.microsoftonline.us/", "outlook-dod.office365.us",
			"https://outlook-dod.office365.us/IMAP.AccessAsUser.All offline_access", "https://outlook-dod.office365.us/.default"},
		{store.PresetMicrosoftChina, "https://login.partner.microsoftonline.cn/", "partner.outlook.cn",
			"https://partner.outlook.cn/IMAP.AccessAsUser.All offline_access", "https://partner.outlook.cn/.default"},
	}
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			var o store.OAuth2
			if err := ApplyPreset(&o, c.preset, "contoso.example"); err != nil {
				t.Fatal(err)
			}
			base := c.login + "contoso.example/oauth2/v2.0/"
			if o.AuthorizationURL != base+"authorize" || o.TokenURL != base+"token" || o.DeviceURL != base+"devicecode" {
				t.Errorf("URLs %s %s %s, want under %s", o.AuthorizationURL, o.TokenURL, o.DeviceURL, base)
			}
			if o.Scope != c.scope || o.Preset != c.preset || o.Tenant != "contoso.example" {
				t.Errorf("scope %q preset %q tenant %q", o.Scope, o.Preset, o.Tenant)
			}
			if w := ScopeWarning(o); w != "" {
				t.Errorf("the preset's own scope warns: %s", w)
			}
			cloud, ok := MicrosoftCloudOf(c.preset)
			if !ok || cloud.IMAPHost != c.imapHost {
				t.Errorf("IMAP host %q, want %q", cloud.IMAPHost, c.imapHost)
			}
			o.Flow = store.FlowClientCredentials
			if err := ApplyPreset(&o, c.preset, "contoso.example"); err != nil || o.Scope != c.appScope {
				t.Errorf("app-only scope %q (%v), want %q", o.Scope, err, c.appScope)
			}
			// The profile validates, and a config builds from it.
			p := store.DefaultProfile("x")
			p.Setup.Host, p.Setup.Username, p.Destination.Folder = c.imapHost, "u@contoso.example", "/srv/in"
			if err := ApplyPreset(&p.OAuth2, c.preset, "contoso.example"); err != nil {
				t.Fatal(err)
			}
			p.OAuth2.ClientID = "cid"
			if err := p.Validate(); err != nil {
				t.Errorf("profile: %v", err)
			}
			cfg, err := ConfigFromProfile(p.OAuth2, "")
			if err != nil || cfg.AuthParams.Get("prompt") != "select_account" {
				t.Errorf("config: %v, params %v (want Microsoft's select_account)", err, cfg.AuthParams)
			}
		})
	}
}

// Microsoft's rules recognise the national clouds: the scope checks, a scope of another
// cloud, the 90-day lapse, and a custom profile by its sign-in host.
func TestNationalCloudsAreMicrosoft(t *testing.T) {
	gov := store.OAuth2{Preset: store.PresetMicrosoftUSGov, Flow: store.FlowAuthCode, Scope: "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"}
	if w := ScopeWarning(gov); !strings.Contains(w, "another Microsoft cloud") || !strings.Contains(w, "https://outlook.office365.us/IMAP.AccessAsUser.All") {
		t.Errorf("GCC High with the global scope: %q", w)
	}
	cn := store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowAuthCode, TokenURL: "https://login.chinacloudapi.cn/t/oauth2/v2.0/token", Scope: "openid profile offline_access"}
	if w := ScopeWarning(cn); !strings.Contains(w, "https://partner.outlook.cn/IMAP.AccessAsUser.All") {
		t.Errorf("a custom 21Vianet profile with OIDC scopes only: %q", w)
	}
	dod := store.OAuth2{Preset: store.PresetMicrosoftDoD, Flow: store.FlowAuthCode, Scope: "https://outlook.office365.us/IMAP.AccessAsUser.All offline_access"}
	if w := ScopeWarning(dod); w != "" {
		t.Errorf("DoD with the GCC High resource (same sign-in host): %q", w)
	}
	now := time.Now()
	sec := store.NewMemorySecrets()
	if err := SaveLogin(NewSecretsTokenStore(sec, "p"), &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	for _, p := range store.MicrosoftPresets {
		if LapseWarning(p, now.Add(-100*Day), now) == "" {
			t.Errorf("%s: no lapse warning after 100 unused days", p)
		}
		if l, ok := ExpectedLapse("p", store.OAuth2{Preset: p, Flow: store.FlowAuthCode}, sec, now); !ok || l.Sub(now) < 89*Day {
			t.Errorf("%s: expected lapse %v, %v; want about 90 days ahead", p, l, ok)
		}
	}
}
