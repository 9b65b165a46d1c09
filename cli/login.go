package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"mailmover/auth"
	"mailmover/i18n"
	"mailmover/store"
)

// loginBrowser makes the browser opener of `mailmover login`; tests replace it.
var loginBrowser = auth.SystemBrowser

func init() {
	register("login", i18n.Key("sign in with the profile's OAuth2 flow and store the tokens in the keyring [-device]"), runLogin)
}

var loginUsage = i18n.Key(`usage: mailmover login -profile P [-device] [-no-browser] [-timeout 5m]

Runs the profile's OAuth2 sign-in and stores the tokens in the OS keyring.
  authcode (default): opens the browser ($BROWSER first, else the desktop's opener) and
                      prints the address too; the answer comes back to redirect_uri
  -no-browser:        only prints the address, for a browser on any machine; paste the
                      address it ends on (redirect_uri?code=…&state=…) here (paste-back),
                      or let it reach redirect_uri (e.g. ssh -L PORT:localhost:PORT)
  -device:            device-code flow: prints an address and a code to enter on any device
  client_credentials: no sign-in needed; fetches one app-only token to check the setup`)

func runLogin(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("login", loginUsage, env)
	profile := fs.String("profile", "", i18n.T("profile name"))
	device := fs.Bool("device", false, i18n.T("use the device-code flow (no browser on this machine)"))
	noBrowser := fs.Bool("no-browser", false, i18n.T("do not open a browser; print the address and accept the address the browser ends on, pasted here"))
	timeout := fs.Duration("timeout", auth.DefaultLoginTimeout, i18n.T("how long to wait for the browser"))
	if code, ok := parseProfileArgs(fs, profile, args, env, loginUsage); !ok {
		return code
	}
	if *timeout <= 0 {
		i18n.Fprintf(env.Stderr, "mailmover login: -timeout must be positive\n%s\n", i18n.T(loginUsage))
		return 2
	}
	fail := func(err error) int {
		text, advice := auth.DescribeErrorFor(err, *profile)
		fmt.Fprintf(env.Stderr, "mailmover login: %s\n", text) // i18n:keep (command name and a translated error)
		if advice != "" {
			fmt.Fprintf(env.Stderr, "  %s\n", advice)
		}
		return 1
	}
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		return fail(err)
	}
	p, err := store.LoadProfile(home, *profile)
	if err != nil {
		return fail(err)
	}
	if p.Security.Auth == store.AuthPassword {
		i18n.Fprintf(env.Stderr, "mailmover login: profile %s signs in with a password (security.auth = \"password\"); there is nothing to log in.\n  Store the password with 'mailmover secret set -profile %s password', or set auth = \"xoauth2\".\n",
			*profile, *profile)
		return 1
	}
	o := p.OAuth2
	if *device {
		o.Flow = store.FlowDevice
	}
	sec := openSecrets()
	if o.AppOnly() {
		return loginAppOnly(ctx, p, sec, env, fail)
	}
	secret, err := sec.Get(*profile, store.SecretClientSecret)
	if errors.Is(err, store.ErrNoSecret) {
		secret, err = "", nil
	}
	if err != nil {
		return fail(err)
	}
	cfg, err := auth.ConfigFromProfile(o, secret)
	if err != nil {
		return fail(err)
	}
	if w := auth.ScopeWarning(o); w != "" {
		i18n.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var res *auth.Result
	switch cfg.Flow {
	case store.FlowDevice:
		res, err = auth.LoginDevice(ctx, cfg, auth.DeviceOptions{Logger: logger, OnCode: func(c auth.DeviceCode) {
			i18n.Fprintf(env.Stdout, "On any device, open\n  %s\nand enter the code\n  %s\n", c.VerificationURI, c.UserCode)
			if c.VerificationURIComplete != "" {
				i18n.Fprintf(env.Stdout, "(or open %s, which carries the code)\n", c.VerificationURIComplete)
			}
			if !c.Expiry.IsZero() {
				i18n.Fprintf(env.Stdout, "The code expires at %s. Waiting…\n", c.Expiry.Local().Format("15:04:05"))
			}
		}})
	default:
		opts := auth.LoginOptions{Timeout: *timeout, Logger: logger, OnURL: func(u string) {
			i18n.Fprintf(env.Stdout, "Sign in with this address in a browser on this machine (it should open by itself):\n  %s\nWaiting for the answer at %s (up to %s)…\n", u, cfg.RedirectURI, *timeout)
		}}
		if *noBrowser {
			// Paste-back: the browser may be on another machine, where the redirect to
			// localhost cannot load; its address carries the answer all the same.
			opts.OnURL = func(u string) {
				i18n.Fprintf(env.Stdout, "Open this address in a browser, on this or any other machine, and sign in:\n  %s\n", u)
				i18n.Fprintf(env.Stdout, "The browser then goes to %s?code=…&state=… — on another machine that page does not load, which is expected.\nCopy that whole address from the address bar, paste it here and press Enter.\nWaiting for it here and at %s (up to %s)…\n", cfg.RedirectURI, cfg.RedirectURI, *timeout)
			}
			opts.Paste = env.Stdin
			opts.OnPasteRefused = func(err error) {
				i18n.Fprintf(env.Stderr, "not taken: %v; still waiting\n", err)
			}
		} else {
			opts.OpenBrowser = loginBrowser(env.Getenv)
		}
		res, err = auth.Login(ctx, cfg, opts)
	}
	if err != nil {
		return fail(err)
	}
	ts := auth.NewSecretsTokenStore(sec, *profile)
	ts.Logger = logger
	if err := auth.SaveLogin(ts, res.Token, time.Now()); err != nil {
		return fail(i18n.Errorf("signed in, but the tokens could not be stored: %w", err))
	}
	for _, w := range res.Warnings {
		i18n.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	i18n.Fprintf(env.Stdout, "Signed in; tokens stored in the keyring for profile %s.\n", *profile)
	printToken(env.Stdout, res.Token.RefreshToken != "", res.Token.AccessToken, res.Token.Expiry)
	return 0
}

// loginClientCredentials fetches one app-only token to prove the setup works.
// loginAppOnly checks an app-only profile (client credentials, service account): there
// is nothing to sign in, but the token endpoint must accept the app's credential.
func loginAppOnly(ctx context.Context, p *store.Profile, sec store.Secrets, env Env, fail func(error) int) int {
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src, err := auth.NewTokenSourceFor(p, sec, logger)
	if err != nil {
		return fail(err)
	}
	at, err := src.AccessToken(ctx, false)
	if err != nil {
		return fail(err)
	}
	i18n.Fprintf(env.Stdout, "Profile %s uses app-only access: no sign-in is needed, the mover fetches tokens itself.\n", p.Name)
	switch {
	case p.OAuth2.Flow == store.FlowServiceAccount:
		i18n.Fprintf(env.Stdout, "The token endpoint accepted the service account for %s.\n", p.Setup.Username)
	case p.OAuth2.UsesCertificate():
		i18n.Fprintln(env.Stdout, "The token endpoint accepted the client ID and certificate.")
	default:
		i18n.Fprintln(env.Stdout, "The token endpoint accepted the client ID and secret.")
	}
	if w, _ := auth.CredentialWarning(p, sec, time.Now()); w != "" {
		i18n.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	i18n.Fprintf(env.Stdout, "Access token: %s\n", mask(at))
	return 0
}

// printToken shows what was stored, masked.
func printToken(w io.Writer, refresh bool, access string, expiry time.Time) {
	if refresh {
		i18n.Fprintln(w, "Refresh token: held")
	} else {
		i18n.Fprintln(w, "Refresh token: none (sign in again when the access token expires)")
	}
	exp := i18n.T("no expiry given")
	if !expiry.IsZero() {
		local := expiry.Local()
		exp = i18n.Sprintf("expires %s (in %s)", i18n.FormatDate(local)+" "+local.Format("15:04:05"), time.Until(expiry).Round(time.Minute))
	}
	i18n.Fprintf(w, "Access token: %s, %s\n", mask(access), exp)
}

// mask shows only the length of a token.
func mask(tok string) string {
	if tok == "" {
		return i18n.T("none")
	}
	return i18n.Sprintf("•••••••• (%d characters)", len(tok))
}
