package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mailmover/i18n"
	"mailmover/store"
)

// Config is what the flows and token sources need: a profile's [oauth2] table plus the
// client secret. Build it with ConfigFromProfile. Its String and LogValue never show the
// secret.
type Config struct {
	Preset    string // one of store.Presets
	Flow      string // store.FlowAuthCode | store.FlowDevice | store.FlowClientCredentials
	ClientID  string
	AuthURL   string
	TokenURL  string
	DeviceURL string
	Scopes    []string
	// RedirectURI is sent identically to the authorize and token endpoints.
	RedirectURI  string
	RedirectPort int
	// ClientSecret is optional: public clients send none.
	ClientSecret string
	// ClientAuth is the profile's client_auth (client credentials): store.ClientAuthSecret
	// or store.ClientAuthCertificate.
	ClientAuth string
	// ClientCert, when set, authenticates the client by a signed JWT (private_key_jwt)
	// instead of ClientSecret; AssertionAlg is its algorithm (AlgPS256 for Microsoft,
	// else AlgRS256). Filled by NewTokenSourceFor (LoadClientCertificate).
	ClientCert   *ClientCertificate
	AssertionAlg string
	// ServiceAccount is the Google service account's key (flow = "service_account") and
	// Subject the mailbox it acts for. Filled by NewTokenSourceFor.
	ServiceAccount *ServiceAccountKey
	Subject        string
	// LoginHint, if set, is sent as login_hint so the provider pre-selects that account.
	// Leave it empty for shared mailboxes (the person signing in is someone else).
	LoginHint string
	// AuthParams are extra parameters for the authorize request (Google:
	// access_type=offline and prompt=consent, for a refresh token; Microsoft:
	// prompt=select_account).
	AuthParams url.Values
	// AuthStyle says how the client authenticates at the token endpoint.
	AuthStyle oauth2.AuthStyle
	// HTTPClient is used for the token endpoint; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
}

// String describes c without its secret.
func (c Config) String() string {
	secret := "none"
	switch {
	case c.ClientCert != nil:
		secret = "certificate " + c.ClientCert.ThumbprintSHA1Hex()
	case c.ServiceAccount != nil:
		secret = "service account " + c.ServiceAccount.Email // i18n:keep (a log description, like the rest)
	case c.ClientSecret != "":
		secret = "set"
	}
	return fmt.Sprintf("oauth2 %s/%s client %s, token %s, scope %q, redirect %s, secret %s",
		c.Preset, c.Flow, c.ClientID, c.TokenURL, strings.Join(c.Scopes, " "), c.RedirectURI, secret)
}

// LogValue makes slog print c without its secret.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ConfigFromProfile builds a Config from a profile's [oauth2] table and the client secret
// (empty for a public client). It checks what the flow needs and returns a *ConfigError
// naming the field otherwise. For Microsoft and Google presets it fills missing URLs from
// the preset.
func ConfigFromProfile(o store.OAuth2, clientSecret string) (Config, error) {
	flow := o.Flow
	if flow == "" {
		flow = store.FlowAuthCode
	}
	if (store.IsMicrosoftPreset(o.Preset) || o.Preset == store.PresetGoogle) &&
		(o.AuthorizationURL == "" || o.TokenURL == "" || o.DeviceURL == "") {
		filled := o
		filled.Flow = flow
		if err := ApplyPreset(&filled, o.Preset, o.Tenant); err != nil {
			return Config{}, err
		}
		if o.AuthorizationURL == "" {
			o.AuthorizationURL = filled.AuthorizationURL
		}
		if o.TokenURL == "" {
			o.TokenURL = filled.TokenURL
		}
		if o.DeviceURL == "" {
			o.DeviceURL = filled.DeviceURL
		}
		if o.Scope == "" {
			o.Scope = filled.Scope
		}
	}
	c := Config{
		Preset:       o.Preset,
		Flow:         flow,
		ClientID:     strings.TrimSpace(o.ClientID),
		AuthURL:      strings.TrimSpace(o.AuthorizationURL),
		TokenURL:     strings.TrimSpace(o.TokenURL),
		DeviceURL:    strings.TrimSpace(o.DeviceURL),
		Scopes:       strings.Fields(o.Scope),
		RedirectURI:  o.RedirectURI,
		RedirectPort: o.RedirectPort,
		ClientSecret: clientSecret,
		ClientAuth:   o.ClientAuth,
	}
	if c.ClientAuth == "" {
		c.ClientAuth = store.ClientAuthSecret
	}
	if c.ClientID == "" && flow != store.FlowServiceAccount {
		return Config{}, &ConfigError{Field: "client_id", Reason: i18n.T("empty: copy the Application (client) ID of the app registration")}
	}
	if err := checkEndpoint("token_url", c.TokenURL); err != nil {
		return Config{}, err
	}
	switch flow {
	case store.FlowAuthCode:
		if err := checkEndpoint("authorization_url", c.AuthURL); err != nil {
			return Config{}, err
		}
		port, err := ValidateRedirect(c.RedirectURI, c.RedirectPort)
		if err != nil {
			return Config{}, err
		}
		c.RedirectPort = port
	case store.FlowDevice:
		if err := checkEndpoint("device_url", c.DeviceURL); err != nil {
			return Config{}, err
		}
	case store.FlowClientCredentials:
		switch c.ClientAuth {
		case store.ClientAuthSecret:
			if clientSecret == "" {
				return Config{}, missingSecret("")
			}
		case store.ClientAuthCertificate:
			// The certificate is loaded by NewTokenSourceFor; no secret is sent.
			c.ClientSecret = ""
		default:
			return Config{}, &ConfigError{Field: "client_auth", Reason: i18n.Sprintf("unknown client_auth %q (want secret or certificate)", c.ClientAuth)}
		}
	case store.FlowServiceAccount:
		// The key is loaded by NewTokenSourceFor; client_id may be empty.
		c.ClientSecret = ""
	default:
		return Config{}, &ConfigError{Field: "flow", Reason: i18n.Sprintf("unknown flow %q (want authcode, device, client_credentials or service_account)", flow)}
	}
	c.AssertionAlg = AlgRS256
	if isMicrosoft(o) {
		c.AssertionAlg = AlgPS256
	}
	switch {
	case c.ClientSecret == "" && (c.ClientAuth == store.ClientAuthCertificate || flow == store.FlowServiceAccount):
		c.AuthStyle = oauth2.AuthStyleInParams // the assertion goes in the body
	case isMicrosoft(o) || isGoogle(o):
		c.AuthStyle = oauth2.AuthStyleInParams // what both document
	case clientSecret == "":
		c.AuthStyle = oauth2.AuthStyleInParams // public client: client_id in the body, nothing else
	default:
		c.AuthStyle = oauth2.AuthStyleInHeader // RFC 6749 2.3.1: servers must support Basic
	}
	switch {
	case isGoogle(o):
		// Google sends a refresh token only with access_type=offline, and reliably only
		// at a consent prompt.
		c.AuthParams = url.Values{"access_type": {"offline"}, "prompt": {"consent"}}
	case isMicrosoft(o):
		// Let the user pick the account: signing in with whatever account the browser
		// already has is the usual cause of "User is authenticated but not connected".
		c.AuthParams = url.Values{"prompt": {"select_account"}}
	}
	return c, nil
}

// checkEndpoint refuses a URL that is not absolute http(s); plain http is allowed only
// for loopback hosts by store.IsLoopbackHost (test providers), since it would send codes,
// PKCE verifiers and secrets in clear.
func checkEndpoint(field, s string) error {
	if s == "" {
		return &ConfigError{Field: field, Reason: i18n.T("empty")}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &ConfigError{Field: field, Reason: i18n.Sprintf("%q is not an http(s) URL", s)}
	}
	if u.Scheme == "http" && !store.IsLoopbackHost(u.Hostname()) {
		return &ConfigError{Field: field, Reason: i18n.Sprintf("%q uses plain http to another machine; use https", s)}
	}
	return nil
}

// oauth2Config returns the x/oauth2 config with the given redirect URI.
func (c Config) oauth2Config(redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:       c.AuthURL,
			TokenURL:      c.TokenURL,
			DeviceAuthURL: c.DeviceURL,
			AuthStyle:     c.AuthStyle,
		},
		RedirectURL: redirectURI,
		Scopes:      c.Scopes,
	}
}

// defaultHTTPClient bounds every token request so nothing hangs forever.
var defaultHTTPClient = &http.Client{Timeout: 30 * time.Second}

// httpContext puts the HTTP client for x/oauth2 into ctx.
func (c Config) httpContext(ctx context.Context) context.Context {
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}
