package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"fyne.io/fyne/v2/lang"

	"mailmover/auth"
	"mailmover/mover"
	"mailmover/mover/journal"
	"mailmover/store"
)

// realBackend is the Backend of the program: profiles in store.Home(), secrets in the OS
// keyring, sign-in through auth, the mailbox through imapsrc and the mover.
type realBackend struct {
	home    string
	homeErr error
	sec     store.Secrets
	logger  *slog.Logger
	clock   func() time.Time // nil: time.Now (tests set it)
}

func (b *realBackend) now() time.Time {
	if b.clock != nil {
		return b.clock()
	}
	return time.Now()
}

// NewBackend returns the real Backend: profiles in $MAILMOVER_HOME (or the user config
// folder) and secrets in the OS keyring.
func NewBackend() Backend {
	home, err := store.Home()
	return &realBackend{home: home, homeErr: err, sec: store.Keyring(), logger: slog.Default()}
}

// newBackendSecrets is NewBackend with another secret store (the demo's memory store).
func newBackendSecrets(sec store.Secrets) Backend {
	home, err := store.Home()
	return &realBackend{home: home, homeErr: err, sec: sec, logger: slog.Default()}
}

// NewBackendWith returns the real Backend on a given home folder and secret store (tests
// use a temp folder and store.NewMemorySecrets()).
func NewBackendWith(home string, sec store.Secrets, logger *slog.Logger) Backend {
	if logger == nil {
		logger = slog.Default()
	}
	return &realBackend{home: home, sec: sec, logger: logger}
}

func (b *realBackend) Home() string { return b.home }

func (b *realBackend) ListProfiles() ([]string, error) {
	if b.homeErr != nil {
		return nil, b.homeErr
	}
	return store.ListProfiles(b.home)
}

func (b *realBackend) LoadProfile(name string) (*store.Profile, error) {
	if b.homeErr != nil {
		return nil, b.homeErr
	}
	return store.LoadProfile(b.home, name)
}

func (b *realBackend) NewProfile(name string) *store.Profile { return store.DefaultProfile(name) }

func (b *realBackend) SaveProfile(p *store.Profile) error {
	if b.homeErr != nil {
		return b.homeErr
	}
	return store.SaveProfile(b.home, p)
}

func (b *realBackend) DeleteProfile(name string) error {
	return store.DeleteProfile(b.home, name, b.sec)
}

func (b *realBackend) RenameProfile(oldName, newName string) error {
	return store.RenameProfile(b.home, oldName, newName, b.sec)
}

func (b *realBackend) RetryFailed(name string) (int, error) {
	return journal.RetryFailedMessages(b.home, name)
}

func (b *realBackend) ForgetState(name string) error { return journal.Forget(b.home, name) }

func (b *realBackend) Secrets() Secrets { return b.sec }

func (b *realBackend) ApplyPreset(o *store.OAuth2, preset, tenant string) {
	if err := auth.ApplyPreset(o, preset, tenant); err != nil {
		b.logger.Warn("preset not applied", "preset", preset, "err", err)
	}
}

func (b *realBackend) ScopeWarning(o store.OAuth2) string { return auth.ScopeWarning(o) }

func (b *realBackend) ValidateRedirect(uri string, port int) error {
	_, err := auth.ValidateRedirect(uri, port)
	var ce *auth.ConfigError
	if errors.As(err, &ce) {
		return errors.New(ce.Reason)
	}
	return err
}

func (b *realBackend) DescribeError(err error) (text, advice string) {
	return describeError(err, "")
}

func (b *realBackend) ErrorField(err error) string { return mover.Explain(err, "").Field }

// describeError gives the words and the advice for err, from the engine's one place
// for them (mover.Explain); profile is filled into the commands the advice names.
func describeError(err error, profile string) (text, advice string) {
	a := mover.Explain(err, profile)
	return a.What, a.Fix
}

// secretsOf turns the window's Secrets into a store.Secrets (they share the method set).
func secretsOf(s Secrets) store.Secrets { return storeSecrets{s} }

type storeSecrets struct{ Secrets }

func (s storeSecrets) Get(profile, kind string) (string, error) {
	v, err := s.Secrets.Get(profile, kind)
	if errors.Is(err, errNoSecret) {
		return "", store.ErrNoSecret
	}
	return v, err
}

func (b *realBackend) Login(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error) {
	ss := secretsOf(sec)
	if p.OAuth2.Flow == store.FlowClientCredentials || p.OAuth2.Flow == store.FlowServiceAccount {
		// App-only: no sign-in, one token fetched with the app's credential (secret,
		// certificate or service-account key) to show that the setup works.
		src, err := auth.NewTokenSourceFor(p, ss, b.logger)
		if err != nil {
			return nil, err
		}
		if _, err := src.AccessToken(ctx, true); err != nil {
			return nil, err
		}
		return &LoginResult{Warnings: []string{lang.L("App-only access: no refresh token is needed; MailMover gets a new token with the client secret when needed.")}}, nil
	}
	secret, err := ss.Get(p.Name, store.SecretClientSecret)
	if errors.Is(err, store.ErrNoSecret) {
		secret, err = "", nil
	}
	if err != nil {
		return nil, fmt.Errorf(lang.L("reading the client secret from the keyring: %w"), err)
	}
	cfg, err := auth.ConfigFromProfile(p.OAuth2, secret)
	if err != nil {
		return nil, err
	}
	var res *auth.Result
	switch p.OAuth2.Flow {
	case store.FlowDevice:
		res, err = auth.LoginDevice(ctx, cfg, auth.DeviceOptions{Logger: b.logger, OnCode: func(dc auth.DeviceCode) {
			u := dc.VerificationURIComplete
			if u == "" {
				u = dc.VerificationURI
			}
			switch {
			case opts.OnDeviceCode != nil:
				// The page without the code in it: the user types the code shown large.
				shown := dc.VerificationURI
				if shown == "" {
					shown = u
				}
				opts.OnDeviceCode(dc.UserCode, shown)
			case opts.OnURL != nil:
				opts.OnURL(fmt.Sprintf(lang.L("%s   (code %s)"), u, dc.UserCode))
			}
			if opts.OpenBrowser != nil {
				_ = opts.OpenBrowser(u)
			}
		}})
	default:
		res, err = auth.Login(ctx, cfg, auth.LoginOptions{OpenBrowser: opts.OpenBrowser, OnURL: opts.OnURL, Logger: b.logger,
			Paste: opts.Paste, OnPasteRefused: opts.OnPasteRefused})
	}
	if err != nil {
		return nil, err
	}
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(ss, p.Name), res.Token, time.Now()); err != nil {
		return nil, fmt.Errorf(lang.L("signed in, but the tokens could not be stored in the keyring: %w"), err)
	}
	return &LoginResult{RefreshToken: res.Token.RefreshToken != "", Expiry: res.Token.Expiry, Warnings: res.Warnings}, nil
}

func (b *realBackend) TokenState(ctx context.Context, profile string) (TokenState, error) {
	st, err := auth.NewSecretsTokenStore(b.sec, profile).Load()
	if err != nil {
		return TokenState{}, err
	}
	if st.Token == nil {
		return TokenState{}, nil
	}
	ts := TokenState{RefreshToken: st.Token.RefreshToken != "", AccessToken: st.Token.AccessToken != "", Expiry: st.Token.Expiry}
	if p, err := b.LoadProfile(profile); err == nil && ts.RefreshToken && p.Security.Auth != store.AuthPassword {
		// The same warning the mover logs on start.
		ts.Lapse = auth.LapseWarningForProfile(profile, p.OAuth2, b.sec, b.now())
	}
	return ts, nil
}

func (b *realBackend) Check(ctx context.Context, p *store.Profile, sec Secrets) (*CheckReport, error) {
	rep, err := mover.Check(ctx, mover.CheckOptions{Profile: p, Secrets: secretsOf(sec), Logger: b.logger})
	return renderCheck(rep, p), err
}

func (b *realBackend) ListFolders(ctx context.Context, p *store.Profile, sec Secrets) ([]string, error) {
	return mover.ListFolders(ctx, p, secretsOf(sec), b.logger)
}

func (b *realBackend) StartMover(ctx context.Context, p *store.Profile) (<-chan mover.Event, error) {
	h, err := mover.Start(ctx, mover.Options{Profile: p, Home: b.home, Logger: b.logger, Secrets: b.sec, FromHome: true, Front: "window"})
	if err != nil {
		// The status file says so too, for the overview and 'mailmover status'.
		a := mover.Explain(err, p.Name)
		mover.RecordStartFailure(b.home, p.Name, "window", a.What, a.Fix)
		return nil, err
	}
	return h.Events(), nil
}

func (b *realBackend) Status(profile string) (*mover.Status, error) {
	if b.homeErr != nil {
		return nil, b.homeErr
	}
	return mover.ReadStatus(b.home, profile)
}
