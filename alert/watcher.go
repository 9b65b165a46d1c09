package alert

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"mailmover/internal/durable"
	"mailmover/store"
)

// lapseEvery is the least time between two alerts of a lapsing sign-in.
const lapseEvery = 24 * time.Hour

// Watcher follows one run of one profile: Observe it with every status, Flush it when the
// run ends. It is used from one goroutine.
type Watcher struct {
	n       *Notifier
	profile string
	logger  *slog.Logger
	prev    State
	rec     *record // loaded on first need
	pending sync.WaitGroup
}

// record is what was sent for a profile, HOME/alerts/PROFILE.json.
type record struct {
	// Sent is when each kind was last sent.
	Sent map[string]time.Time `json:"sent"`
	// Open are the problems alerted that have not recovered yet.
	Open []string `json:"open,omitempty"`
}

// Watch returns a Watcher for a run of profile; logger receives what happens to its
// alerts (nil: slog.Default()).
func (n *Notifier) Watch(profile string, logger *slog.Logger) *Watcher {
	if logger == nil {
		logger = slog.Default()
	}
	return &Watcher{n: n, profile: profile, logger: logger}
}

// Observe takes the profile's status after a change (or as a heartbeat) and sends what
// it calls for: a pause, repeated failures, a recovery, a lapsing sign-in. It decides at
// once and leaves the sending to the receivers' workers, so it never waits for one.
func (w *Watcher) Observe(s State) {
	prev := w.prev
	w.prev = s
	a, problem := w.n.current()
	if problem != nil {
		w.logger.Error("alerts are off: the settings file cannot be used", "err", problem.Error())
	}
	if a == nil {
		return
	}
	now := w.n.now()
	if kind := problemKind(s, a); kind != "" {
		// Asked on every status, not only when it changes: a problem throttled at first
		// is sent once the throttle allows, one that lasts is reminded of after Remind.
		w.problem(a, kind, s, now, kind != problemKind(prev, a))
	} else if s.Condition == Healthy {
		w.recovered(a, s, now)
	}
	if !s.SignInLapse.IsZero() && s.Condition != Paused && a.Wants(store.AlertLapse) &&
		s.SignInLapse.Sub(now) <= time.Duration(a.LapseDays)*24*time.Hour {
		rec := w.record()
		if last := rec.Sent[store.AlertLapse]; last.IsZero() || now.Sub(last) >= max(lapseEvery, a.Throttle.Duration) {
			rec.Sent[store.AlertLapse] = now
			w.save()
			w.send(newAlert(store.AlertLapse, s, w.n.host, now, nil))
		}
	}
}

// problemKind returns the problem s is (store.AlertPaused, AlertFailing), or "".
func problemKind(s State, a *store.Alerts) string {
	switch {
	case s.Condition == Paused:
		return store.AlertPaused
	case s.Condition == Failed, s.Condition == Retrying && s.Retries >= a.Failures:
		return store.AlertFailing
	}
	return ""
}

// problem sends kind unless it is throttled or the same problem was alerted and has not
// recovered (until Remind has passed). fresh says the profile has just come to it (for
// the log).
func (w *Watcher) problem(a *store.Alerts, kind string, s State, now time.Time, fresh bool) {
	if !a.Wants(kind) {
		return
	}
	rec := w.record()
	last := rec.Sent[kind]
	switch {
	case !last.IsZero() && now.Sub(last) < a.Throttle.Duration:
		if fresh {
			w.logger.Info("alert held back: one was sent lately", "profile", w.profile, "event", kind, "last", last)
		}
		return
	case slices.Contains(rec.Open, kind) && (a.Remind.Duration == 0 || now.Sub(last) < a.Remind.Duration):
		if fresh {
			w.logger.Info("alert not repeated: sent before, and the profile has not recovered since", "profile", w.profile, "event", kind, "last", last)
		}
		return
	}
	rec.Sent[kind] = now
	if !slices.Contains(rec.Open, kind) {
		rec.Open = append(rec.Open, kind)
	}
	w.save()
	w.send(newAlert(kind, s, w.n.host, now, nil))
}

// recovered sends a recovery when a problem was alerted.
func (w *Watcher) recovered(a *store.Alerts, s State, now time.Time) {
	rec := w.record()
	if len(rec.Open) == 0 {
		return
	}
	previous := rec.Open
	rec.Open = nil
	if a.Wants(store.AlertRecovered) {
		rec.Sent[store.AlertRecovered] = now
	}
	w.save()
	if a.Wants(store.AlertRecovered) {
		w.send(newAlert(store.AlertRecovered, s, w.n.host, now, previous))
	}
}

// send hands the alert to every receiver's worker.
func (w *Watcher) send(al Alert) {
	w.n.mu.Lock()
	defer w.n.mu.Unlock()
	for _, t := range w.n.targets {
		w.pending.Add(1)
		select {
		case t.queue <- job{alert: al, logger: w.logger, done: w.pending.Done}:
		default:
			w.pending.Done()
			w.logger.Warn("alert dropped: the receiver is behind", "profile", al.Profile, "event", al.Event, "to", t.name)
		}
	}
}

// Flush waits until the alerts of this Watcher are delivered or given up, at most
// FlushWait: for the end of a run, so that a process that exits next ('run -once') does
// not take its last alert with it.
func (w *Watcher) Flush() { w.FlushWithin(FlushWait) }

// FlushWithin is Flush with another bound.
func (w *Watcher) FlushWithin(d time.Duration) {
	done := make(chan struct{})
	go func() {
		w.pending.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		w.logger.Warn("alerts still being sent when the run ended", "profile", w.profile)
	}
}

// record returns the profile's record, read from its file on first need.
func (w *Watcher) record() *record {
	if w.rec != nil {
		return w.rec
	}
	w.rec = &record{}
	data, err := os.ReadFile(store.AlertStatePath(w.n.home, w.profile))
	if err == nil {
		err = json.Unmarshal(data, w.rec)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.logger.Warn("the alerts' record of the profile is unreadable; starting afresh", "profile", w.profile, "err", err.Error())
		w.rec = &record{}
	}
	if w.rec.Sent == nil {
		w.rec.Sent = map[string]time.Time{}
	}
	return w.rec
}

// save writes the record; a failure is logged (the throttle then holds for this run only).
func (w *Watcher) save() {
	data, err := json.MarshalIndent(w.rec, "", "  ")
	if err == nil {
		err = durable.WriteFile(store.AlertStatePath(w.n.home, w.profile), append(data, '\n'), 0o600)
	}
	if err != nil {
		w.logger.Warn("cannot keep the alerts' record", "profile", w.profile, "err", err.Error())
	}
}
