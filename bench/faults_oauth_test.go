package bench

import (
	"os"
	"path/filepath"
	"testing"
)

// The log follower counts the lines that name the token faults, also when they arrive in
// pieces and when the advice of a paused event comes after a diagnostic line.
func TestMoverLogNamesTokenFaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mover.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := &moverLog{path: path}
	write := func(s string) {
		t.Helper()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		l.update()
	}
	write(`time=2025-01-02T10:00:00Z level=INFO msg="the server refused the access token; refreshing it and signing in again" host=127.0.0.1:1
2025-01-02 10:00:01 retry       connection lost or refused (EOF); trying again in 500ms (attempt 1)
2025-01-02 10:00:02 paused      paused: writing: no space left on device
                        advice: The destination disk is full (or over quota): free some space.
2025-01-02 10:00:03 paused      paused: cannot get an OAuth2 access token: invalid_grant
time=2025-01-02T10:00:03Z level=DEBUG msg="paused: cannot get an OAuth2 access token" kind=paused
                        advice: Sign in again: press GET in the window or run 'mailmover login -profile p'.
2025-01-02 10:00:04 paus`)
	if l.refused != 1 || l.signInPauses != 1 {
		t.Fatalf("refused %d, sign-in pauses %d; want 1, 1", l.refused, l.signInPauses)
	}
	write("ed      paused: the provider refused the refresh token: sign in again\n")
	if l.signInPauses != 2 {
		t.Fatalf("sign-in pauses %d after a line in two pieces; want 2", l.signInPauses)
	}
	r := &FaultReport{TokenExpiries: 2, RefreshRevokes: 1, LogTokenRefused: l.refused, LogSignInPauses: l.signInPauses}
	if u := r.Unnamed(); u != "" {
		t.Errorf("Unnamed = %q", u)
	}
	r.LogTokenRefused, r.LogSignInPauses = 0, 0
	if r.Unnamed() == "" {
		t.Error("Unnamed is empty for a log that names no token fault")
	}
}
