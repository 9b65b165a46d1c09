package mover

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"mailmover/alert"
	"mailmover/auth"
	"mailmover/i18n"
	"mailmover/internal/durable"
	"mailmover/store"
)

// A running mover (started with Start: the window, 'run', the service) keeps a small
// status file per profile, HOME/status/P.json, for a monitoring system: its state and
// since when, the last pass and file, today's counts, the backlog, errors, why it is
// paused and what to do, and when its sign-in is expected to lapse. It is written
// atomically on every change of state and as a heartbeat every StatusHeartbeat, never
// with a secret in it. ReadStatus and CheckStatus turn it into a monitoring check
// ('mailmover status').

// States of a profile's mover, in Status.State.
const (
	StateStarting   = "starting"   // started, not connected yet
	StateConnecting = "connecting" // dialing the server
	StateRunning    = "running"    // working through mail
	StateIdle       = "idle"       // waiting for new mail
	StateRetrying   = "retrying"   // the connection failed; trying again
	StatePaused     = "paused"     // needs the user (sign in again, a setting)
	StateError      = "error"      // could not start or gave up
	StateStopped    = "stopped"    // ended
)

// StatusHeartbeat is how often a running mover rewrites its status file when nothing
// changes; a file older than StatusStale says the mover is gone or hung.
const (
	StatusHeartbeat = time.Minute
	StatusStale     = 3 * StatusHeartbeat
)

// statusFileEvery is how often saved files alone rewrite the status file.
const statusFileEvery = 2 * time.Second

// Status is one profile's status file.
type Status struct {
	Profile string    `json:"profile"`
	State   string    `json:"state"`
	Since   time.Time `json:"since"`   // when State began
	Updated time.Time `json:"updated"` // the last write (heartbeat)
	PID     int       `json:"pid"`
	// Front is what runs the mover: "window", "run", "service", "demo".
	Front string `json:"front,omitempty"`
	// Once is set for a one-pass run (run -once, e.g. from cron or Task Scheduler): its
	// ending is normal, not a mover that stopped.
	Once bool `json:"once,omitempty"`
	// LastPass is when the last pass over the folder ended (the mover then waited).
	LastPass time.Time `json:"last_pass,omitzero"`
	// LastFile is the last file saved, and when.
	LastFile     string    `json:"last_file,omitempty"`
	LastFileTime time.Time `json:"last_file_time,omitzero"`
	// Today counts the day's work (Day, local date YYYY-MM-DD).
	Day           string `json:"day"`
	FilesToday    int    `json:"files_today"`
	MessagesToday int    `json:"messages_today"`
	BytesToday    int64  `json:"bytes_today"`
	// Backlog is how many messages of the current pass are left.
	Backlog int `json:"backlog"`
	// Errors counts the errors of this run; FailedMessages the messages that failed in
	// the last pass (they stay unmarked and are tried again).
	Errors         int `json:"errors"`
	FailedMessages int `json:"failed_messages"`
	// Retries counts the failed connection attempts in a row.
	Retries int `json:"retries"`
	// Reason and Advice say why the mover is paused, retrying or in error, and what to do.
	Reason string `json:"reason,omitempty"`
	Advice string `json:"advice,omitempty"`
	// SignInLapse is when the refresh token is expected to lapse (Microsoft: 90 days
	// unused; Google apps in "Testing": 7 days after the sign-in), when known.
	SignInLapse time.Time `json:"sign_in_lapse,omitzero"`
}

// statusWriter keeps a profile's Status from the events of its run and writes it.
type statusWriter struct {
	path    string
	st      Status
	written time.Time
	now     func() time.Time
	// notify hears the status after every event and heartbeat (the alerts); nil: none.
	notify func(Status)
}

func newStatusWriter(home string, o Options, front string) *statusWriter {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	w := &statusWriter{path: store.StatusPath(home, o.Profile.Name), now: now,
		st: Status{Profile: o.Profile.Name, State: StateStarting, Since: t, PID: os.Getpid(), Front: front, Once: o.Once,
			Day: t.Local().Format(time.DateOnly)}}
	if old, err := ReadStatus(home, o.Profile.Name); err == nil {
		// Today's counts and the last file carry over a restart the same day.
		if old.Day == w.st.Day {
			w.st.FilesToday, w.st.MessagesToday, w.st.BytesToday = old.FilesToday, old.MessagesToday, old.BytesToday
		}
		w.st.LastFile, w.st.LastFileTime, w.st.LastPass = old.LastFile, old.LastFileTime, old.LastPass
	}
	if o.Profile.Security.Auth != store.AuthPassword {
		if l, ok := auth.ExpectedLapse(o.Profile.Name, o.Profile.OAuth2, o.Secrets, t); ok {
			w.st.SignInLapse = l
		}
	}
	return w
}

// event updates the status from e and writes it when the state changed.
func (w *statusWriter) event(e Event) {
	s := &w.st
	t := e.Time
	if t.IsZero() {
		t = w.now()
	}
	if d := t.Local().Format(time.DateOnly); d != s.Day {
		s.Day, s.FilesToday, s.MessagesToday, s.BytesToday = d, 0, 0, 0
	}
	state := s.State
	switch e.Kind {
	case KindConnecting:
		if s.State != StateRetrying && s.State != StatePaused {
			state = StateConnecting
		}
	case KindConnected:
		state, s.Retries, s.Reason, s.Advice = StateRunning, 0, "", ""
	case KindFound:
		state, s.Backlog, s.FailedMessages = StateRunning, e.Total, 0
	case KindProgress:
		s.Backlog = max(e.Total-e.Done, 0)
	case KindIdle:
		state, s.Backlog, s.LastPass = StateIdle, 0, t
		s.Reason, s.Advice = "", ""
	case KindFileSaved:
		s.LastFile, s.LastFileTime = e.Path, t
		s.FilesToday++
		s.BytesToday += e.Bytes
	case KindMessageDone:
		s.MessagesToday++
	case KindError:
		s.Errors++
		if e.UID != 0 {
			s.FailedMessages++
		} else {
			state, s.Reason, s.Advice = StateError, e.Text, e.Advice
		}
	case KindRetry:
		state, s.Reason, s.Advice = StateRetrying, e.Text, e.Advice
		s.Retries++
	case KindPaused:
		state, s.Reason, s.Advice = StatePaused, e.Text, e.Advice
	case KindStopped:
		// A mover that stops paused (a once-run that needs a sign-in) or after an
		// error stays in that state: it is what the profile needs.
		if s.State != StateError && s.State != StatePaused {
			state = StateStopped
		}
		s.Backlog = 0
	}
	changed := state != s.State
	if changed {
		s.State, s.Since = state, t
	}
	// A saved file updates the file at most every statusFileEvery: a backlog of thousands
	// of files must not cost an fsync'd status write each (the pass's end, a change of
	// state and the heartbeat write it anyway).
	fileDue := e.Kind == KindFileSaved && t.Sub(w.written) >= statusFileEvery
	if changed || fileDue || e.Kind == KindStopped || e.Kind == KindIdle || t.Sub(w.written) >= StatusHeartbeat {
		w.write()
	}
	w.tell()
}

// beat rewrites the file when the last write is a heartbeat old.
func (w *statusWriter) beat() {
	if w.now().Sub(w.written) >= StatusHeartbeat {
		w.write()
		w.tell()
	}
}

// tell hands the status to notify.
func (w *statusWriter) tell() {
	if w.notify != nil {
		w.notify(w.st)
	}
}

func (w *statusWriter) write() {
	w.st.Updated = w.now()
	data, err := json.MarshalIndent(&w.st, "", "  ")
	if err != nil {
		return
	}
	// A status file that cannot be written must not stop the mover; the next write tries
	// again.
	if durable.WriteFile(w.path, append(data, '\n'), 0o600) == nil {
		w.written = w.st.Updated
	}
}

// ReadStatus reads profile's status file.
func ReadStatus(home, profile string) (*Status, error) {
	if err := store.ValidProfileName(profile); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(store.StatusPath(home, profile))
	if err != nil {
		return nil, err
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, i18n.Errorf("the status file of %s is damaged: %v", profile, err)
	}
	return &st, nil
}

// Check results, ordered as a monitoring system reads them (Nagios, Icinga, Zabbix).
const (
	CheckOK       = 0
	CheckWarning  = 1
	CheckCritical = 2
	CheckUnknown  = 3
)

// CheckResult is a monitoring check of one profile.
type CheckResult struct {
	Profile string  `json:"profile"`
	Code    int     `json:"code"`   // CheckOK … CheckUnknown
	Result  string  `json:"result"` // OK, WARNING, CRITICAL, UNKNOWN
	Summary string  `json:"summary"`
	Status  *Status `json:"status,omitempty"`
}

// CheckStatus judges a profile's status at now: no status file is UNKNOWN; a status not
// updated for StatusStale (the mover is gone or hung) is CRITICAL, as are a pause (sign
// in again), an error, a connection failing 5 times in a row and a lapsed sign-in;
// retrying, failed messages, a stopped mover and a sign-in lapsing within 14 days are a
// WARNING.
func CheckStatus(home, profile string, now time.Time) CheckResult {
	r := CheckResult{Profile: profile}
	st, err := ReadStatus(home, profile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Code, r.Summary = CheckUnknown, i18n.T("no status: no mover has run this profile yet (or not since MailMover keeps status files)")
	case err != nil:
		r.Code, r.Summary = CheckUnknown, err.Error()
	default:
		r.Status = st
		r.Code, r.Summary = judge(st, now)
	}
	r.Result = CheckName(r.Code)
	return r
}

var resultNames = map[int]string{CheckOK: "OK", CheckWarning: "WARNING", CheckCritical: "CRITICAL", CheckUnknown: "UNKNOWN"}

// CheckName names a check result as monitoring systems print it: OK, WARNING, CRITICAL,
// UNKNOWN.
func CheckName(code int) string { return resultNames[code] }

// lapseWarnAhead is how long before a sign-in's expected lapse the check warns.
const lapseWarnAhead = 14 * 24 * time.Hour

func judge(st *Status, now time.Time) (int, string) {
	code, notes := CheckOK, []string{}
	raise := func(c int, note string) {
		if severity(c) > severity(code) {
			code = c
		}
		notes = append(notes, note)
	}
	alive := st.State != StateStopped && st.State != StateError && st.State != StatePaused
	switch {
	case st.State == StatePaused:
		raise(CheckCritical, i18n.Sprintf("paused: %s", st.Reason))
	case st.State == StateError:
		raise(CheckCritical, i18n.Sprintf("error: %s", st.Reason))
	case alive && now.Sub(st.Updated) > StatusStale:
		raise(CheckCritical, i18n.Sprintf("not updated since %s: the mover (pid %d) is gone or hung", st.Updated.Local().Format("2006-01-02 15:04"), st.PID))
	case st.State == StateRetrying && st.Retries >= 5:
		raise(CheckCritical, i18n.Sprintf("the connection failed %d times in a row: %s", st.Retries, st.Reason))
	case st.State == StateRetrying:
		raise(CheckWarning, i18n.Sprintf("retrying: %s", st.Reason))
	case st.State == StateStopped && st.Once:
		notes = append(notes, i18n.Sprintf("the last one-pass run ended %s", st.Since.Local().Format("2006-01-02 15:04")))
	case st.State == StateStopped:
		raise(CheckWarning, i18n.Sprintf("stopped since %s", st.Since.Local().Format("2006-01-02 15:04")))
	default:
		notes = append(notes, i18n.Sprintf("%s since %s", st.State, st.Since.Local().Format("2006-01-02 15:04")))
	}
	if st.FailedMessages > 0 {
		raise(CheckWarning, i18n.Sprintf("%d message(s) failed in the last pass", st.FailedMessages))
	}
	if !st.SignInLapse.IsZero() {
		switch left := st.SignInLapse.Sub(now); {
		case left <= 0:
			raise(CheckCritical, i18n.Sprintf("the sign-in has most likely lapsed (%s): sign in again", st.SignInLapse.Local().Format(time.DateOnly)))
		case left <= lapseWarnAhead:
			raise(CheckWarning, i18n.Sprintf("the sign-in lapses around %s: sign in again before then", st.SignInLapse.Local().Format(time.DateOnly)))
		}
	}
	if st.LastFile != "" {
		notes = append(notes, i18n.Sprintf("last file %s at %s", st.LastFile, st.LastFileTime.Local().Format("2006-01-02 15:04")))
	}
	notes = append(notes, i18n.Sprintf("%d file(s) today", st.FilesToday))
	return code, strings.Join(notes, "; ")
}

// severity orders check results: OK < UNKNOWN < WARNING < CRITICAL.
func severity(code int) int {
	switch code {
	case CheckCritical:
		return 3
	case CheckWarning:
		return 2
	case CheckUnknown:
		return 1
	}
	return 0
}

// WorstCheck returns the result code of several checks: the most severe.
func WorstCheck(results []CheckResult) int {
	worst := CheckOK
	for _, r := range results {
		if severity(r.Code) > severity(worst) {
			worst = r.Code
		}
	}
	return worst
}

// StatusProfiles lists the profiles that have a status file, sorted.
func StatusProfiles(home string) ([]string, error) {
	entries, err := os.ReadDir(store.StatusDir(home))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && store.ValidProfileName(n) == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// RecordStartFailure writes profile's status as StateError with reason and advice, for a
// front end whose mover could not even start (a profile that does not load, no secret
// to sign in with), so that the monitoring check shows it and the alerts tell of it
// (waiting at most alert.FlushWait for them to go out).
func RecordStartFailure(home, profile, front, reason, advice string) {
	if store.ValidProfileName(profile) != nil {
		return
	}
	t := time.Now()
	w := &statusWriter{path: store.StatusPath(home, profile), now: time.Now,
		st: Status{Profile: profile, State: StateError, Since: t, PID: os.Getpid(), Front: front,
			Day: t.Local().Format(time.DateOnly), Reason: reason, Advice: advice}}
	if old, err := ReadStatus(home, profile); err == nil && old.Day == w.st.Day {
		w.st.FilesToday, w.st.MessagesToday, w.st.BytesToday = old.FilesToday, old.MessagesToday, old.BytesToday
		w.st.LastFile, w.st.LastFileTime, w.st.LastPass = old.LastFile, old.LastFileTime, old.LastPass
		if old.State == StateError && old.Reason == reason {
			w.st.Since = old.Since
		}
	}
	w.write()
	aw := alert.ForHome(home).Watch(profile, nil)
	aw.Observe(alertState(w.st))
	aw.Flush()
}
