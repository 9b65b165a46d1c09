package auth

import (
	"net/url"
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
	tenant = strings.TrimSpace(tenant)
	if tenant == "" {
		tenant = MicrosoftDefaultTenant
	}
	base := "https://login.microsoftonline.com/" + url.PathEscape(tenant) + "/oauth2/v2.0/"
	return base + "authorize", base + "token", base + "devicecode"
}

// ApplyPreset fills o for a preset: store.PresetMicrosoft (with tenant; both URLs, the
// device URL and the IMAP scope, or the app-only scope when o.Flow is
// client_credentials), store.PresetGoogle (Google's URLs and the Gmail scope) or
// store.PresetCustom (nothing is changed but the preset name). The client ID is kept. An
// empty flow becomes authcode, and an empty redirect gets the default loopback redirect
// (for the flows that use one). Unknown presets are an error naming the field "preset".
func ApplyPreset(o *store.OAuth2, preset, tenant string) error {
	if o.Flow == "" {
		o.Flow = store.FlowAuthCode
	}
	switch preset {
	case store.PresetMicrosoft:
		o.Preset = preset
		o.Tenant = strings.TrimSpace(tenant)
		if o.Tenant == "" {
			o.Tenant = MicrosoftDefaultTenant
		}
		o.AuthorizationURL, o.TokenURL, o.DeviceURL = MicrosoftEndpoints(o.Tenant)
		if o.Flow == store.FlowClientCredentials {
			o.Scope = MicrosoftAppScope
		} else {
			o.Scope = MicrosoftIMAPScope
		}
	case store.PresetGoogle:
		o.Preset = preset
		o.Tenant = ""
		o.AuthorizationURL, o.TokenURL, o.DeviceURL = GoogleAuthURL, GoogleTokenURL, GoogleDeviceURL
		o.Scope = GoogleMailScope
	case store.PresetCustom:
		o.Preset = preset
		return nil
	default:
		return &ConfigError{Field: "preset", Reason: i18n.Sprintf("unknown preset %q (want microsoft, google or custom)", preset)}
	}
	if o.Flow == store.FlowAuthCode && o.RedirectURI == "" {
		o.RedirectURI, o.RedirectPort = DefaultRedirectURI, DefaultRedirectPort
	}
	return nil
}

// isMicrosoft reports whether o talks to the Microsoft identity platform.
func isMicrosoft(o store.OAuth2) bool {
	if o.Preset == store.PresetMicrosoft {
		return true
	}
	for _, u := range []string{o.AuthorizationURL, o.TokenURL} {
		if pu, err := url.Parse(u); err == nil && strings.EqualFold(pu.Hostname(), "login.microsoftonline.com") {
			return true
		}
	}
	return false
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
		imap := has(func(s string) bool { return strings.HasSuffix(strings.ToLower(s), "imap.accessasuser.all") })
		def := has(func(s string) bool { return strings.HasSuffix(strings.ToLower(s), "/.default") })
		if !imap && !def {
			w = append(w, i18n.Sprintf(`the scope has neither IMAP.AccessAsUser.All nor .default: OIDC scopes alone (openid profile offline_access) give a token for Microsoft Graph, which the IMAP server refuses ('NO AUTHENTICATE failed'); use "%s"`, MicrosoftIMAPScope))
		}
		if o.Flow == store.FlowClientCredentials {
			if !def {
				w = append(w, i18n.Sprintf(`client credentials (app-only) need the scope "%s"`, MicrosoftAppScope))
			}
		} else {
			if def && !imap {
				w = append(w, i18n.Sprintf(`a .default scope with a user sign-in gives only the permissions granted in advance; for IMAP use "%s"`, MicrosoftIMAPScope))
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
