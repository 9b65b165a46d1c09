package auth_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/auth"
	"mailmover/internal/testenv"
	"mailmover/store"
)

// realRedirect returns a loopback redirect on a port that was free a moment ago.
func realRedirect(t *testing.T, host string) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return "http://" + host + ":" + strconv.Itoa(port) + "/callback", port
}

// signInBrowser plays the browser: it fills the provider's login form and then follows
// the provider's redirect to our listener.
// On failure it cancels the sign-in (cancel), so the test does not wait for the timeout.
func signInBrowser(t *testing.T, ctx context.Context, cancel context.CancelFunc, o testenv.OIDCEnv) func(string) error {
	return func(u string) error {
		go func() {
			loc, err := o.SignIn(ctx, u)
			if err != nil {
				t.Errorf("sign-in at the test provider: %v", err)
				cancel()
				return
			}
			resp, err := http.Get(loc.String())
			if err != nil {
				t.Errorf("redirect to the listener: %v", err)
				cancel()
				return
			}
			resp.Body.Close()
		}()
		return nil
	}
}

// TestRealLoginRefreshRotation signs in at the real test provider (authorization code +
// PKCE through the login form), stores the tokens, refreshes through TokenSource and
// checks that the refresh token rotated, that the new one was saved at once, and that
// the old one is refused as a *ReauthError.
func TestRealLoginRefreshRotation(t *testing.T) {
	o := testenv.OIDC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	redirect, port := realRedirect(t, "localhost")
	prof := store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowAuthCode, ClientID: o.NativeClientID,
		AuthorizationURL: o.AuthURL(), TokenURL: o.TokenURL(), Scope: strings.Join(testenv.Scopes, " "),
		RedirectURI: redirect, RedirectPort: port}
	cfg, err := auth.ConfigFromProfile(prof, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := auth.Login(ctx, cfg, auth.LoginOptions{OpenBrowser: signInBrowser(t, ctx, cancel, o), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if res.Token.RefreshToken == "" || len(res.Warnings) != 0 {
		t.Fatalf("Login result: refresh token %v, warnings %q", res.Token.RefreshToken != "", res.Warnings)
	}

	sec := store.NewMemorySecrets()
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(sec, "real"), res.Token, time.Now()); err != nil {
		t.Fatal(err)
	}
	src, err := auth.NewTokenSourceForProfile("real", prof, sec, nil)
	if err != nil {
		t.Fatal(err)
	}
	at, err := src.AccessToken(ctx, false)
	if err != nil || at != res.Token.AccessToken {
		t.Fatalf("valid token not reused: %v", err)
	}
	at2, err := src.AccessToken(ctx, true) // as if IMAP had refused it
	if err != nil {
		t.Fatalf("forced refresh at the real provider: %v", err)
	}
	if at2 == at {
		t.Fatal("forced refresh returned the same access token")
	}
	rt, err := sec.Get("real", store.SecretRefreshToken)
	if err != nil || rt == res.Token.RefreshToken {
		t.Fatalf("rotated refresh token not saved (err %v)", err)
	}

	// Another process still holding the old refresh token: the provider refuses it.
	stale := store.NewMemorySecrets()
	old := res.Token
	old.Expiry = time.Now().Add(-time.Minute)
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(stale, "real"), old, time.Now()); err != nil {
		t.Fatal(err)
	}
	staleSrc, err := auth.NewTokenSourceForProfile("real", prof, stale, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = staleSrc.AccessToken(ctx, false)
	var re *auth.ReauthError
	if !errors.As(err, &re) {
		t.Fatalf("old refresh token: err = %v, want *auth.ReauthError", err)
	}
	if strings.Contains(err.Error(), old.RefreshToken) {
		t.Fatal("the refresh token appears in the error")
	}
}

// TestRealLoginConfidentialClient signs in with the confidential web client; its secret
// goes in the Authorization header (custom preset with a secret).
func TestRealLoginConfidentialClient(t *testing.T) {
	o := testenv.OIDC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	redirect, port := realRedirect(t, "127.0.0.1")
	prof := store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowAuthCode, ClientID: o.WebClientID,
		AuthorizationURL: o.AuthURL(), TokenURL: o.TokenURL(), Scope: strings.Join(testenv.Scopes, " "),
		RedirectURI: redirect, RedirectPort: port}
	cfg, err := auth.ConfigFromProfile(prof, o.WebClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	res, err := auth.Login(ctx, cfg, auth.LoginOptions{OpenBrowser: signInBrowser(t, ctx, cancel, o), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("Login with the web client: %v", err)
	}
	if res.Token.AccessToken == "" {
		t.Fatal("no access token")
	}
	// Without the secret the provider refuses the exchange.
	cfg.ClientSecret = ""
	cfg.AuthStyle = oauth2.AuthStyleInParams
	_, err = auth.Login(ctx, cfg, auth.LoginOptions{OpenBrowser: signInBrowser(t, ctx, cancel, o), Timeout: 30 * time.Second})
	var te *auth.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("web client without secret: err = %v, want *auth.TokenError", err)
	}
}

// TestRealDeviceFlow runs the device-code flow against the real provider, approving the
// code as the test user, then refreshes the token.
func TestRealDeviceFlow(t *testing.T) {
	o := testenv.OIDC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	prof := store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowDevice, ClientID: o.DeviceClientID,
		TokenURL: o.TokenURL(), DeviceURL: o.DeviceAuthURL(), Scope: strings.Join(testenv.Scopes, " ")}
	cfg, err := auth.ConfigFromProfile(prof, "")
	if err != nil {
		t.Fatal(err)
	}
	approved := make(chan error, 1)
	res, err := auth.LoginDevice(ctx, cfg, auth.DeviceOptions{OnCode: func(c auth.DeviceCode) {
		if c.UserCode == "" || c.VerificationURI == "" {
			t.Errorf("device code = %+v", c)
		}
		go func() { approved <- o.ApproveDevice(ctx, c.VerificationURI, c.UserCode) }()
	}})
	if err != nil {
		t.Fatalf("LoginDevice: %v", err)
	}
	if err := <-approved; err != nil {
		t.Fatalf("approve: %v", err)
	}
	if res.Token.AccessToken == "" || res.Token.RefreshToken == "" {
		t.Fatalf("device token: access %v refresh %v", res.Token.AccessToken != "", res.Token.RefreshToken != "")
	}
	// (Refreshing is covered by TestRealLoginRefreshRotation: the test provider binds
	// device-flow refresh tokens to no client, so it refuses to refresh them.)
}

// TestRealKeyringRotation keeps the tokens in the real Secret Service (store.Keyring)
// and checks that a refresh rotates the refresh token there at once, and that nothing
// of the tokens is in an error text.
func TestRealKeyringRotation(t *testing.T) {
	testenv.Keyring(t)
	o := testenv.OIDC(t)
	tok := testenv.OIDCToken(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	profile := "authtest-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sec := store.Keyring()
	t.Cleanup(func() {
		for _, k := range store.SecretKinds {
			_ = sec.Delete(profile, k)
		}
	})
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(sec, profile), tok, time.Now()); err != nil {
		t.Fatalf("saving to the keyring: %v", err)
	}
	if got, err := sec.Get(profile, store.SecretRefreshToken); err != nil || got != tok.RefreshToken {
		t.Fatalf("refresh token not in the keyring: %v", err)
	}
	prof := store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowAuthCode, ClientID: o.NativeClientID,
		AuthorizationURL: o.AuthURL(), TokenURL: o.TokenURL(), Scope: strings.Join(testenv.Scopes, " "),
		RedirectURI: "http://127.0.0.1:49151/callback", RedirectPort: 49151}
	src, err := auth.NewTokenSourceForProfile(profile, prof, sec, nil)
	if err != nil {
		t.Fatal(err)
	}
	at, err := src.AccessToken(ctx, true)
	if err != nil || at == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	rt, err := sec.Get(profile, store.SecretRefreshToken)
	if err != nil || rt == tok.RefreshToken {
		t.Fatalf("the rotated refresh token is not in the keyring (err %v)", err)
	}
	// A fresh source (another process) reads the new access token from the keyring.
	src2, err := auth.NewTokenSourceForProfile(profile, prof, sec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if at2, err := src2.AccessToken(ctx, false); err != nil || at2 != at {
		t.Fatalf("second process: %v (same token: %v)", err, at2 == at)
	}
}

// TestRealClientCredentials gets an app-only token from the real provider.
func TestRealClientCredentials(t *testing.T) {
	o := testenv.OIDC(t)
	if o.ServiceClientID == "" {
		t.Skip("the test environment names no service client")
	}
	prof := store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowClientCredentials, ClientID: o.ServiceClientID,
		TokenURL: o.TokenURL(), Scope: "openid profile"}
	sec := store.NewMemorySecrets()
	if err := sec.Set("svc", store.SecretClientSecret, o.ServiceClientSecret); err != nil {
		t.Fatal(err)
	}
	src, err := auth.NewTokenSourceForProfile("svc", prof, sec, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at, err := src.AccessToken(ctx, false)
	if err != nil || at == "" {
		t.Fatalf("client credentials at the real provider: %v", err)
	}
}
