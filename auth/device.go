package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// DeviceCode is what the user needs to finish a device-code sign-in on another device.
type DeviceCode struct {
	// VerificationURI is the page to open (on any device).
	VerificationURI string
	// VerificationURIComplete, if the provider sends it, already carries the code.
	VerificationURIComplete string
	// UserCode is the code to type there.
	UserCode string
	// Expiry is when the code lapses.
	Expiry time.Time
}

// DeviceOptions tune LoginDevice.
type DeviceOptions struct {
	// OnCode receives the code to show; required.
	OnCode func(DeviceCode)
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// ErrDeviceCodeExpired is wrapped when the device code lapsed before the user finished.
var ErrDeviceCodeExpired = i18n.NewError("the device code expired")

// deviceCodeLifetime bounds the wait for a device code that came without expires_in
// (Microsoft's codes live 15 minutes).
var deviceCodeLifetime = 15 * time.Minute

// LoginDevice runs the device-code flow (RFC 8628) with x/oauth2: it asks cfg.DeviceURL
// for a code, hands it to opts.OnCode, then polls the token URL at the provider's interval
// (slower when told slow_down) until the user finishes, declines (a *TokenError with
// access_denied), or the code expires (wrapping ErrDeviceCodeExpired). Cancel ctx to stop.
func LoginDevice(ctx context.Context, cfg Config, opts DeviceOptions) (*Result, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if opts.OnCode == nil {
		return nil, errors.New("LoginDevice: DeviceOptions.OnCode is required") // i18n:keep (a programming error)
	}
	if cfg.ClientID == "" {
		return nil, &ConfigError{Field: "client_id", Reason: i18n.T("empty")}
	}
	if err := checkEndpoint("device_url", cfg.DeviceURL); err != nil {
		return nil, err
	}
	if err := checkEndpoint("token_url", cfg.TokenURL); err != nil {
		return nil, err
	}
	if isGoogle(store.OAuth2{Preset: cfg.Preset, TokenURL: cfg.TokenURL}) {
		// Google's device flow refuses https://mail.google.com/ with invalid_scope: say so
		// before a code is shown that can never work.
		return nil, &ConfigError{Field: "flow", Reason: i18n.T("Google's device flow does not allow the Gmail scope https://mail.google.com/ (it answers invalid_scope): use the browser sign-in (flow = \"authcode\"); on a server without a browser, 'mailmover login' with -no-browser and paste the address the browser ends on")}
	}
	oc := cfg.oauth2Config("")
	hctx := cfg.httpContext(ctx)
	da, err := oc.DeviceAuth(hctx)
	if err != nil {
		return nil, deviceBlocked(tokenError(i18n.Key("device code"), cfg.DeviceURL, err))
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, i18n.Errorf("device code: the provider's answer at %s lacks device_code, user_code or verification_uri; check device_url", cfg.DeviceURL)
	}
	if da.Expiry.IsZero() {
		// No expires_in (it is required by RFC 8628): do not poll forever.
		da.Expiry = time.Now().Add(deviceCodeLifetime)
	}
	opts.OnCode(DeviceCode{VerificationURI: clean(da.VerificationURI), VerificationURIComplete: clean(da.VerificationURIComplete), UserCode: clean(da.UserCode), Expiry: da.Expiry})
	logger.Info("device sign-in: waiting for the user", "verification_uri", da.VerificationURI, "expiry", da.Expiry)
	tok, err := oc.DeviceAccessToken(hctx, da)
	if err != nil {
		if ctx.Err() != nil {
			return nil, i18n.Errorf("device sign-in cancelled: %w", ctx.Err())
		}
		if errors.Is(err, context.DeadlineExceeded) && !da.Expiry.IsZero() && !time.Now().Before(da.Expiry.Add(-2*time.Second)) {
			return nil, i18n.Errorf("%w at %s before the sign-in was finished: run the sign-in again and enter the code sooner", ErrDeviceCodeExpired, da.Expiry.Format(time.TimeOnly))
		}
		err = tokenError(i18n.Key("device sign-in"), cfg.TokenURL, err)
		var te *TokenError
		if errors.As(err, &te) && te.Code == "expired_token" {
			return nil, fmt.Errorf("%w: %w", ErrDeviceCodeExpired, err)
		}
		return nil, deviceBlocked(err)
	}
	return &Result{Token: tok, Warnings: tokenWarnings(cfg, tok)}, nil
}

// DeviceBlockedError is a device-code sign-in the tenant refused as a flow: Microsoft
// Entra's security defaults (AADSTS530035) or a Conditional Access policy (AADSTS53003)
// block the device-code flow, which Microsoft recommends everywhere. Its advice points to
// the browser sign-in: paste-back or an SSH tunnel for a machine without a browser.
type DeviceBlockedError struct{ Err error }

func (e *DeviceBlockedError) Error() string { return e.Err.Error() }
func (e *DeviceBlockedError) Unwrap() error { return e.Err }

// deviceBlocked wraps err in a *DeviceBlockedError when the provider's description names
// AADSTS530035 or AADSTS53003; other errors pass unchanged.
func deviceBlocked(err error) error {
	var te *TokenError
	if errors.As(err, &te) && (hasAADCode(te.Description, "AADSTS530035") || hasAADCode(te.Description, "AADSTS53003")) {
		return &DeviceBlockedError{Err: err}
	}
	return err
}
