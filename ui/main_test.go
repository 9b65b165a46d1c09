package ui

import (
	"os"
	"testing"
)

// The program installs the translator at start (main); the window's tests do the same.
func TestMain(m *testing.M) {
	InstallTranslator()
	os.Exit(m.Run())
}
