package signin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// codeGrant is an authorization code: what it was issued for, and whether it was used.
type codeGrant struct {
	redirectURI string
	challenge   string
	scope       string
	login       string
	grant       string // names every token issued for this code, to end them on reuse
	used        bool
	expires     time.Time
}

// accessToken is an issued access token.
type accessToken struct {
	login   string
	grant   string
	expires time.Time
}

// refreshToken is an issued refresh token; access is the hash of the access token issued
// with it, which dies when this one is used.
type refreshToken struct {
	login   string
	scope   string
	grant   string
	access  string
	expires time.Time
}

// tokenError is an error answer of the token endpoint (RFC 6749 5.2). Descriptions are
// protocol texts for the client's log, ASCII by the RFC, so they are not translated.
type tokenError struct {
	status int
	code   string
	desc   string
}

func invalidGrant(desc string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_grant", desc}
}

func invalidRequest(desc string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_request", desc}
}

// token is the token endpoint: authorization_code and refresh_token grants for the
// public client, form-encoded, answered as JSON.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ans, terr := s.grant(w, r)
	if terr != nil {
		s.log.Info("token request refused", "error", terr.code)
		if terr.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="mailmover-demo"`) // i18n:keep (a header)
		}
		writeJSON(w, terr.status, map[string]string{"error": terr.code, "error_description": terr.desc})
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// grant checks the request and runs its grant.
func (s *Server) grant(w http.ResponseWriter, r *http.Request) (map[string]any, *tokenError) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("the body must be application/x-www-form-urlencoded") // i18n:keep (protocol text)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest("unreadable or oversized form") // i18n:keep (protocol text)
	}
	f := r.PostForm
	if !singleValued(f) {
		return nil, invalidRequest("a parameter appears more than once") // i18n:keep (protocol text)
	}
	if terr := checkClient(r, f); terr != nil {
		return nil, terr
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		return s.exchangeCode(f)
	case "refresh_token":
		return s.refreshGrant(f)
	case "":
		return nil, invalidRequest("grant_type is missing") // i18n:keep (protocol text)
	}
	return nil, &tokenError{http.StatusBadRequest, "unsupported_grant_type", "only authorization_code and refresh_token"} // i18n:keep (protocol text)
}

// checkClient accepts the public client, named by client_id in the body or as the user of
// HTTP Basic (x/oauth2 query-escapes it there), with no secret: like Microsoft, a public
// client that sends a secret is refused.
func checkClient(r *http.Request, f url.Values) *tokenError {
	id := f.Get("client_id")
	bad := &tokenError{http.StatusBadRequest, "invalid_client", "unknown client, or a secret for the public client"} // i18n:keep (protocol text)
	if u, p, ok := r.BasicAuth(); ok {
		bad.status = http.StatusUnauthorized // RFC 6749 5.2, for a client that used Basic
		u, err1 := url.QueryUnescape(u)
		p, err2 := url.QueryUnescape(p)
		if err1 != nil || err2 != nil || p != "" || (id != "" && id != u) {
			return bad
		}
		id = u
	}
	if id != ClientID || f.Get("client_secret") != "" {
		return bad
	}
	return nil
}

// exchangeCode runs the authorization_code grant (RFC 6749 4.1.3, RFC 7636 4.6). A code
// is spent by its first use, good or bad, so a verifier cannot be guessed by trying; a
// second use ends every token issued for it.
func (s *Server) exchangeCode(f url.Values) (map[string]any, *tokenError) {
	code, verifier := f.Get("code"), f.Get("code_verifier")
	if code == "" {
		return nil, invalidRequest("code is missing") // i18n:keep (protocol text)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c := s.codes[hash(code)]
	switch {
	case c == nil || !now.Before(c.expires):
		return nil, invalidGrant("unknown or expired code") // i18n:keep (protocol text)
	case c.used:
		s.endGrant(c.grant)
		s.log.Info("a code was used twice; its tokens are ended")
		return nil, invalidGrant("code already used; its tokens are revoked") // i18n:keep (protocol text)
	}
	c.used = true
	if f.Get("redirect_uri") != c.redirectURI {
		return nil, invalidGrant("redirect_uri differs from the authorization request") // i18n:keep (protocol text)
	}
	if !validVerifier(verifier) {
		return nil, invalidGrant("code_verifier missing or malformed (RFC 7636 4.1)") // i18n:keep (protocol text)
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(c.challenge)) != 1 {
		return nil, invalidGrant("code_verifier does not match the code_challenge") // i18n:keep (protocol text)
	}
	ans, terr := s.issue(now, c.login, c.scope, c.grant)
	if terr == nil {
		s.log.Info("code exchanged for tokens")
	}
	return ans, terr
}

// refreshGrant runs the refresh_token grant (RFC 6749 6) with rotation: the refresh
// token and the access token issued with it end, a new pair is issued.
func (s *Server) refreshGrant(f url.Values) (map[string]any, *tokenError) {
	rt := f.Get("refresh_token")
	if rt == "" {
		return nil, invalidRequest("refresh_token is missing") // i18n:keep (protocol text)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	key := hash(rt)
	t := s.refresh[key]
	if t == nil || !now.Before(t.expires) {
		return nil, invalidGrant("unknown, expired or already used refresh token") // i18n:keep (protocol text)
	}
	if sc := f.Get("scope"); sc != "" {
		granted := strings.Fields(t.scope)
		for _, x := range strings.Fields(sc) {
			if !slices.Contains(granted, x) {
				return nil, &tokenError{http.StatusBadRequest, "invalid_scope", "more scope than was granted"} // i18n:keep (protocol text)
			}
		}
	}
	delete(s.refresh, key)
	delete(s.access, t.access)
	ans, terr := s.issue(now, t.login, t.scope, t.grant)
	if terr == nil {
		s.log.Info("refresh token rotated")
	}
	return ans, terr
}

// issue makes a new access and refresh token; the caller holds s.mu.
func (s *Server) issue(now time.Time, login, scope, grant string) (map[string]any, *tokenError) {
	s.sweep(now)
	if len(s.access) >= maxEntries || len(s.refresh) >= maxEntries {
		return nil, &tokenError{http.StatusServiceUnavailable, "temporarily_unavailable", "too many tokens"} // i18n:keep (protocol text)
	}
	at, rt := randomToken(), randomToken()
	s.access[hash(at)] = &accessToken{login: login, grant: grant, expires: now.Add(s.accessTTL)}
	s.refresh[hash(rt)] = &refreshToken{login: login, scope: scope, grant: grant, access: hash(at), expires: now.Add(refreshLifetime)}
	ans := map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    int(s.accessTTL / time.Second),
		"refresh_token": rt,
	}
	if scope != "" {
		ans["scope"] = scope
	}
	return ans, nil
}

// endGrant ends every token issued for one code; the caller holds s.mu.
func (s *Server) endGrant(grant string) {
	for k, t := range s.access {
		if t.grant == grant {
			delete(s.access, k)
		}
	}
	for k, t := range s.refresh {
		if t.grant == grant {
			delete(s.refresh, k)
		}
	}
}
