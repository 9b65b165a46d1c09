package mover

import (
	"strings"
	"testing"
	"time"
)

// The monitoring check's verdicts, as a table over status files.
func TestJudgeStatus(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	fresh := now.Add(-30 * time.Second)
	for _, c := range []struct {
		name string
		st   Status
		code int
		want string
	}{
		{"idle", Status{State: StateIdle, Updated: fresh, Since: fresh}, CheckOK, "idle since"},
		{"stale", Status{State: StateIdle, Updated: now.Add(-10 * time.Minute), PID: 42}, CheckCritical, "pid 42"},
		{"paused", Status{State: StatePaused, Updated: fresh, Reason: "sign in again"}, CheckCritical, "sign in again"},
		{"paused and gone", Status{State: StatePaused, Updated: now.Add(-time.Hour), Reason: "sign in again"}, CheckCritical, "paused"},
		{"error", Status{State: StateError, Updated: fresh, Reason: "no password"}, CheckCritical, "no password"},
		{"retrying", Status{State: StateRetrying, Updated: fresh, Retries: 2, Reason: "refused"}, CheckWarning, "retrying"},
		{"failing", Status{State: StateRetrying, Updated: fresh, Retries: 5, Reason: "refused"}, CheckCritical, "5 times"},
		{"stopped", Status{State: StateStopped, Updated: now.Add(-time.Hour)}, CheckWarning, "stopped"},
		{"one pass ended", Status{State: StateStopped, Once: true, Updated: now.Add(-time.Hour)}, CheckOK, "one-pass run ended"},
		{"one pass paused", Status{State: StatePaused, Once: true, Updated: now.Add(-time.Hour), Reason: "sign in"}, CheckCritical, "paused"},
		{"failed messages", Status{State: StateIdle, Updated: fresh, FailedMessages: 2}, CheckWarning, "2 message(s)"},
		{"lapse soon", Status{State: StateIdle, Updated: fresh, SignInLapse: now.Add(10 * 24 * time.Hour)}, CheckWarning, "lapses around"},
		{"lapse far", Status{State: StateIdle, Updated: fresh, SignInLapse: now.Add(60 * 24 * time.Hour)}, CheckOK, "idle"},
		{"lapsed", Status{State: StateIdle, Updated: fresh, SignInLapse: now.Add(-time.Hour)}, CheckCritical, "lapsed"},
	} {
		code, summary := judge(&c.st, now)
		if code != c.code || !strings.Contains(summary, c.want) {
			t.Errorf("%s: %d %q, want %d with %q", c.name, code, summary, c.code, c.want)
		}
	}
	if WorstCheck([]CheckResult{{Code: CheckOK}, {Code: CheckUnknown}, {Code: CheckWarning}}) != CheckWarning ||
		WorstCheck([]CheckResult{{Code: CheckOK}, {Code: CheckUnknown}}) != CheckUnknown ||
		WorstCheck([]CheckResult{{Code: CheckCritical}, {Code: CheckWarning}}) != CheckCritical {
		t.Error("WorstCheck does not order OK < UNKNOWN < WARNING < CRITICAL")
	}
}

// The status file follows the run's events: counts, last file, backlog, pause.
func TestStatusWriterFollowsEvents(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 2, "")
	run, err := Start(t.Context(), Options{Profile: h.prof, Home: h.home, Dial: h.srv.dial, Once: true, Front: "run"})
	if err != nil {
		t.Fatal(err)
	}
	for range run.Events() {
	}
	if err := run.Wait(); err != nil {
		t.Fatal(err)
	}
	st, err := ReadStatus(h.home, h.prof.Name)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateStopped || st.FilesToday != 2 || st.MessagesToday != 1 || st.LastFile == "" || st.Front != "run" {
		t.Errorf("status %+v", st)
	}
	// A second run the same day adds to today's counts.
	h.addMail(2, 1, "")
	run, _ = Start(t.Context(), Options{Profile: h.prof, Home: h.home, Dial: h.srv.dial, Once: true})
	for range run.Events() {
	}
	run.Wait()
	if st, _ = ReadStatus(h.home, h.prof.Name); st.FilesToday != 3 {
		t.Errorf("files today after a second run: %d, want 3", st.FilesToday)
	}
}
