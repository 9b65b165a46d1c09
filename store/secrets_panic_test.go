package store

import (
	"errors"
	"testing"
	"time"
)

// A panic inside go-keyring (seen when a locked gnome-keyring wants an unlock prompt)
// must become a KeyringUnavailableError, not kill the program.
func TestKeyringCallRecoversPanic(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/dev/null") // any value: sessionBusProblem only checks presence
	k := osKeyring{timeout: 5 * time.Second}
	_, err := k.call("get", "p/password", func() (string, error) { panic("prompt: nil interface") })
	if err == nil {
		t.Fatal("a panicking keyring call returned no error")
	}
	var ue *KeyringUnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("got %T %v, want *KeyringUnavailableError", err, err)
	}
	if !ue.Locked {
		t.Errorf("Locked = false, want true (a prompt was pending)")
	}
}
