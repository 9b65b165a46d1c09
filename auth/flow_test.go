package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// browserResult is what the fake browser saw on the last page.
type browserResult struct {
	status int
	body   string
	err    error
}

// fakeBrowser follows the sign-in address like a browser (redirects included) and
// reports the last page on the returned channel. before, if set, runs first with the
// parsed authorize URL (to send stray requests to the listener).
func fakeBrowser(t *testing.T, before func(auth *url.URL)) (func(string) error, <-chan browserResult) {
	t.Helper()
	ch := make(chan browserResult, 1)
	return func(u string) error {
		pu, err := url.Parse(u)
		if err != nil {
			t.Errorf("bad sign-in URL: %v", err)
			return err
		}
		go func() {
			if before != nil {
				before(pu)
			}
			resp, err := http.Get(u)
			if err != nil {
				ch <- browserResult{err: err}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			ch <- browserResult{status: resp.StatusCode, body: string(b)}
		}()
		return nil
	}, ch
}

func waitPage(t *testing.T, ch <-chan browserResult) browserResult {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("browser: %v", r.err)
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("browser got no page within 10s")
	}
	return browserResult{}
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// get sends a plain GET and returns status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoginSuccessPKCE(t *testing.T) {
	p := newFakeProvider(t)
	port := freePort(t)
	redirect := "http://127.0.0.1:" + strconv.Itoa(port) + "/callback"
	cfg := p.config(redirect)
	cfg.LoginHint = "invoices@example.com"
	cfg.AuthParams = url.Values{"prompt": {"select_account"}}
	var seen *url.URL
	open, pages := fakeBrowser(t, func(u *url.URL) { seen = u })
	var printed string
	res, err := Login(context.Background(), cfg, LoginOptions{OpenBrowser: open, OnURL: func(u string) { printed = u }, Logger: quiet})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	page := waitPage(t, pages)
	if page.status != 200 || !strings.Contains(page.body, "Sign-in worked") || !strings.Contains(page.body, "close this tab") {
		t.Fatalf("last page = %d %q", page.status, page.body)
	}
	if res.Token.AccessToken == "" || res.Token.RefreshToken == "" || len(res.Warnings) != 0 {
		t.Fatalf("result = %+v", res)
	}
	if res.RedirectURI != redirect || printed == "" {
		t.Fatalf("redirect %q, printed %q", res.RedirectURI, printed)
	}
	q := seen.Query()
	if q.Get("redirect_uri") != redirect || q.Get("code_challenge_method") != "S256" || q.Get("login_hint") != "invoices@example.com" || q.Get("prompt") != "select_account" {
		t.Fatalf("authorize query = %v", q)
	}
	if st := q.Get("state"); len(st) < 22 { // ≥128 bits in base64url
		t.Fatalf("state %q too short", st)
	}
	// The token request carried the same redirect_uri and a verifier (checked by the
	// fake against the challenge), and no secret for this public client.
	p.mu.Lock()
	form, basic := p.lastForm, p.lastBasic
	p.mu.Unlock()
	if form.Get("redirect_uri") != redirect || form.Get("code_verifier") == "" || form.Has("client_secret") || basic {
		t.Fatalf("token form = %v (basic %v)", form, basic)
	}
	// The listener is closed: a second callback is refused.
	if _, err := http.Get(redirect + "?code=x&state=" + q.Get("state")); err == nil {
		t.Fatal("the listener still answers after the flow ended")
	}
}

func TestLoginStateAndPathRefusals(t *testing.T) {
	p := newFakeProvider(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cfg := p.config(base + "/cb")
	type stray struct {
		status int
		body   string
	}
	strays := make(chan stray, 4)
	open, pages := fakeBrowser(t, func(u *url.URL) {
		for _, path := range []string{
			"/cb?code=forged&state=wrong",
			"/cb?code=forged",
			"/cb?error=access_denied",
			"/other?state=" + u.Query().Get("state") + "&code=x",
		} {
			s, b := get(t, base+path)
			strays <- stray{s, b}
		}
	})
	res, err := Login(context.Background(), cfg, LoginOptions{OpenBrowser: open, Logger: quiet})
	if err != nil {
		t.Fatalf("Login after stray requests: %v", err)
	}
	want := []int{400, 400, 400, 404}
	for i, w := range want {
		s := <-strays
		if s.status != w {
			t.Errorf("stray %d: status %d, want %d (%q)", i, s.status, w, s.body)
		}
		if w == 400 && !strings.Contains(s.body, "still waiting") {
			t.Errorf("stray %d: page %q does not say the flow goes on", i, s.body)
		}
	}
	if page := waitPage(t, pages); page.status != 200 || res.Token == nil {
		t.Fatalf("page %d, res %+v", page.status, res)
	}
	if ex, _, _ := p.counts(); ex != 1 {
		t.Fatalf("%d code exchanges, want 1 (forged codes must not be exchanged)", ex)
	}
}

func TestLoginRefusesBadRedirectBeforeStarting(t *testing.T) {
	p := newFakeProvider(t)
	for _, red := range []string{"https://localhost:3017/", "http://example.com:3017/", "http://localhost/"} {
		opened := false
		_, err := Login(context.Background(), p.config(red), LoginOptions{OpenBrowser: func(string) error { opened = true; return nil }, Logger: quiet})
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, "redirect_uri") {
			t.Errorf("%s: err = %v, want *ConfigError on redirect_uri", red, err)
		}
		if opened {
			t.Errorf("%s: the browser was opened", red)
		}
	}
}

func TestLoginBusyPort(t *testing.T) {
	p := newFakeProvider(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Login(context.Background(), p.config("http://127.0.0.1:"+strconv.Itoa(port)+"/"), LoginOptions{OpenBrowser: func(string) error {
		t.Error("browser opened although the port is busy")
		return nil
	}, Logger: quiet})
	var pe *PortError
	if !errors.As(err, &pe) || !pe.InUse || pe.Port != port || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("err = %v, want *PortError naming port %d", err, port)
	}
	if _, advice := DescribeError(err); !strings.Contains(advice, strconv.Itoa(port)) {
		t.Fatalf("advice %q does not name the port", advice)
	}
}

func TestLoginProviderError(t *testing.T) {
	p := newFakeProvider(t)
	p.authError = url.Values{
		"error":             {"invalid_client"},
		"error_description": {"AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented. <script>alert(1)</script>"},
	}
	open, pages := fakeBrowser(t, nil)
	_, err := Login(context.Background(), p.config("http://127.0.0.1:0/"), LoginOptions{OpenBrowser: open, Logger: quiet})
	var pr *ProviderError
	if !errors.As(err, &pr) || pr.Code != "invalid_client" || !strings.Contains(pr.Description, "AADSTS700025") {
		t.Fatalf("err = %v, want *ProviderError", err)
	}
	_, advice := DescribeError(err)
	if !strings.Contains(advice, "public client") {
		t.Fatalf("advice = %q", advice)
	}
	page := waitPage(t, pages)
	if !strings.Contains(page.body, "Sign-in failed") || !strings.Contains(page.body, "AADSTS700025") || !strings.Contains(page.body, "close this tab") {
		t.Fatalf("page = %q", page.body)
	}
	if strings.Contains(page.body, "<script>") || !strings.Contains(page.body, "&lt;script&gt;") {
		t.Fatalf("provider text not escaped: %q", page.body)
	}
	if ex, _, _ := p.counts(); ex != 0 {
		t.Fatalf("exchange ran after a provider error")
	}
}

func TestLoginExchangeFailureShownInBrowser(t *testing.T) {
	p := newFakeProvider(t)
	p.secret = "s3cret" // confidential client, but we send none
	open, pages := fakeBrowser(t, nil)
	_, err := Login(context.Background(), p.config("http://127.0.0.1:0/"), LoginOptions{OpenBrowser: open, Logger: quiet})
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "invalid_client" || te.Op != "code exchange" {
		t.Fatalf("err = %v, want *TokenError", err)
	}
	if _, advice := DescribeError(err); !strings.Contains(advice, "client secret") {
		t.Fatalf("advice = %q", advice)
	}
	if page := waitPage(t, pages); !strings.Contains(page.body, "did not work") {
		t.Fatalf("page = %q", page.body)
	}
}

func TestLoginWithSecret(t *testing.T) {
	p := newFakeProvider(t)
	p.secret = "s3cret"
	cfg := p.config("http://127.0.0.1:0/")
	cfg.ClientSecret = "s3cret"
	open, pages := fakeBrowser(t, nil)
	if _, err := Login(context.Background(), cfg, LoginOptions{OpenBrowser: open, Logger: quiet}); err != nil {
		t.Fatalf("Login: %v", err)
	}
	waitPage(t, pages)
	if s := cfg.String(); strings.Contains(s, "s3cret") {
		t.Fatalf("Config.String shows the secret: %q", s)
	}
}

func TestLoginNoRefreshTokenWarns(t *testing.T) {
	p := newFakeProvider(t)
	p.noRefresh = true
	open, pages := fakeBrowser(t, nil)
	res, err := Login(context.Background(), p.config("http://127.0.0.1:0/"), LoginOptions{OpenBrowser: open, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	waitPage(t, pages)
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "offline_access") {
		t.Fatalf("warnings = %q", res.Warnings)
	}
}

func TestLoginBrowserFailureIsWarning(t *testing.T) {
	p := newFakeProvider(t)
	urls := make(chan string, 1)
	go func() {
		u := <-urls
		resp, err := http.Get(u) // the user copies the printed address
		if err == nil {
			resp.Body.Close()
		}
	}()
	res, err := Login(context.Background(), p.config("http://127.0.0.1:0/"), LoginOptions{
		OnURL:       func(u string) { urls <- u },
		OpenBrowser: func(string) error { return errors.New("no display") },
		Logger:      quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "no display") {
		t.Fatalf("warnings = %q", res.Warnings)
	}
}

// portFree reports whether port can be bound again on 127.0.0.1.
func portFree(t *testing.T, port int) bool {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func TestLoginTimeoutFreesPort(t *testing.T) {
	p := newFakeProvider(t)
	port := freePort(t)
	start := time.Now()
	_, err := Login(context.Background(), p.config("http://127.0.0.1:"+strconv.Itoa(port)+"/"), LoginOptions{Timeout: 300 * time.Millisecond, Logger: quiet})
	if !errors.Is(err, ErrLoginTimeout) {
		t.Fatalf("err = %v, want ErrLoginTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	if !portFree(t, port) {
		t.Fatalf("port %d still held after the timeout", port)
	}
	if _, advice := DescribeError(err); advice == "" {
		t.Fatal("no advice for a timeout")
	}
}

func TestLoginCancelFreesPort(t *testing.T) {
	p := newFakeProvider(t)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Login(ctx, p.config("http://127.0.0.1:"+strconv.Itoa(port)+"/"), LoginOptions{
			OpenBrowser: func(string) error { cancel(); return nil }, Logger: quiet})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrLoginTimeout) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Login did not return after cancel")
	}
	if !portFree(t, port) {
		t.Fatalf("port %d still held after cancel", port)
	}
}

func TestLoginLocalhostListensOnBothLoopbacks(t *testing.T) {
	if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback here")
	} else {
		l.Close()
	}
	p := newFakeProvider(t)
	statuses := make(chan int, 2)
	open, pages := fakeBrowser(t, func(u *url.URL) {
		red, _ := url.Parse(u.Query().Get("redirect_uri"))
		for _, h := range []string{"127.0.0.1", "[::1]"} {
			s, _ := get(t, "http://"+h+":"+red.Port()+"/elsewhere")
			statuses <- s
		}
	})
	if _, err := Login(context.Background(), p.config("http://localhost:0/"), LoginOptions{OpenBrowser: open, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	waitPage(t, pages)
	for range 2 {
		if s := <-statuses; s != 404 {
			t.Fatalf("status %d, want 404 from both loopback listeners", s)
		}
	}
}

func TestLoginLocalhostIPv6Busy(t *testing.T) {
	l6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback here")
	}
	defer l6.Close()
	port := l6.Addr().(*net.TCPAddr).Port
	if !portFree(t, port) {
		t.Skip("port also busy on 127.0.0.1")
	}
	p := newFakeProvider(t)
	_, err = Login(context.Background(), p.config("http://localhost:"+strconv.Itoa(port)+"/"), LoginOptions{Logger: quiet})
	var pe *PortError
	if !errors.As(err, &pe) || !pe.InUse || pe.Port != port {
		t.Fatalf("err = %v, want *PortError for ::1", err)
	}
	if !portFree(t, port) {
		t.Fatal("the 127.0.0.1 listener was not closed")
	}
}
