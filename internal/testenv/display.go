package testenv

import "testing"

// Display returns the X display of the test environment's Xvfb (MM_DISPLAY, e.g. ":0",
// started by `make test`), or skips the test. `make test` unsets DISPLAY itself,
// so only tests that ask for a display get one: set DISPLAY=Display(t) on the command
// you start (inside the test's D-Bus session, so Fyne starts no dbus-daemon of its own).
func Display(t testing.TB) string {
	t.Helper()
	return need(t, "an X display (Xvfb)", "MM_DISPLAY")[0]
}
