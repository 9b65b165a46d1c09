package auth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailmover/i18n"
	"mailmover/store"
)

// Stored is what a TokenStore keeps for one profile.
type Stored struct {
	// Token holds the refresh token and, when known, the access token with its expiry;
	// nil when nothing is stored.
	Token *oauth2.Token
	// Issued is when the sign-in that produced the refresh token happened.
	Issued time.Time
	// LastRefresh is when the refresh token was last used successfully (or issued).
	LastRefresh time.Time
}

// TokenStore persists a profile's tokens between runs. Implementations must be safe for
// concurrent use; they never put a token into an error.
type TokenStore interface {
	// Load returns what is stored; Stored.Token is nil when nothing is.
	Load() (Stored, error)
	// Save stores s. It writes a changed refresh token first and at once; it may keep the
	// access token in memory only (see NewSecretsTokenStore).
	Save(s Stored) error
}

// SecretsTokenStore keeps a profile's tokens in a store.Secrets (the OS keyring): the
// refresh token under PROFILE/refresh-token, and a small JSON record with the access
// token, its expiry and the sign-in and last-refresh times under PROFILE/access-token.
// When the keyring refuses the access token (Windows and macOS limit the size, and
// Microsoft access tokens can be larger), the token is kept in this process's memory, a
// warning without the value is logged, and the record is saved without it.
type SecretsTokenStore struct {
	sec     store.Secrets
	profile string
	// Logger receives warnings; nil means slog.Default(). Set it before first use.
	Logger *slog.Logger

	mu         sync.Mutex
	mem        *oauth2.Token // access token held in memory only
	lastRT     string        // refresh token as last read or written
	lastRecord string        // access record JSON as last read or written
}

// accessRecord is the JSON kept under PROFILE/access-token.
type accessRecord struct {
	AccessToken string    `json:"access_token,omitempty"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	Issued      time.Time `json:"issued,omitzero"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
}

// NewSecretsTokenStore returns the TokenStore of profile in sec (usually store.Keyring()).
func NewSecretsTokenStore(sec store.Secrets, profile string) *SecretsTokenStore {
	return &SecretsTokenStore{sec: sec, profile: profile}
}

func (s *SecretsTokenStore) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// get reads one secret; a missing one is "".
func (s *SecretsTokenStore) get(kind string) (string, error) {
	v, err := s.sec.Get(s.profile, kind)
	if errors.Is(err, store.ErrNoSecret) {
		return "", nil
	}
	if err != nil {
		return "", i18n.Errorf("reading the %s of profile %q: %w", kind, s.profile, err)
	}
	return v, nil
}

// Load reads the refresh token and the access record.
func (s *SecretsTokenStore) Load() (Stored, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, err := s.get(store.SecretRefreshToken)
	if err != nil {
		return Stored{}, err
	}
	raw, err := s.get(store.SecretAccessToken)
	if err != nil {
		return Stored{}, err
	}
	var rec accessRecord
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			s.logger().Warn("ignoring an unreadable stored access token record", "profile", s.profile, "error", err.Error())
			rec = accessRecord{}
		}
	}
	s.lastRT, s.lastRecord = rt, raw
	if rec.AccessToken == "" && s.mem != nil && s.mem.RefreshToken == rt && rec.Expiry.Equal(s.mem.Expiry) {
		rec.AccessToken, rec.TokenType = s.mem.AccessToken, s.mem.TokenType
	}
	st := Stored{Issued: rec.Issued, LastRefresh: rec.LastRefresh}
	if rt != "" || rec.AccessToken != "" {
		st.Token = &oauth2.Token{AccessToken: rec.AccessToken, TokenType: rec.TokenType, RefreshToken: rt, Expiry: rec.Expiry}
	}
	return st, nil
}

// Save writes what changed: the refresh token first (an error there is returned, since a
// rotated refresh token that is not saved is lost at the next start), then the access
// record (a refusal there only costs a refresh at the next start, so it is logged).
func (s *SecretsTokenStore) Save(st Stored) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Token == nil {
		return nil
	}
	if rt := st.Token.RefreshToken; rt != "" && rt != s.lastRT {
		if err := s.sec.Set(s.profile, store.SecretRefreshToken, rt); err != nil {
			return i18n.Errorf("saving the refresh token of profile %q: %w", s.profile, err)
		}
		s.lastRT = rt
	}
	rec := accessRecord{AccessToken: st.Token.AccessToken, TokenType: st.Token.TokenType, Expiry: st.Token.Expiry, Issued: st.Issued, LastRefresh: st.LastRefresh}
	b, err := json.Marshal(rec)
	if err != nil {
		return i18n.Errorf("encoding the access token record: %w", err)
	}
	if string(b) == s.lastRecord {
		return nil
	}
	err = s.sec.Set(s.profile, store.SecretAccessToken, string(b))
	if err == nil {
		s.lastRecord, s.mem = string(b), nil
		return nil
	}
	// Keep the access token in memory and save the record without it.
	s.mem = &oauth2.Token{AccessToken: st.Token.AccessToken, TokenType: st.Token.TokenType, RefreshToken: st.Token.RefreshToken, Expiry: st.Token.Expiry}
	var tooBig *store.SecretTooLargeError
	if errors.As(err, &tooBig) {
		s.logger().Warn("the keyring refused the access token as too large; keeping it in memory (a new process refreshes first)", "profile", s.profile, "bytes", tooBig.Size)
	} else {
		s.logger().Warn("could not save the access token; keeping it in memory", "profile", s.profile, "error", err.Error())
	}
	rec.AccessToken, rec.TokenType = "", ""
	b, _ = json.Marshal(rec)
	if err := s.sec.Set(s.profile, store.SecretAccessToken, string(b)); err != nil {
		s.logger().Warn("could not save the token times either", "profile", s.profile, "error", err.Error())
		return nil
	}
	s.lastRecord = string(b)
	return nil
}
