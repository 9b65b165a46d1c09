package signin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const (
	testUser     = "demo"
	testPassword = "s3cret-pass"
	testRedirect = "http://localhost:3017/"
)

// clock is a test clock the server reads through s.now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// start runs a server for one test, with a clock the test moves and its log in logBuf.
func start(t *testing.T, opts Options) (*Server, *clock, *bytes.Buffer) {
	t.Helper()
	var logBuf bytes.Buffer
	if opts.User == "" {
		opts.User, opts.Password = testUser, testPassword
	}
	opts.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	c := &clock{t: time.Now()}
	s.now = c.now
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, c, &logBuf
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// config is the client as MailMover's auth package configures a public client.
func config(s *Server, style oauth2.AuthStyle) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    ClientID,
		RedirectURL: testRedirect,
		Scopes:      []string{"openid", "offline_access"},
		Endpoint:    oauth2.Endpoint{AuthURL: s.AuthURL(), TokenURL: s.TokenURL(), AuthStyle: style},
	}
}

// noRedirects is a client that reports redirects instead of following them: nothing
// listens on the redirect URI.
var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

var hiddenID = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]*)">`)

// page GETs u and returns the status, the body and the Location header.
func page(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// formID GETs an authorization URL and returns the login form's request ID.
func formID(t *testing.T, authURL string) string {
	t.Helper()
	status, body, loc := page(t, authURL)
	m := hiddenID.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %d, Location %q, no login form:\n%s", authURL, status, loc, body)
	}
	for _, want := range []string{`id="username"`, `id="password"`, `<button type="submit"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login form lacks %s (scripts rely on it)", want)
		}
	}
	return html.UnescapeString(m[1])
}

// post sends the login form and returns the status, the body and the Location.
func post(t *testing.T, s *Server, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := noRedirects.PostForm(s.AuthURL(), form)
	if err != nil {
		t.Fatalf("POST the login form: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// signIn fills the form with user and password and returns where the browser is sent.
func signIn(t *testing.T, s *Server, authURL, user, password string) *url.URL {
	t.Helper()
	id := formID(t, authURL)
	status, body, loc := post(t, s, url.Values{"id": {id}, "username": {user}, "password": {password}})
	if status != http.StatusSeeOther || loc == "" {
		t.Fatalf("login: %d without a redirect:\n%s", status, body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// flow signs in and exchanges the code; it returns the tokens.
func flow(t *testing.T, s *Server, cfg *oauth2.Config) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	back := signIn(t, s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), testUser, testPassword)
	tok, err := cfg.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// wantRetrieveError checks that err is the token endpoint's JSON error code with status.
func wantRetrieveError(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("%s: %v, want a %s answer", what, err, code)
	}
	if re.ErrorCode != code || re.Response.StatusCode != status {
		t.Errorf("%s: %s (%d), want %s (%d)", what, re.ErrorCode, re.Response.StatusCode, code, status)
	}
}

func TestFullFlowRotatesRefreshTokens(t *testing.T) {
	s, _, logBuf := start(t, Options{})
	ctx := context.Background()
	cfg := config(s, oauth2.AuthStyleInParams)
	verifier := oauth2.GenerateVerifier()
	state := "st4te/with spaces&odd=chars%é"
	back := signIn(t, s, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), testUser, testPassword)
	if back.Scheme+"://"+back.Host+back.Path != testRedirect {
		t.Fatalf("sent to %s, want %s", back.Redacted(), testRedirect)
	}
	if got := back.Query().Get("state"); got != state {
		t.Errorf("state came back as %q, want %q unchanged", got, state)
	}
	code := back.Query().Get("code")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("access token present %v, type %q, refresh token present %v", tok.AccessToken != "", tok.TokenType, tok.RefreshToken != "")
	}
	if left := time.Until(tok.Expiry); left < 4*time.Minute || left > 5*time.Minute+time.Second {
		t.Errorf("access token lives %s, want about 5 minutes", left)
	}
	if login, ok := s.Validate(tok.AccessToken); !ok || login != testUser {
		t.Errorf("Validate(new access token) = %q, %v", login, ok)
	}

	// Refresh: a new pair; the old refresh token and the old access token die.
	src := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken})
	tok2, err := src.Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
		t.Fatal("the refresh did not rotate both tokens")
	}
	if _, ok := s.Validate(tok.AccessToken); ok {
		t.Error("the old access token still works after the refresh")
	}
	if login, ok := s.Validate(tok2.AccessToken); !ok || login != testUser {
		t.Errorf("Validate(refreshed access token) = %q, %v", login, ok)
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	wantRetrieveError(t, "the old refresh token", err, "invalid_grant", http.StatusBadRequest)
	if _, ok := s.Validate(tok2.AccessToken); !ok {
		t.Error("presenting the old refresh token ended the new tokens")
	}
	// The new refresh token rotates again.
	tok3, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token()
	if err != nil || tok3.RefreshToken == tok2.RefreshToken {
		t.Fatalf("second refresh: %v", err)
	}

	for _, secret := range []string{code, verifier, tok.AccessToken, tok.RefreshToken, tok2.AccessToken,
		tok2.RefreshToken, tok3.AccessToken, testPassword} {
		if strings.Contains(logBuf.String(), secret) {
			t.Errorf("a secret appears in the log:\n%s", logBuf.String())
		}
	}
	if !strings.Contains(logBuf.String(), "refresh token rotated") {
		t.Errorf("the log does not say what happened:\n%s", logBuf.String())
	}
}

func TestTokenAnswerIsRFC6749JSON(t *testing.T) {
	s, _, _ := start(t, Options{})
	cfg := config(s, oauth2.AuthStyleInParams)
	verifier := oauth2.GenerateVerifier()
	back := signIn(t, s, cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(verifier)), testUser, testPassword)
	resp, err := http.PostForm(s.TokenURL(), url.Values{"grant_type": {"authorization_code"}, "client_id": {ClientID},
		"code": {back.Query().Get("code")}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("status %s, headers %v", resp.Status, resp.Header)
	}
	if ans["token_type"] != "Bearer" || ans["expires_in"] != float64(300) || ans["access_token"] == "" || ans["refresh_token"] == "" {
		t.Errorf("answer %v", ans)
	}
}

func TestBasicAuthClientAndShortLifetime(t *testing.T) {
	s, c, _ := start(t, Options{AccessTokenLifetime: 30 * time.Second})
	tok := flow(t, s, config(s, oauth2.AuthStyleInHeader))
	if _, ok := s.Validate(tok.AccessToken); !ok {
		t.Fatal("the access token does not validate")
	}
	c.advance(31 * time.Second)
	if _, ok := s.Validate(tok.AccessToken); ok {
		t.Error("the access token still validates after its 30 seconds")
	}
	if _, ok := s.Validate("not-a-token"); ok {
		t.Error("an unknown token validates")
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	s, _, _ := start(t, Options{})
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	good := url.Values{"client_id": {ClientID}, "response_type": {"code"}, "redirect_uri": {testRedirect},
		"state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	dup := with("state", "st")
	dup.Add("state", "other")

	// Errors the client hears about: back to the redirect URI, with the state.
	for _, c := range []struct {
		name string
		q    url.Values
		code string
	}{
		{"no PKCE", with("code_challenge", ""), "invalid_request"},
		{"plain PKCE", with("code_challenge_method", "plain"), "invalid_request"},
		{"no PKCE method", with("code_challenge_method", ""), "invalid_request"},
		{"short challenge", with("code_challenge", "abc"), "invalid_request"},
		{"implicit grant", with("response_type", "token"), "unsupported_response_type"},
		{"huge state", with("state", strings.Repeat("s", 3000)), "invalid_request"},
	} {
		status, _, loc := page(t, s.AuthURL()+"?"+c.q.Encode())
		u, _ := url.Parse(loc)
		if status != http.StatusSeeOther || u == nil || !strings.HasPrefix(loc, testRedirect) {
			t.Errorf("%s: %d to %q, want a redirect to the client", c.name, status, loc)
			continue
		}
		if u.Query().Get("error") != c.code || u.Query().Get("code") != "" {
			t.Errorf("%s: sent back %q, want error=%s and no code", c.name, loc, c.code)
		}
		if c.name != "huge state" && u.Query().Get("state") != "st" {
			t.Errorf("%s: state %q not passed back", c.name, u.Query().Get("state"))
		}
	}

	// Errors where the browser must not be sent anywhere: an error page, no Location.
	for _, c := range []struct{ name, key, value string }{
		{"wrong client", "client_id", "someone-else"},
		{"no client", "client_id", ""},
		{"no redirect", "redirect_uri", ""},
		{"remote host", "redirect_uri", "http://example.com:3017/"},
		{"https", "redirect_uri", "https://localhost:3017/"},
		{"other loopback", "redirect_uri", "http://127.0.0.2:3017/"},
		{"mapped v4", "redirect_uri", "http://[::ffff:127.0.0.1]:3017/"},
		{"user info", "redirect_uri", "http://evil@localhost:3017/"},
		{"fragment", "redirect_uri", "http://localhost:3017/#x"},
		{"host lookalike", "redirect_uri", "http://localhost.example.com/"},
		{"port zero", "redirect_uri", "http://localhost:0/"},
	} {
		status, body, loc := page(t, s.AuthURL()+"?"+with(c.key, c.value).Encode())
		if status != http.StatusBadRequest || loc != "" || !strings.Contains(body, `style="color:red"`) {
			t.Errorf("%s: %d, Location %q, want an error page:\n%s", c.name, status, loc, body)
		}
	}
	if status, _, loc := page(t, s.AuthURL()+"?"+dup.Encode()); status != http.StatusBadRequest || loc != "" {
		t.Errorf("a parameter twice: %d, Location %q", status, loc)
	}

	// Every loopback spelling the listener serves, on any port and path, is fine.
	for _, r := range []string{"http://127.0.0.1:49152/", "http://[::1]:8080/cb", "http://localhost/", "http://LOCALHOST:1/x?y=1"} {
		formID(t, s.AuthURL()+"?"+with("redirect_uri", r).Encode())
	}
}

func TestPagesEscapeWhatTheRequestSays(t *testing.T) {
	s, _, _ := start(t, Options{})
	status, body, _ := page(t, s.AuthURL()+"?client_id="+url.QueryEscape(`<script>alert(1)</script>`))
	if status != http.StatusBadRequest || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("the client_id is not escaped on the error page:\n%s", body)
	}
	cfg := config(s, oauth2.AuthStyleInParams)
	id := formID(t, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	_, body, _ = post(t, s, url.Values{"id": {id}, "username": {`"><img src=x onerror=alert(1)>`}, "password": {"x"}})
	if strings.Contains(body, "<img") {
		t.Errorf("the typed user name is not escaped:\n%s", body)
	}
}

func TestWrongPasswordShowsTheFormAgain(t *testing.T) {
	s, _, _ := start(t, Options{})
	cfg := config(s, oauth2.AuthStyleInParams)
	verifier := oauth2.GenerateVerifier()
	id := formID(t, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	for _, c := range []struct{ user, password string }{{testUser, "wrong"}, {"other", testPassword}, {"", ""}} {
		status, body, loc := post(t, s, url.Values{"id": {id}, "username": {c.user}, "password": {c.password}})
		if status != http.StatusOK || loc != "" || !strings.Contains(body, "Wrong user name or password") ||
			!strings.Contains(body, `name="id" value="`+id+`"`) {
			t.Fatalf("wrong login %q: %d, Location %q:\n%s", c.user, status, loc, body)
		}
		if strings.Contains(body, testPassword) {
			t.Error("the page shows the password although the server does not show credentials")
		}
	}
	// The same form then takes the right password.
	status, _, loc := post(t, s, url.Values{"id": {id}, "username": {testUser}, "password": {testPassword}})
	u, _ := url.Parse(loc)
	if status != http.StatusSeeOther || u == nil || u.Query().Get("code") == "" || u.Query().Get("state") != "st" {
		t.Fatalf("right login after wrong ones: %d, %q", status, loc)
	}
	// A form is good for one sign-in only.
	if status, _, loc := post(t, s, url.Values{"id": {id}, "username": {testUser}, "password": {testPassword}}); status != http.StatusBadRequest || loc != "" {
		t.Errorf("the form was taken twice: %d, %q", status, loc)
	}

	// Five wrong passwords end the request.
	id = formID(t, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	for i := range maxFailures {
		status, _, _ = post(t, s, url.Values{"id": {id}, "username": {testUser}, "password": {"nope"}})
		if want := http.StatusOK; i == maxFailures-1 {
			if status != http.StatusBadRequest {
				t.Errorf("wrong password %d: %d, want the request ended", i+1, status)
			}
		} else if status != want {
			t.Errorf("wrong password %d: %d", i+1, status)
		}
	}
	if status, _, _ := post(t, s, url.Values{"id": {id}, "username": {testUser}, "password": {testPassword}}); status != http.StatusBadRequest {
		t.Errorf("the right password after too many wrong ones: %d, want refused", status)
	}
}

func TestCancelSendsAccessDenied(t *testing.T) {
	s, _, _ := start(t, Options{})
	cfg := config(s, oauth2.AuthStyleInParams)
	id := formID(t, cfg.AuthCodeURL("st-cancel", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	status, _, loc := post(t, s, url.Values{"id": {id}, "cancel": {"Cancel"}, "username": {testUser}, "password": {testPassword}})
	u, _ := url.Parse(loc)
	if status != http.StatusSeeOther || u == nil || u.Query().Get("error") != "access_denied" ||
		u.Query().Get("state") != "st-cancel" || u.Query().Get("code") != "" {
		t.Errorf("cancel: %d to %q, want error=access_denied with the state and no code", status, loc)
	}
}

func TestTokenRefusals(t *testing.T) {
	s, c, _ := start(t, Options{})
	ctx := context.Background()
	cfg := config(s, oauth2.AuthStyleInParams)
	// code signs in and returns a fresh code and its verifier.
	code := func() (string, string) {
		v := oauth2.GenerateVerifier()
		return signIn(t, s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)), testUser, testPassword).Query().Get("code"), v
	}

	// A wrong verifier is refused, and spends the code: the right one is refused after it.
	cd, v := code()
	_, err := cfg.Exchange(ctx, cd, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantRetrieveError(t, "wrong verifier", err, "invalid_grant", http.StatusBadRequest)
	_, err = cfg.Exchange(ctx, cd, oauth2.VerifierOption(v))
	wantRetrieveError(t, "right verifier after a wrong one", err, "invalid_grant", http.StatusBadRequest)

	// No verifier, a plain one (the challenge itself), one of bad characters.
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"no verifier":    nil,
		"plain verifier": {oauth2.SetAuthURLParam("code_verifier", oauth2.S256ChallengeFromVerifier(v))},
		"bad verifier":   {oauth2.VerifierOption(strings.Repeat("ä", 30))},
	} {
		cd, _ := code()
		_, err := cfg.Exchange(ctx, cd, opts...)
		wantRetrieveError(t, name, err, "invalid_grant", http.StatusBadRequest)
	}

	// A code used twice: refused, and the tokens of its first use end.
	cd, v = code()
	tok, err := cfg.Exchange(ctx, cd, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Exchange(ctx, cd, oauth2.VerifierOption(v))
	wantRetrieveError(t, "reused code", err, "invalid_grant", http.StatusBadRequest)
	if _, ok := s.Validate(tok.AccessToken); ok {
		t.Error("the access token of a reused code still works")
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	wantRetrieveError(t, "refresh token of a reused code", err, "invalid_grant", http.StatusBadRequest)

	// Another redirect URI than in the authorization request.
	cd, v = code()
	other := *cfg
	other.RedirectURL = "http://localhost:3018/"
	_, err = other.Exchange(ctx, cd, oauth2.VerifierOption(v))
	wantRetrieveError(t, "other redirect_uri", err, "invalid_grant", http.StatusBadRequest)

	// An expired code.
	cd, v = code()
	c.advance(codeLifetime + time.Second)
	_, err = cfg.Exchange(ctx, cd, oauth2.VerifierOption(v))
	wantRetrieveError(t, "expired code", err, "invalid_grant", http.StatusBadRequest)

	// Another client, a secret for the public client (in the body and as Basic).
	for name, cl := range map[string]*oauth2.Config{
		"wrong client":         {ClientID: "someone-else", RedirectURL: testRedirect, Endpoint: cfg.Endpoint},
		"secret in the body":   {ClientID: ClientID, ClientSecret: "x", RedirectURL: testRedirect, Endpoint: cfg.Endpoint},
		"secret in Basic auth": {ClientID: ClientID, ClientSecret: "x", RedirectURL: testRedirect, Endpoint: oauth2.Endpoint{TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}},
	} {
		cd, v := code()
		_, err := cl.Exchange(ctx, cd, oauth2.VerifierOption(v))
		status := http.StatusBadRequest
		if cl.Endpoint.AuthStyle == oauth2.AuthStyleInHeader {
			status = http.StatusUnauthorized
		}
		wantRetrieveError(t, name, err, "invalid_client", status)
	}
	// A made-up code and a made-up refresh token.
	_, err = cfg.Exchange(ctx, "made-up", oauth2.VerifierOption(v))
	wantRetrieveError(t, "made-up code", err, "invalid_grant", http.StatusBadRequest)
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: "made-up"}).Token()
	wantRetrieveError(t, "made-up refresh token", err, "invalid_grant", http.StatusBadRequest)

	// Other grants, other bodies.
	for _, c := range []struct {
		name, ctype, body, code string
	}{
		{"password grant", "application/x-www-form-urlencoded", "grant_type=password&client_id=" + ClientID, "unsupported_grant_type"},
		{"no grant", "application/x-www-form-urlencoded", "client_id=" + ClientID, "invalid_request"},
		{"JSON body", "application/json", `{"grant_type":"refresh_token"}`, "invalid_request"},
		{"parameter twice", "application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=" + ClientID, "invalid_request"},
		{"oversized", "application/x-www-form-urlencoded", "client_id=" + ClientID + "&grant_type=refresh_token&refresh_token=" + strings.Repeat("a", maxFormBytes), "invalid_request"},
	} {
		resp, err := http.Post(s.TokenURL(), c.ctype, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		var ans map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || ans["error"] != c.code {
			t.Errorf("%s: %s %v, want 400 %s", c.name, resp.Status, ans, c.code)
		}
	}
	if resp, err := http.Get(s.TokenURL()); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /token: %v %v, want 405", resp.Status, err)
	}
}

func TestShowCredentialsFillsTheForm(t *testing.T) {
	s, _, _ := start(t, Options{User: "demo", Password: "demo", ShowCredentials: true})
	cfg := config(s, oauth2.AuthStyleInParams)
	_, body, _ := page(t, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	for _, want := range []string{"Demo user demo, password demo", `id="username" name="username" autocomplete="username" value="demo"`,
		`type="password" autocomplete="current-password" value="demo"`, `<html lang="en">`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
}

func TestMetadata(t *testing.T) {
	s, _, _ := start(t, Options{})
	resp, err := http.Get(s.Issuer() + PathMetadata)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %v", resp.Status, err)
	}
	if m["issuer"] != s.Issuer() || m["token_endpoint"] != s.TokenURL() || m["authorization_endpoint"] != s.AuthURL() {
		t.Errorf("metadata %v", m)
	}
}

func TestListensOnLoopbackOnly(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:0", "localhost:0", "127.0.0.1"} {
		s, err := Start(context.Background(), Options{Addr: addr, User: "u", Password: "p"})
		if err == nil {
			s.Close()
			t.Errorf("Start on %q succeeded", addr)
		} else if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Start on %q: %v, want ErrNotLoopback", addr, err)
		}
	}
	if _, err := Start(context.Background(), Options{User: "u"}); err == nil {
		t.Error("Start without a password succeeded")
	}
	s, _, _ := start(t, Options{})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("listens on %s", s.Addr())
	}
	if h := s.srv; h.ReadHeaderTimeout == 0 || h.ReadTimeout == 0 || h.WriteTimeout == 0 || h.IdleTimeout == 0 {
		t.Error("a server timeout is unbounded")
	}
}

func TestStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Options{User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := &http.Client{Timeout: time.Second}
		if _, err := c.Get(s.Issuer() + PathMetadata); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still serving 5s after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
}
