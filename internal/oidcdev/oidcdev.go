// Package oidcdev is a small OAuth2 / OpenID Connect provider for tests and the demo,
// built on the OpenID-certified github.com/zitadel/oidc/v3 example server packages.
//
// It listens on a loopback address only and knows one static user, a public native
// client (PKCE, any loopback redirect on any port, RFC 8252), a confidential web client,
// a public device-code client and a service user for the client-credentials grant (with
// its secret, or as CertClientID with a certificate: assertion.go). It
// serves a login form, authorization code + PKCE, rotated refresh tokens (the old access
// token dies on every refresh), device authorization, RFC 7662 introspection and
// userinfo. Access tokens are opaque and live five minutes (Options.AccessTokenLifetime
// can shorten that).
//
// For fault tests it has test controls (TEST ONLY, see controls.go): end every access
// token now, before its announced expiry ([Server.ExpireAccessTokens]), and revoke every
// refresh token ([Server.RevokeRefreshTokens]), for all clients or one; with
// Options.TestControls also as loopback-only HTTP endpoints under /test/. FaultsClientID
// is a second native client for such tests, so that ending its tokens leaves the tokens
// of other tests (on a shared provider) alone.
//
// Introspection answers for every registered client, and always carries the user's
// preferred_username, so an IMAP server (Dovecot's oauth2 passdb, or the demo's
// in-process server through [Server.Introspect]) can map a token to a mail login.
package oidcdev

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Fixed client identifiers. The web client's secret is random per server.
const (
	NativeClientID = "mailmover-native"
	// FaultsClientID is a public PKCE client like NativeClientID, for fault tests that
	// expire or revoke its tokens (test controls with client_id) while other tests use
	// the same provider.
	FaultsClientID = "mailmover-faults"
	WebClientID    = "mailmover-web"
	DeviceClientID = "mailmover-device"
	// ServiceClientID and ServiceClientSecret are the service user of the example
	// storage, usable with the client-credentials grant. Its tokens act for the user.
	ServiceClientID     = "sid1"
	ServiceClientSecret = "verysecret"
)

// Endpoint paths below the issuer.
const (
	PathAuth          = "/auth"
	PathToken         = "/oauth/token"
	PathDeviceAuth    = "/device_authorization"
	PathIntrospection = "/oauth/introspect"
	PathUserinfo      = "/userinfo"
)

const (
	userID = "id1"
	// DefaultUser and DefaultPassword are used when Options leaves them empty.
	DefaultUser     = "mmtest"
	DefaultPassword = "mmtest-pass"
)

// Options configure a Server.
type Options struct {
	// Addr is the loopback address to listen on, e.g. "127.0.0.1:0" (the default; port 0
	// picks a free port). Any non-loopback address is refused.
	Addr string
	// User and Password are the static user's login. User is also its
	// preferred_username, so it should be usable as an IMAP login name.
	User, Password string
	// ShowLogin pre-fills the login form and shows the credentials on the page (the
	// demo); tests leave it off and type like a person.
	ShowLogin bool
	// AccessTokenLifetime shortens the life of access tokens (0, or anything over five
	// minutes: five minutes). The announced expiry (expires_in) is the shortened one.
	AccessTokenLifetime time.Duration
	// TestControls serves the test controls as HTTP endpoints (POST
	// /test/expire-access-tokens and /test/revoke-refresh-tokens, optional ?client_id=),
	// to loopback clients only. TEST ONLY; the methods work either way.
	TestControls bool
}

// Server is a running provider. Close stops it.
type Server struct {
	issuer    string
	addr      string
	user      string
	password  string
	webSecret string
	srv       *http.Server
	stop      func() bool
	client    *http.Client
	ctl       *controls
	certs     *certClient
}

// Start listens on opts.Addr and serves the provider until Close or until ctx ends.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.User == "" {
		opts.User = DefaultUser
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("oidcdev: bad listen address %q (want 127.0.0.1:PORT): %w", opts.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("oidcdev: listen address %q is not a loopback IP; use 127.0.0.1:PORT", opts.Addr)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("oidcdev: listen on %s (is the port busy?): %w", opts.Addr, err)
	}
	s := &Server{
		addr:      ln.Addr().String(),
		user:      opts.User,
		password:  opts.Password,
		webSecret: randomHex(16),
		client:    &http.Client{Timeout: 10 * time.Second},
		ctl:       newControls(opts.AccessTokenLifetime),
		certs:     newCertClient(),
	}
	s.issuer = "http://" + s.addr

	users := &userStore{user: &storage.User{
		ID:                userID,
		Username:          opts.User,
		Password:          opts.Password,
		FirstName:         "Test",
		LastName:          "User",
		Email:             opts.User + "@example.test",
		EmailVerified:     true,
		PreferredLanguage: language.English,
	}}
	clients := map[string]*storage.Client{
		NativeClientID: storage.NativeClient(NativeClientID, "http://127.0.0.1/", "http://localhost/"),
		FaultsClientID: storage.NativeClient(FaultsClientID, "http://127.0.0.1/", "http://localhost/"),
		WebClientID:    storage.WebClient(WebClientID, s.webSecret, "http://127.0.0.1/", "http://localhost/"),
		DeviceClientID: storage.DeviceClient(DeviceClientID, ""),
	}
	st := &store{Storage: storage.NewStorageWithClients(users, clients), users: users, ctl: s.ctl}
	router := exampleop.SetupServer(s.issuer, st, nil, false)

	mux := http.NewServeMux()
	if opts.ShowLogin {
		mux.HandleFunc("GET /login/username", s.prefilledLogin)
	}
	if opts.TestControls {
		s.serveControls(mux)
		s.serveCertControl(mux)
	}
	mux.Handle("/", s.certTokenShim(router))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	s.stop = context.AfterFunc(ctx, func() { _ = s.srv.Close() })
	return s, nil
}

// Issuer is the provider's issuer URL, "http://127.0.0.1:PORT" (discovery lives at
// Issuer()+"/.well-known/openid-configuration").
func (s *Server) Issuer() string { return s.issuer }

// Addr is the host:port the provider listens on.
func (s *Server) Addr() string { return s.addr }

// AuthURL is the authorization endpoint.
func (s *Server) AuthURL() string { return s.issuer + PathAuth }

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.issuer + PathToken }

// DeviceAuthURL is the device authorization endpoint.
func (s *Server) DeviceAuthURL() string { return s.issuer + PathDeviceAuth }

// IntrospectionURL is the RFC 7662 introspection endpoint.
func (s *Server) IntrospectionURL() string { return s.issuer + PathIntrospection }

// User is the static user's login name (and preferred_username).
func (s *Server) User() string { return s.user }

// Password is the static user's password.
func (s *Server) Password() string { return s.password }

// NativeClientID is the public PKCE client; it accepts http://127.0.0.1, localhost and
// [::1] redirect URIs on any port and path.
func (s *Server) NativeClientID() string { return NativeClientID }

// WebClientID is the confidential client; see WebClientSecret.
func (s *Server) WebClientID() string { return WebClientID }

// WebClientSecret is the web client's secret (random per server).
func (s *Server) WebClientSecret() string { return s.webSecret }

// DeviceClientID is the public device-authorization client.
func (s *Server) DeviceClientID() string { return DeviceClientID }

// Close stops the server at once.
func (s *Server) Close() error {
	s.stop()
	err := s.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Introspect asks the provider's introspection endpoint about an access token and
// returns the user it was issued for. ok is false for an unknown, expired or rotated
// token (and on any error).
func (s *Server) Introspect(ctx context.Context, accessToken string) (username string, ok bool) {
	form := url.Values{"token": {accessToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.IntrospectionURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", false
	}
	req.SetBasicAuth(NativeClientID, "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", false
	}
	var r struct {
		Active            bool   `json:"active"`
		PreferredUsername string `json:"preferred_username"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || !r.Active || r.PreferredUsername == "" {
		return "", false
	}
	return r.PreferredUsername, true
}

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>Sign in — MailMover demo</title></head>
<body style="font-family: sans-serif; display: flex; align-items: center; justify-content: center; height: 100vh;">
<form method="POST" action="/login/username" style="width: 260px;">
<h3>MailMover demo sign-in</h3>
<p>Demo user <b>{{.User}}</b>, password <b>{{.Password}}</b> (already filled in).</p>
<input type="hidden" name="id" value="{{.ID}}">
<div><label for="username">Username:</label>
<input id="username" name="username" autocomplete="username" value="{{.User}}" style="width: 100%"></div>
<div><label for="password">Password:</label>
<input id="password" name="password" type="password" value="{{.Password}}" style="width: 100%"></div>
<p></p><button type="submit" autofocus>Sign in</button>
</form></body></html>`))

// prefilledLogin renders the demo's login page with the credentials filled in; the
// form posts to the example login handler.
func (s *Server) prefilledLogin(w http.ResponseWriter, r *http.Request) {
	data := struct{ ID, User, Password string }{r.URL.Query().Get("authRequestID"), s.user, s.password}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := loginPage.Execute(w, data); err != nil {
		http.Error(w, "cannot render the login page", http.StatusInternalServerError)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// userStore holds the one static user; the service user acts for it. The example's
// device flow records the login name as the subject, so that is accepted as an ID too.
type userStore struct{ user *storage.User }

func (u *userStore) GetUserByID(id string) *storage.User {
	if id == userID || id == ServiceClientID || id == u.user.Username {
		return u.user
	}
	return nil
}

func (u *userStore) GetUserByUsername(name string) *storage.User {
	if name == u.user.Username {
		return u.user
	}
	return nil
}

func (u *userStore) ExampleClientID() string { return "service" }

// store adapts the example storage: loopback redirects on any port and path for the
// native and web clients, a public device client that also gets refresh tokens, and
// introspection for every registered client.
type store struct {
	*storage.Storage
	users *userStore
	ctl   *controls
}

var allClients = []string{NativeClientID, WebClientID, DeviceClientID, ServiceClientID, FaultsClientID}

// GetClientByClientID wraps the example clients.
func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	switch id {
	case NativeClientID, WebClientID, FaultsClientID:
		return loopbackClient{Client: c}, nil
	case DeviceClientID:
		return deviceClient{Client: c}, nil
	}
	return c, nil
}

// SetIntrospectionFromToken answers for a token of any registered client (the example
// storage only answers to the client the token was issued to) and always names the user.
// A token ended by the test controls (or past a short lifetime) is inactive.
func (s *store) SetIntrospectionFromToken(ctx context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	if s.ctl.dead(tokenID) {
		return fmt.Errorf("token is expired")
	}
	var err error
	for _, id := range append([]string{clientID}, allClients...) {
		if err = s.Storage.SetIntrospectionFromToken(ctx, in, tokenID, subject, id); err == nil {
			if u := s.users.GetUserByID(subject); u != nil {
				in.PreferredUsername = u.Username
				in.Username = u.Username
			}
			return nil
		}
	}
	return err
}

// loopbackClient accepts any loopback redirect URI (any port, any path), RFC 8252 7.3.
type loopbackClient struct{ op.Client }

func (loopbackClient) RedirectURIGlobs() []string {
	return []string{"http://127.0.0.1:*/**", "http://localhost:*/**", `http://\[::1\]:*/**`,
		"http://127.0.0.1/**", "http://localhost/**", `http://\[::1\]/**`}
}

func (loopbackClient) PostLogoutRedirectURIGlobs() []string { return nil }

// deviceClient is a public device-code client that may also refresh.
type deviceClient struct{ op.Client }

func (deviceClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodNone }

func (deviceClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeNative }

func (deviceClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeDeviceCode, oidc.GrantTypeRefreshToken}
}
