package testenv

import (
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

var (
	probeOnce sync.Once
	probeErr  error
)

// Keyring makes sure a Secret Service is reachable for go-keyring (MM_KEYRING=1, set by
// `make test` inside dbus-run-session with an unlocked gnome-keyring), or skips the test
// (fails under MM_REQUIRE_REAL=1). The first call also stores and deletes a probe item,
// so a dead or locked service fails here with a clear message.
func Keyring(t testing.TB) {
	t.Helper()
	need(t, "a Secret Service (keyring)", "MM_KEYRING")
	probeOnce.Do(func() {
		const service, account = "mailmover-testenv-probe", "probe"
		if probeErr = keyring.Set(service, account, "probe"); probeErr == nil {
			probeErr = keyring.Delete(service, account)
		}
	})
	if probeErr != nil {
		t.Fatalf("testenv: MM_KEYRING=1 but the Secret Service does not work: %v "+
			"(is this inside dbus-run-session with gnome-keyring-daemon unlocked?)", probeErr)
	}
}
