package imapsrc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"

	"mailmover/i18n"
)

// Defaults applied by Dial.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultIdleRestart = 25 * time.Minute
	DefaultFolder      = "INBOX"
)

func (cfg *Config) addr() string { return net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)) }
func (cfg *Config) oauth() bool  { return cfg.Auth == authXOAuth2 || cfg.Auth == authOAuthBearer }
func (cfg *Config) folder() string {
	if cfg.Folder == "" {
		return DefaultFolder
	}
	return cfg.Folder
}

func (cfg *Config) timeout() time.Duration {
	if cfg.Timeout <= 0 {
		return DefaultTimeout
	}
	return cfg.Timeout
}

func (cfg *Config) logger() *slog.Logger {
	if cfg.Logger == nil {
		return slog.Default()
	}
	return cfg.Logger
}

// Values of Config.TLS and Config.Auth (the same strings as store's constants; imapsrc
// does not import store).
const (
	tlsImplicit     = "implicit"
	tlsStartTLS     = "starttls"
	tlsNone         = "none"
	authXOAuth2     = "xoauth2"
	authOAuthBearer = "oauthbearer"
	authPassword    = "password"
)

// normalize fills defaults and rejects an unusable Config.
func (cfg *Config) normalize() error {
	cfg.TLS = strings.ToLower(strings.TrimSpace(cfg.TLS))
	cfg.Auth = strings.ToLower(strings.TrimSpace(cfg.Auth))
	if cfg.TLS == "" {
		cfg.TLS = tlsImplicit
	}
	if cfg.Port == 0 {
		cfg.Port = 143
		if cfg.TLS == tlsImplicit {
			cfg.Port = 993
		}
	}
	bad := func(reason, advice string) error {
		return &Error{Kind: KindConfig, Host: cfg.addr(), Op: i18n.T("config"), Reason: reason, Advice: advice}
	}
	switch {
	case strings.TrimSpace(cfg.Host) == "":
		return bad(i18n.T("no host"), i18n.T("Set [setup] host, e.g. outlook.office365.com or imap.gmail.com."))
	case cfg.Port < 1 || cfg.Port > 65535:
		return bad(i18n.Sprintf("port %d is out of range", cfg.Port), i18n.T("Set [setup] port: 993 for implicit TLS, 143 for STARTTLS."))
	case cfg.TLS != tlsImplicit && cfg.TLS != tlsStartTLS && cfg.TLS != tlsNone:
		return bad(i18n.Sprintf("unknown tls mode %q", cfg.TLS), i18n.T(`Set [security] tls to "implicit", "starttls" or "none".`))
	case cfg.Username == "":
		return bad(i18n.T("no username"), i18n.T("Set [setup] username (the mailbox address)."))
	}
	switch cfg.Auth {
	case authXOAuth2, authOAuthBearer:
		if cfg.Token == nil {
			return bad(i18n.T("no token source for OAuth2"), i18n.T("Sign in with 'mailmover login' first."))
		}
	case authPassword:
		if cfg.Password == "" {
			return bad(i18n.T("no password"), i18n.Sprintf("Store it with 'mailmover secret set -profile %s password'.", cfg.profileName()))
		}
	default:
		return bad(i18n.Sprintf("unknown auth method %q", cfg.Auth), i18n.T(`Set [security] auth to "xoauth2", "oauthbearer" or "password".`))
	}
	return nil
}

// Dial connects, signs in and selects cfg.Folder. Failures are typed errors (*Error)
// with advice. When the server refuses the OAuth2 token, Dial asks cfg.Token for a fresh
// one (forceRefresh) and signs in once more.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	c, err := dialOnce(ctx, cfg, false)
	if err != nil && cfg.oauth() && KindOf(err) == KindAuth && ctx.Err() == nil {
		cfg.logger().Warn("the server refused the access token; refreshing it and signing in again",
			"host", cfg.addr(), "reason", err.Error())
		c, err = dialOnce(ctx, cfg, true)
	}
	return c, err
}

func dialOnce(ctx context.Context, cfg Config, forceRefresh bool) (*Client, error) {
	c, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := c.signIn(ctx, forceRefresh); err != nil {
		c.closeNow()
		return nil, err
	}
	if _, err := c.Select(ctx, cfg.folder()); err != nil {
		if KindOf(err) == KindFolder {
			if fs, lerr := c.ListFolders(ctx); lerr == nil {
				var e *Error
				errors.As(err, &e)
				if len(fs) == 0 {
					e.Advice += i18n.T(" Folders on the server: none.")
				} else {
					e.Advice += i18n.Sprintf(" Folders on the server: %s.", folderNames(fs, 20))
				}
			}
		}
		c.closeNow()
		return nil, err
	}
	if err := c.run(ctx, func() error { c.caps = c.ic.Caps(); return nil }); err != nil {
		c.closeNow()
		return nil, classifyNet(ctx, cfg.addr(), "capability", err)
	}
	if c.caps == nil {
		c.caps = imap.CapSet{}
	}
	return c, nil
}

// connect dials TCP, sets up TLS as configured and waits for the greeting.
func connect(ctx context.Context, cfg Config) (*Client, error) {
	log := cfg.logger()
	dialFn := cfg.DialContext
	if dialFn == nil {
		d := &net.Dialer{Timeout: cfg.timeout(), KeepAlive: 30 * time.Second}
		dialFn = d.DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	raw, err := dialFn(dctx, "tcp", cfg.addr())
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Kind: KindConnect, Host: cfg.addr(), Op: i18n.T("connect"),
			Reason: i18n.T("cannot reach the server"),
			Advice: i18n.T("Check [setup] host and port, the network connection and any firewall or proxy."), Err: err}
	}
	conn := net.Conn(raw)
	greeting := ""
	tlsInfo := "none"
	switch cfg.TLS {
	case tlsImplicit, tlsStartTLS:
		tc, err := tlsConfig(&cfg)
		if err != nil {
			raw.Close()
			return nil, err
		}
		var t *tls.Conn
		if cfg.TLS == tlsImplicit {
			tc.NextProtos = []string{"imap"}
			t, err = handshake(ctx, &cfg, raw, tc)
		} else {
			t, greeting, err = startTLS(ctx, &cfg, raw, tc)
		}
		if err != nil {
			raw.Close()
			return nil, err
		}
		mode := "implicit"
		if cfg.TLS == tlsStartTLS {
			mode = "STARTTLS"
		}
		tlsInfo = tlsVersion(t.ConnectionState().Version) + " (" + mode + ")"
		conn = t
	default:
		if isLoopback(raw) {
			log.Debug("IMAP without TLS to a server on this machine", "host", cfg.addr())
		} else {
			log.Warn("IMAP without TLS: everything, including mail, crosses the network unencrypted", "host", cfg.addr())
		}
	}
	c := &Client{cfg: cfg, log: log, tlsInfo: tlsInfo, newMail: make(chan struct{}, 1)}
	c.wire = newWireConn(conn, greeting)
	c.wire.textTime.Store(int64(cfg.timeout()))
	c.wire.limitGreeting() // before imapclient starts reading
	c.ic = imapclient.New(c.wire, &imapclient.Options{
		WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					c.signalNewMail()
				}
			},
		},
	})
	err = c.run(ctx, func() error { return c.ic.WaitGreeting() })
	c.wire.endGreeting()
	if err != nil {
		c.closeNow()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var le *limitError
		if errors.As(err, &le) {
			return nil, le.asError(cfg.addr(), i18n.T("connect"))
		}
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, &Error{Kind: KindServer, Host: cfg.addr(), Op: i18n.T("connect"),
				Reason: i18n.Sprintf("the server turned us away: %s", serverText(ie)), Err: err}
		}
		return nil, &Error{Kind: KindConnect, Host: cfg.addr(), Op: i18n.T("connect"), Reason: i18n.T("no IMAP greeting"),
			Advice: i18n.T("Check that [setup] port is the server's IMAP port and that the tls mode fits it (implicit for 993, starttls for 143)."), Err: err}
	}
	return c, nil
}

func tlsVersion(v uint16) string {
	switch v {
	case 0x0304:
		return "TLS 1.3"
	case 0x0303:
		return "TLS 1.2"
	}
	return fmt.Sprintf("TLS 0x%04x", v)
}

func (c *Client) signalNewMail() {
	select {
	case c.newMail <- struct{}{}:
	default:
	}
}

// Close logs out (best effort, at most two seconds) and closes the connection.
func (c *Client) Close() error {
	if c == nil || c.ic == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		_ = c.ic.Logout().Wait()
		close(done)
	}()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	c.closeNow()
	return nil
}

func (c *Client) closeNow() {
	if c.ic != nil {
		_ = c.ic.Close()
	}
}

// Capabilities returns the server's capabilities after sign-in, sorted.
func (c *Client) Capabilities() []string {
	return capList(c.caps)
}

// Mechanism returns the sign-in mechanism used: "XOAUTH2", "OAUTHBEARER", "PLAIN" or
// "LOGIN" (or "PREAUTH").
func (c *Client) Mechanism() string { return c.mech }

// Security describes the transport, e.g. "TLS 1.3 (implicit)" or "none".
func (c *Client) Security() string { return c.tlsInfo }

// Selected returns the state of the selected folder.
func (c *Client) Selected() Mailbox { return c.mailbox }

// capList renders a capability set, sorted.
func capList(caps imap.CapSet) []string {
	out := make([]string, 0, len(caps))
	for k := range caps {
		out = append(out, string(k))
	}
	sortStrings(out)
	return out
}
