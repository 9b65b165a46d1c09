package auth

import (
	"net/url"
	"slices"
	"strings"

	"mailmover/i18n"
	"mailmover/store"
)

// Provider facts encoded by the presets.
const (
	// MicrosoftIMAPScope is the delegated scope for IMAP on Microsoft 365, with
	// offline_access for a refresh token.
	MicrosoftIMAPScope = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access" // i18n:keep
	// MicrosoftAppScope is the app-only scope for the client-credentials flow.
	MicrosoftAppScope = "https://outlook.office365.com/.default"
	// MicrosoftDefaultTenant is used when the tenant is empty.
	MicrosoftDefaultTenant = "organizations"

	// GoogleAuthURL, GoogleTokenURL and GoogleDeviceURL are Google's endpoints.
	GoogleAuthURL   = "https://accounts.google.com/o/oauth2/v2/auth"
	GoogleTokenURL  = "https://oauth2.googleapis.com/token"
	GoogleDeviceURL = "https://oauth2.googleapis.com/device/code"
	// GoogleMailScope is the scope for IMAP on Gmail.
	GoogleMailScope = "https://mail.google.com/"

	// DefaultRedirectURI and DefaultRedirectPort are the presets' loopback redirect.
	DefaultRedirectURI  = "http://localhost:3017/"
	DefaultRedirectPort = 3017
)

// MicrosoftEndpoints returns the authorize, token and device-code URLs of the Microsoft
// identity platform (v2.0) for tenant: a tenant ID (GUID), a verified domain,
// "organizations" or "common". An empty tenant means "organizations". The tenant is
// path-escaped, so it cannot change the host.
func MicrosoftEndpoints(tenant string) (authURL, tokenURL, deviceURL string) {
	return MicrosoftClouds[0].Endpoints(tenant)
}

// ApplyPreset fills o for a preset: a Microsoft preset (store.MicrosoftPresets: the
// global cloud or a national one; with tenant; the cloud's URLs, device URL and IMAP
// scope, or its app-only scope when o.Flow is client_credentials), store.PresetGoogle (Google's URLs and the Gmail scope) or
// store.PresetCustom (nothing is changed but the preset name). The client ID is kept. An
// empty flow becomes authcode, and an empty redirect gets the default loopback redirect
// (for the flows that use one). Unknown presets are an error naming the field "preset".
func ApplyPreset(o *store.OAuth2, preset, tenant string) error {
	if o.Flow == "" {
		o.Flow = store.FlowAuthCode
	}
	cloud, microsoft := MicrosoftCloudOf(preset)
	switch {
	case microsoft:
		o.Preset = preset
		o.Tenant = strings.TrimSpace(tenant)
		if o.Tenant == "" {
			o.Tenant = MicrosoftDefaultTenant
		}
		o.AuthorizationURL, o.TokenURL, o.DeviceURL = cloud.Endpoints(o.Tenant)
		if o.Flow == store.FlowClientCredentials {
			o.Scope = cloud.AppScope()
		} else {
			o.Scope = cloud.IMAPScope()
		}
	case preset == store.PresetGoogle:
		o.Preset = preset
		o.Tenant = ""
		o.AuthorizationURL, o.TokenURL, o.DeviceURL = GoogleAuthURL, GoogleTokenURL, GoogleDeviceURL
		o.Scope = GoogleMailScope
	case preset == store.PresetCustom:
		o.Preset = preset
		return nil
	default:
		return &ConfigError{Field: "preset", Reason: i18n.Sprintf("unknown preset %q (want one of %s)", preset, strings.Join(store.Presets, ", "))}
	}
	if o.Flow == store.FlowAuthCode && o.RedirectURI == "" {
		o.RedirectURI, o.RedirectPort = DefaultRedirectURI, DefaultRedirectPort
	}
	return nil
}

// IsMicrosoftProfile reports whether o talks to the Microsoft identity platform: a
// Microsoft preset of any cloud, or a custom profile whose URLs name an Entra sign-in host.
func IsMicrosoftProfile(o store.OAuth2) bool { return isMicrosoft(o) }

// isMicrosoft reports whether o talks to the Microsoft identity platform.
// A Microsoft preset of any cloud, or a custom profile whose URLs name an Entra sign-in
// host of any cloud.
func isMicrosoft(o store.OAuth2) bool {
	if store.IsMicrosoftPreset(o.Preset) {
		return true
	}
	for _, u := range []string{o.AuthorizationURL, o.TokenURL} {
		if pu, err := url.Parse(u); err == nil && slices.Contains(microsoftLoginHosts, strings.ToLower(pu.Hostname())) {
			return true
		}
	}
	return false
}

// otherCloudScope returns the first scope that names the Exchange resource of another
// Microsoft cloud than cloud (a GCC High profile asking for https://outlook.office.com/…,
// say), or "". Scopes without a resource (offline_access) pass, and so do the resources
// of clouds that share cloud's sign-in host (GCC High's and DoD's, whose IMAP scope
// sources disagree on).
func otherCloudScope(cloud MicrosoftCloud, scopes []string) string {
	own := func(s string) bool {
		s = strings.ToLower(s)
		return strings.HasPrefix(s, strings.ToLower(cloud.Resource)+"/") || strings.HasPrefix(s, strings.ToLower(cloud.AppResource)+"/")
	}
	for _, s := range scopes {
		if own(s) {
			continue
		}
		for _, c := range MicrosoftClouds {
			ls := strings.ToLower(s)
			if c.LoginHost != cloud.LoginHost && (strings.HasPrefix(ls, strings.ToLower(c.Resource)+"/") || strings.HasPrefix(ls, strings.ToLower(c.AppResource)+"/")) {
				return s
			}
		}
	}
	return ""
}

func isGoogle(o store.OAuth2) bool {
	if o.Preset == store.PresetGoogle {
		return true
	}
	pu, err := url.Parse(o.TokenURL)
	return err == nil && strings.EqualFold(pu.Hostname(), "oauth2.googleapis.com")
}

// ScopeWarning returns a warning about o's scope, or "" when it looks right:
//   - a Microsoft scope with neither IMAP.AccessAsUser.All nor .default: OIDC scopes
//     alone (openid profile offline_access) yield a token for Microsoft Graph, which
//     the IMAP server refuses with "NO AUTHENTICATE failed";
//   - a Microsoft .default scope with a user flow, or the delegated scope with client
//     credentials;
//   - a Microsoft user flow without offline_access: no refresh token, so the mover stops
//     within the hour;
//   - Google without https://mail.google.com/, or Google with the device flow (Google
//     does not allow Gmail's scope there).
func ScopeWarning(o store.OAuth2) string {
	scopes := strings.Fields(o.Scope)
	has := func(pred func(string) bool) bool {
		for _, s := range scopes {
			if pred(s) {
				return true
			}
		}
		return false
	}
	var w []string
	switch {
	case isMicrosoft(o):
		cloud := microsoftCloud(o)
		imap := has(func(s string) bool { return strings.HasSuffix(strings.ToLower(s), "imap.accessasuser.all") })
		def := has(func(s string) bool { return strings.HasSuffix(strings.ToLower(s), "/.default") })
		if !imap && !def {
			w = append(w, i18n.Sprintf(`the scope has neither IMAP.AccessAsUser.All nor .default: OIDC scopes alone (openid profile offline_access) give a token for Microsoft Graph, which the IMAP server refuses ('NO AUTHENTICATE failed'); use "%s"`, cloud.IMAPScope()))
		}
		if other := otherCloudScope(cloud, scopes); other != "" {
			want := cloud.IMAPScope()
			if o.Flow == store.FlowClientCredentials {
				want = cloud.AppScope()
			}
			w = append(w, i18n.Sprintf(`the scope %q belongs to another Microsoft cloud than the sign-in at %s; use "%s"`, other, cloud.LoginHost, want))
		}
		if o.Flow == store.FlowClientCredentials {
			if !def {
				w = append(w, i18n.Sprintf(`client credentials (app-only) need the scope "%s"`, cloud.AppScope()))
			}
		} else {
			if def && !imap {
				w = append(w, i18n.Sprintf(`a .default scope with a user sign-in gives only the permissions granted in advance; for IMAP use "%s"`, cloud.IMAPScope()))
			}
			if !has(func(s string) bool { return s == "offline_access" }) {
				w = append(w, i18n.T("the scope lacks offline_access: Microsoft then issues no refresh token, and the mover stops when the access token expires (about an hour)"))
			}
		}
	case isGoogle(o):
		if !has(func(s string) bool { return s == GoogleMailScope }) {
			w = append(w, i18n.Sprintf(`Gmail's IMAP needs the scope "%s"`, GoogleMailScope))
		}
		if o.Flow == store.FlowDevice {
			w = append(w, i18n.T("Google's device flow does not allow the Gmail scope; use the browser sign-in (authcode)"))
		}
		if o.Flow == store.FlowClientCredentials {
			w = append(w, i18n.T("Google does not offer client credentials for Gmail; use the browser sign-in (authcode)"))
		}
	}
	return strings.Join(w, "; ")
}
