package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"mailmover/i18n"
	"mailmover/store"
)

// ClientCredentialsSource hands out app-only access tokens (OAuth2 client credentials,
// flow = "client_credentials"): it asks the token URL with the client ID and secret, keeps
// the token in memory and gets a new one EarlyRefresh before expiry. There is no refresh
// token and nothing is stored. Safe for concurrent use.
type ClientCredentialsSource struct {
	// Logger receives progress (never a token); nil means slog.Default(). Set before
	// first use.
	Logger *slog.Logger
	// EarlyRefresh is how long before expiry to fetch a new token; 0 means
	// DefaultEarlyRefresh.
	EarlyRefresh time.Duration

	cfg Config
	now func() time.Time

	mu        sync.Mutex
	tok       *oauth2.Token
	fetchedAt time.Time
}

// NewClientCredentialsSource returns a source for cfg (which needs ClientSecret).
func NewClientCredentialsSource(cfg Config) *ClientCredentialsSource {
	return &ClientCredentialsSource{cfg: cfg, now: time.Now}
}

// AccessToken returns a valid app-only token; forceRefresh fetches a new one unless one
// was fetched within the last few seconds. Refusals are *TokenError.
func (s *ClientCredentialsSource) AccessToken(ctx context.Context, forceRefresh bool) (string, error) {
	return s.token(ctx, forceRefresh, "")
}

// Renew returns an app-only token in place of refused, the one the server has just
// refused: the current one when it is another and still valid, else a new one.
func (s *ClientCredentialsSource) Renew(ctx context.Context, refused string) (string, error) {
	return s.token(ctx, true, refused)
}

func (s *ClientCredentialsSource) token(ctx context.Context, forceRefresh bool, refused string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := TokenSource{EarlyRefresh: s.EarlyRefresh, now: s.now}
	if s.tok != nil && ts.valid(s.tok) {
		switch {
		case !forceRefresh:
			return s.tok.AccessToken, nil
		case refused != "":
			if s.tok.AccessToken != refused {
				return s.tok.AccessToken, nil
			}
		case s.now().Sub(s.fetchedAt) < forceWindow:
			return s.tok.AccessToken, nil
		}
	}
	if s.cfg.ClientSecret == "" {
		return "", &ConfigError{Field: "client-secret", Reason: i18n.T("client credentials need the client secret: store it with 'mailmover secret set -profile PROFILE client-secret'")}
	}
	cc := clientcredentials.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret,
		TokenURL:     s.cfg.TokenURL,
		Scopes:       s.cfg.Scopes,
		AuthStyle:    s.cfg.AuthStyle,
	}
	tok, err := cc.Token(s.cfg.httpContext(ctx))
	if err != nil {
		return "", tokenError(i18n.Key("client credentials"), s.cfg.TokenURL, err)
	}
	s.tok, s.fetchedAt = tok, s.now()
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Debug("app-only access token fetched", "expiry", tok.Expiry)
	return tok.AccessToken, nil
}

// NewTokenSourceForProfile returns the token source a profile's flow needs, reading the
// client secret (if any) and the tokens from sec (usually store.Keyring()):
//   - authcode and device: a *TokenSource over NewSecretsTokenStore(sec, profile), which
//     refreshes the refresh token stored by `mailmover login`;
//   - client_credentials: a *ClientCredentialsSource (the client secret is required).
//
// A missing client secret is fine for public clients; a keyring that cannot be read is
// an error.
func NewTokenSourceForProfile(profile string, o store.OAuth2, sec store.Secrets, logger *slog.Logger) (Source, error) {
	secret, err := sec.Get(profile, store.SecretClientSecret)
	if errors.Is(err, store.ErrNoSecret) {
		secret, err = "", nil
	}
	if err != nil {
		return nil, i18n.Errorf("reading the client secret of profile %q: %w", profile, err)
	}
	cfg, err := ConfigFromProfile(o, secret)
	if err != nil {
		return nil, err
	}
	if cfg.Flow == store.FlowClientCredentials {
		s := NewClientCredentialsSource(cfg)
		s.Logger = logger
		return s, nil
	}
	ts := NewSecretsTokenStore(sec, profile)
	ts.Logger = logger
	s := NewTokenSource(cfg, ts)
	s.Profile, s.Logger = profile, logger
	return s, nil
}
