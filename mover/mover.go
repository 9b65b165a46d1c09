package mover

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"mailmover/alert"
	"mailmover/i18n"
	"mailmover/imapsrc"
	"mailmover/store"
)

// Source is the part of an IMAP connection the mover uses. *imapsrc.Client satisfies it;
// tests use fakes. The folder is already selected when Dial returns it.
type Source interface {
	// Select selects a folder and reports its UIDVALIDITY.
	Select(ctx context.Context, name string) (imapsrc.Mailbox, error)
	// Search returns the matching UIDs, ascending, with the folder's UIDVALIDITY.
	Search(ctx context.Context, cr imapsrc.Criteria) (imapsrc.SearchResult, error)
	// Fetch streams one message (BODY.PEEK[]) into fn.
	Fetch(ctx context.Context, uid uint32, fn func(*imapsrc.Message) error) error
	// MarkSeen, Move and Delete are the post-actions; each must be idempotent.
	MarkSeen(ctx context.Context, uid uint32) error
	Move(ctx context.Context, uid uint32, folder string) error
	Delete(ctx context.Context, uid uint32) error
	// WaitForMail blocks until it is time to search again (nil) or ctx ends.
	WaitForMail(ctx context.Context, idle bool, poll time.Duration) error
	// Close ends the connection.
	Close() error
}

var _ Source = (*imapsrc.Client)(nil)

// Options configure a Mover.
type Options struct {
	// Profile is the mailbox profile to move mail for (required).
	Profile *store.Profile
	// Home is MailMover's home folder (store.Home()); the checkpoint lives in
	// HOME/state/PROFILE.json and the JSON-lines log in HOME/logs/PROFILE.log (required).
	Home string
	// Config is the connection used when Dial is nil; build it with SourceConfig.
	Config imapsrc.Config
	// Dial opens a signed-in connection with the profile's folder selected. nil means
	// imapsrc.Dial(ctx, Config).
	Dial func(ctx context.Context) (Source, error)
	// Events receives every step of the work (nil: none are sent). Sends block until the
	// consumer takes the event or the run's context ends, so the consumer must keep
	// reading until Run returns; only KindProgress events are dropped when the channel is
	// full (never the last of a pass). The channel is not closed by the mover.
	Events chan<- Event
	// Logger receives diagnostic logs (nil: slog.Default()). Events are also written as
	// JSON lines to HOME/logs/PROFILE.log unless NoLogFile is set.
	Logger *slog.Logger
	// NoLogFile turns off the JSON-lines log file.
	NoLogFile bool
	// MaxRetry caps the wait between reconnect attempts (0: 2 minutes).
	MaxRetry time.Duration
	// PauseRetry is how often a paused mover (sign in again) tries again in Run (0: 1 minute).
	PauseRetry time.Duration
	// Secrets is where the profile's tokens live (the store SourceConfig was given). When
	// set, the mover logs a KindWarning on start if the refresh token nears (or is past)
	// the provider's known lapse (auth.LapseWarningForProfile). nil: no such warning.
	Secrets store.Secrets
	// Now is the clock for the lapse warning and a failed message's wait before it is
	// tried again (nil: time.Now); tests set it.
	Now func() time.Time
	// Front names the front end in the status file ("window", "run", "service", "demo").
	Front string
	// Once makes Start do one pass (RunOnce) instead of running until stopped (Run).
	Once bool
	// Alerts sends the run's alerts (Start only): nil means alert.ForHome(Home), the
	// settings in HOME/mailmover.toml.
	Alerts *alert.Notifier
	// FromHome says that Profile was loaded from its file in Home (store.LoadProfile).
	// Once the mover holds the profile's state lock it checks that the file is still
	// there, so that a profile renamed or deleted between loading and locking does not
	// start on a fresh, empty state (and process all its mail again).
	FromHome bool
}

// ErrRunning is returned (wrapped) when another mover already holds the profile's state.
var ErrRunning = store.ErrStateLocked

// FailedError is returned by RunOnce when some messages failed; they are left unmarked
// and will be retried by the next run.
type FailedError struct {
	Failed   int // messages that failed in the pass, or wait to be tried again
	SetAside int // of those, the ones set aside after failing too often
}

// Error says how many messages failed and that they are retried.
func (e *FailedError) Error() string {
	if e.SetAside > 0 {
		return i18n.Sprintf("%d message(s) failed and were left unmarked, %d of them set aside after failing too often (see the log for the reasons; 'mailmover forget -profile P -failed' tries them again)", e.Failed, e.SetAside)
	}
	return i18n.Sprintf("%d message(s) failed and were left unmarked; they are retried on the next run (see the log for the reasons)", e.Failed)
}

// Mover moves one profile's mail into its destination folder. Create it with New; a
// Mover runs once at a time (Run or RunOnce).
type Mover struct {
	opts     Options
	prof     *store.Profile
	logger   *slog.Logger
	hooks    hooks
	mu       sync.Mutex
	running  bool
	cnt      Counters
	eventLog *slog.Logger
	// fetchLimit is how many messages the next batch fetch asks for (0: batchFetchMessages).
	// A connection that breaks before the batch's first message is complete halves it, down
	// to one message (as the one-by-one fetch), so a link that keeps breaking still makes
	// progress; each complete batch doubles it back.
	fetchLimit int
}

// New checks the options and returns a Mover. It neither connects nor touches files:
// Run and RunOnce do.
func New(o Options) (*Mover, error) {
	if o.Profile == nil {
		return nil, i18n.New("mover: no profile given")
	}
	if o.Home == "" {
		return nil, i18n.New("mover: no home folder given for the state and logs")
	}
	if o.Profile.Destination.Folder == "" {
		return nil, i18n.Errorf("profile %s: destination.folder is empty: set the folder the files go to", o.Profile.Name)
	}
	if err := o.Profile.Validate(); err != nil {
		return nil, i18n.Errorf("profile %s: %w", o.Profile.Name, err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = 2 * time.Minute
	}
	if o.PauseRetry <= 0 {
		o.PauseRetry = time.Minute
	}
	if o.Dial == nil {
		cfg := o.Config
		o.Dial = func(ctx context.Context) (Source, error) {
			c, err := imapsrc.Dial(ctx, cfg)
			if err != nil {
				return nil, err
			}
			return c, nil
		}
	}
	p := *o.Profile
	return &Mover{opts: o, prof: &p, logger: o.Logger.With("profile", p.Name)}, nil
}

// Run moves mail until ctx ends: a pass over the matching mail, then waiting for new mail
// (IDLE or polling), again and again. A lost connection is retried with capped
// exponential backoff; when the user must sign in again it sends KindPaused and tries
// again every PauseRetry. On stop it finishes or discards the message in hand and
// returns nil; it returns an error only when it cannot start (state locked, bad folder).
func (m *Mover) Run(ctx context.Context) error { return m.run(ctx, false) }

// RunOnce does one pass over the matching mail and returns. It returns a *FailedError
// when some messages failed (they stay unmarked), or the connection error when the
// server could not be reached after a few attempts.
func (m *Mover) RunOnce(ctx context.Context) error { return m.run(ctx, true) }
