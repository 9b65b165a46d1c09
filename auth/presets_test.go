package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"mailmover/store"
)

func TestApplyPreset(t *testing.T) {
	tests := []struct {
		name, preset, tenant, flow string
		want                       store.OAuth2
	}{
		{"microsoft default tenant", "microsoft", "", "", store.OAuth2{Preset: "microsoft", Flow: "authcode", Tenant: "organizations",
			AuthorizationURL: "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
			TokenURL:         "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
			DeviceURL:        "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode",
			Scope:            MicrosoftIMAPScope, RedirectURI: DefaultRedirectURI, RedirectPort: DefaultRedirectPort}},
		{"microsoft app-only", "microsoft", "8eaef023-2b34-4da1-9baa-8bc8c9d6a490", "client_credentials", store.OAuth2{Preset: "microsoft", Flow: "client_credentials", Tenant: "8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
			AuthorizationURL: "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/authorize",
			TokenURL:         "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token",
			DeviceURL:        "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/devicecode",
			Scope:            MicrosoftAppScope}},
		{"microsoft hostile tenant stays in the path", "microsoft", "evil.com/x?y#", "device", store.OAuth2{Preset: "microsoft", Flow: "device", Tenant: "evil.com/x?y#",
			AuthorizationURL: "https://login.microsoftonline.com/evil.com%2Fx%3Fy%23/oauth2/v2.0/authorize",
			TokenURL:         "https://login.microsoftonline.com/evil.com%2Fx%3Fy%23/oauth2/v2.0/token",
			DeviceURL:        "https://login.microsoftonline.com/evil.com%2Fx%3Fy%23/oauth2/v2.0/devicecode",
			Scope:            MicrosoftIMAPScope}},
		{"google", "google", "ignored", "", store.OAuth2{Preset: "google", Flow: "authcode", AuthorizationURL: GoogleAuthURL, TokenURL: GoogleTokenURL,
			DeviceURL: GoogleDeviceURL, Scope: GoogleMailScope, RedirectURI: DefaultRedirectURI, RedirectPort: DefaultRedirectPort}},
		{"custom keeps fields", "custom", "", "", store.OAuth2{Preset: "custom", Flow: "authcode", ClientID: "keep"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := store.OAuth2{Flow: tc.flow}
			if tc.preset == "custom" {
				o.ClientID = "keep"
			}
			if err := ApplyPreset(&o, tc.preset, tc.tenant); err != nil {
				t.Fatal(err)
			}
			if o != tc.want {
				t.Fatalf("got  %+v\nwant %+v", o, tc.want)
			}
		})
	}
	var o store.OAuth2
	var ce *ConfigError
	if err := ApplyPreset(&o, "yahoo", ""); !errors.As(err, &ce) || ce.Field != "preset" {
		t.Fatalf("unknown preset: %v", err)
	}
}

func TestScopeWarning(t *testing.T) {
	ms := func(flow, scope string) store.OAuth2 {
		return store.OAuth2{Preset: "microsoft", Flow: flow, Scope: scope}
	}
	tests := []struct {
		name string
		o    store.OAuth2
		want []string // substrings; none = no warning
	}{
		{"microsoft imap ok", ms("authcode", MicrosoftIMAPScope), nil},
		{"microsoft oidc only", ms("authcode", "openid profile offline_access"), []string{"Graph", "IMAP.AccessAsUser.All"}},
		{"microsoft no offline_access", ms("authcode", "https://outlook.office.com/IMAP.AccessAsUser.All"), []string{"offline_access"}},
		{"microsoft device no offline_access", ms("device", "https://outlook.office.com/IMAP.AccessAsUser.All"), []string{"offline_access"}},
		{"microsoft app-only ok", ms("client_credentials", MicrosoftAppScope), nil},
		{"microsoft app-only with delegated scope", ms("client_credentials", MicrosoftIMAPScope), []string{".default"}},
		{"microsoft by URL", store.OAuth2{Preset: "custom", Flow: "authcode", TokenURL: "https://login.microsoftonline.com/x/oauth2/v2.0/token", Scope: "openid"}, []string{"Graph"}},
		{"google ok", store.OAuth2{Preset: "google", Flow: "authcode", Scope: GoogleMailScope}, nil},
		{"google wrong scope", store.OAuth2{Preset: "google", Flow: "authcode", Scope: "email"}, []string{"https://mail.google.com/"}},
		{"google device", store.OAuth2{Preset: "google", Flow: "device", Scope: GoogleMailScope}, []string{"device flow"}},
		{"custom anything", store.OAuth2{Preset: "custom", Flow: "authcode", Scope: "openid"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := ScopeWarning(tc.o)
			if len(tc.want) == 0 {
				if w != "" {
					t.Fatalf("unexpected warning %q", w)
				}
				return
			}
			for _, s := range tc.want {
				if !strings.Contains(w, s) {
					t.Fatalf("warning %q lacks %q", w, s)
				}
			}
		})
	}
}

func TestConfigFromProfile(t *testing.T) {
	base := store.OAuth2{Preset: "microsoft", Flow: "authcode", Tenant: "organizations", ClientID: "abc", Scope: MicrosoftIMAPScope,
		RedirectURI: "http://localhost:3017/", RedirectPort: 0}
	c, err := ConfigFromProfile(base, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.RedirectPort != 3017 || c.AuthStyle != oauth2.AuthStyleInParams || !strings.HasSuffix(c.TokenURL, "/organizations/oauth2/v2.0/token") || len(c.Scopes) != 2 || c.AuthParams.Get("prompt") != "select_account" {
		t.Fatalf("config = %+v", c)
	}
	g := store.OAuth2{Preset: "google", Flow: "authcode", ClientID: "abc", RedirectURI: "http://127.0.0.1:4000/", RedirectPort: 4000}
	c, err = ConfigFromProfile(g, "gsecret")
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthParams.Get("access_type") != "offline" || c.Scopes[0] != GoogleMailScope || strings.Contains(c.String(), "gsecret") {
		t.Fatalf("google config = %+v", c)
	}
	cust := store.OAuth2{Preset: "custom", Flow: "authcode", ClientID: "abc", AuthorizationURL: "https://idp.example/auth", TokenURL: "https://idp.example/token", RedirectURI: "http://127.0.0.1:4000/"}
	if c, err = ConfigFromProfile(cust, "s"); err != nil || c.AuthStyle != oauth2.AuthStyleInHeader {
		t.Fatalf("custom with secret: %+v, %v", c, err)
	}
	if c, err = ConfigFromProfile(cust, ""); err != nil || c.AuthStyle != oauth2.AuthStyleInParams {
		t.Fatalf("custom public: %+v, %v", c, err)
	}
	bad := []struct {
		mod   func(*store.OAuth2)
		field string
	}{
		{func(o *store.OAuth2) { o.ClientID = "" }, "client_id"},
		{func(o *store.OAuth2) { o.RedirectURI = "https://localhost:3017/" }, "redirect_uri"},
		{func(o *store.OAuth2) { o.RedirectPort = 1 }, "redirect_uri, redirect_port"},
		{func(o *store.OAuth2) { o.Flow = "implicit" }, "flow"},
		{func(o *store.OAuth2) { o.Flow = "client_credentials" }, "client-secret"},
		{func(o *store.OAuth2) { o.Preset = "custom"; o.TokenURL = "http://idp.example/token" }, "token_url"},
		{func(o *store.OAuth2) { o.Preset = "custom"; o.TokenURL = "" }, "token_url"},
	}
	for _, b := range bad {
		o := base
		b.mod(&o)
		_, err := ConfigFromProfile(o, "")
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != b.field {
			t.Errorf("%+v: err = %v, want field %q", o, err, b.field)
		}
	}
}
