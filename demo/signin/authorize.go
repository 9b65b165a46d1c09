package signin

import (
	"crypto/sha256"
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// authRequest is an authorization request whose login form is waiting to be sent.
type authRequest struct {
	redirectURI string
	challenge   string // S256 code challenge
	state       string
	scope       string
	failures    int
	expires     time.Time
}

// authorizePage checks an authorization request (RFC 6749 4.1.1, RFC 7636 4.3) and shows
// the login form. A bad client or redirect URI gets an error page: the browser must not
// be sent to an address we cannot vouch for (RFC 6749 4.1.2.1). Every other error goes
// back to the redirect URI with the state.
func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !singleValued(q) {
		s.errorPage(w, i18n.T("The sign-in request names a parameter more than once."))
		return
	}
	if q.Get("client_id") != ClientID {
		s.errorPage(w, i18n.Sprintf("The sign-in request is for a client this server does not know (client_id %q).", q.Get("client_id")))
		return
	}
	redirect, ok := loopbackRedirect(q.Get("redirect_uri"))
	if !ok {
		s.errorPage(w, i18n.T("The sign-in request's redirect_uri is missing or not an http address on 127.0.0.1, localhost or [::1] (RFC 8252)."))
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) { s.redirectError(w, r, redirect, state, code, desc) }
	switch {
	case len(state) > maxParamLen || len(q.Get("scope")) > maxParamLen:
		fail("invalid_request", "state or scope too long") // i18n:keep (protocol text, ASCII by RFC 6749)
		return
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code") // i18n:keep (protocol text)
		return
	case q.Get("code_challenge_method") != "S256" || !validChallenge(q.Get("code_challenge")):
		fail("invalid_request", "PKCE is required: code_challenge with code_challenge_method S256") // i18n:keep (protocol text)
		return
	}

	id := randomToken()
	s.mu.Lock()
	now := s.now()
	s.sweep(now)
	full := len(s.requests) >= maxEntries
	if !full {
		s.requests[id] = &authRequest{redirectURI: redirect.String(), challenge: q.Get("code_challenge"),
			state: state, scope: q.Get("scope"), expires: now.Add(requestLifetime)}
	}
	s.mu.Unlock()
	if full {
		fail("temporarily_unavailable", "too many sign-ins waiting") // i18n:keep (protocol text)
		return
	}
	s.log.Info("sign-in form shown")
	s.loginForm(w, id, "", "")
}

// authorizeLogin takes the login form: the right user and password send the browser to
// the redirect URI with a code and the state; a wrong one shows the form again; Cancel
// sends error=access_denied.
func (s *Server) authorizeLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !singleValued(r.PostForm) {
		s.errorPage(w, i18n.T("The login form arrived incomplete; start the sign-in again in MailMover."))
		return
	}
	id, user, password := r.PostForm.Get("id"), r.PostForm.Get("username"), r.PostForm.Get("password")
	s.mu.Lock()
	now := s.now()
	req := s.requests[id]
	if req == nil || !now.Before(req.expires) {
		delete(s.requests, id)
		s.mu.Unlock()
		s.errorPage(w, i18n.T("This sign-in request has expired or is unknown; start the sign-in again in MailMover."))
		return
	}
	redirect, _ := url.Parse(req.redirectURI) // checked by authorizePage
	if r.PostForm.Has("cancel") {
		delete(s.requests, id)
		s.mu.Unlock()
		s.log.Info("sign-in cancelled")
		s.redirectError(w, r, redirect, req.state, "access_denied", "the user cancelled the sign-in") // i18n:keep (protocol text)
		return
	}
	if !s.credentialsMatch(user, password) {
		req.failures++
		failures := req.failures
		tooMany := failures >= maxFailures
		if tooMany {
			delete(s.requests, id)
		}
		s.mu.Unlock()
		s.log.Info("sign-in refused: wrong user or password", "failures", failures)
		if tooMany {
			s.errorPage(w, i18n.T("Too many wrong passwords; start the sign-in again in MailMover."))
			return
		}
		s.loginForm(w, id, user, i18n.T("Wrong user name or password."))
		return
	}
	delete(s.requests, id)
	code := randomToken()
	s.sweep(now)
	full := len(s.codes) >= maxEntries
	if !full {
		s.codes[hash(code)] = &codeGrant{redirectURI: req.redirectURI, challenge: req.challenge, scope: req.scope,
			login: s.user, grant: randomToken(), expires: now.Add(codeLifetime)}
	}
	s.mu.Unlock()
	if full {
		s.redirectError(w, r, redirect, req.state, "temporarily_unavailable", "too many codes waiting") // i18n:keep (protocol text)
		return
	}
	s.log.Info("signed in; code issued")
	q := redirect.Query()
	q.Set("code", code)
	q.Set("state", req.state)
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
}

// credentialsMatch compares in constant time (hashes, so the lengths leak nothing).
func (s *Server) credentialsMatch(user, password string) bool {
	hu, wu := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(s.user))
	hp, wp := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(s.password))
	return subtle.ConstantTimeCompare(hu[:], wu[:])&subtle.ConstantTimeCompare(hp[:], wp[:]) == 1
}

// redirectError sends the browser back to the client with an OAuth2 error and the state
// (RFC 6749 4.1.2.1).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirect *url.URL, state, code, desc string) {
	s.log.Info("sign-in request refused", "error", code)
	u := *redirect
	q := u.Query()
	q.Set("error", code)
	q.Set("error_description", desc)
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// loopbackRedirect parses a redirect URI a native client may use (RFC 8252 7.3): http on
// a loopback host the sign-in listener serves (store.RedirectHost: 127.0.0.1, localhost,
// [::1]), any port and path, no user info, no fragment.
func loopbackRedirect(raw string) (*url.URL, bool) {
	if raw == "" || len(raw) > maxParamLen {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Opaque != "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, false
	}
	if _, ok := store.RedirectHost(u.Hostname()); !ok {
		return nil, false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, false
		}
	}
	return u, true
}

// validChallenge: an S256 challenge is BASE64URL(SHA256(verifier)), 43 characters.
func validChallenge(c string) bool {
	return len(c) == 43 && strings.Trim(c, base64URLChars) == ""
}

// validVerifier: 43 to 128 unreserved characters (RFC 7636 4.1).
func validVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && strings.Trim(v, base64URLChars+".~") == ""
}

const base64URLChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// singleValued: no parameter may appear twice (RFC 6749 3.1, 3.2).
func singleValued(v url.Values) bool {
	for _, vs := range v {
		if len(vs) > 1 {
			return false
		}
	}
	return true
}

// setPageHeaders forbids caching, framing, scripts and referrers on our pages.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8") // i18n:keep (a header)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
}

// loginForm shows the login form for request id, with user filled in (or the demo's
// login when the server shows it) and an error line when errText is not empty.
func (s *Server) loginForm(w http.ResponseWriter, id, user, errText string) {
	data := map[string]string{
		"Lang": i18n.Lang(), "Title": i18n.T("Sign in — MailMover demo"), "Heading": i18n.T("MailMover demo sign-in"),
		"UserLabel": i18n.T("User name:"), "PasswordLabel": i18n.T("Password:"),
		"SignIn": i18n.T("Sign in"), "Cancel": i18n.T("Cancel"), "ID": id, "User": user, "Error": errText,
	}
	if s.show {
		data["Hint"] = i18n.Sprintf("Demo user %s, password %s (already filled in).", s.user, s.password)
		if user == "" {
			data["User"] = s.user
		}
		if errText == "" {
			data["Password"] = s.password
		}
	}
	setPageHeaders(w)
	_ = loginPage.Execute(w, data)
}

// errorPage shows why a sign-in request cannot go on (status 400).
func (s *Server) errorPage(w http.ResponseWriter, text string) {
	s.log.Info("sign-in request refused with an error page")
	setPageHeaders(w)
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, map[string]string{
		"Lang": i18n.Lang(), "Title": i18n.T("Sign-in error — MailMover demo"), "Heading": i18n.T("MailMover demo sign-in"), "Error": text,
	})
}

// The pages. The form keeps what scripts and tests rely on: #username, #password, one
// button[type=submit] (Cancel is an input), a hidden "id", and errors in
// <p style="color:red">.
var (
	loginPage = template.Must(template.New("login").Parse(pageHead + /* i18n:keep (HTML; its words come from i18n) */ `
<form method="POST" action="/authorize" style="width: 280px;">
<h3>{{.Heading}}</h3>
{{if .Hint}}<p>{{.Hint}}</p>{{end}}
{{if .Error}}<p style="color:red">{{.Error}}</p>{{end}}
<input type="hidden" name="id" value="{{.ID}}">
<div><label for="username">{{.UserLabel}}</label>
<input id="username" name="username" autocomplete="username" value="{{.User}}" style="width: 100%"></div>
<div><label for="password">{{.PasswordLabel}}</label>
<input id="password" name="password" type="password" autocomplete="current-password" value="{{.Password}}" style="width: 100%"></div>
<p><button type="submit" autofocus>{{.SignIn}}</button> <input type="submit" name="cancel" value="{{.Cancel}}"></p>
</form></body></html>
`))
	errorPage = template.Must(template.New("error").Parse(pageHead + /* i18n:keep (HTML) */ `
<div style="width: 360px;"><h3>{{.Heading}}</h3><p style="color:red">{{.Error}}</p></div>
</body></html>
`))
)

const pageHead = /* i18n:keep (HTML) */ `<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body style="font-family: sans-serif; display: flex; align-items: center; justify-content: center; min-height: 100vh; margin: 0;">`
