//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package store

import (
	"fmt"
	"os"
	"path/filepath"

	"mailmover/i18n"
)

// sessionBusProblem reports when there is plainly no D-Bus session bus to find the Secret
// Service on. Without this check go-keyring's D-Bus library would run dbus-launch, which
// fails after a while or leaves a stray dbus-daemon behind.
func sessionBusProblem() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	run := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, f := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(run, f)); err == nil {
			return nil
		}
	}
	return i18n.Errorf("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and %s does not exist", filepath.Join(run, "bus"))
}
