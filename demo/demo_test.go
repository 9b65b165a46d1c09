package demo

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"

	"mailmover/demo/signin"
	"mailmover/mover/journal"
	"mailmover/store"
)

// startDemo starts a demo with a temp home and destination; it is closed at cleanup.
func startDemo(t *testing.T, opts Options, sec store.Secrets) *Demo {
	t.Helper()
	if opts.Home == "" {
		opts.Home = t.TempDir()
	}
	if opts.Dest == "" {
		opts.Dest = filepath.Join(t.TempDir(), "out")
	}
	if opts.Interval == 0 {
		opts.Interval = -1
	}
	if opts.RedirectPort == 0 {
		opts.RedirectPort = freePort(t) // keep off 3017, which sign-in tests of other packages use
	}
	ctx, cancel := context.WithCancel(context.Background())
	d, err := Start(ctx, opts, sec)
	if err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// token signs in through the demo's login form (no browser) and exchanges the code with
// PKCE, as the loopback flow does.
func token(t *testing.T, d *Demo) *oauth2.Token {
	t.Helper()
	o := d.Profile.OAuth2
	cfg := oauth2.Config{
		ClientID: o.ClientID, Scopes: strings.Fields(o.Scope), RedirectURL: o.RedirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: o.AuthorizationURL, TokenURL: o.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	verifier := oauth2.GenerateVerifier()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	back, err := formLogin(ctx, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)), d.User(), d.Password())
	if err != nil {
		t.Fatalf("sign in through the demo's login form: %v", err)
	}
	if back.Query().Get("state") != "st4te" || back.Query().Get("code") == "" {
		t.Fatalf("redirect %s lacks code or state", back.Redacted())
	}
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token issued (offline_access)")
	}
	return tok
}

// xoauth2 is a minimal XOAUTH2 client for the test.
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}
func (x xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

func dial(t *testing.T, d *Demo, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(d.IMAPAddr(), opts)
	if err != nil {
		t.Fatalf("dial the demo IMAP server: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestDemoServesSampleMailToItsOwnTokens(t *testing.T) {
	d := startDemo(t, Options{}, nil)
	tok := token(t, d)

	for _, mech := range []struct {
		name string
		cl   sasl.Client
	}{
		{"XOAUTH2", xoauth2{d.User(), tok.AccessToken}},
		{"OAUTHBEARER", sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: d.User(), Token: tok.AccessToken})},
	} {
		t.Run(mech.name, func(t *testing.T) {
			c := dial(t, d, nil)
			if err := c.Authenticate(mech.cl); err != nil {
				t.Fatalf("AUTHENTICATE %s with a demo token: %v", mech.name, err)
			}
			sel, err := c.Select("INBOX", nil).Wait()
			if err != nil {
				t.Fatalf("SELECT: %v", err)
			}
			if int(sel.NumMessages) != SampleCount() {
				t.Errorf("INBOX holds %d messages, want the %d samples", sel.NumMessages, SampleCount())
			}
			res, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
			if err != nil {
				t.Fatalf("SEARCH UNSEEN: %v", err)
			}
			if n := len(res.AllUIDs()); n != SampleCount() {
				t.Errorf("%d unseen messages, want %d", n, SampleCount())
			}
		})
	}

	t.Run("password refused", func(t *testing.T) {
		c := dial(t, d, nil)
		if err := c.Login(d.User(), d.Password()).Wait(); err == nil {
			t.Fatal("LOGIN with the password worked; the demo must want a token")
		}
	})
	t.Run("bad token refused", func(t *testing.T) {
		c := dial(t, d, nil)
		err := c.Authenticate(xoauth2{d.User(), "not-a-token"})
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("AUTHENTICATE with a bad token: %v, want NO [AUTHENTICATIONFAILED]", err)
		}
	})
	t.Run("token of another user refused", func(t *testing.T) {
		c := dial(t, d, nil)
		if err := c.Authenticate(xoauth2{"someone-else", tok.AccessToken}); err == nil {
			t.Fatal("AUTHENTICATE as another user with the demo user's token worked")
		}
	})
}

func TestDemoNewMailWakesIdle(t *testing.T) {
	d := startDemo(t, Options{Interval: 150 * time.Millisecond}, nil)
	tok := token(t, d)
	arrived := make(chan uint32, 16)
	c := dial(t, d, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(m *imapclient.UnilateralDataMailbox) {
			if m.NumMessages != nil {
				arrived <- *m.NumMessages
			}
		},
	}})
	if err := c.Authenticate(xoauth2{d.User(), tok.AccessToken}); err != nil {
		t.Fatalf("AUTHENTICATE: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatalf("IDLE: %v", err)
	}
	select {
	case n := <-arrived:
		if int(n) <= SampleCount() {
			t.Errorf("EXISTS %d during IDLE, want more than the %d samples", n, SampleCount())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no new message announced during IDLE within 10s")
	}
	_ = idle.Close()
	if d.Delivered() < 1 {
		t.Errorf("Delivered() = %d after a new message arrived", d.Delivered())
	}
}

func TestDemoWritesAValidProfileAndClearsOldTokens(t *testing.T) {
	home := t.TempDir()
	cwd := t.TempDir()
	t.Chdir(cwd)
	sec := store.NewMemorySecrets()
	for _, kind := range []string{store.SecretRefreshToken, store.SecretAccessToken} {
		if err := sec.Set(ProfileName, kind, "stale-"+kind); err != nil {
			t.Fatal(err)
		}
	}
	d := startDemo(t, Options{Home: home, Dest: "./" + DefaultDestFolder}, sec)

	p, err := store.LoadProfile(home, ProfileName)
	if err != nil {
		t.Fatalf("the written demo profile does not load: %v", err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("the demo profile is not valid: %v", err)
	}
	wantDest := filepath.Join(cwd, DefaultDestFolder)
	if real, err := filepath.EvalSymlinks(cwd); err == nil && p.Destination.Folder != wantDest {
		wantDest = filepath.Join(real, DefaultDestFolder)
	}
	for _, c := range []struct{ name, got, want string }{
		{"host:port", net.JoinHostPort(p.Setup.Host, strconv.Itoa(p.Setup.Port)), d.IMAPAddr()},
		{"tls", p.Security.TLS, store.TLSNone},
		{"auth", p.Security.Auth, store.AuthXOAuth2},
		{"client", p.OAuth2.ClientID, signin.ClientID},
		{"token url", p.OAuth2.TokenURL, d.Issuer() + signin.PathToken},
		{"flow", p.OAuth2.Flow, store.FlowAuthCode},
		{"dest", p.Destination.Folder, wantDest},
		{"watch", p.Common.Watch, store.WatchIdle},
	} {
		if c.got != c.want {
			t.Errorf("profile %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !filepath.IsAbs(p.Destination.Folder) {
		t.Errorf("destination %q is not absolute", p.Destination.Folder)
	}
	if !strings.HasSuffix(p.OAuth2.RedirectURI, ":"+strconv.Itoa(p.OAuth2.RedirectPort)+"/") {
		t.Errorf("redirect_uri %q and redirect_port %d disagree", p.OAuth2.RedirectURI, p.OAuth2.RedirectPort)
	}
	for _, kind := range []string{store.SecretRefreshToken, store.SecretAccessToken} {
		if _, err := sec.Get(ProfileName, kind); !errors.Is(err, store.ErrNoSecret) {
			t.Errorf("stale %s of an earlier demo still stored (err %v)", kind, err)
		}
	}
}

func TestDemoRedirectPortFallsBackWhenBusy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	d := startDemo(t, Options{RedirectPort: port}, nil)
	if got := d.Profile.OAuth2.RedirectPort; got == port || got == 0 {
		t.Fatalf("redirect port %d while %d is busy; want another free port", got, port)
	}

	free, _ := net.Listen("tcp", "127.0.0.1:0")
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	if got, err := pickRedirectPort(freePort); err != nil || got != freePort {
		t.Errorf("pickRedirectPort(%d free) = %d, %v; want the preferred port", freePort, got, err)
	}
}

func TestDemoCloseLeavesNothingListening(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, err := Start(ctx, Options{Home: t.TempDir(), Dest: t.TempDir(), Interval: 50 * time.Millisecond, RedirectPort: freePort(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addrs := []string{d.IMAPAddr(), strings.TrimPrefix(d.Issuer(), "http://")}
	for _, a := range addrs {
		c, err := net.DialTimeout("tcp", a, 2*time.Second)
		if err != nil {
			t.Fatalf("%s not listening while the demo runs: %v", a, err)
		}
		c.Close()
	}
	cancel() // the context ends: the servers stop
	if err := d.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the demo stopped", a)
		}
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestDemoSummaryNamesServersAndEarlierFiles(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(dest, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, "old.pdf"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDemo(t, Options{Dest: dest}, nil)
	var b strings.Builder
	d.PrintSummary(&b)
	for _, want := range []string{"imap://" + d.IMAPAddr(), d.Issuer(), `user "demo"`, `password "demo"`,
		d.Profile.OAuth2.RedirectURI, dest, "already holds 1 file"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

func TestDemoRefusesWhileAnotherMoverHoldsTheDemoState(t *testing.T) {
	home := t.TempDir()
	sf, err := journal.Open(home, ProfileName) // what a running mover holds
	if err != nil {
		t.Fatalf("OpenState: %v", err)
	}
	defer sf.Close()
	_, err = Start(context.Background(), Options{Home: home, Dest: t.TempDir(), Interval: -1, RedirectPort: freePort(t)}, nil)
	if !errors.Is(err, store.ErrStateLocked) {
		t.Fatalf("Start while the demo state is in use: %v, want store.ErrStateLocked", err)
	}
	if store.ProfileExists(home, ProfileName) {
		t.Error("the profile was written although the demo could not start")
	}
}
