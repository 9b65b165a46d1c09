package ui

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2/lang"

	"mailmover/mover"
)

// logCapacity is how many log entries the window keeps; older ones are dropped.
const logCapacity = 10000

// logModel is the live log's data: a capped ring buffer of the events of every mover
// running in the window (each names its profile) plus each profile's counters, pass and
// latest problem. Goroutines add events; the UI takes snapshots, of one profile or all,
// on a timer. It holds no widgets, so it is safe to use from any goroutine.
type logModel struct {
	mu       sync.Mutex
	buf      []mover.Event // ring buffer, len <= capacity
	start    int           // index of the oldest entry in buf
	capacity int
	total    int64       // events ever added (including dropped ones)
	version  uint64      // bumped on every change
	shown    uint64      // the version the window shows
	last     mover.Event // the latest event of any profile
	hasLast  bool
	profiles map[string]*profileLog
}

// profileLog is one profile's part of the log: its run's counters, its pass over a
// backlog, its latest event and its latest problem.
type profileLog struct {
	counters mover.Counters
	last     mover.Event
	pass     passProgress
	problem  *mover.Event // the latest error or pause since the last good news
}

// logFilter selects what a snapshot shows.
type logFilter struct {
	errorsOnly bool
	profile    string // "" = every profile
}

func (f logFilter) match(ev mover.Event) bool {
	return (!f.errorsOnly || isProblem(ev.Kind)) && (f.profile == "" || ev.Profile == f.profile)
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
	return &logModel{capacity: capacity, buf: make([]mover.Event, 0, min(capacity, 1024)), profiles: map[string]*profileLog{}}
}

// of returns profile's part of the log (m.mu held).
func (m *logModel) of(profile string) *profileLog {
	p := m.profiles[profile]
	if p == nil {
		p = &profileLog{}
		m.profiles[profile] = p
	}
	return p
}

// add appends an event, dropping the oldest one when the buffer is full.
func (m *logModel) add(ev mover.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.of(ev.Profile)
	p.pass.track(ev)
	m.version++
	p.counters = ev.Counters
	p.last = ev
	m.last, m.hasLast = ev, true
	switch ev.Kind {
	case mover.KindError, mover.KindPaused:
		e := ev
		p.problem = &e
	case mover.KindConnected, mover.KindIdle, mover.KindMessageDone:
		p.problem = nil
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
	m.hasLast = false
	clear(m.profiles)
}

// resetProfile forgets profile's counters, pass and problem (a new run starts); its
// lines stay.
func (m *logModel) resetProfile(profile string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.profiles, profile)
	m.version++
}

// lastProblem returns profile's latest error or pause not followed by good news (a
// connect, idle or a finished message).
func (m *logModel) lastProblem(profile string) (mover.Event, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.profiles[profile]
	if p == nil || p.problem == nil {
		return mover.Event{}, false
	}
	return *p.problem, true
}

// lastOf returns profile's latest event since its run started.
func (m *logModel) lastOf(profile string) (ev mover.Event, pass passProgress, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.profiles[profile]
	if p == nil {
		return mover.Event{}, passProgress{}, false
	}
	return p.last, p.pass, true
}

// names lists the profiles the log has events of, sorted.
func (m *logModel) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.profiles))
	for n := range m.profiles {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
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

// snapshot copies the entries f selects (one profile's or all; only errors and warnings
// with f.errorsOnly) if the log changed since version since; ok is false when nothing
// changed. The counters and the pass are the profile's, or all profiles' summed up.
func (m *logModel) snapshot(since uint64, f logFilter, reuse []mover.Event) (s logSnapshot, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version == since {
		return logSnapshot{}, false
	}
	out := reuse[:0]
	n := len(m.buf)
	for i := 0; i < n; i++ {
		ev := m.buf[(m.start+i)%n]
		if f.match(ev) {
			out = append(out, ev)
		}
	}
	s = logSnapshot{
		entries: out,
		total:   m.total,
		dropped: max(0, m.total-int64(n)),
		last:    m.last,
		hasLast: m.hasLast,
		version: m.version,
	}
	if f.profile != "" {
		if p := m.profiles[f.profile]; p != nil {
			s.counters, s.pass, s.last, s.hasLast = p.counters, p.pass, p.last, true
		} else {
			s.hasLast = false
		}
		return s, true
	}
	for _, p := range m.profiles {
		s.counters = addCounters(s.counters, p.counters)
		s.pass = s.pass.plus(p.pass)
	}
	return s, true
}

func addCounters(a, b mover.Counters) mover.Counters {
	return mover.Counters{Messages: a.Messages + b.Messages, Files: a.Files + b.Files, Bytes: a.Bytes + b.Bytes, Errors: a.Errors + b.Errors}
}

// plus sums two profiles' passes: one bar for all backlogs being worked through.
func (p passProgress) plus(q passProgress) passProgress {
	if !q.active {
		return p
	}
	if !p.active {
		return q
	}
	p.done += q.done
	p.total += q.total
	if q.start.Before(p.start) {
		p.start = q.start
	}
	if q.last.After(p.last) {
		p.last = q.last
	}
	p.base = addCounters(p.base, q.base)
	p.now = addCounters(p.now, q.now)
	return p
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
