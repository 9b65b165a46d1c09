package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// fakeProvider is an OAuth2 provider on an httptest server, strict where the real ones
// are: it checks redirect_uri at both endpoints, PKCE S256, the client secret, and
// rotates refresh tokens (the old one dies at once).
type fakeProvider struct {
	t   *testing.T
	srv *httptest.Server

	mu             sync.Mutex
	clientID       string
	secret         string // required when set
	codes          map[string]codeGrant
	refresh        map[string]bool // live refresh tokens
	rotate         bool
	noRefresh      bool
	expiresIn      int
	seq            int
	exchangeCalls  int
	refreshCalls   int
	ccCalls        int
	refreshDelay   time.Duration
	authError      url.Values // /authorize redirects with these instead of a code
	tokenError     string     // /token answers this error code (400)
	tokenErrDesc   string
	lastForm       url.Values
	lastBasic      bool
	device         []string // answers for successive device polls: "pending", "slow_down", "ok", "access_denied", "expired_token"
	deviceInterval int
}

type codeGrant struct {
	challenge, method, redirect, clientID string
}

func newFakeProvider(t *testing.T) *fakeProvider {
	t.Helper()
	p := &fakeProvider{t: t, clientID: "client-1", codes: map[string]codeGrant{}, refresh: map[string]bool{}, rotate: true, expiresIn: 3600, deviceInterval: 1}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", p.authorize)
	mux.HandleFunc("/token", p.token)
	mux.HandleFunc("/device", p.deviceAuth)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeProvider) next(prefix string) string {
	p.seq++
	return fmt.Sprintf("%s-%d-%d", prefix, p.seq, time.Now().UnixNano())
}

// config returns a Config pointing at the fake provider.
func (p *fakeProvider) config(redirect string) Config {
	return Config{
		Preset: "custom", Flow: "authcode", ClientID: p.clientID,
		AuthURL: p.srv.URL + "/authorize", TokenURL: p.srv.URL + "/token", DeviceURL: p.srv.URL + "/device",
		Scopes: []string{"imap", "offline_access"}, RedirectURI: redirect,
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

// addRefresh registers a live refresh token.
func (p *fakeProvider) addRefresh(rt string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refresh[rt] = true
}

func (p *fakeProvider) counts() (exchange, refresh, cc int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchangeCalls, p.refreshCalls, p.ccCalls
}

func (p *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	if q.Get("client_id") != p.clientID || q.Get("response_type") != "code" {
		http.Error(w, "bad client or response_type", http.StatusBadRequest)
		return
	}
	red := q.Get("redirect_uri")
	target, err := url.Parse(red)
	if err != nil || red == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := url.Values{"state": {q.Get("state")}}
	if p.authError != nil {
		for k, vs := range p.authError {
			v[k] = vs
		}
	} else {
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 {
			http.Error(w, "PKCE S256 required", http.StatusBadRequest)
			return
		}
		code := p.next("code")
		p.codes[code] = codeGrant{challenge: q.Get("code_challenge"), method: "S256", redirect: red, clientID: q.Get("client_id")}
		v.Set("code", code)
	}
	target.RawQuery = v.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (p *fakeProvider) writeToken(w http.ResponseWriter, withRefresh bool) {
	body := map[string]any{"access_token": p.next("at"), "token_type": "Bearer", "expires_in": p.expiresIn}
	if withRefresh && !p.noRefresh {
		rt := p.next("rt")
		p.refresh[rt] = true
		body["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (p *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", "bad form")
		return
	}
	delay := func() time.Duration { p.mu.Lock(); defer p.mu.Unlock(); return p.refreshDelay }()
	if r.PostForm.Get("grant_type") == "refresh_token" && delay > 0 {
		time.Sleep(delay) // widen the window for the concurrency test
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := r.PostForm
	p.lastForm = f
	id, sec, basic := r.BasicAuth()
	p.lastBasic = basic
	if !basic {
		id, sec = f.Get("client_id"), f.Get("client_secret")
	} else {
		id, _ = url.QueryUnescape(id)
		sec, _ = url.QueryUnescape(sec)
	}
	if id != p.clientID {
		oauthError(w, 401, "invalid_client", "unknown client")
		return
	}
	if p.secret != "" && sec != p.secret {
		oauthError(w, 401, "invalid_client", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	if p.secret == "" && sec != "" {
		oauthError(w, 401, "invalid_client", "AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		return
	}
	if p.tokenError != "" {
		oauthError(w, 400, p.tokenError, p.tokenErrDesc)
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		p.exchangeCalls++
		g, ok := p.codes[f.Get("code")]
		delete(p.codes, f.Get("code")) // one use
		if !ok {
			oauthError(w, 400, "invalid_grant", "unknown or used code")
			return
		}
		if f.Get("redirect_uri") != g.redirect {
			oauthError(w, 400, "invalid_grant", "redirect_uri differs from the authorize request")
			return
		}
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			oauthError(w, 400, "invalid_grant", "PKCE verification failed")
			return
		}
		p.writeToken(w, true)
	case "refresh_token":
		p.refreshCalls++
		rt := f.Get("refresh_token")
		if !p.refresh[rt] {
			oauthError(w, 400, "invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.")
			return
		}
		if p.rotate {
			delete(p.refresh, rt)
			p.writeToken(w, true)
			return
		}
		p.writeToken(w, false)
	case "client_credentials":
		p.ccCalls++
		p.writeToken(w, false)
	case "urn:ietf:params:oauth:grant-type:device_code":
		if f.Get("device_code") != "dev-code" {
			oauthError(w, 400, "invalid_grant", "unknown device code")
			return
		}
		ans := "ok"
		if len(p.device) > 0 {
			ans, p.device = p.device[0], p.device[1:]
		}
		switch ans {
		case "ok":
			p.writeToken(w, true)
		case "pending":
			oauthError(w, 400, "authorization_pending", "")
		default:
			oauthError(w, 400, ans, "device says "+ans)
		}
	default:
		oauthError(w, 400, "unsupported_grant_type", f.Get("grant_type"))
	}
}

func (p *fakeProvider) deviceAuth(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if r.PostForm.Get("client_id") != p.clientID {
		oauthError(w, 400, "invalid_client", "unknown client")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"device_code": "dev-code", "user_code": "WDJB-MJHT", "verification_uri": p.srv.URL + "/activate",
		"expires_in": 600, "interval": p.deviceInterval,
	})
}
