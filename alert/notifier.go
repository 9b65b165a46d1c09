package alert

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"mailmover/store"
)

// settingsCheck is how often a Notifier looks whether the settings file changed.
const settingsCheck = 5 * time.Second

// queueLen is how many alerts wait for one receiver before more are dropped (logged).
const queueLen = 32

// FlushWait is the most a Watcher's Flush waits for its alerts to go out.
const FlushWait = 15 * time.Second

// Notifier sends the alerts of one home: it reads HOME/mailmover.toml (again when it
// changes) and keeps a worker per receiver. ForHome returns the process's one Notifier
// per home; New makes one for tests.
type Notifier struct {
	home  string
	now   func() time.Time
	host  string
	fixed *store.Settings // Options.Settings: the file is not read

	mu       sync.Mutex
	checked  time.Time // when the file was last looked at
	stamp    fileStamp // the file as it was loaded
	alerts   *store.Alerts
	err      error // why the file could not be used
	reported bool  // err was logged
	targets  []*target
}

// Options configure New.
type Options struct {
	// Now is the clock of the throttle (nil: time.Now).
	Now func() time.Time
	// Host is the host name in the alerts (empty: os.Hostname).
	Host string
	// Settings are used instead of HOME/mailmover.toml when set.
	Settings *store.Settings
}

var shared struct {
	sync.Mutex
	m map[string]*Notifier
}

// ForHome returns the process's Notifier for home, made on first use: one per home, so
// that every mover of a process shares its receivers' workers.
func ForHome(home string) *Notifier {
	key := filepath.Clean(home)
	shared.Lock()
	defer shared.Unlock()
	if n, ok := shared.m[key]; ok {
		return n
	}
	if shared.m == nil {
		shared.m = map[string]*Notifier{}
	}
	n := New(home, Options{})
	shared.m[key] = n
	return n
}

// New returns a Notifier for home.
func New(home string, o Options) *Notifier {
	n := &Notifier{home: home, now: o.Now, host: o.Host, fixed: o.Settings}
	if n.now == nil {
		n.now = time.Now
	}
	if n.host == "" {
		n.host, _ = os.Hostname()
	}
	return n
}

type fileStamp struct {
	exists bool
	mod    int64 // UnixNano
	size   int64
}

// current returns the alert settings, nil when there are no alerts, reading the
// settings file when it changed. toReport is why the file cannot be used, the first time
// it is asked for after the file changed (the caller logs it), else nil.
func (n *Notifier) current() (a *store.Alerts, toReport error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	if n.fixed != nil && n.alerts == nil && n.err == nil {
		n.load(n.fixed, nil)
	} else if n.fixed == nil && (n.checked.IsZero() || now.Sub(n.checked) >= settingsCheck) {
		n.checked = now
		var st fileStamp
		if fi, e := os.Stat(store.SettingsPath(n.home)); e == nil {
			st = fileStamp{true, fi.ModTime().UnixNano(), fi.Size()}
		}
		if st != n.stamp || (n.alerts == nil && n.err == nil) {
			n.stamp = st
			n.load(store.LoadSettings(n.home))
		}
	}
	if n.err != nil && !n.reported {
		n.reported, toReport = true, n.err
	}
	if n.alerts == nil || !n.alerts.Active() {
		return nil, toReport
	}
	return n.alerts, toReport
}

// load takes new settings (under mu); the old receivers finish what they hold.
func (n *Notifier) load(s *store.Settings, err error) {
	for _, t := range n.targets {
		close(t.queue)
	}
	n.targets, n.alerts, n.err, n.reported = nil, nil, err, false
	if err != nil {
		return
	}
	n.alerts = &s.Alerts
	for _, name := range slices.Sorted(maps.Keys(s.Alerts.Webhook)) {
		if w := s.Alerts.Webhook[name]; w != nil {
			n.targets = append(n.targets, startTarget("webhook "+name, newWebhook(w)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Alerts.Command)) {
		if c := s.Alerts.Command[name]; c != nil {
			n.targets = append(n.targets, startTarget("command "+name, newCommand(c)))
		}
	}
}

// SettingsError returns why the settings file cannot be used (nil when it can, or there
// is none): then there are no alerts.
func (n *Notifier) SettingsError() error {
	n.current()
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// WorldReadable reports whether the settings file holds webhooks and others than its
// owner may read it (not on Windows, where its folder's access rules decide).
func (n *Notifier) WorldReadable() bool {
	a, _ := n.current()
	if runtime.GOOS == "windows" || a == nil || len(a.Webhook) == 0 {
		return false
	}
	fi, err := os.Stat(store.SettingsPath(n.home))
	return err == nil && fi.Mode().Perm()&0o077 != 0
}

// sender delivers an alert to one receiver.
type sender interface {
	send(ctx context.Context, a Alert) error
	String() string
}

// target is one receiver and its worker.
type target struct {
	name  string // "webhook teams", "command page"
	to    sender
	queue chan job
}

type job struct {
	alert  Alert
	logger *slog.Logger
	done   func()
}

func startTarget(name string, to sender) *target {
	t := &target{name: name, to: to, queue: make(chan job, queueLen)}
	go t.work()
	return t
}

// work delivers the queued alerts one after the other, so that a receiver gets them in
// order (a pause before its recovery).
func (t *target) work() {
	for j := range t.queue {
		start := time.Now()
		err := t.to.send(context.Background(), j.alert)
		if err != nil {
			j.logger.Warn("alert not delivered", "profile", j.alert.Profile, "event", j.alert.Event,
				"to", t.name, "at", t.to.String(), "err", err.Error(), "after", time.Since(start).Round(time.Millisecond))
		} else {
			j.logger.Info("alert sent", "profile", j.alert.Profile, "event", j.alert.Event, "to", t.name, "at", t.to.String())
		}
		j.done()
	}
}

// String names the target and where it sends to.
func (t *target) String() string { return fmt.Sprintf("%s (%s)", t.name, t.to) }
