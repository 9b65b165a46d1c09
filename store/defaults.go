package store

import "time"

// Microsoft 365 defaults (the microsoft preset with tenant "organizations").
const (
	defaultMicrosoftAuthURL   = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
	defaultMicrosoftTokenURL  = "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
	defaultMicrosoftDeviceURL = "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
	defaultMicrosoftScope     = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access" // i18n:keep
	defaultRedirectPort       = 3017
)

// DefaultProfile returns a new profile named name with the defaults: IMAPS on port 993
// with a verified certificate, XOAUTH2 through the Microsoft 365 preset (tenant
// "organizations", authorization-code flow, redirect http://localhost:3017/), unseen mail
// of INBOX, every attachment saved as "{filename}" (renamed on conflict), marked seen
// afterwards, watched with IDLE (poll every 60s as a fallback). Host, username, client_id
// and the destination folder are left empty: Validate asks for them.
func DefaultProfile(name string) *Profile {
	return &Profile{
		Name: name,
		Setup: Setup{
			Port:    993,
			Folder:  "INBOX",
			Enabled: true,
		},
		Security: Security{
			TLS:               TLSImplicit,
			Auth:              AuthXOAuth2,
			VerifyCertificate: true,
		},
		Common: Common{
			Search:         SearchUnseen,
			AttachmentMask: "*",
			Save:           []string{SaveAttachments},
			After:          AfterSeen,
			Watch:          WatchIdle,
			PollInterval:   Duration{60 * time.Second},
		},
		OAuth2: OAuth2{
			Preset:           PresetMicrosoft,
			Flow:             FlowAuthCode,
			Tenant:           "organizations",
			AuthorizationURL: defaultMicrosoftAuthURL,
			TokenURL:         defaultMicrosoftTokenURL,
			DeviceURL:        defaultMicrosoftDeviceURL,
			Scope:            defaultMicrosoftScope,
			RedirectURI:      "http://localhost:3017/",
			RedirectPort:     defaultRedirectPort,
		},
		Destination: Destination{
			Filename:   "{filename}",
			OnConflict: ConflictRename,
		},
	}
}
