package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"mailmover/i18n"
	"mailmover/store"
)

// DefaultLoginTimeout is how long Login waits for the browser when LoginOptions.Timeout
// is 0.
const DefaultLoginTimeout = 5 * time.Minute

// LoginOptions tune Login.
type LoginOptions struct {
	// OpenBrowser opens the sign-in address: fyne's OpenURL in the window,
	// SystemBrowser(os.Getenv) on the command line. nil opens nothing. A failure is
	// reported as a warning; the flow keeps waiting (the address was also given to OnURL).
	OpenBrowser func(url string) error
	// OnURL, if set, receives the sign-in address before the browser opens, to show or
	// print it.
	OnURL func(url string)
	// Timeout bounds the wait for the browser; 0 means DefaultLoginTimeout.
	Timeout time.Duration
	// Paste, if set, is read line by line for paste-back sign-in: the address the browser
	// ended on (http://localhost:PORT/?code=…&state=…), copied from a browser on another
	// machine where that address cannot load. A pasted answer is checked (state) and
	// exchanged (same PKCE verifier) exactly as one delivered to the listener, which
	// stays open too: whichever comes first wins, once. Reading stops at EOF; a refused
	// line goes to OnPasteRefused and the wait goes on.
	Paste io.Reader
	// OnPasteRefused, if set, is told why a pasted line was not taken (a *PasteError).
	OnPasteRefused func(err error)
	// Logger receives progress and refusals (never a code, state or token); nil means
	// slog.Default().
	Logger *slog.Logger
}

// Result is the outcome of a successful sign-in.
type Result struct {
	// Token holds the access token, its expiry and (usually) the refresh token.
	Token *oauth2.Token
	// Warnings are things the admin should fix although sign-in worked (no refresh token,
	// the browser did not open, …).
	Warnings []string
	// RedirectURI is the redirect URI actually sent (differs from the profile's only when
	// its port was 0).
	RedirectURI string
}

// Login runs the loopback authorization-code flow (RFC 8252) with PKCE S256 (RFC 7636)
// and a random 256-bit state. It validates the redirect before anything starts, listens
// on the loopback address of cfg.RedirectURI only (for localhost both 127.0.0.1 and, where
// available, ::1), serves only the redirect path (others get 404), opens the browser, and
// waits for the first callback carrying the right state, or, with opts.Paste, the first
// pasted address carrying it (paste-back). Callbacks with a wrong or missing state get 400
// and the wait goes on. The code is exchanged with the same redirect_uri
// string before the browser's last page is written, so that page says whether sign-in
// worked. The listener is closed before Login returns, whatever the outcome; cancel ctx
// to stop early. A provider error ends the flow as a *ProviderError; a timeout wraps
// ErrLoginTimeout.
func Login(ctx context.Context, cfg Config, opts LoginOptions) (*Result, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.Flow != "" && cfg.Flow != store.FlowAuthCode {
		return nil, &ConfigError{Field: "flow", Reason: i18n.Sprintf("the browser sign-in needs flow = %q, not %q", store.FlowAuthCode, cfg.Flow)}
	}
	red, err := parseRedirect(cfg.RedirectURI, cfg.RedirectPort)
	if err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, &ConfigError{Field: "client_id", Reason: i18n.T("empty")}
	}
	if err := checkEndpoint("authorization_url", cfg.AuthURL); err != nil {
		return nil, err
	}
	if err := checkEndpoint("token_url", cfg.TokenURL); err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	flowCtx, cancel := context.WithTimeoutCause(ctx, timeout, ErrLoginTimeout)
	defer cancel()

	listeners, port, err := listenLoopback(flowCtx, red.host, red.port)
	if err != nil {
		return nil, err
	}
	redirectURI := red.uri
	if red.port == 0 {
		redirectURI = red.withPort(port)
	}

	state, err := randomState()
	if err != nil {
		closeAll(listeners)
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	oc := cfg.oauth2Config(redirectURI)
	authOpts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if cfg.LoginHint != "" {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("login_hint", cfg.LoginHint))
	}
	for k, vs := range cfg.AuthParams {
		for _, v := range vs {
			authOpts = append(authOpts, oauth2.SetAuthURLParam(k, v))
		}
	}
	authURL := oc.AuthCodeURL(state, authOpts...)

	exchange := func(ctx context.Context, code string) (*oauth2.Token, error) {
		tok, err := oc.Exchange(cfg.httpContext(ctx), code, oauth2.VerifierOption(verifier))
		if err != nil {
			if errors.Is(context.Cause(ctx), ErrLoginTimeout) {
				return nil, &exchangeTimeoutError{tokenURL: cfg.TokenURL}
			}
			return nil, tokenError(i18n.Key("code exchange"), cfg.TokenURL, err)
		}
		return tok, nil
	}
	h := newCallbackHandler(flowCtx, red.path, state, exchange, logger)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return flowCtx },
	}
	served := make(chan struct{}, len(listeners))
	for _, l := range listeners {
		go func(l net.Listener) {
			_ = srv.Serve(l)
			served <- struct{}{}
		}(l)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer scancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
		for range listeners {
			<-served
		}
	}()
	logger.Info("sign-in: waiting for the browser", "redirect_uri", redirectURI, "timeout", timeout.String())

	res := &Result{RedirectURI: redirectURI}
	if opts.OnURL != nil {
		opts.OnURL(authURL)
	}
	if opts.OpenBrowser != nil {
		if err := opts.OpenBrowser(authURL); err != nil {
			logger.Warn("sign-in: could not open a browser; the address must be opened by hand", "error", err.Error())
			res.Warnings = append(res.Warnings, i18n.Sprintf("could not open a browser (%v): open the sign-in address yourself in a browser on this machine", err))
		}
	}

	pasted := readLines(flowCtx, opts.Paste, logger)
	var cr callbackResult
wait:
	for {
		select {
		case cr = <-h.done:
			break wait
		case line, ok := <-pasted:
			if !ok {
				pasted = nil // EOF: the listener alone now
				continue
			}
			if _, err := h.paste(line); err != nil && opts.OnPasteRefused != nil {
				opts.OnPasteRefused(err)
			}
		case <-flowCtx.Done():
			var ok bool
			if cr, ok = lateResult(h); !ok {
				if errors.Is(context.Cause(flowCtx), ErrLoginTimeout) && ctx.Err() == nil {
					return nil, i18n.Errorf("%w: no answer reached %s within %v; the listener is closed", ErrLoginTimeout, redirectURI, timeout)
				}
				return nil, i18n.Errorf("sign-in cancelled: %w", ctx.Err())
			}
			break wait
		}
	}
	if cr.err != nil {
		return nil, cr.err
	}
	res.Token = cr.tok
	res.Warnings = append(res.Warnings, tokenWarnings(cfg, cr.tok)...)
	logger.Info("sign-in: tokens received", "refresh_token", cr.tok.RefreshToken != "", "expiry", cr.tok.Expiry)
	return res, nil
}

// maxPasteLine bounds one pasted line (an address with a code is a few KiB at most).
const maxPasteLine = 64 << 10

// readLines sends the lines of r (nil: none) on the returned channel until EOF, an error
// or the end of ctx, then closes it. The reading goroutine may stay blocked in a read
// of r after ctx ends (standard input cannot be interrupted); it sends nothing then.
func readLines(ctx context.Context, r io.Reader, logger *slog.Logger) <-chan string {
	if r == nil {
		return nil
	}
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 4096), maxPasteLine)
		for sc.Scan() {
			select {
			case ch <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		if err := sc.Err(); err != nil && ctx.Err() == nil {
			logger.Warn("sign-in: stopped reading pasted addresses", "error", err.Error())
		}
	}()
	return ch
}

// lateResult returns a result that raced the end of the flow: one already handed over,
// or, when a callback was claimed (its code exchange is cut short by the flow's end), the
// one it hands over within a few seconds, so the error says what really happened.
func lateResult(h *callbackHandler) (callbackResult, bool) {
	select {
	case cr := <-h.done:
		return cr, true
	default:
	}
	if !h.claimed.Load() {
		return callbackResult{}, false
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case cr := <-h.done:
		return cr, true
	case <-t.C:
		return callbackResult{}, false
	}
}

// tokenWarnings returns warnings about a fresh token.
func tokenWarnings(cfg Config, tok *oauth2.Token) []string {
	if tok.RefreshToken != "" {
		return nil
	}
	w := i18n.T("the provider sent no refresh token, so MailMover must sign in again when the access token expires: add offline_access to the scope")
	if cfg.Preset == store.PresetGoogle {
		w = i18n.T("Google sent no refresh token (it sends one only at the first consent): remove MailMover's access at myaccount.google.com → Security → Third-party access, then sign in again")
	}
	return []string{w}
}

// randomState returns 256 bits from crypto/rand, base64url-encoded.
func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", i18n.Errorf("sign-in: cannot get random bytes for the state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// listenLoopback listens on host:port (port 0: a free one). For "localhost" it binds
// 127.0.0.1 and also ::1 when this machine has IPv6 loopback, on the same port, so the
// browser reaches us whichever address it resolves localhost to; ::1 being held by
// another program is an error (the code could go there).
func listenLoopback(ctx context.Context, host string, port int) ([]net.Listener, int, error) {
	var lc net.ListenConfig
	listen := func(network, ip string, p int) (net.Listener, error) {
		addr := net.JoinHostPort(ip, strconv.Itoa(p))
		l, err := lc.Listen(ctx, network, addr)
		if err != nil {
			return nil, &PortError{Port: port, Addr: addr, InUse: errors.Is(err, syscall.EADDRINUSE), Err: err}
		}
		return l, nil
	}
	switch host {
	case "127.0.0.1":
		l, err := listen("tcp4", "127.0.0.1", port)
		if err != nil {
			return nil, 0, err
		}
		return []net.Listener{l}, l.Addr().(*net.TCPAddr).Port, nil
	case "::1":
		l, err := listen("tcp6", "::1", port)
		if err != nil {
			return nil, 0, err
		}
		return []net.Listener{l}, l.Addr().(*net.TCPAddr).Port, nil
	}
	// localhost
	for attempt := 0; ; attempt++ {
		l4, err := listen("tcp4", "127.0.0.1", port)
		if err != nil {
			return nil, 0, err
		}
		p := l4.Addr().(*net.TCPAddr).Port
		l6, err := listen("tcp6", "::1", p)
		if err == nil {
			return []net.Listener{l4, l6}, p, nil
		}
		var pe *PortError
		if errors.As(err, &pe) && pe.InUse {
			l4.Close()
			if port == 0 && attempt < 5 {
				continue // another free port
			}
			pe.Port = p
			return nil, 0, pe
		}
		// No IPv6 loopback here: 127.0.0.1 alone serves localhost.
		return []net.Listener{l4}, p, nil
	}
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}
