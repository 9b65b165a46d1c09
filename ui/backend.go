package ui

import (
	"context"
	"errors"
	"io"
	"time"

	"mailmover/mover"
	"mailmover/store"
)

// Backend is everything the window needs from the rest of MailMover. The window only
// renders state and calls these methods; the real implementation (NewBackend) wires
// store, auth, imapsrc and mover, and tests use a fake. Methods that talk to the network
// or the keyring are called from goroutines, never from the UI thread.
type Backend interface {
	// Home is the folder where profiles, state and logs live (for messages only).
	Home() string
	// ListProfiles returns the names of the saved profiles, sorted.
	ListProfiles() ([]string, error)
	// LoadProfile reads a saved profile.
	LoadProfile(name string) (*store.Profile, error)
	// NewProfile returns a fresh profile with the defaults (not saved).
	NewProfile(name string) *store.Profile
	// SaveProfile validates and writes a profile. Validation errors are *store.FieldError.
	SaveProfile(p *store.Profile) error
	// DeleteProfile removes a profile, its state and its secrets.
	DeleteProfile(name string) error
	// RenameProfile renames a profile (file, state and secrets).
	RenameProfile(oldName, newName string) error
	// ForgetState forgets which messages of the profile are done, so the next run
	// processes matching mail again (also mail already marked as read).
	ForgetState(name string) error
	// RetryFailed makes the profile's failed messages — waiting or set aside after failing
	// too often — due at the next run, and says how many there are; nothing else changes.
	RetryFailed(name string) (int, error)
	// Secrets is where passwords, client secrets and tokens live (the OS keyring).
	Secrets() Secrets

	// ApplyPreset fills the provider's URLs and scope into o (Microsoft needs tenant).
	ApplyPreset(o *store.OAuth2, preset, tenant string)
	// ScopeWarning returns a warning about o's scope, or "" when it looks right.
	ScopeWarning(o store.OAuth2) string
	// ValidateRedirect checks a redirect URI and port; the error says what to change.
	ValidateRedirect(uri string, port int) error
	// DescribeError turns an error into a sentence and the user's next step.
	DescribeError(err error) (text, advice string)
	// ErrorField names the profile key an error is about ("security.tls"), or "" (the
	// engine's advice as data: the window shows that field).
	ErrorField(err error) string

	// Login runs the profile's OAuth2 sign-in and stores the tokens in Secrets.
	Login(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error)
	// TokenState reports which tokens the keyring holds for the profile (no values).
	TokenState(ctx context.Context, profile string) (TokenState, error)
	// Check signs in, lists folders and counts matching mail, as `mailmover check`.
	Check(ctx context.Context, p *store.Profile, sec Secrets) (*CheckReport, error)
	// ListFolders signs in and lists the mailbox's folders.
	ListFolders(ctx context.Context, p *store.Profile, sec Secrets) ([]string, error)
	// StartMover runs the mover for p until ctx is cancelled. The channel is closed when
	// the run has ended (after a KindStopped event when possible). Several profiles'
	// movers run at once, each started with its own call.
	StartMover(ctx context.Context, p *store.Profile) (<-chan mover.Event, error)
	// Status reads the status file the engine keeps for a profile's running mover
	// (mover.ReadStatus): of this window's movers and of those another process runs.
	Status(profile string) (*mover.Status, error)
}

// Secrets holds secrets by profile and kind; it has the method set of store.Secrets.
type Secrets interface {
	Get(profile, kind string) (string, error)
	Set(profile, kind, value string) error
	Delete(profile, kind string) error
}

// Secret kinds, as in the keyring account names "PROFILE/KIND".
const (
	secretClientSecret = "client-secret"
	secretPassword     = "password"
	secretRefreshToken = "refresh-token"
	secretAccessToken  = "access-token"
)

// LoginOptions are the window's hooks into the sign-in flow.
type LoginOptions struct {
	// OpenBrowser opens the sign-in page (fyne's App.OpenURL in the window).
	OpenBrowser func(url string) error
	// OnURL receives the sign-in URL so the window can show it for copying.
	OnURL func(url string)
	// OnDeviceCode receives the device-code flow's user code and the page to enter it
	// on (the window shows the code large, with a copy button). nil: OnURL gets both.
	OnDeviceCode func(userCode, verificationURL string)
	// Paste, when set, gives the addresses the user pastes (one a line) for paste-back
	// sign-in: the address a browser on another machine ended on; whichever of it and
	// the loopback listener answers first wins. OnPasteRefused hears why a pasted
	// address was not taken.
	Paste          io.Reader
	OnPasteRefused func(err error)
}

// LoginResult is what a successful sign-in reports. It holds no secret values.
type LoginResult struct {
	RefreshToken bool      // a refresh token was received and stored
	Expiry       time.Time // the access token's expiry (zero: unknown)
	Warnings     []string
}

// TokenState says which tokens are stored for a profile. It holds no secret values.
type TokenState struct {
	RefreshToken bool
	AccessToken  bool
	Expiry       time.Time // the stored access token's expiry, when known
	// Lapse warns when the refresh token nears the provider's known lapse ("" if not).
	Lapse string
}

// CheckReport is the outcome of Check in plain words.
type CheckReport struct {
	OK    bool     // everything needed to run works
	Lines []string // what was checked, one finding per line
}

// ErrNotAvailable is returned by backend methods whose part of MailMover is missing in
// this build.
var ErrNotAvailable = errors.New("this function is not available in this build")

// overlaySecrets reads secrets typed into the window but not saved yet before falling
// back to the stored ones; it never writes to the fallback.
type overlaySecrets struct {
	typed map[string]string // kind -> value (profile-independent: one profile edited)
	base  Secrets
}

func (o overlaySecrets) Get(profile, kind string) (string, error) {
	if v, ok := o.typed[kind]; ok && v != "" {
		return v, nil
	}
	if o.base == nil {
		return "", errNoSecret
	}
	return o.base.Get(profile, kind)
}

func (o overlaySecrets) Set(profile, kind, value string) error {
	if o.base == nil {
		return ErrNotAvailable
	}
	return o.base.Set(profile, kind, value)
}

func (o overlaySecrets) Delete(profile, kind string) error {
	if o.base == nil {
		return ErrNotAvailable
	}
	return o.base.Delete(profile, kind)
}

var errNoSecret = errors.New("no secret stored")
