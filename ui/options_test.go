package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"mailmover/store"
)

// TestWindowUsesGivenSecrets: the window keeps secrets where Options says (the demo's
// in-memory store when there is no keyring), so GET's tokens reach Start.
func TestWindowUsesGivenSecrets(t *testing.T) {
	t.Setenv("MAILMOVER_HOME", t.TempDir())
	a := test.NewTempApp(t)
	mem := store.NewMemorySecrets()
	v := create(a, test.NewWindow(nil), Options{Secrets: mem})
	t.Cleanup(v.cancel)
	if got := v.be.Secrets(); got != Secrets(mem) {
		t.Fatalf("the window's secrets are %T, want the given memory store", got)
	}
	if err := v.secretsForRun().Set("demo", store.SecretRefreshToken, "rt"); err != nil {
		t.Fatal(err)
	}
	if got, _ := mem.Get("demo", store.SecretRefreshToken); got != "rt" {
		t.Fatalf("a secret set through the window did not reach the given store (%q)", got)
	}
}
