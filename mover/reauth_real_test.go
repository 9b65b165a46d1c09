//go:build unix

package mover

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/auth"
	"mailmover/internal/testenv"
	"mailmover/store"
)

// TestRevokedRefreshTokenPausesTheMover runs on the real parts: a profile signed in at
// the test OpenID provider, whose refresh token is then used by someone else (the
// provider rotates it, so ours is dead, and the old access token dies with it). The
// mover's sign-in to Dovecot is refused, the refresh gets invalid_grant, and the mover
// pauses with "sign in again" instead of retrying forever.
func TestRevokedRefreshTokenPausesTheMover(t *testing.T) {
	o := testenv.OIDC(t)
	tg := dovecotTarget(t)
	tok := testenv.OIDCToken(t)

	h := newHarness(t)
	p := h.prof
	p.Setup.Host, p.Setup.Port, p.Setup.Username, p.Setup.Folder = tg.host, tg.port, tg.user, tg.folder
	p.Security = store.Security{TLS: tg.tls, Auth: store.AuthXOAuth2, VerifyCertificate: true, CAFile: tg.ca}
	p.OAuth2 = store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowAuthCode,
		AuthorizationURL: o.AuthURL(), TokenURL: o.TokenURL(), ClientID: o.NativeClientID,
		Scope: strings.Join(testenv.Scopes, " "), RedirectURI: "http://localhost:3017/", RedirectPort: 3017}
	sec := store.NewMemorySecrets()
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(sec, p.Name), tok, time.Now()); err != nil {
		t.Fatal(err)
	}

	// Someone else uses the refresh token: the provider rotates it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := o.NativeConfig("http://127.0.0.1:49151/callback").TokenSource(ctx,
		&oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("rotating the refresh token away: %v", err)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := SourceConfig(p, sec, logger)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 10 * time.Second
	ev := make(chan Event, 100)
	m, err := New(Options{Profile: p, Home: h.home, Config: cfg, Logger: logger, Events: ev,
		MaxRetry: 50 * time.Millisecond, PauseRetry: time.Hour, NoLogFile: true})
	if err != nil {
		t.Fatal(err)
	}
	err = m.RunOnce(ctx)
	var ra *auth.ReauthError
	if !errors.As(err, &ra) {
		t.Fatalf("RunOnce = %v, want an *auth.ReauthError", err)
	}
	e := waitKind(t, ev, KindPaused)
	if !strings.Contains(e.Text+e.Advice, "sign in again") && !strings.Contains(e.Text+e.Advice, "Sign in again") {
		t.Errorf("paused event does not say to sign in again: %+v", e)
	}
	if strings.Contains(e.Text+e.Advice, tok.RefreshToken) || strings.Contains(e.Text+e.Advice, tok.AccessToken) {
		t.Error("the paused event shows a token")
	}
}
