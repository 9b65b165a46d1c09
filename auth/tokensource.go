package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailmover/i18n"
)

// DefaultEarlyRefresh is how long before expiry a token source gets a new access token.
const DefaultEarlyRefresh = 2 * time.Minute

// forceWindow: a forced refresh asked for within this long after a refresh returns the
// fresh token instead of refreshing again (several connections refused the same old
// token at once).
const forceWindow = 5 * time.Second

// Source hands out access tokens; its AccessToken method fits imapsrc.TokenFunc.
// *TokenSource and *ClientCredentialsSource implement it.
type Source interface {
	// AccessToken returns a valid access token. forceRefresh means the server refused the
	// previous one: get a new one from the provider now.
	AccessToken(ctx context.Context, forceRefresh bool) (string, error)
	// Renew returns a token in place of refused, the access token the server has just
	// refused: a valid other one, else a new one from the provider.
	Renew(ctx context.Context, refused string) (string, error)
}

// TokenSource hands out access tokens for a signed-in profile, refreshing them with the
// stored refresh token, like rclone's oauthutil but with PKCE sign-in elsewhere. It is
// safe for concurrent use: one refresh runs at a time, and callers waiting meanwhile get
// its result. Before refreshing it re-reads the store (another process may have refreshed
// and rotated the refresh token already); after refreshing it saves at once, and only
// what changed.
type TokenSource struct {
	// Profile names the profile in "sign in again" messages. Set before first use.
	Profile string
	// Logger receives progress (never a token); nil means slog.Default(). Set before
	// first use.
	Logger *slog.Logger
	// EarlyRefresh is how long before expiry to refresh; 0 means DefaultEarlyRefresh.
	EarlyRefresh time.Duration

	cfg   Config
	store TokenStore
	now   func() time.Time

	mu          sync.Mutex
	cur         Stored
	loaded      bool
	refreshedAt time.Time
}

// NewTokenSource returns a TokenSource for cfg whose tokens live in st.
func NewTokenSource(cfg Config, st TokenStore) *TokenSource {
	return &TokenSource{cfg: cfg, store: st, now: time.Now}
}

func (s *TokenSource) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *TokenSource) valid(t *oauth2.Token) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	early := s.EarlyRefresh
	if early <= 0 {
		early = DefaultEarlyRefresh
	}
	return s.now().Add(early).Before(t.Expiry)
}

// AccessToken returns a valid access token, refreshing when the current one expires
// within EarlyRefresh or when forceRefresh is true (the server refused it). A refusal of
// the refresh token (invalid_grant) or no stored refresh token is a *ReauthError; other
// refusals are *TokenError. No error text contains a token.
func (s *TokenSource) AccessToken(ctx context.Context, forceRefresh bool) (string, error) {
	tok, err := s.Token(ctx, forceRefresh)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// Renew returns an access token in place of refused, the one the server has just refused:
// the current token when it is another one and still valid (refreshed meanwhile, e.g. by
// another process), else a refreshed one — also when refused was refreshed a moment ago,
// which AccessToken's forced refresh cannot tell apart from several connections refusing
// the same old token at once.
func (s *TokenSource) Renew(ctx context.Context, refused string) (string, error) {
	tok, err := s.token(ctx, true, refused)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// Token is AccessToken returning the whole token (a copy).
func (s *TokenSource) Token(ctx context.Context, forceRefresh bool) (*oauth2.Token, error) {
	return s.token(ctx, forceRefresh, "")
}

// token is Token; a non-empty refused (with forceRefresh) is the access token the server
// refused: any other valid token will do, refused itself never.
func (s *TokenSource) token(ctx context.Context, forceRefresh bool, refused string) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	justLoaded := false
	if !s.loaded {
		st, err := s.store.Load()
		if err != nil {
			return nil, i18n.Errorf("reading the stored sign-in: %w", err)
		}
		s.cur, s.loaded, justLoaded = st, true, true
	}
	if !forceRefresh && s.valid(s.cur.Token) {
		return copyToken(s.cur.Token), nil
	}
	// Another process may have refreshed (and rotated the refresh token) meanwhile.
	if justLoaded {
		// Read a moment ago: nothing new to see.
	} else if st, err := s.store.Load(); err != nil {
		s.logger().Warn("could not re-read the stored sign-in; using the one in memory", "profile", s.Profile, "error", err.Error())
	} else if st.Token != nil {
		old := s.cur.Token
		if old == nil || st.Token.RefreshToken != old.RefreshToken {
			if old != nil && st.Token.RefreshToken != "" {
				s.logger().Info("using the refresh token saved by another process", "profile", s.Profile)
			}
			s.cur = st
		} else if st.Token.AccessToken != old.AccessToken && s.valid(st.Token) {
			s.cur = st
		}
		if s.cur.Token != old && s.valid(s.cur.Token) && (old == nil || s.cur.Token.AccessToken != old.AccessToken) {
			return copyToken(s.cur.Token), nil
		}
	}
	if forceRefresh && s.valid(s.cur.Token) {
		if refused != "" && s.cur.Token.AccessToken != refused {
			return copyToken(s.cur.Token), nil
		}
		if refused == "" && !s.refreshedAt.IsZero() && s.now().Sub(s.refreshedAt) < forceWindow {
			return copyToken(s.cur.Token), nil
		}
	}
	if s.cur.Token == nil || s.cur.Token.RefreshToken == "" {
		if !forceRefresh && s.valid(s.cur.Token) {
			return copyToken(s.cur.Token), nil
		}
		return nil, &ReauthError{Profile: s.Profile, Err: ErrNotSignedIn}
	}
	used := s.cur.Token.RefreshToken
	tok, err := s.refresh(ctx)
	var re *ReauthError
	if err == nil || !errors.As(err, &re) {
		return tok, err
	}
	// Another process may have rotated the refresh token between our read and our
	// refresh (both used the old one; the provider took theirs): take theirs, once.
	st, lerr := s.store.Load()
	if lerr != nil || st.Token == nil || st.Token.RefreshToken == "" || st.Token.RefreshToken == used {
		return nil, err
	}
	s.logger().Info("the refresh token was rotated by another process meanwhile; using the new one", "profile", s.Profile)
	s.cur = st
	if s.valid(st.Token) && !forceRefresh {
		return copyToken(st.Token), nil
	}
	return s.refresh(ctx)
}

// refresh runs the refresh-token grant; s.mu is held.
func (s *TokenSource) refresh(ctx context.Context) (*oauth2.Token, error) {
	rt := s.cur.Token.RefreshToken
	oc := s.cfg.oauth2Config("")
	tok, err := oc.TokenSource(s.cfg.httpContext(ctx), &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		err = tokenError(i18n.Key("refresh"), s.cfg.TokenURL, err)
		var te *TokenError
		if errors.As(err, &te) {
			te.Profile = s.Profile
		}
		if te != nil && te.Code == "invalid_grant" {
			s.logger().Warn("the provider refused the refresh token: sign in again", "profile", s.Profile, "description", te.Description)
			return nil, &ReauthError{Profile: s.Profile, Code: te.Code, Description: te.Description, Err: te}
		}
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = rt
	}
	now := s.now()
	rotated := tok.RefreshToken != rt
	s.cur = Stored{Token: tok, Issued: s.cur.Issued, LastRefresh: now}
	s.refreshedAt = now
	if err := s.store.Save(s.cur); err != nil {
		if rotated {
			s.logger().Error("the provider rotated the refresh token but it could not be saved: this process goes on, but the next start will need a new sign-in", "profile", s.Profile, "error", err.Error())
		} else {
			s.logger().Warn("could not save the refreshed access token", "profile", s.Profile, "error", err.Error())
		}
	}
	s.logger().Debug("access token refreshed", "profile", s.Profile, "rotated", rotated, "expiry", tok.Expiry)
	return copyToken(tok), nil
}

// LastRefresh returns when the refresh token was last used successfully (or issued);
// zero when unknown. It reads the store if nothing is loaded yet.
func (s *TokenSource) LastRefresh() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	return s.cur.LastRefresh
}

// Issued returns when the stored sign-in happened; zero when unknown.
func (s *TokenSource) Issued() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	return s.cur.Issued
}

// LapseWarning returns a warning when the stored refresh token is near or past the
// provider's known lapse (see the package function LapseWarning and SignInAgeWarning),
// or "".
func (s *TokenSource) LapseWarning(now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if w := LapseWarning(s.cfg.Preset, s.cur.LastRefresh, now); w != "" {
		return w
	}
	return SignInAgeWarning(s.cfg.Preset, s.cur.Issued, now)
}

func (s *TokenSource) loadLocked() {
	if s.loaded {
		return
	}
	if st, err := s.store.Load(); err == nil {
		s.cur, s.loaded = st, true
	}
}

func copyToken(t *oauth2.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
}

// SaveLogin stores the token of a fresh sign-in (Login or LoginDevice) in st, with now as
// both the sign-in and the last-refresh time.
func SaveLogin(st TokenStore, tok *oauth2.Token, now time.Time) error {
	if tok == nil {
		return i18n.New("no token to save")
	}
	return st.Save(Stored{Token: tok, Issued: now, LastRefresh: now})
}
