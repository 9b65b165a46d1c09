package ui

import (
	"sync"

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
	m.total++
	m.version++
	if ev.Kind != mover.KindProgress || ev.Counters != (mover.Counters{}) {
		m.counters = ev.Counters
	}
	m.last = ev
	m.hasLast = true
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
		dropped:  m.total - int64(n),
		counters: m.counters,
		last:     m.last,
		hasLast:  m.hasLast,
		version:  m.version,
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
