//go:build unix

package store

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A profile file that is a FIFO (or a device through a symlink) is refused at once;
// opening a FIFO for reading would wait for a writer forever.
func TestLoadProfileRefusesSpecialFiles(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(ProfileDir(home), 0o700)
	if err := syscall.Mkfifo(ProfilePath(home, "fifo"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink("/dev/zero", ProfilePath(home, "zero")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(ProfileDir(home), "dir.toml"), 0o700)
	for _, name := range []string{"fifo", "zero", "dir"} {
		done := make(chan error, 1)
		go func() {
			_, err := LoadProfile(home, name)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: err = %v", name, err)
			}
		case <-time.After(5 * time.Second):
			// Unblock the open so the goroutine ends.
			if f, err := os.OpenFile(ProfilePath(home, name), os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			t.Fatalf("%s: LoadProfile hung", name)
		}
	}
}
