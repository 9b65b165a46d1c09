package ui

import (
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2/lang"

	"mailmover/mover"
)

// logCapacity is how many log entries the window keeps; older ones are dropped.
const logCapacity = 10000

// logModel is the live log's data: a capped ring buffer of mover events plus the run's
// counters. Goroutines add events; the UI takes snapshots on a timer. It holds no widgets,
// so it is safe to use from any goroutine.
type logModel struct {
	mu       sync.Mutex
	buf      []mover.Event // ring buffer, len <= capacity
	start    int           // index of the oldest entry in buf
	capacity int
	total    int64  // events ever added (including dropped ones)
	version  uint64 // bumped on every change
	shown    uint64 // the version the window shows
	counters mover.Counters
	last     mover.Event // the latest event (for the status line)
	hasLast  bool
	pass     passProgress
	problem  *mover.Event // the latest error or pause since the last good news
}

// passProgress is the state of the current pass over a backlog, from the mover's Found
// and Progress events (the UI does not guess).
type passProgress struct {
	active      bool
	done, total int
	start, last time.Time      // event times: when the pass started, the latest progress
	base        mover.Counters // the counters when the pass started
	now         mover.Counters // the latest counters
}

// track updates the pass from an event.
func (p *passProgress) track(ev mover.Event) {
	switch ev.Kind {
	case mover.KindFound:
		*p = passProgress{active: ev.Total > 0, total: ev.Total, start: ev.Time, last: ev.Time, base: ev.Counters, now: ev.Counters}
	case mover.KindProgress:
		if !p.active {
			*p = passProgress{active: true, start: ev.Time, base: ev.Counters}
		}
		p.done, p.total, p.last, p.now = ev.Done, ev.Total, ev.Time, ev.Counters
	case mover.KindIdle, mover.KindStopped, mover.KindPaused:
		p.active = false
	default:
		if p.active {
			p.now = ev.Counters
		}
	}
}

func newLogModel(capacity int) *logModel {
	if capacity <= 0 {
		capacity = logCapacity
	}
	return &logModel{capacity: capacity, buf: make([]mover.Event, 0, min(capacity, 1024))}
}

// add appends an event, dropping the oldest one when the buffer is full.
func (m *logModel) add(ev mover.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pass.track(ev)
	m.version++
	m.counters = ev.Counters
	m.last = ev
	m.hasLast = true
	switch ev.Kind {
	case mover.KindError, mover.KindPaused:
		e := ev
		m.problem = &e
	case mover.KindConnected, mover.KindIdle, mover.KindMessageDone:
		m.problem = nil
	}
	if ev.Kind == mover.KindProgress {
		return // shown by the progress bar, not as a line
	}
	m.total++
	if len(m.buf) < m.capacity {
		if len(m.buf) == cap(m.buf) { // grow, but never past the capacity
			nb := make([]mover.Event, len(m.buf), min(2*cap(m.buf)+1, m.capacity))
			copy(nb, m.buf)
			m.buf = nb
		}
		m.buf = append(m.buf, ev)
	} else {
		m.buf[m.start] = ev
		m.start = (m.start + 1) % m.capacity
	}
}

// clear empties the log and the counters.
func (m *logModel) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf = m.buf[:0]
	m.start = 0
	m.total = 0
	m.version++
	m.counters = mover.Counters{}
	m.hasLast = false
	m.pass = passProgress{}
	m.problem = nil
}

// lastProblem returns the latest error or pause not followed by good news (a connect,
// idle or a finished message).
func (m *logModel) lastProblem() (mover.Event, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.problem == nil {
		return mover.Event{}, false
	}
	return *m.problem, true
}

// logSnapshot is a copy of the log taken for the UI.
type logSnapshot struct {
	entries  []mover.Event // oldest first, filtered
	total    int64
	dropped  int64
	counters mover.Counters
	last     mover.Event
	hasLast  bool
	version  uint64
	pass     passProgress
}

// snapshot copies the entries (only errors and warnings when errorsOnly) if the log
// changed since version since; ok is false when nothing changed.
func (m *logModel) snapshot(since uint64, errorsOnly bool, reuse []mover.Event) (s logSnapshot, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version == since {
		return logSnapshot{}, false
	}
	out := reuse[:0]
	n := len(m.buf)
	for i := 0; i < n; i++ {
		ev := m.buf[(m.start+i)%n]
		if errorsOnly && !isProblem(ev.Kind) {
			continue
		}
		out = append(out, ev)
	}
	return logSnapshot{
		entries:  out,
		total:    m.total,
		dropped:  max(0, m.total-int64(n)),
		counters: m.counters,
		last:     m.last,
		hasLast:  m.hasLast,
		version:  m.version,
		pass:     m.pass,
	}, true
}

// changedSince reports whether the log changed after the window showed version v.
func (m *logModel) changedSince(v uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version != v
}

// seen returns the version the window shows.
func (m *logModel) seen() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shown
}

// markSeen records the version the window shows.
func (m *logModel) markSeen(v uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shown = v
}

// size returns how many entries the buffer holds.
func (m *logModel) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buf)
}

// isProblem reports whether an event kind belongs in the "errors only" view.
func isProblem(k mover.Kind) bool {
	return k == mover.KindError || k == mover.KindWarning || k == mover.KindPaused || k == mover.KindRetry
}

// backlogMin is the smallest pass that gets a progress bar ("more than a handful").
const backlogMin = 5

// describe returns the progress line: done/total, files and bytes so far, rate and time
// left; show is false when no backlog pass is running.
func (p passProgress) describe() (fraction float64, text string, show bool) {
	if !p.active || p.total <= backlogMin || p.done >= p.total {
		return 0, "", false
	}
	fraction = float64(p.done) / float64(p.total)
	files := p.now.Files - p.base.Files
	bytes := p.now.Bytes - p.base.Bytes
	text = fmt.Sprintf(lang.L("%d of %d messages · %s · %s"), p.done, p.total, plural(files, lang.L("%d file"), lang.L("%d files")), formatBytes(bytes))
	if el := p.last.Sub(p.start); p.done > 0 && el > 0 {
		rate := float64(p.done) / el.Seconds()
		left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		text += fmt.Sprintf(lang.L(" · %s messages/s · about %s left"), formatDecimal(rate), roundLeft(left))
	}
	return fraction, text, true
}

// roundLeft writes a remaining time coarsely: "40 s", "3 min", "1 h 20 min".
func roundLeft(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf(lang.L("%d min"), int(d.Minutes()+0.5))
	}
	return fmt.Sprintf(lang.L("%d h %d min"), int(d.Hours()), int(d.Minutes())%60)
}
