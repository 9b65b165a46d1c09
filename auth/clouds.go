package auth

import (
	"net/url"
	"strings"

	"mailmover/store"
)

// MicrosoftCloud is one cloud instance of Microsoft 365: the global service or a national
// (sovereign) cloud. Each has its own Entra sign-in host, its own Exchange Online IMAP
// host and its own scope; an app must be registered in the cloud's own portal.
//
// Sources (checked 2026-12): Microsoft Entra "National clouds" (authentication-national-
// cloud.md: login.microsoftonline.us for US Government, login.partner.microsoftonline.cn
// for 21Vianet); the Microsoft 365 endpoint lists for U.S. Government GCC High
// (outlook.office365.us, TCP 993, login.microsoftonline.us), DoD (outlook-dod.office365.us,
// TCP 993, login.microsoftonline.us) and 21Vianet (partner.outlook.cn). The scopes are the
// IMAP host's resource (https://HOST/IMAP.AccessAsUser.All, https://HOST/.default), as for
// the global app-only scope.
type MicrosoftCloud struct {
	Preset    string // store.PresetMicrosoft…
	LoginHost string // the Entra sign-in host
	IMAPHost  string // Exchange Online's IMAP host (port 993, implicit TLS)
	// Resource is the scope resource of delegated IMAP access; AppResource that of
	// app-only access (client credentials).
	Resource, AppResource string
}

// IMAPScope is the delegated IMAP scope with offline_access.
func (c MicrosoftCloud) IMAPScope() string {
	return c.Resource + "/IMAP.AccessAsUser.All offline_access" // i18n:keep
}

// AppScope is the app-only scope for client credentials.
func (c MicrosoftCloud) AppScope() string { return c.AppResource + "/.default" }

// Endpoints returns the cloud's authorize, token and device-code URLs (v2.0) for tenant
// (empty: "organizations"); the tenant is path-escaped, so it cannot change the host.
func (c MicrosoftCloud) Endpoints(tenant string) (authURL, tokenURL, deviceURL string) {
	tenant = strings.TrimSpace(tenant)
	if tenant == "" {
		tenant = MicrosoftDefaultTenant
	}
	base := "https://" + c.LoginHost + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/"
	return base + "authorize", base + "token", base + "devicecode"
}

// MicrosoftClouds are the clouds of store.MicrosoftPresets, global first.
var MicrosoftClouds = []MicrosoftCloud{
	{Preset: store.PresetMicrosoft, LoginHost: "login.microsoftonline.com", IMAPHost: "outlook.office365.com",
		Resource: "https://outlook.office.com", AppResource: "https://outlook.office365.com"},
	{Preset: store.PresetMicrosoftUSGov, LoginHost: "login.microsoftonline.us", IMAPHost: "outlook.office365.us",
		Resource: "https://outlook.office365.us", AppResource: "https://outlook.office365.us"},
	{Preset: store.PresetMicrosoftDoD, LoginHost: "login.microsoftonline.us", IMAPHost: "outlook-dod.office365.us",
		Resource: "https://outlook-dod.office365.us", AppResource: "https://outlook-dod.office365.us"},
	{Preset: store.PresetMicrosoftChina, LoginHost: "login.partner.microsoftonline.cn", IMAPHost: "partner.outlook.cn",
		Resource: "https://partner.outlook.cn", AppResource: "https://partner.outlook.cn"},
}

// microsoftLoginHosts are the Entra sign-in hosts that mark a custom profile as
// Microsoft's: the clouds' hosts and China's older login.chinacloudapi.cn.
var microsoftLoginHosts = []string{"login.microsoftonline.com", "login.microsoftonline.us",
	"login.partner.microsoftonline.cn", "login.chinacloudapi.cn"}

// MicrosoftCloudOf returns the cloud of a Microsoft preset.
func MicrosoftCloudOf(preset string) (MicrosoftCloud, bool) {
	for _, c := range MicrosoftClouds {
		if c.Preset == preset {
			return c, true
		}
	}
	return MicrosoftCloud{}, false
}

// microsoftCloud returns the cloud o talks to: by its preset, else by the sign-in host of
// its URLs (login.microsoftonline.us serves GCC High and DoD; it is taken for GCC High, a
// guess used only in warnings), else the global cloud.
func microsoftCloud(o store.OAuth2) MicrosoftCloud {
	if c, ok := MicrosoftCloudOf(o.Preset); ok {
		return c
	}
	for _, u := range []string{o.AuthorizationURL, o.TokenURL} {
		pu, err := url.Parse(u)
		if err != nil {
			continue
		}
		h := strings.ToLower(pu.Hostname())
		for _, c := range MicrosoftClouds {
			if h == c.LoginHost {
				return c
			}
		}
		if h == "login.chinacloudapi.cn" {
			c, _ := MicrosoftCloudOf(store.PresetMicrosoftChina)
			return c
		}
	}
	return MicrosoftClouds[0]
}
