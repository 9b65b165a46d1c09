// Package fleet runs many profiles at once in one process, each with its own mover,
// connection, state, lock, log, status file and back-off: 'mailmover run -all', several
// -profile flags, the service, and the window's several running profiles. A profile that
// fails (a wrong password, a pause for sign-in, a full destination) never stops or slows
// the others. In watch mode the fleet notices profiles added, changed, switched off or
// removed (and Reload does so at once, for SIGHUP), and starts, restarts or stops just
// those.
package fleet

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"mailmover/i18n"
	"mailmover/mover"
	"mailmover/store"
)

// Options configure a Fleet.
type Options struct {
	// Home is MailMover's home (profiles, state, status, logs); Secrets the keyring.
	Home    string
	Secrets store.Secrets
	// Logger receives diagnostic logs (nil: slog.Default()), tagged with the profile.
	Logger *slog.Logger
	// Names are the profiles to run. Empty: every profile not switched off
	// ([setup] enabled = false), now and — with Watch — as they come and go.
	Names []string
	// Once makes each profile do one pass; the fleet ends when all have.
	Once bool
	// Watch re-reads the profiles every WatchInterval (and on Reload): new ones start,
	// changed ones restart, switched-off or removed ones stop, and a profile that could
	// not start is tried again. Ignored with Once.
	Watch         bool
	WatchInterval time.Duration // 0: 5 seconds
	// Front names the front end in the status files ("run", "service", "window").
	Front string
}

// Fleet is a set of running movers. Create it with Start.
type Fleet struct {
	o      Options
	ctx    context.Context
	cancel context.CancelFunc
	events chan mover.Event
	reload chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	runs    map[string]*run
	results map[string]error // per profile: nil when its run went well (Once)
	wg      sync.WaitGroup   // the runs' forwarders
	// retry holds, per profile whose run ended by itself or could not start (watch
	// mode), when to try again and how often it failed in a row.
	retry map[string]retryState
	seen  map[string][32]byte // the selected profiles' files at the last sync
}

type retryState struct {
	at       time.Time
	failures int
}

// retryWait is how long a profile waits before its mover is started again after its
// failures-th failure in a row: 30 s, doubling, at most 15 minutes.
func retryWait(failures int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < failures && d < 15*time.Minute; i++ {
		d *= 2
	}
	return min(d, 15*time.Minute)
}

// failed notes that profile n's run ended or could not start, for the back-off.
func (f *Fleet) failed(n string) {
	r := f.retry[n]
	r.failures++
	r.at = time.Now().Add(retryWait(r.failures))
	f.retry[n] = r
}

// run is one profile's mover.
type run struct {
	h       *mover.Handle
	version [32]byte // the profile file it runs, to notice a change
	ended   chan struct{}
}

// Start starts the fleet: every selected profile's mover, concurrently. It fails only
// when the profiles cannot be listed; a profile that does not load or start is reported
// as a KindError event (and in Results), and the others run.
func Start(ctx context.Context, o Options) (*Fleet, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.WatchInterval <= 0 {
		o.WatchInterval = 5 * time.Second
	}
	if o.Once {
		o.Watch = false
	}
	if _, err := store.ListProfiles(o.Home); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &Fleet{o: o, ctx: ctx, cancel: cancel, events: make(chan mover.Event, 1024), reload: make(chan struct{}, 1),
		done: make(chan struct{}), runs: map[string]*run{}, results: map[string]error{}, retry: map[string]retryState{}}
	f.sync()
	go f.loop()
	return f, nil
}

// Events returns every profile's events (Event.Profile names it). The channel is closed
// when the fleet has ended; the caller must read it until then.
func (f *Fleet) Events() <-chan mover.Event { return f.events }

// Reload re-reads the profiles now (SIGHUP).
func (f *Fleet) Reload() {
	select {
	case f.reload <- struct{}{}:
	default:
	}
}

// Stop stops every mover after the file in hand; Wait then returns.
func (f *Fleet) Stop() { f.cancel() }

// Wait waits until the fleet has ended (after Stop, or with Once when every profile's
// pass is over) and returns each profile's result: nil when it went well, else why not
// (a *mover.FailedError when messages failed, the error that kept it from starting or
// from reaching its server).
func (f *Fleet) Wait() map[string]error {
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]error, len(f.results))
	for k, v := range f.results {
		out[k] = v
	}
	return out
}

// Running lists the profiles whose movers run now, sorted.
func (f *Fleet) Running() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.runs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// loop re-reads the profiles when asked or (Watch) on a timer, and ends the fleet when
// its context ends or (Once) every run is over.
func (f *Fleet) loop() {
	defer close(f.done)
	defer close(f.events)
	var tick <-chan time.Time
	if f.o.Watch {
		t := time.NewTicker(f.o.WatchInterval)
		defer t.Stop()
		tick = t.C
	}
	allEnded := make(chan struct{})
	if f.o.Once {
		go func() { f.wg.Wait(); close(allEnded) }()
	}
	for {
		select {
		case <-f.ctx.Done():
			f.wg.Wait() // every mover stops after the file in hand
			return
		case <-allEnded:
			return
		case <-tick:
			f.sync()
		case <-f.reload:
			if !f.o.Once {
				f.sync()
			}
		}
	}
}

// selected returns the profiles the fleet should run now, with their files' contents.
func (f *Fleet) selected() (map[string][32]byte, map[string]error) {
	want := map[string][32]byte{}
	bad := map[string]error{}
	names := f.o.Names
	all := len(names) == 0
	if all {
		var err error
		if names, err = store.ListProfiles(f.o.Home); err != nil {
			f.o.Logger.Warn("listing the profiles", "err", err)
			return nil, nil
		}
	}
	for _, n := range names {
		data, err := os.ReadFile(store.ProfilePath(f.o.Home, n))
		if err != nil && !all {
			bad[n] = i18n.Errorf("profile %q: %w", n, err)
			continue
		}
		if err != nil {
			continue // removed meanwhile
		}
		if all {
			if p, err := store.ParseProfile(n, data); err == nil && !p.Setup.Enabled {
				continue // switched off
			}
		}
		want[n] = sha256.Sum256(data)
	}
	return want, bad
}

// sync starts, restarts and stops movers so that the selected profiles run.
func (f *Fleet) sync() {
	want, bad := f.selected()
	if want == nil && bad == nil {
		return
	}
	f.mu.Lock()
	var stop []*run
	for n, r := range f.runs {
		if v, ok := want[n]; !ok || v != r.version {
			stop = append(stop, r)
			delete(f.runs, n)
		}
	}
	for n, v := range want {
		if f.seen[n] != v {
			delete(f.retry, n) // a changed profile is tried at once
		}
	}
	f.seen = want
	f.mu.Unlock()
	for _, r := range stop {
		r.h.Stop()
		<-r.ended
	}
	for n, err := range bad {
		f.startFailed(n, err)
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f.mu.Lock()
		_, running := f.runs[n]
		_, tried := f.results[n]
		wait := time.Now().Before(f.retry[n].at)
		f.mu.Unlock()
		if running || (f.o.Once && tried) || wait {
			continue
		}
		f.start(n, want[n])
	}
}

// start loads profile n and starts its mover.
func (f *Fleet) start(n string, version [32]byte) {
	p, err := store.LoadProfile(f.o.Home, n)
	if err != nil {
		f.startFailed(n, err)
		return
	}
	h, err := mover.Start(f.ctx, mover.Options{Profile: p, Home: f.o.Home, Secrets: f.o.Secrets, Once: f.o.Once,
		FromHome: true, Front: f.o.Front, Logger: f.o.Logger.With("profile", n)})
	if err != nil {
		f.startFailed(n, err)
		return
	}
	r := &run{h: h, version: version, ended: make(chan struct{})}
	f.mu.Lock()
	f.runs[n] = r
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(r.ended)
		for e := range h.Events() {
			f.send(e)
		}
		err := h.Wait()
		f.mu.Lock()
		f.results[n] = err
		if f.runs[n] == r {
			// Ended by itself, not stopped by the fleet: in watch mode it is started
			// again after a growing wait.
			delete(f.runs, n)
			if f.ctx.Err() == nil {
				f.failed(n)
			}
		}
		f.mu.Unlock()
	}()
}

// startFailed reports that profile n could not start: an event, its result, and its
// status file (so that 'mailmover status' shows it).
func (f *Fleet) startFailed(n string, err error) {
	a := mover.Explain(err, n)
	mover.RecordStartFailure(f.o.Home, n, f.o.Front, a.What, a.Fix)
	f.mu.Lock()
	old, seen := f.results[n]
	f.results[n] = err
	f.failed(n)
	f.mu.Unlock()
	if seen && old != nil && old.Error() == err.Error() {
		return // the same failure again (watch mode): said already
	}
	f.send(mover.Event{Time: time.Now(), Kind: mover.KindError, Profile: n,
		Text: i18n.Sprintf("profile %s cannot start: %s", n, a.What), Advice: a.Fix})
}

func (f *Fleet) send(e mover.Event) {
	select {
	case f.events <- e:
	case <-f.ctx.Done():
		// Stopping: the consumer still reads until the channel closes; do not drop the
		// runs' last events.
		f.events <- e
	}
}

// Failed returns the profiles whose result is an error, sorted.
func Failed(results map[string]error) []string {
	var names []string
	for n, err := range results {
		if err != nil && !errors.Is(err, context.Canceled) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
