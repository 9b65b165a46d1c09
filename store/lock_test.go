package store

import (
	"errors"
	"os"
	"testing"
)

// A lock taken on a lock file that a rename or delete removed meanwhile is not held: the
// lock is taken again on the file at the path.
func TestStateLockOnARemovedFileIsNotHeld(t *testing.T) {
	home := t.TempDir()
	l, err := LockProfile(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	path := StateLockPath(home, "p")
	var stolen *os.File
	lockOpened = func() {
		lockOpened = nil
		// Between our open and our flock, a rename takes the lock, removes the file and
		// lets go; another mover then locks the new file at the path.
		os.Remove(path)
		var err error
		if stolen, err = lockState(home, "p"); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { lockOpened = nil }()
	f, err := lockState(home, "p")
	if err == nil {
		unlockState(f)
		t.Fatal("a second mover got the lock while the first holds the file at the path")
	}
	if !errors.Is(err, ErrStateLocked) {
		t.Fatalf("lockState = %v, want ErrStateLocked", err)
	}
	unlockState(stolen)
}
