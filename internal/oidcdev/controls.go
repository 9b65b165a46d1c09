package oidcdev

// Test controls: make the provider's tokens fail before their time, for fault tests
// (bench's fault suite). They are methods on *Server and, when Options.TestControls is
// set (cmd/mm-testprovider sets it unless -test-controls=false), HTTP endpoints that only
// answer to loopback clients:
//
//	POST /test/expire-access-tokens[?client_id=ID]  → {"expired": N}
//	POST /test/revoke-refresh-tokens[?client_id=ID] → {"revoked": N}
//
// TEST ONLY: a real provider has nothing like them.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Paths of the test controls below the issuer (TEST ONLY; see Options.TestControls).
const (
	PathTestExpireAccessTokens = "/test/expire-access-tokens"
	PathTestRevokeRefresh      = "/test/revoke-refresh-tokens"
)

// controls is the bookkeeping behind the test controls: every access token issued (with
// the client it was issued to and when it stops being accepted) and every live refresh
// token, plus the refresh tokens revoked.
type controls struct {
	mu       sync.Mutex
	lifetime time.Duration // 0: the storage's own (five minutes)
	access   map[string]accessEntry
	refresh  map[string]string // live refresh token → client
	revoked  map[string]bool
	now      func() time.Time
}

type accessEntry struct {
	client   string
	notAfter time.Time // introspection and userinfo refuse it from then on
	forget   time.Time // the storage's own expiry: the entry can go after it
}

func newControls(lifetime time.Duration) *controls {
	return &controls{lifetime: lifetime, access: map[string]accessEntry{}, refresh: map[string]string{},
		revoked: map[string]bool{}, now: time.Now}
}

// issued records an access token and returns the expiry to announce.
func (c *controls) issued(id, client string, exp time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, e := range c.access {
		if now.After(e.forget) {
			delete(c.access, k)
		}
	}
	e := accessEntry{client: client, notAfter: exp, forget: exp}
	if c.lifetime > 0 {
		if short := now.Add(c.lifetime); short.Before(exp) {
			e.notAfter = short
		}
	}
	c.access[id] = e
	return e.notAfter
}

// refreshed records a new refresh token (replacing the one it was rotated from).
func (c *controls) refreshed(old, rt, client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old != "" {
		delete(c.refresh, old)
	}
	if rt != "" {
		c.refresh[rt] = client
	}
}

// dead reports whether the access token with this ID must be refused before the storage
// would: made invalid by ExpireAccessTokens, or past a short lifetime.
func (c *controls) dead(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.access[id]
	return ok && !c.now().Before(e.notAfter)
}

func (c *controls) isRevoked(rt string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked[rt]
}

func (c *controls) expireAccess(client string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, n := c.now(), 0
	for id, e := range c.access {
		if (client == "" || e.client == client) && now.Before(e.notAfter) {
			e.notAfter = now
			c.access[id] = e
			n++
		}
	}
	return n
}

func (c *controls) revokeRefresh(client string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for rt, cl := range c.refresh {
		if client == "" || cl == client {
			delete(c.refresh, rt)
			c.revoked[rt] = true
			n++
		}
	}
	return n
}

// ExpireAccessTokens makes every access token issued so far (only those of clientID,
// unless it is "") invalid now, before its announced expiry: introspection then says
// inactive and userinfo refuses it, while the client still believes it valid. Refresh
// tokens keep working. It returns how many tokens it ended. TEST ONLY.
func (s *Server) ExpireAccessTokens(clientID string) int { return s.ctl.expireAccess(clientID) }

// RevokeRefreshTokens revokes every live refresh token (only those of clientID, unless it
// is ""): refreshing with one then fails with invalid_grant, so the user must sign in
// again. Access tokens are left alone (see ExpireAccessTokens). It returns how many
// refresh tokens it revoked. TEST ONLY.
func (s *Server) RevokeRefreshTokens(clientID string) int { return s.ctl.revokeRefresh(clientID) }

// serveControls adds the HTTP test controls to mux.
func (s *Server) serveControls(mux *http.ServeMux) {
	handle := func(path, key string, f func(string) int) {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				http.Error(w, "test controls answer to loopback clients only", http.StatusForbidden)
				return
			}
			n := f(r.URL.Query().Get("client_id"))
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]int{key: n})
		})
	}
	handle(PathTestExpireAccessTokens, "expired", s.ExpireAccessTokens)
	handle(PathTestRevokeRefresh, "revoked", s.RevokeRefreshTokens)
}

// ExpireAccessTokensAt calls the test control of the provider at issuer (a separate
// mm-testprovider): see Server.ExpireAccessTokens. TEST ONLY.
func ExpireAccessTokensAt(ctx context.Context, issuer, clientID string) (int, error) {
	return callControl(ctx, issuer, PathTestExpireAccessTokens, "expired", clientID)
}

// RevokeRefreshTokensAt calls the test control of the provider at issuer: see
// Server.RevokeRefreshTokens. TEST ONLY.
func RevokeRefreshTokensAt(ctx context.Context, issuer, clientID string) (int, error) {
	return callControl(ctx, issuer, PathTestRevokeRefresh, "revoked", clientID)
}

func callControl(ctx context.Context, issuer, path, key, clientID string) (int, error) {
	u := strings.TrimRight(issuer, "/") + path
	if clientID != "" {
		u += "?client_id=" + url.QueryEscape(clientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return 0, fmt.Errorf("oidcdev: %w", err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("oidcdev: test control %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("oidcdev: test control %s answered %s: %s (is the provider started with its test controls?)",
			path, resp.Status, strings.TrimSpace(string(body)))
	}
	var out map[string]int
	if err := json.Unmarshal(body, &out); err != nil {
		return 0, fmt.Errorf("oidcdev: test control %s: %w", path, err)
	}
	return out[key], nil
}

// clientOf names the client a token request is for.
func clientOf(req op.TokenRequest) string {
	switch r := req.(type) {
	case *storage.AuthRequest:
		return r.ApplicationID
	case *storage.RefreshTokenRequest:
		return r.ApplicationID
	case interface{ GetClientID() string }:
		return r.GetClientID()
	}
	if aud := req.GetAudience(); len(aud) > 0 {
		return aud[0]
	}
	return ""
}

// The store methods below feed and apply the controls.

// CreateAccessToken records the token (client-credentials and similar grants).
func (s *store) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, exp, err := s.Storage.CreateAccessToken(ctx, req)
	if err != nil {
		return id, exp, err
	}
	return id, s.ctl.issued(id, clientOf(req), exp), nil
}

// CreateAccessAndRefreshTokens records both tokens (code flow, device flow, refresh).
func (s *store) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	id, rt, exp, err := s.Storage.CreateAccessAndRefreshTokens(ctx, req, current)
	if err != nil {
		return id, rt, exp, err
	}
	client := clientOf(req)
	s.ctl.refreshed(current, rt, client)
	return id, rt, s.ctl.issued(id, client, exp), nil
}

// TokenRequestByRefreshToken refuses a revoked refresh token (op answers invalid_grant).
func (s *store) TokenRequestByRefreshToken(ctx context.Context, rt string) (op.RefreshTokenRequest, error) {
	if s.ctl.isRevoked(rt) {
		return nil, fmt.Errorf("refresh token revoked")
	}
	return s.Storage.TokenRequestByRefreshToken(ctx, rt)
}

// SetUserinfoFromToken refuses an access token ended early.
func (s *store) SetUserinfoFromToken(ctx context.Context, userinfo *oidc.UserInfo, tokenID, subject, origin string) error {
	if s.ctl.dead(tokenID) {
		return fmt.Errorf("token is expired")
	}
	return s.Storage.SetUserinfoFromToken(ctx, userinfo, tokenID, subject, origin)
}
