package mover

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"mailmover/auth"
	"mailmover/i18n"
	"mailmover/imapsrc"
	"mailmover/store"
)

// SourceConfig builds the imapsrc.Config for profile p: server, TLS and sign-in from the
// profile, the password (auth = "password") from sec, or else a token function backed by
// the auth package's token source for the profile's flow (auth.NewTokenSourceFor),
// which refreshes and saves rotated tokens in sec. The
// returned Config holds no secret in any field a log could print: the password is only in
// Config.Password, which imapsrc never logs.
func SourceConfig(p *store.Profile, sec store.Secrets, logger *slog.Logger) (imapsrc.Config, error) {
	if p == nil {
		return imapsrc.Config{}, i18n.New("no profile given")
	}
	if logger == nil {
		logger = slog.Default()
	}
	cfg := imapsrc.Config{
		Host:              p.Setup.Host,
		Port:              p.Setup.Port,
		TLS:               p.Security.TLS,
		Auth:              p.Security.Auth,
		Username:          p.Setup.Username,
		VerifyCertificate: p.Security.VerifyCertificate,
		CAFile:            p.Security.CAFile,
		Folder:            p.Setup.Folder,
		Logger:            logger,
		Profile:           p.Name,
	}
	if cfg.CAFile != "" {
		if ca, err := store.ExpandPath(cfg.CAFile); err == nil {
			cfg.CAFile = ca
		}
	}
	if cfg.Folder == "" {
		cfg.Folder = "INBOX"
	}
	if sec == nil {
		return imapsrc.Config{}, i18n.New("no keyring given to read the profile's secrets from")
	}
	switch p.Security.Auth {
	case store.AuthPassword:
		pw, err := sec.Get(p.Name, store.SecretPassword)
		if errors.Is(err, store.ErrNoSecret) {
			return imapsrc.Config{}, i18n.Errorf("profile %s signs in with a password, but none is stored: run 'mailmover secret set -profile %s password': %w", p.Name, p.Name, err)
		}
		if err != nil {
			return imapsrc.Config{}, i18n.Errorf("reading the password of profile %s from the keyring: %w", p.Name, err)
		}
		cfg.Password = pw
	case store.AuthXOAuth2, store.AuthOAuthBearer:
		ts, err := auth.NewTokenSourceFor(p, sec, logger)
		if err != nil {
			return imapsrc.Config{}, i18n.Errorf("profile %s: OAuth2 settings: %w", p.Name, err)
		}
		cfg.Token = tokenFunc(ts)
		cfg.AppOnly = appOnlyKind(p.OAuth2)
	default:
		return imapsrc.Config{}, i18n.Errorf("security.auth = %q is not a sign-in method (xoauth2, oauthbearer or password)", p.Security.Auth)
	}
	return cfg, nil
}

// tokenFunc hands ts's tokens to the connections of one run, one connection at a time:
// when the server refuses a token (forceRefresh), the token to replace is the one handed
// out last, so a token refused right after a refresh is refreshed again instead of being
// handed back (auth.Source.Renew).
func tokenFunc(ts auth.Source) imapsrc.TokenFunc {
	var mu sync.Mutex
	var last string
	return func(ctx context.Context, forceRefresh bool) (string, error) {
		mu.Lock()
		refused := last
		mu.Unlock()
		var tok string
		var err error
		if forceRefresh && refused != "" {
			tok, err = ts.Renew(ctx, refused)
		} else {
			tok, err = ts.AccessToken(ctx, forceRefresh)
		}
		if err == nil {
			mu.Lock()
			last = tok
			mu.Unlock()
		}
		return tok, err
	}
}

// appOnlyKind tells imapsrc whose token it gets (imapsrc.Config.AppOnly), so that a
// refused app-only token gets advice about the app's access to the mailbox.
func appOnlyKind(o store.OAuth2) string {
	switch {
	case !o.AppOnly():
		return ""
	case o.Flow == store.FlowServiceAccount:
		return imapsrc.AppOnlyGoogle
	case auth.IsMicrosoftProfile(o):
		return imapsrc.AppOnlyMicrosoft
	}
	return imapsrc.AppOnlyOther
}
