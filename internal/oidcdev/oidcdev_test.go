package oidcdev

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func config(s *Server, clientID, secret, redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		Endpoint: oauth2.Endpoint{AuthURL: s.AuthURL(), TokenURL: s.TokenURL(),
			DeviceAuthURL: s.DeviceAuthURL(), AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirect,
		Scopes:      []string{"openid", "profile", "offline_access"},
	}
}

// signIn runs the authorization-code flow with PKCE through the login form.
func signIn(t *testing.T, s *Server, cfg *oauth2.Config) *oauth2.Token {
	t.Helper()
	ctx := t.Context()
	verifier := oauth2.GenerateVerifier()
	loc, err := FormLogin(ctx, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)), s.User(), s.Password())
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Query().Get("state"); got != "st4te" {
		t.Fatalf("state = %q in %s", got, loc.Redacted())
	}
	if !strings.HasPrefix(loc.String(), cfg.RedirectURL) {
		t.Fatalf("redirected to %s, want %s", loc.Redacted(), cfg.RedirectURL)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token without access or refresh token: %+v", tok.Type())
	}
	return tok
}

func TestAuthCodePKCELoopbackRedirects(t *testing.T) {
	s := start(t, Options{User: "alice", Password: "pw-1"})
	for _, redirect := range []string{
		"http://127.0.0.1:3017/",
		"http://127.0.0.1:49999/callback",
		"http://localhost:8080/",
		"http://localhost:51234/oauth2/callback",
		"http://[::1]:3017/",
	} {
		t.Run(redirect, func(t *testing.T) {
			tok := signIn(t, s, config(s, NativeClientID, "", redirect))
			user, ok := s.Introspect(t.Context(), tok.AccessToken)
			if !ok || user != "alice" {
				t.Fatalf("Introspect = %q, %v; want alice, true", user, ok)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	s := start(t, Options{User: "alice", Password: "pw-1"})
	ctx := t.Context()
	tests := []struct {
		name     string
		clientID string
		redirect string
		password string
		want     string
	}{
		{"wrong password", NativeClientID, "http://127.0.0.1:3017/", "nope", "username or password wrong"},
		{"foreign redirect", NativeClientID, "http://example.com:3017/", "pw-1", "redirect_uri"},
		{"custom scheme on a loopback host", NativeClientID, "ftp://127.0.0.1/", "pw-1", "redirect_uri"},
		{"unknown client", "nobody", "http://127.0.0.1:3017/", "pw-1", "client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(s, tt.clientID, "", tt.redirect)
			loc, err := FormLogin(ctx, cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice", tt.password)
			if err == nil {
				if e := loc.Query().Get("error"); e == "" {
					t.Fatalf("sign-in succeeded, redirected to %s", loc.Redacted())
				}
				return
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		cfg := config(s, NativeClientID, "", "http://127.0.0.1:3017/")
		loc, err := FormLogin(ctx, cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice", "pw-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("exchange with a wrong verifier succeeded")
		}
	})

	t.Run("non-loopback listen address", func(t *testing.T) {
		for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:80"} {
			if s, err := Start(ctx, Options{Addr: addr}); err == nil {
				_ = s.Close()
				t.Errorf("Start(%q) succeeded", addr)
			}
		}
	})
}

func TestRefreshRotatesAndKillsOldAccessToken(t *testing.T) {
	s := start(t, Options{})
	cfg := config(s, NativeClientID, "", "http://127.0.0.1:3017/")
	ctx := t.Context()
	old := signIn(t, s, cfg)
	old.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, old).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == old.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if _, ok := s.Introspect(ctx, old.AccessToken); ok {
		t.Error("old access token still active after refresh")
	}
	if u, ok := s.Introspect(ctx, fresh.AccessToken); !ok || u != DefaultUser {
		t.Errorf("new access token: Introspect = %q, %v", u, ok)
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reusing the old refresh token: err = %v, want invalid_grant", err)
	}
}

func TestWebClientNeedsSecret(t *testing.T) {
	s := start(t, Options{})
	ctx := t.Context()
	signIn(t, s, config(s, WebClientID, s.WebClientSecret(), "http://localhost:3017/"))

	cfg := config(s, WebClientID, "wrong", "http://localhost:3017/")
	loc, err := FormLogin(ctx, cfg.AuthCodeURL("x"), s.User(), s.Password())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, loc.Query().Get("code")); err == nil {
		t.Fatal("exchange with a wrong client secret succeeded")
	}
}

func TestDeviceFlow(t *testing.T) {
	s := start(t, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cfg := config(s, DeviceClientID, "", "")
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	approved := make(chan error, 1)
	go func() { approved <- DeviceApprove(ctx, da.VerificationURI, da.UserCode, s.User(), s.Password()) }()
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Error("device flow gave no refresh token")
	}
	if u, ok := s.Introspect(ctx, tok.AccessToken); !ok || u != s.User() {
		t.Errorf("Introspect = %q, %v", u, ok)
	}
}

func TestClientCredentialsAndUserinfo(t *testing.T) {
	s := start(t, Options{User: "svc-mail"})
	ctx := t.Context()
	cc := clientcredentials.Config{ClientID: ServiceClientID, ClientSecret: ServiceClientSecret,
		TokenURL: s.TokenURL(), Scopes: []string{"openid"}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := s.Introspect(ctx, tok.AccessToken); !ok || u != "svc-mail" {
		t.Errorf("Introspect = %q, %v", u, ok)
	}
	if _, ok := s.Introspect(ctx, "garbage"); ok {
		t.Error("garbage token introspected as active")
	}

	user := signIn(t, s, config(s, NativeClientID, "", "http://127.0.0.1:1/"))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+user.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		PreferredUsername string `json:"preferred_username"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.PreferredUsername != "svc-mail" {
		t.Fatalf("userinfo: %v, preferred_username %q", err, info.PreferredUsername)
	}
}

func TestDiscoveryAndPrefilledLogin(t *testing.T) {
	s := start(t, Options{ShowLogin: true})
	resp, err := http.Get(s.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"issuer": s.Issuer(), "authorization_endpoint": s.AuthURL(),
		"token_endpoint": s.TokenURL(), "introspection_endpoint": s.IntrospectionURL(),
		"device_authorization_endpoint": s.DeviceAuthURL()} {
		if d[key] != want {
			t.Errorf("%s = %v, want %s", key, d[key], want)
		}
	}
	// The demo page has the credentials filled in, and the form still works.
	page, err := http.Get(s.Issuer() + "/login/username?authRequestID=" + url.QueryEscape("x"))
	if err != nil {
		t.Fatal(err)
	}
	defer page.Body.Close()
	body, _ := io.ReadAll(page.Body)
	if !strings.Contains(string(body), `value="`+DefaultUser+`"`) {
		t.Error("demo login page is not pre-filled")
	}
	signIn(t, s, config(s, NativeClientID, "", "http://127.0.0.1:3017/"))
}
