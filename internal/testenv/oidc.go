package testenv

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/internal/oidcdev"
)

// OIDCEnv describes the test OpenID provider.
type OIDCEnv struct {
	// Issuer is http://127.0.0.1:PORT; discovery at Issuer+"/.well-known/openid-configuration".
	Issuer string
	// User and Password are the login form's user; its preferred_username is User,
	// which is also Dovecot's mail user.
	User, Password string
	// NativeClientID is a public PKCE client accepting any loopback redirect URI
	// (127.0.0.1, localhost, [::1]; any port and path).
	NativeClientID string
	// WebClientID and WebClientSecret are a confidential client (same redirects).
	WebClientID, WebClientSecret string
	// DeviceClientID is a public device-code client (refresh tokens with offline_access).
	DeviceClientID string
	// ServiceClientID and ServiceClientSecret use the client-credentials grant; the
	// token acts for User (empty when the environment does not name them).
	ServiceClientID, ServiceClientSecret string
}

// OIDC returns the test provider, or skips the test when none runs.
func OIDC(t testing.TB) OIDCEnv {
	t.Helper()
	v := need(t, "the test OpenID provider", "MM_OIDC_ISSUER", "MM_OIDC_USER", "MM_OIDC_PASSWORD",
		"MM_OIDC_NATIVE_CLIENT_ID", "MM_OIDC_WEB_CLIENT_ID", "MM_OIDC_WEB_CLIENT_SECRET", "MM_OIDC_DEVICE_CLIENT_ID")
	env := OIDCEnv{Issuer: v[0], User: v[1], Password: v[2], NativeClientID: v[3],
		WebClientID: v[4], WebClientSecret: v[5], DeviceClientID: v[6]}
	env.ServiceClientID, env.ServiceClientSecret = os.Getenv("MM_OIDC_SERVICE_CLIENT_ID"), os.Getenv("MM_OIDC_SERVICE_CLIENT_SECRET")
	return env
}

// AuthURL is the authorization endpoint.
func (o OIDCEnv) AuthURL() string { return o.Issuer + oidcdev.PathAuth }

// TokenURL is the token endpoint.
func (o OIDCEnv) TokenURL() string { return o.Issuer + oidcdev.PathToken }

// DeviceAuthURL is the device authorization endpoint.
func (o OIDCEnv) DeviceAuthURL() string { return o.Issuer + oidcdev.PathDeviceAuth }

// IntrospectionURL is the RFC 7662 introspection endpoint.
func (o OIDCEnv) IntrospectionURL() string { return o.Issuer + oidcdev.PathIntrospection }

// UserinfoURL is the userinfo endpoint.
func (o OIDCEnv) UserinfoURL() string { return o.Issuer + oidcdev.PathUserinfo }

// Scopes are the scopes the tests ask for: an ID token, the user's name and a refresh token.
var Scopes = []string{"openid", "profile", "offline_access"}

// NativeConfig is an x/oauth2 config of the public PKCE client with the given redirect.
func (o OIDCEnv) NativeConfig(redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: o.NativeClientID,
		Endpoint: oauth2.Endpoint{AuthURL: o.AuthURL(), TokenURL: o.TokenURL(),
			DeviceAuthURL: o.DeviceAuthURL(), AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirectURI,
		Scopes:      Scopes,
	}
}

// SignIn plays the person at the provider's login page for an authorization URL (built
// by the code under test): it fills the form with the test user and returns the
// redirect the provider sends the browser to (redirect URI with code and state, or an
// error). It does not connect to the redirect URI.
func (o OIDCEnv) SignIn(ctx context.Context, authURL string) (*url.URL, error) {
	return oidcdev.FormLogin(ctx, authURL, o.User, o.Password)
}

// ApproveDevice completes a device authorization for userCode as the test user.
func (o OIDCEnv) ApproveDevice(ctx context.Context, verificationURI, userCode string) error {
	return oidcdev.DeviceApprove(ctx, verificationURI, userCode, o.User, o.Password)
}

// OIDCToken returns a fresh access + refresh token of the test user for the native
// client, got through the real authorization-code flow with PKCE (the login form
// filled by an HTTP client). Access tokens live five minutes; refreshing rotates the
// refresh token and ends the old access token.
func OIDCToken(t testing.TB) *oauth2.Token {
	t.Helper()
	o := OIDC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := o.NativeConfig("http://127.0.0.1:49151/callback")
	verifier, state := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	loc, err := o.SignIn(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatalf("testenv: sign-in at the test provider: %v", err)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("testenv: the test provider refused the sign-in: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		t.Fatal("testenv: the test provider returned a different state")
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("testenv: code exchange at the test provider: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatal("testenv: the test provider returned no access or refresh token")
	}
	return tok
}
