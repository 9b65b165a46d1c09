// Package store keeps MailMover's data: profiles (TOML files, one per mailbox, no secrets),
// secrets (the OS keyring) and mover state (checkpoints of what is done).
package store

import "time"

// Profile is one mailbox's settings, as stored in profiles/NAME.toml. It never holds a
// secret: passwords, client secrets and tokens live in the keyring (see Secrets).
type Profile struct {
	// Name is the profile's name (the file name without .toml); not stored in the file.
	Name        string      `toml:"-"`
	Setup       Setup       `toml:"setup"`
	Security    Security    `toml:"security"`
	Common      Common      `toml:"common"`
	OAuth2      OAuth2      `toml:"oauth2"`
	Destination Destination `toml:"destination"`
}

// Setup is the [setup] table: where the mailbox is.
type Setup struct {
	Host     string `toml:"host"`
	Port     int    `toml:"port"`
	Username string `toml:"username"`
	Folder   string `toml:"folder"`
	// Enabled is false for a profile that 'mailmover run -all' (and the service) leaves
	// alone; it can still be run by name. Default true.
	Enabled bool `toml:"enabled"`
}

// TLS modes for Security.TLS.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Sign-in methods for Security.Auth.
const (
	AuthXOAuth2     = "xoauth2"
	AuthOAuthBearer = "oauthbearer"
	AuthPassword    = "password"
)

// Security is the [security] table: transport and sign-in.
type Security struct {
	TLS               string `toml:"tls"`
	Auth              string `toml:"auth"`
	VerifyCertificate bool   `toml:"verify_certificate"`
	CAFile            string `toml:"ca_file"`
}

// Values for Common.Search, Common.Save, Common.After and Common.Watch.
const (
	SearchUnseen = "unseen"
	SearchAll    = "all"

	SaveAttachments = "attachments"
	SaveMessage     = "message"
	SaveBody        = "body"

	AfterSeen   = "seen"
	AfterMove   = "move"
	AfterDelete = "delete"
	AfterNone   = "none"

	WatchIdle = "idle"
	WatchPoll = "poll"
)

// Common is the [common] table: which mail, what to save, what to do afterwards.
type Common struct {
	Search         string   `toml:"search"`
	Since          string   `toml:"since"` // YYYY-MM-DD or empty
	From           string   `toml:"from"`
	Subject        string   `toml:"subject"`
	AttachmentMask string   `toml:"attachment_mask"`
	Save           []string `toml:"save"`
	After          string   `toml:"after"`
	MoveTo         string   `toml:"move_to"`
	Watch          string   `toml:"watch"`
	PollInterval   Duration `toml:"poll_interval"`
}

// OAuth2 flows for OAuth2.Flow and presets for OAuth2.Preset.
const (
	FlowAuthCode          = "authcode"
	FlowDevice            = "device"
	FlowClientCredentials = "client_credentials"
	// FlowServiceAccount is Google Workspace's app-only sign-in: a service account with
	// domain-wide delegation acting for the mailbox (RFC 7523 JWT bearer grant, sub =
	// the mailbox). Only with the google preset.
	FlowServiceAccount = "service_account"

	PresetMicrosoft = "microsoft"
	PresetGoogle    = "google"
	PresetCustom    = "custom"
)

// OAuth2 is the [oauth2] table: the app registration used to get tokens. The client
// secret, if any, is in the keyring.
type OAuth2 struct {
	Preset           string `toml:"preset"`
	Flow             string `toml:"flow"`
	Tenant           string `toml:"tenant"`
	AuthorizationURL string `toml:"authorization_url"`
	TokenURL         string `toml:"token_url"`
	DeviceURL        string `toml:"device_url"`
	ClientID         string `toml:"client_id"`
	Scope            string `toml:"scope"`
	RedirectURI      string `toml:"redirect_uri"`
	RedirectPort     int    `toml:"redirect_port"`
	// ClientAuth says how a client_credentials profile proves the app's identity:
	// ClientAuthSecret (the client secret in the keyring; also when empty) or
	// ClientAuthCertificate (a private key and its certificate: RFC 7523
	// private_key_jwt).
	ClientAuth string `toml:"client_auth"`
	// ClientCertificateFile is a PEM file with the private key and the certificate for
	// client_auth = "certificate"; empty means the keyring (kind
	// SecretClientCertificate). The file must not be readable by group or others (Unix).
	ClientCertificateFile string `toml:"client_certificate_file"`
	// ServiceAccountFile is the Google service account's JSON key for flow =
	// "service_account"; empty means the keyring (kind SecretServiceAccount). The file
	// must not be readable by group or others (Unix).
	ServiceAccountFile string `toml:"service_account_file"`
}

// Values for OAuth2.ClientAuth.
const (
	ClientAuthSecret      = "secret"
	ClientAuthCertificate = "certificate"
)

// UsesCertificate reports whether o signs in app-only with a certificate.
func (o OAuth2) UsesCertificate() bool {
	return o.Flow == FlowClientCredentials && o.ClientAuth == ClientAuthCertificate
}

// AppOnly reports whether o's tokens are the app's own (client credentials, a service
// account), not a signed-in user's.
func (o OAuth2) AppOnly() bool {
	return o.Flow == FlowClientCredentials || o.Flow == FlowServiceAccount
}

// Values for Destination.OnConflict.
const (
	ConflictRename    = "rename"
	ConflictOverwrite = "overwrite"
	ConflictSkip      = "skip"
)

// Destination is the [destination] table: where files go and how they are named.
type Destination struct {
	Folder     string `toml:"folder"`
	Filename   string `toml:"filename"`
	OnConflict string `toml:"on_conflict"`
}

// Duration is a time.Duration that reads and writes as a Go duration string ("60s").
type Duration struct{ time.Duration }

// UnmarshalText parses a duration such as "60s" or "5m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }
