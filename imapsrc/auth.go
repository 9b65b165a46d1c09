package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
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
			return errors.New("no CAPABILITY answer")
		}
		return nil
	}); err != nil {
		return classifyNet(ctx, cfg.addr(), "capability", err)
	}
	mechs := mechanisms(caps)
	if c.tlsInfo == "none" && !isLoopback(c.wire.Conn) {
		return &Error{Kind: KindInsecure, Host: cfg.addr(), Op: "sign-in",
			Reason: "refusing to send a password or token over an unencrypted connection", Advice: adviceInsecure}
	}
	missing := func(want string) error {
		offered := strings.Join(mechs, ", ")
		if offered == "" {
			offered = "none"
		}
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
		advice := "Set [security] auth to a method the server offers"
		if len(fits) > 0 {
			advice += ": " + strings.Join(fits, " or ")
		}
		advice += "."
		if want == "PLAIN" && caps.Has(imap.CapLoginDisabled) && c.tlsInfo == "none" {
			advice = "The server allows sign-in only over TLS: " + adviceInsecure
		}
		return &Error{Kind: KindMechanism, Host: cfg.addr(), Op: "sign-in",
			Reason: fmt.Sprintf("the server does not offer %s; it offers: %s", want, offered), Advice: advice}
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
			return &Error{Kind: KindToken, Host: cfg.addr(), Op: "token",
				Reason: "cannot get an OAuth2 access token",
				Advice: "Sign in again with 'mailmover login -profile P'; check the [oauth2] settings.", Err: err}
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
	said := "the server says: " + serverText(ie)
	if f := failure.String(); f != "" {
		said += " (" + f + ")"
	}
	e := &Error{Kind: KindAuth, Host: host, Op: "sign-in (" + mech + ")", Err: ie}
	lower := strings.ToLower(ie.Text)
	switch {
	case isNotConnected(ie):
		e.Kind, e.Reason, e.Advice = KindNotConnected, said, adviceNotConnected
	case ie.Code == imap.ResponseCodePrivacyRequired:
		e.Kind, e.Reason, e.Advice = KindInsecure, "the server wants TLS before sign-in; "+said, adviceInsecure
	case ie.Code == imap.ResponseCodeUnavailable || strings.Contains(lower, "temporary authentication failure"):
		if oauth {
			// Dovecot's oauth2 passdb says this when it cannot validate the token, which
			// is also what it says for a dead token: refresh, then sign in again.
			e.Reason, e.Advice = "the server could not accept the token; "+said, adviceTokenRejected
		} else {
			e.Kind, e.Reason = KindServer, "the server's sign-in service is unavailable; "+said
			e.Advice = "Try again later; if it persists, ask the server's admin."
		}
	case ie.Code == imap.ResponseCodeAuthorizationFailed:
		e.Reason = "the signed-in identity may not use mailbox " + c.cfg.Username + "; " + said
		e.Advice = adviceNotConnected
	case oauth:
		e.Reason, e.Advice = "the server refused the token; "+said, adviceTokenRejected
	default:
		e.Reason, e.Advice = "the server refused the username or password; "+said, advicePasswordRejected
	}
	return e
}
