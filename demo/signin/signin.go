// Package signin is the demo's OAuth2 authorization server: the stand-in, inside the
// process and on loopback only, for the sign-in servers of Microsoft and Google, so that
// `mailmover demo` exercises the same browser sign-in (authorization code with PKCE, RFC
// 6749 and 7636, loopback redirect of RFC 8252) and the same rotating refresh tokens as a
// real mailbox.
//
// It knows one user, one public native client (ClientID, no secret) and two endpoints:
//
//   - GET /authorize checks the request (client, response_type=code, an http redirect URI
//     on 127.0.0.1, localhost or [::1] with any port, a PKCE challenge with method S256)
//     and shows a login form; POST /authorize with the right user and password sends the
//     browser back to the redirect URI with a code and the state, unchanged. Cancel sends
//     error=access_denied.
//   - POST /token exchanges a code (single use, two minutes, bound to the client, the
//     redirect URI and the PKCE verifier) or a refresh token for an opaque access token
//     of a few minutes and a new refresh token. Refresh tokens rotate: each use ends the
//     old refresh token and the access token issued with it, as Microsoft and the test
//     provider do. A code presented twice ends every token issued for it (RFC 6749 10.5).
//
// GET /.well-known/oauth-authorization-server describes both (RFC 8414). The demo's IMAP
// server asks [Server.Validate] which user an access token belongs to.
//
// Why written by hand: the demo is the stand-in for Microsoft and Google, and ships
// inside the program. It used to run zitadel/oidc's OpenID-certified server, but that
// server needs a storage (op.Storage: two dozen methods, plus client, auth-request and
// signing-key types for OpenID Connect's ID tokens) and a login page, and the only ones
// at hand were the library's example packages, which do not belong in a shipped binary. Writing our own op.Storage
// would be larger than what the demo needs from the protocol, which is about 600 lines
// here, the two pages included. So this is not a general provider: one client, one user,
// no OpenID Connect (scopes such as "openid" are accepted and echoed, no ID token is
// issued), no device flow, nothing persisted (everything lives in memory and ends with the
// process). The test provider (internal/oidcdev on zitadel/oidc) remains the certified
// counterpart that the tests of package auth run against.
//
// Hardening, although only loopback clients reach it: every wait is bounded (server
// timeouts, form bodies of at most 64 KiB, every table capped and swept), secrets are
// compared in constant time and kept only as hashes, nothing from a request reaches a page
// unescaped, and no token, code or password appears in a log line.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"mailmover/i18n"
)

// ClientID is the one client the server knows: a public native client (no secret).
const ClientID = "mailmover-native"

// Endpoint paths below the issuer.
const (
	PathAuthorize = "/authorize"
	PathToken     = "/token"
	PathMetadata  = "/.well-known/oauth-authorization-server"
)

// Lifetimes and bounds.
const (
	// DefaultAccessTokenLifetime is how long an access token lives unless Options say less.
	DefaultAccessTokenLifetime = 5 * time.Minute
	codeLifetime               = 2 * time.Minute
	requestLifetime            = 15 * time.Minute // a login form waiting to be sent
	refreshLifetime            = 24 * time.Hour   // unused; each use rotates it
	maxFailures                = 5                // wrong passwords per login form
	maxEntries                 = 1000             // per table
	maxFormBytes               = 64 << 10
	maxParamLen                = 2048 // state, redirect_uri, scope
)

// Options configure Start.
type Options struct {
	// Addr is the address to listen on: a loopback IP and a port, "127.0.0.1:0" when
	// empty (port 0 picks a free one). Anything else is refused.
	Addr string
	// User and Password are the one login; both are required.
	User, Password string
	// ShowCredentials shows the login on the page and fills the form in (the demo);
	// tests leave it off and type like a person.
	ShowCredentials bool
	// AccessTokenLifetime shortens the life of access tokens (0, or anything over
	// DefaultAccessTokenLifetime, means DefaultAccessTokenLifetime).
	AccessTokenLifetime time.Duration
	// Logger receives one line per sign-in event (never a token or code); nil drops them.
	Logger *slog.Logger
}

// Server is a running sign-in server. Close stops it.
type Server struct {
	issuer    string
	addr      string
	user      string
	password  string
	show      bool
	accessTTL time.Duration
	log       *slog.Logger
	srv       *http.Server
	stop      func() bool
	now       func() time.Time // tests move the clock

	mu       sync.Mutex
	requests map[string]*authRequest // by request ID, shown in the login form
	codes    map[string]*codeGrant   // by hash of the code
	access   map[string]*accessToken // by hash of the token
	refresh  map[string]*refreshToken
}

// ErrNotLoopback is returned by Start for a listen address that is not a loopback IP.
var ErrNotLoopback = i18n.NewError("the sign-in server listens on a loopback IP only (127.0.0.1:PORT or [::1]:PORT)")

// Start listens on opts.Addr and serves until Close is called or ctx ends.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.User == "" || opts.Password == "" {
		return nil, i18n.New("sign-in server: the user and password must not be empty")
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, i18n.Errorf("sign-in server: bad listen address %q: %w", opts.Addr, errors.Join(ErrNotLoopback, err))
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, i18n.Errorf("sign-in server: listen address %q: %w", opts.Addr, ErrNotLoopback)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, i18n.Errorf("sign-in server: listen on %s: %w", opts.Addr, err)
	}
	ttl := opts.AccessTokenLifetime
	if ttl <= 0 || ttl > DefaultAccessTokenLifetime {
		ttl = DefaultAccessTokenLifetime
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		addr: ln.Addr().String(), user: opts.User, password: opts.Password, show: opts.ShowCredentials,
		accessTTL: ttl, log: logger, now: time.Now,
		requests: map[string]*authRequest{}, codes: map[string]*codeGrant{},
		access: map[string]*accessToken{}, refresh: map[string]*refreshToken{},
	}
	s.issuer = "http://" + s.addr

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathAuthorize, s.authorizePage)
	mux.HandleFunc("POST "+PathAuthorize, s.authorizeLogin)
	mux.HandleFunc("POST "+PathToken, s.token)
	mux.HandleFunc("GET "+PathMetadata, s.metadata)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	go func() { _ = s.srv.Serve(ln) }()
	s.stop = context.AfterFunc(ctx, func() { _ = s.srv.Close() })
	return s, nil
}

// Issuer is the server's base URL, "http://127.0.0.1:PORT".
func (s *Server) Issuer() string { return s.issuer }

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// AuthURL is the authorization endpoint.
func (s *Server) AuthURL() string { return s.issuer + PathAuthorize }

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.issuer + PathToken }

// User is the login name; it is also the IMAP login that Validate returns.
func (s *Server) User() string { return s.user }

// Password is the login's password.
func (s *Server) Password() string { return s.password }

// Close stops the server at once, ending open connections.
func (s *Server) Close() error {
	s.stop()
	if err := s.srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Validate returns the login an access token was issued to. ok is false for a token
// that is unknown, expired, or ended by a refresh.
func (s *Server) Validate(accessToken string) (login string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.access[hash(accessToken)]
	if t == nil || !s.now().Before(t.expires) {
		return "", false
	}
	return t.login, true
}

// metadata serves RFC 8414 authorization server metadata.
func (s *Server) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.issuer,
		"authorization_endpoint":                s.AuthURL(),
		"token_endpoint":                        s.TokenURL(),
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
	})
}

// writeJSON answers v as JSON, never cached (RFC 6749 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8") // i18n:keep (a header)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomToken is 32 random bytes, base64url without padding.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hash is the key under which a secret is kept: its SHA-256, so that the tables hold no
// usable token and a lookup's timing says nothing about the secret.
func hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return string(h[:])
}

// sweep drops what has expired from every table; the caller holds s.mu.
func (s *Server) sweep(now time.Time) {
	for k, r := range s.requests {
		if !now.Before(r.expires) {
			delete(s.requests, k)
		}
	}
	for k, c := range s.codes {
		if !now.Before(c.expires) {
			delete(s.codes, k)
		}
	}
	for k, t := range s.access {
		if !now.Before(t.expires) {
			delete(s.access, k)
		}
	}
	for k, t := range s.refresh {
		if !now.Before(t.expires) {
			delete(s.refresh, k)
		}
	}
}
