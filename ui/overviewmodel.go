package ui

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"mailmover/mover"
)

// overviewFull is how often the overview re-reads every profile and its status file
// (profiles run by another process — the service, 'mailmover run' — show up this way);
// a profile running in this window is re-read on the next tick after its events.
const overviewFull = 2 * time.Second

// overviewTick is how often the overview looks for news.
const overviewTick = 250 * time.Millisecond

// overviewModel is the overview's data: the profiles, which of them run in this window,
// each one's latest event, and what its status file (mover.Status, written by the engine
// of whichever process runs it) last said. It holds no widgets and is safe for use from
// any goroutine: the event pumps and the poller write it, the UI reads rows.
type overviewModel struct {
	list func() ([]string, error)            // the saved profiles (Backend.ListProfiles)
	read func(string) (*mover.Status, error) // a profile's status file (Backend.Status)

	mu      sync.Mutex
	names   []string
	listErr error
	here    map[string]bool        // runs in this window
	touched map[string]bool        // events since its status was read
	last    map[string]mover.Event // the latest event of a run in this window
	status  map[string]*mover.Status
	full    time.Time // the last full read
	version uint64    // bumped on every change
	shown   uint64    // the version the window shows
}

func newOverviewModel(list func() ([]string, error), read func(string) (*mover.Status, error)) *overviewModel {
	return &overviewModel{list: list, read: read, here: map[string]bool{}, touched: map[string]bool{},
		last: map[string]mover.Event{}, status: map[string]*mover.Status{}}
}

// setHere records whether profile runs in this window; its status is read again soon.
func (m *overviewModel) setHere(profile string, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if on {
		m.here[profile] = true
		delete(m.last, profile)
	} else {
		delete(m.here, profile)
	}
	m.touched[profile] = true
	m.version++
}

// event notes an event of a run in this window (its status file changes with it).
func (m *overviewModel) event(ev mover.Event) {
	if ev.Kind == mover.KindProgress {
		return // the file follows the backlog only on state changes and heartbeats
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last[ev.Profile] = ev
	m.touched[ev.Profile] = true
}

// refresh makes the next poll a full one (after profiles were saved, renamed, deleted).
func (m *overviewModel) refresh() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.full = time.Time{}
}

// poll reads the profile list and every status file when a full read is due, else the
// status files of the profiles with news, and reports whether the window shows an older
// version than the model now holds. It reads files: call it off the UI thread.
func (m *overviewModel) poll(now time.Time) bool {
	m.mu.Lock()
	full := now.Sub(m.full) >= overviewFull
	var names []string
	if full {
		m.full = now
	} else {
		for n := range m.touched {
			names = append(names, n)
		}
	}
	clear(m.touched)
	m.mu.Unlock()

	if full {
		list, err := m.list()
		m.mu.Lock()
		if err != nil {
			if m.listErr == nil || m.listErr.Error() != err.Error() {
				m.version++
			}
			m.listErr = err
		} else {
			if m.listErr != nil || !slices.Equal(list, m.names) {
				m.version++
			}
			m.names, m.listErr = list, nil
		}
		names = append(names, m.names...)
		for n := range m.here {
			names = append(names, n)
		}
		m.mu.Unlock()
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, n := range names {
		st, err := m.read(n)
		if err != nil {
			st = nil // no file yet (never run), or unreadable: shown as not run
		}
		m.mu.Lock()
		old := m.status[n]
		if (old == nil) != (st == nil) || (old != nil && *old != *st) {
			m.version++
		}
		if st == nil {
			delete(m.status, n)
		} else {
			m.status[n] = st
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version != m.shown
}

// overviewRow is what the model knows about one profile.
type overviewRow struct {
	name    string
	here    bool          // runs in this window
	st      *mover.Status // its status file (nil: none yet)
	last    mover.Event   // the latest event of its run in this window
	hasLast bool
}

// rows returns one row per profile (saved ones and those running here), sorted, the
// version they show, and the error of listing the profiles.
func (m *overviewModel) rows() ([]overviewRow, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := slices.Clone(m.names)
	for n := range m.here {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := make([]overviewRow, 0, len(names))
	for _, n := range names {
		r := overviewRow{name: n, here: m.here[n]}
		if st := m.status[n]; st != nil {
			c := *st
			r.st = &c
		}
		r.last, r.hasLast = m.last[n]
		out = append(out, r)
	}
	// Profiles that need someone first (paused, in error), then those retrying, then the
	// rest, each group by name: an admin sees the problems without scrolling.
	slices.SortStableFunc(out, func(a, b overviewRow) int { return cmp.Compare(attention(a), attention(b)) })
	return out, m.version, m.listErr
}

// attention orders rows for the overview: 0 needs someone, 1 retrying, 2 the rest.
func attention(r overviewRow) int {
	if r.st == nil {
		return 2
	}
	switch r.st.State {
	case mover.StatePaused, mover.StateError:
		return 0
	case mover.StateRetrying:
		return 1
	}
	return 2
}

// markSeen records the version the window shows.
func (m *overviewModel) markSeen(v uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shown = v
}

// namesNow returns the saved profiles as last listed.
func (m *overviewModel) namesNow() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.names
}
