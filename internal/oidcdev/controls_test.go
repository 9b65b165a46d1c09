package oidcdev

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func wantInvalidGrant(t *testing.T, err error) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
}

// An access token ended by ExpireAccessTokens is inactive at once although its announced
// expiry is minutes away; the refresh token still gives a working one.
func TestExpireAccessTokensBeforeAnnouncedExpiry(t *testing.T) {
	s := start(t, Options{})
	ctx := t.Context()
	faults := config(s, FaultsClientID, "", "http://127.0.0.1:3017/")
	other := config(s, NativeClientID, "", "http://127.0.0.1:3017/")
	tok, keep := signIn(t, s, faults), signIn(t, s, other)
	if time.Until(tok.Expiry) < time.Minute {
		t.Fatalf("announced expiry %v is too near to show anything", tok.Expiry)
	}
	if n := s.ExpireAccessTokens(FaultsClientID); n != 1 {
		t.Fatalf("ExpireAccessTokens = %d, want 1", n)
	}
	if _, ok := s.Introspect(ctx, tok.AccessToken); ok {
		t.Fatal("expired access token still active")
	}
	if _, ok := s.Introspect(ctx, keep.AccessToken); !ok {
		t.Fatal("another client's access token was ended too")
	}
	// The client still believes its token valid; it refreshes when the server refuses it.
	tok.Expiry = time.Now().Add(-time.Second)
	fresh, err := faults.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh after the expiry: %v", err)
	}
	if u, ok := s.Introspect(ctx, fresh.AccessToken); !ok || u != DefaultUser {
		t.Fatalf("refreshed token: Introspect = %q, %v", u, ok)
	}
	// Userinfo refuses an ended token too; "" ends every client's.
	if n := s.ExpireAccessTokens(""); n != 2 {
		t.Fatalf("ExpireAccessTokens(\"\") = %d, want 2", n)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Issuer()+PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+fresh.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("userinfo accepted an ended access token")
	}
	if s.ExpireAccessTokens("") != 0 {
		t.Error("a second ExpireAccessTokens found live tokens")
	}
}

// A revoked refresh token gets invalid_grant; a new sign-in works again.
func TestRevokeRefreshTokens(t *testing.T) {
	s := start(t, Options{})
	ctx := t.Context()
	faults := config(s, FaultsClientID, "", "http://127.0.0.1:3017/")
	other := config(s, NativeClientID, "", "http://127.0.0.1:3017/")
	tok, keep := signIn(t, s, faults), signIn(t, s, other)
	// A rotation first: only the live refresh token counts.
	tok.Expiry = time.Now().Add(-time.Second)
	tok, err := faults.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if n := s.RevokeRefreshTokens(FaultsClientID); n != 1 {
		t.Fatalf("RevokeRefreshTokens = %d, want 1", n)
	}
	_, err = faults.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	wantInvalidGrant(t, err)
	if _, err := other.TokenSource(ctx, &oauth2.Token{RefreshToken: keep.RefreshToken}).Token(); err != nil {
		t.Fatalf("another client's refresh token was revoked too: %v", err)
	}
	again := signIn(t, s, faults)
	if _, err := faults.TokenSource(ctx, &oauth2.Token{RefreshToken: again.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh after a new sign-in: %v", err)
	}
}

func TestShortAccessTokenLifetime(t *testing.T) {
	s := start(t, Options{AccessTokenLifetime: 2 * time.Second})
	ctx := t.Context()
	tok := signIn(t, s, config(s, FaultsClientID, "", "http://127.0.0.1:3017/"))
	if left := time.Until(tok.Expiry); left > 3*time.Second {
		t.Fatalf("announced expiry in %v, want about 2s", left)
	}
	if _, ok := s.Introspect(ctx, tok.AccessToken); !ok {
		t.Fatal("fresh token inactive")
	}
	time.Sleep(2100 * time.Millisecond)
	if _, ok := s.Introspect(ctx, tok.AccessToken); ok {
		t.Fatal("token active after its short lifetime")
	}
}

// The HTTP controls (for mm-testprovider) do the same, and only when enabled.
func TestControlEndpoints(t *testing.T) {
	ctx := t.Context()
	off := start(t, Options{})
	if _, err := ExpireAccessTokensAt(ctx, off.Issuer(), ""); err == nil {
		t.Fatal("test controls answered without Options.TestControls")
	}

	s := start(t, Options{TestControls: true})
	cfg := config(s, FaultsClientID, "", "http://127.0.0.1:3017/")
	tok := signIn(t, s, cfg)
	if n, err := ExpireAccessTokensAt(ctx, s.Issuer(), FaultsClientID); err != nil || n != 1 {
		t.Fatalf("ExpireAccessTokensAt = %d, %v; want 1", n, err)
	}
	if _, ok := s.Introspect(ctx, tok.AccessToken); ok {
		t.Fatal("access token active after the expire control")
	}
	if n, err := RevokeRefreshTokensAt(ctx, s.Issuer(), NativeClientID); err != nil || n != 0 {
		t.Fatalf("RevokeRefreshTokensAt(native) = %d, %v; want 0", n, err)
	}
	if n, err := RevokeRefreshTokensAt(ctx, s.Issuer(), ""); err != nil || n != 1 {
		t.Fatalf("RevokeRefreshTokensAt = %d, %v; want 1", n, err)
	}
	_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	wantInvalidGrant(t, err)
	resp, err := http.Get(s.Issuer() + PathTestRevokeRefresh)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("GET on a test control succeeded")
	}
}
