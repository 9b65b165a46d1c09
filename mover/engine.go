package mover

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"mailmover/auth"
	"mailmover/i18n"
	"mailmover/imapsrc"
	"mailmover/store"
)

// The engine's entries for every front end (the window, the command line, the demo, the
// service): Start runs the mover for a profile, Check tests a profile's connection, and
// ListFolders reads the folders for a picker. Each builds the connection from the profile
// and its secrets itself (SourceConfig), so a front end needs neither imapsrc nor its own
// relay of events.

// Handle is a running mover started with Start.
type Handle struct {
	events chan Event
	done   chan struct{}
	cancel context.CancelFunc
	err    error
}

// Events returns the run's events. The channel is closed when the run has ended, after
// its last event (always a KindStopped); the caller must read it until then.
func (h *Handle) Events() <-chan Event { return h.events }

// Done is closed when the run has ended and its events are all delivered.
func (h *Handle) Done() <-chan struct{} { return h.done }

// Stop asks the run to stop after the file in hand (it cancels the run's context); Wait
// then returns once it has.
func (h *Handle) Stop() { h.cancel() }

// Wait waits for the run to end (the caller must be reading Events meanwhile, or have
// stopped reading by cancelling) and returns what Run or RunOnce returned: nil after a
// stop, a *FailedError when a pass of a once-run left messages failed, or the error that
// kept the run from starting or (once) from reaching the server. The run has ended once
// its alerts went out too (at most alert.FlushWait after its last event).
func (h *Handle) Wait() error {
	<-h.done
	return h.err
}

// Start starts a mover for o.Profile in the background: Run, or RunOnce when o.Once is
// set. It builds the connection from the profile and o.Secrets (SourceConfig) unless
// o.Config or o.Dial is given, and makes the event channel itself (o.Events must be nil).
// Errors that keep it from starting at all (a profile that does not validate, no secret
// to sign in with) are returned at once; everything later arrives as events. Every run
// keeps its status file (status.go) and alerts by HOME/mailmover.toml (alerts.go).
func Start(ctx context.Context, o Options) (*Handle, error) {
	if o.Events != nil {
		return nil, i18n.New("mover: Start makes the event channel itself; leave Options.Events nil")
	}
	if o.Profile == nil {
		return nil, i18n.New("mover: no profile given")
	}
	if o.Dial == nil && o.Config.Host == "" {
		cfg, err := SourceConfig(o.Profile, o.Secrets, o.Logger)
		if err != nil {
			return nil, err
		}
		o.Config = cfg
	}
	events := make(chan Event, 256)
	o.Events = events
	m, err := New(o)
	if err != nil {
		return nil, err
	}
	sw := newStatusWriter(o.Home, o, o.Front)
	aw := watchAlerts(o, sw)
	sw.write()
	ctx, cancel := context.WithCancel(ctx)
	h := &Handle{events: make(chan Event, 256), done: make(chan struct{}), cancel: cancel}
	result := make(chan error, 1)
	go func() {
		defer close(result)
		if o.Once {
			result <- m.RunOnce(ctx)
		} else {
			result <- m.Run(ctx)
		}
	}()
	go func() {
		defer close(h.done)
		defer close(h.events)
		defer cancel()
		last := KindConnecting
		forward := func(e Event) {
			last = e.Kind
			sw.event(e)
			h.events <- e
		}
		beat := time.NewTicker(StatusHeartbeat / 4)
		defer beat.Stop()
		sw.tell()
		if w := alertSettingsProblem(o); w != nil {
			forward(*w)
		}
		for {
			select {
			case <-beat.C:
				sw.beat()
			case e := <-events:
				forward(e)
			case err := <-result:
				for {
					select {
					case e := <-events:
						forward(e)
						continue
					default:
					}
					break
				}
				h.err = err
				if last != KindStopped {
					forward(Event{Time: time.Now(), Kind: KindStopped, Profile: o.Profile.Name, Text: i18n.T("stopped")})
				}
				aw.Flush()
				return
			}
		}
	}()
	return h, nil
}

// SearchCriteria are a profile's search settings as the server is asked for them
// (Criteria builds them from a profile).
type SearchCriteria = imapsrc.Criteria

// Folder is a folder of a mailbox.
type Folder = imapsrc.Folder

// CheckReport is what Check found out about a profile's mailbox, filled as far as the
// check got (also when it failed).
type CheckReport struct {
	// Server is host:port; Username the name signed in with.
	Server, Username string
	// Security is e.g. "TLS 1.3 (implicit)"; Mechanism the sign-in mechanism used.
	Security, Mechanism string
	// Elapsed is how long the check took.
	Elapsed time.Duration
	// Folder is the profile's folder, with its message count and UIDVALIDITY.
	Folder imapsrc.Mailbox
	// Matching is how many messages match the profile's search settings (Criteria).
	Matching int
	// Criteria are the search settings Matching was counted with.
	Criteria SearchCriteria
	// Folders lists the mailbox's folders.
	Folders []Folder
	// MoveTargetMissing is set when after = "move" names a folder the server lacks.
	MoveTargetMissing bool
	// Warnings are things that work but deserve a look.
	Warnings []string
	// SignedIn says the sign-in succeeded (and the folder was selected).
	SignedIn bool
}

// OK reports whether everything a run needs works.
func (r *CheckReport) OK() bool { return r.SignedIn && !r.MoveTargetMissing }

// CheckOptions are the inputs of Check.
type CheckOptions struct {
	// Profile is the profile to check (required); Secrets holds its password or tokens.
	Profile *store.Profile
	Secrets store.Secrets
	// Logger receives diagnostic logs (nil: slog.Default()).
	Logger *slog.Logger
	// Timeout bounds the whole check (0: 60 seconds).
	Timeout time.Duration
}

// Check signs in with the profile, lists the folders, selects the profile's folder and
// counts the mail matching its search settings, as 'mailmover check' and the window's
// Check button show it. On failure it returns the report as far as it got and the error;
// Explain turns the error into advice. A timeout says so.
func Check(ctx context.Context, o CheckOptions) (*CheckReport, error) {
	p := o.Profile
	if p == nil {
		return nil, i18n.New("no profile given")
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	out := &CheckReport{Username: p.Setup.Username, Criteria: Criteria(p)}
	// A client certificate's known end, also when the sign-in fails because of it.
	if w, _ := auth.CredentialWarning(p, o.Secrets, time.Now()); w != "" {
		out.Warnings = append(out.Warnings, w)
	}
	cfg, err := SourceConfig(p, o.Secrets, o.Logger)
	if err != nil {
		return out, err
	}
	cfg.Timeout = min(timeout/2, 30*time.Second)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep, err := imapsrc.Check(ctx, cfg, out.Criteria)
	if rep != nil {
		out.Server, out.Security, out.Mechanism, out.Elapsed = rep.Server, rep.Security, rep.Mechanism, rep.Elapsed
		out.Folder, out.Matching, out.Folders = rep.Mailbox, rep.Matching, rep.Folders
		out.Warnings = append(out.Warnings, rep.Warnings...)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return out, &TimeoutError{After: timeout, Err: err}
		}
		return out, err
	}
	out.SignedIn = true
	out.MoveTargetMissing = p.Common.After == store.AfterMove && !HasFolder(out.Folders, p.Common.MoveTo)
	return out, nil
}

// TimeoutError says a check got no answer in time.
type TimeoutError struct {
	After time.Duration
	Err   error
}

func (e *TimeoutError) Error() string {
	return i18n.Sprintf("no answer within %s", e.After)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// HasFolder reports whether folders holds name (INBOX in any case).
func HasFolder(folders []Folder, name string) bool {
	for _, f := range folders {
		if f.Name == name || (strings.EqualFold(name, "INBOX") && strings.EqualFold(f.Name, "INBOX")) {
			return true
		}
	}
	return false
}

// ListFolders signs in with the profile and returns the names of its selectable folders,
// for a folder picker.
func ListFolders(ctx context.Context, p *store.Profile, sec store.Secrets, logger *slog.Logger) ([]string, error) {
	cfg, err := SourceConfig(p, sec, logger)
	if err != nil {
		return nil, err
	}
	c, err := imapsrc.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	fs, err := c.ListFolders(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range fs {
		if !f.NoSelect {
			names = append(names, f.Name)
		}
	}
	return names, nil
}
