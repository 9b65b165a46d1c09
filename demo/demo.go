package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"mailmover/demo/signin"
	"mailmover/i18n"
	"mailmover/mover/journal"
	"mailmover/store"
)

// Demo credentials, shown on the demo's sign-in page.
const (
	DefaultUser     = "demo"
	DefaultPassword = "demo"
)

// DefaultInterval is how often a new message arrives while the demo runs.
const DefaultInterval = 5 * time.Second

// DefaultDestFolder is the destination folder, relative to the working directory.
const DefaultDestFolder = "mailmover-demo"

// Options configure Start. The zero value is the demo as `mailmover demo` runs it.
type Options struct {
	// Home is MailMover's home folder, where profiles/demo.toml is written; "" means
	// store.Home() ($MAILMOVER_HOME, else the user config folder).
	Home string
	// Dest is the destination folder; "" means ./mailmover-demo in the working directory.
	// A relative path is made absolute from the working directory.
	Dest string
	// User and Password are the demo login ("" means DefaultUser / DefaultPassword).
	User, Password string
	// Interval is how often a new message arrives: 0 means DefaultInterval, a negative
	// value turns the stream of new mail off.
	Interval time.Duration
	// RedirectPort is the preferred sign-in redirect port; 0 means 3017. When it is busy
	// the profile gets a free port instead.
	RedirectPort int
	// Logger receives the servers' diagnostics; nil means a logger that drops them.
	Logger *slog.Logger
}

// Demo is a running demo: the two servers, the stream of new mail and the profile that
// points at them. Close stops everything.
type Demo struct {
	// Profile is the demo profile as written to Home.
	Profile *store.Profile
	// Home is MailMover's home folder the profile was written to.
	Home string

	signin *signin.Server
	imap   mailServer
	cancel context.CancelFunc
	wg     sync.WaitGroup
	logger *slog.Logger

	existing int           // files already in the destination at start
	skipped  string        // the user's profiles/demo.toml, left alone ("" when the demo's or absent)
	interval time.Duration // how often new mail arrives (<= 0: never)

	mu          sync.Mutex
	delivered   int
	closeOnce   sync.Once
	serversOnce sync.Once
	closeErr    error
}

// Start starts the demo: the sign-in server and the IMAP server on free loopback ports,
// the sample mail, the stream of new mail, and the profile "demo" in the home folder
// (replacing an earlier demo profile, its stale tokens in sec and its state). Only a
// profile the demo wrote itself is replaced (claimProfile): when profiles/demo.toml is
// the user's, the demo writes demo-2 (or the next free name) and leaves the user's file
// and keyring entries as they are. sec may be nil (tokens are then not touched).
// Everything stops when ctx ends or Close is called.
func Start(ctx context.Context, opts Options, sec store.Secrets) (*Demo, error) {
	if opts.User == "" {
		opts.User = DefaultUser
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.RedirectPort == 0 {
		opts.RedirectPort = PreferredRedirectPort
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	home := opts.Home
	if home == "" {
		h, err := store.Home()
		if err != nil {
			return nil, i18n.Errorf("demo: find MailMover's home folder (set MAILMOVER_HOME): %w", err)
		}
		home = h
	}
	dest := opts.Dest
	if dest == "" {
		dest = DefaultDestFolder
	}
	dest, err := filepath.Abs(dest)
	if err != nil {
		return nil, i18n.Errorf("demo: resolve the destination folder %q from the working directory: %w", opts.Dest, err)
	}
	name, skipped, err := claimProfile(home)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	redirectPort, err := pickRedirectPort(opts.RedirectPort)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	d := &Demo{Home: home, cancel: cancel, logger: logger, existing: countFiles(dest), interval: opts.Interval, skipped: skipped}
	ok := false
	defer func() {
		if !ok {
			_ = d.Close()
		}
	}()

	d.signin, err = signin.Start(ctx, signin.Options{User: opts.User, Password: opts.Password, ShowCredentials: true, Logger: logger})
	if err != nil {
		return nil, i18n.Errorf("demo: start the sign-in server: %w", err)
	}
	user := opts.User
	d.imap, err = startIMAP(ctx, user, d.signin.Validate, logger)
	if err != nil {
		return nil, i18n.Errorf("demo: start the IMAP server: %w", err)
	}
	for i, s := range samples() {
		if err := d.imap.Deliver(s.build(i + 1)); err != nil {
			return nil, i18n.Errorf("demo: seed the sample mail: %w", err)
		}
	}

	host, port, err := splitAddr(d.imap.Addr())
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.Profile = newProfile(name, profileParams{
		imapHost: host, imapPort: port, user: user,
		authURL: d.signin.AuthURL(), tokenURL: d.signin.TokenURL(),
		clientID: signin.ClientID, redirectPort: redirectPort, dest: dest,
	})
	// The servers are new, so an earlier run's tokens and checkpoints mean nothing:
	// the tokens would be refused, and the new mailbox reuses UIDVALIDITY 1.
	if err := journal.Forget(home, name); err != nil {
		return nil, i18n.Errorf("demo: clear the demo's old state (is another demo or mover running on it?): %w", err)
	}
	if err := store.SaveProfile(home, d.Profile); err != nil {
		return nil, i18n.Errorf("demo: write the demo profile to %s: %w", store.ProfilePath(home, name), err)
	}
	if err := writeOwnerMark(home, name); err != nil {
		return nil, i18n.Errorf("demo: mark %s as the demo's own: %w", store.ProfilePath(home, name), err)
	}
	if sec != nil {
		for _, kind := range []string{store.SecretRefreshToken, store.SecretAccessToken} {
			if err := sec.Delete(name, kind); err != nil && !errors.Is(err, store.ErrNoSecret) {
				logger.Warn("could not clear an old demo token from the keyring", "kind", kind, "err", err)
			}
		}
	}

	if opts.Interval > 0 {
		d.wg.Add(1)
		go d.stream(ctx, opts.Interval)
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		<-ctx.Done()
		d.closeServers()
	}()
	ok = true
	return d, nil
}

// stream delivers a new message every interval until ctx ends.
func (d *Demo) stream(ctx context.Context, interval time.Duration) {
	defer d.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := d.imap.Deliver(liveMessage(n, now)); err != nil {
				if ctx.Err() == nil {
					d.logger.Warn("demo: could not deliver a new message", "err", err)
				}
				return
			}
			d.mu.Lock()
			d.delivered++
			d.mu.Unlock()
		}
	}
}

// Delivered is the number of messages that arrived after the start (not counting the
// samples).
func (d *Demo) Delivered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.delivered
}

// SampleCount is the number of sample messages the mailbox starts with.
func SampleCount() int { return len(samples()) }

// IMAPAddr is the IMAP server's host:port.
func (d *Demo) IMAPAddr() string { return d.imap.Addr() }

// Issuer is the sign-in server's base URL.
func (d *Demo) Issuer() string { return d.signin.Issuer() }

// User is the demo login name (also the IMAP user name).
func (d *Demo) User() string { return d.signin.User() }

// Password is the demo login's password, shown on the sign-in page.
func (d *Demo) Password() string { return d.signin.Password() }

// PrintSummary writes where the servers listen and what to do next.
func (d *Demo) PrintSummary(w io.Writer) {
	p := d.Profile
	i18n.Fprintf(w, "MailMover demo — everything runs in this process, on loopback only:\n")
	arrivals := i18n.T("no new mail arrives")
	if d.interval > 0 {
		arrivals = i18n.Sprintf("a new one every %s", d.interval)
	}
	i18n.Fprintf(w, "  IMAP server     imap://%s  (XOAUTH2/OAUTHBEARER, user %s, %d sample messages, %s)\n", d.IMAPAddr(), p.Setup.Username, SampleCount(), arrivals)
	i18n.Fprintf(w, "  sign-in server  %s  (user %q, password %q)\n", d.Issuer(), d.User(), d.Password())
	i18n.Fprintf(w, "  redirect        %s\n", p.OAuth2.RedirectURI)
	i18n.Fprintf(w, "  profile         %s\n", store.ProfilePath(d.Home, p.Name))
	if d.skipped != "" {
		i18n.Fprintf(w, "  note: %s was not written by the demo (or was changed since), so the demo leaves it and its keyring entries alone and uses the profile %q\n", d.skipped, p.Name)
	}
	i18n.Fprintf(w, "  files go to     %s%c\n", p.Destination.Folder, os.PathSeparator)
	if d.existing > 0 {
		i18n.Fprintf(w, "  note: that folder already holds %s file(s), e.g. from an earlier demo; the demo's servers start afresh,\n        so the sample files arrive again next to them (renamed on conflict). Delete the folder for a clean start.\n",
			i18n.FormatInt(int64(d.existing)))
	}
}

// countFiles counts the regular files below dir (0 when it does not exist).
func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// Close stops the stream of new mail and both servers, and waits for them. It is safe to
// call more than once.
func (d *Demo) Close() error {
	d.closeOnce.Do(func() {
		if d.cancel != nil {
			d.cancel()
		}
		d.closeServers()
		d.wg.Wait()
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closeErr
}

// closeServers closes both servers, once.
func (d *Demo) closeServers() {
	d.serversOnce.Do(func() {
		var errs []error
		if d.imap != nil {
			errs = append(errs, d.imap.Close())
		}
		if d.signin != nil {
			errs = append(errs, d.signin.Close())
		}
		d.mu.Lock()
		d.closeErr = errors.Join(errs...)
		d.mu.Unlock()
	})
}
