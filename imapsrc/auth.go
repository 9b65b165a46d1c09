package imapsrc

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"

	"mailmover/i18n"
)

// mechanisms returns the SASL mechanisms the server offers (AUTH=…), upper case.
func mechanisms(caps imap.CapSet) []string {
	var out []string
	for k := range caps {
		s := strings.ToUpper(string(k))
		if m, ok := strings.CutPrefix(s, "AUTH="); ok {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// signIn authenticates with the configured method.
func (c *Client) signIn(ctx context.Context, forceRefresh bool) error {
	cfg := &c.cfg
	if c.ic.State() == imap.ConnStateAuthenticated {
		c.mech = "PREAUTH"
		return nil
	}
	var caps imap.CapSet
	if err := c.run(ctx, func() error {
		caps = c.ic.Caps()
		if caps == nil {
			return i18n.New("no CAPABILITY answer")
		}
		return nil
	}); err != nil {
		return classifyNet(ctx, cfg.addr(), "capability", err)
	}
	mechs := mechanisms(caps)
	if c.tlsInfo == "none" && !isLoopback(c.wire.Conn) {
		return &Error{Kind: KindInsecure, Host: cfg.addr(), Op: i18n.T("sign-in"),
			Reason: i18n.T("refusing to send a password or token over an unencrypted connection"), Advice: i18n.T(adviceInsecure)}
	}
	missing := func(want string) error {
		offered := strings.Join(mechs, ", ")
		var fits []string
		if has(mechs, XOAuth2) && want != XOAuth2 {
			fits = append(fits, `"xoauth2"`)
		}
		if has(mechs, sasl.OAuthBearer) && want != sasl.OAuthBearer {
			fits = append(fits, `"oauthbearer"`)
		}
		if want != "PLAIN" && (has(mechs, "PLAIN") || !caps.Has(imap.CapLoginDisabled)) {
			fits = append(fits, `"password"`)
		}
		advice := i18n.T("Set [security] auth to a method the server offers.")
		if len(fits) > 0 {
			advice = i18n.Sprintf("Set [security] auth to a method the server offers: %s.", strings.Join(fits, i18n.T(" or ")))
		}
		if want == "PLAIN" && caps.Has(imap.CapLoginDisabled) && c.tlsInfo == "none" {
			advice = i18n.T("The server allows sign-in only over TLS: ") + i18n.T(adviceInsecure)
		}
		reason := i18n.Sprintf("the server does not offer %s; it offers: %s", want, offered)
		if offered == "" {
			reason = i18n.Sprintf("the server does not offer %s; it offers: none", want)
		}
		return &Error{Kind: KindMechanism, Host: cfg.addr(), Op: i18n.T("sign-in"), Reason: reason, Advice: advice}
	}

	switch cfg.Auth {
	case authXOAuth2, authOAuthBearer:
		mech := XOAuth2
		if cfg.Auth == authOAuthBearer {
			mech = sasl.OAuthBearer
		}
		if !has(mechs, mech) {
			return missing(mech)
		}
		token, err := cfg.Token(ctx, forceRefresh)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &Error{Kind: KindToken, Host: cfg.addr(), Op: i18n.T("token"),
				Reason: i18n.T("cannot get an OAuth2 access token"),
				Advice: i18n.Sprintf("Sign in again with 'mailmover login -profile %s'; check the [oauth2] settings.", cfg.profileName()), Err: err}
		}
		var sc sasl.Client
		var failure func() *SASLFailure
		if mech == XOAuth2 {
			x := NewXOAuth2Client(cfg.Username, token)
			sc, failure = x, func() *SASLFailure { return x.Failure }
		} else {
			o := newOAuthBearerClient(cfg.Username, token, cfg.Host, cfg.Port)
			sc, failure = o, func() *SASLFailure { return o.Failure }
		}
		if err := c.authenticate(ctx, sc); err != nil {
			return c.authError(ctx, mech, err, failure())
		}
		c.mech = mech
	case authPassword:
		switch {
		case has(mechs, "PLAIN"):
			if err := c.authenticate(ctx, sasl.NewPlainClient("", cfg.Username, cfg.Password)); err != nil {
				return c.authError(ctx, "PLAIN", err, nil)
			}
			c.mech = "PLAIN"
		case !caps.Has(imap.CapLoginDisabled):
			if err := c.run(ctx, func() error { return c.ic.Login(cfg.Username, cfg.Password).Wait() }); err != nil {
				return c.authError(ctx, "LOGIN", err, nil)
			}
			c.mech = "LOGIN"
		default:
			return missing("PLAIN")
		}
	}
	c.log.Debug("signed in", "host", cfg.addr(), "user", cfg.Username, "mechanism", c.mech, "security", c.tlsInfo)
	return nil
}

// authenticate runs AUTHENTICATE with the empty-line rewrite switched on.
func (c *Client) authenticate(ctx context.Context, sc sasl.Client) error {
	c.wire.saslEmptyAsBlank.Store(true)
	defer c.wire.saslEmptyAsBlank.Store(false)
	return c.run(ctx, func() error { return c.ic.Authenticate(sc) })
}

// authError turns a failed sign-in into an *Error with advice.
func (c *Client) authError(ctx context.Context, mech string, err error, failure *SASLFailure) error {
	host := c.cfg.addr()
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return classifyNet(ctx, host, "sign-in", err)
	}
	oauth := mech == XOAuth2 || mech == sasl.OAuthBearer
	said := i18n.Sprintf("the server says: %s", serverText(ie))
	if f := failure.String(); f != "" {
		said += " (" + f + ")"
	}
	e := &Error{Kind: KindAuth, Host: host, Op: i18n.Sprintf("sign-in (%s)", mech), Err: ie}
	lower := strings.ToLower(ie.Text)
	switch {
	case isNotConnected(ie):
		e.Kind, e.Reason, e.Advice = KindNotConnected, said, c.cfg.notConnectedAdvice()
	case ie.Code == imap.ResponseCodeLimit || strings.Contains(lower, "maximum number of connections") || // i18n:keep (the server's words)
		strings.Contains(lower, "too many simultaneous connections"): // i18n:keep (Gmail's words)
		// Not the password's fault: the mailbox has as many connections as the server
		// allows. Retried with back-off, not paused for the user.
		e.Kind, e.Reason = KindServer, i18n.Sprintf("the server allows no more connections to this mailbox; %s", said)
		e.Advice = i18n.T("Other programs, devices or profiles of the same mailbox hold its connections (Microsoft 365 allows about 16 per mailbox, Gmail 15, Dovecot mail_max_userip_connections): close some, or run fewer profiles per mailbox; MailMover tries again by itself.")
	case ie.Code == imap.ResponseCodePrivacyRequired:
		e.Kind, e.Reason, e.Advice = KindInsecure, i18n.Sprintf("the server wants TLS before sign-in; %s", said), i18n.T(adviceInsecure)
	case ie.Code == imap.ResponseCodeUnavailable || strings.Contains(lower, "temporary authentication failure"): // i18n:keep (the server's words)
		if oauth {
			// Dovecot's oauth2 passdb says this when it cannot validate the token, which
			// is also what it says for a dead token: refresh, then sign in again.
			e.Reason, e.Advice = i18n.Sprintf("the server could not accept the token; %s", said), c.cfg.tokenRejectedAdvice()
		} else {
			e.Kind, e.Reason = KindServer, i18n.Sprintf("the server's sign-in service is unavailable; %s", said)
			e.Advice = i18n.T("Try again later; if it persists, ask the server's admin.")
		}
	case ie.Code == imap.ResponseCodeAuthorizationFailed:
		e.Reason = i18n.Sprintf("the signed-in identity may not use mailbox %s; %s", c.cfg.Username, said)
		e.Advice = c.cfg.notConnectedAdvice()
	case oauth:
		e.Reason, e.Advice = i18n.Sprintf("the server refused the token; %s", said), c.cfg.tokenRejectedAdvice()
	default:
		e.Reason, e.Advice = i18n.Sprintf("the server refused the username or password; %s", said), i18n.Sprintf(advicePasswordRejected, c.cfg.profileName())
	}
	return e
}
