package store

import (
	"errors"
	"os"
	"path/filepath"

	"mailmover/i18n"
)

// A profile in use — by a mover, or by a rename or delete — is locked: HOME/state/NAME.lock
// is held (flock on Unix, LockFileEx on Windows). The mover's state (package
// mover/journal) is only read and written under this lock.

// ErrStateLocked is returned (wrapped) when another mover holds the profile's state.
var ErrStateLocked = i18n.NewError("profile is already running")

// JournalPath returns the journal of profile name's state, HOME/state/NAME.journal (next
// to the snapshot StatePath).
func JournalPath(home, name string) string {
	return filepath.Join(StateDir(home), name+".journal")
}

// StateLockPath returns the lock file of profile name, HOME/state/NAME.lock.
func StateLockPath(home, name string) string {
	return filepath.Join(StateDir(home), name+".lock")
}

// ProfileLock is a held lock of a profile (LockProfile).
type ProfileLock struct{ f *os.File }

// LockProfile takes profile's lock without waiting: it fails with an error wrapping
// ErrStateLocked while another mover (or a rename or delete) holds it.
func LockProfile(home, profile string) (*ProfileLock, error) {
	f, err := lockState(home, profile)
	if err != nil {
		return nil, err
	}
	return &ProfileLock{f: f}, nil
}

// Unlock lets go of the lock.
func (l *ProfileLock) Unlock() error { return unlockState(l.f) }

// lockOpened, when set (tests), is called between opening the lock file and locking it.
var lockOpened func()

// lockState takes the profile's lock without waiting.
func lockState(home, profile string) (*os.File, error) {
	if err := ValidProfileName(profile); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(StateDir(home), 0o700); err != nil {
		return nil, i18n.Errorf("creating the state folder: %w; check that %s is writable", err, home)
	}
	path := StateLockPath(home, profile)
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, i18n.Errorf("opening the state lock: %w", err)
		}
		if lockOpened != nil {
			lockOpened()
		}
		if err := lockFile(f); err != nil {
			f.Close()
			if errors.Is(err, errWouldBlock) {
				return nil, i18n.Errorf("profile %s is already running (another mailmover holds %s): %w", profile, path, ErrStateLocked)
			}
			return nil, i18n.Errorf("locking %s: %w", path, err)
		}
		// A rename or delete of the profile removes the lock file while holding it: a
		// lock taken on the removed file guards nothing (another mover would lock the
		// new file beside it). Hold the lock only when it is the file at the path.
		fi, ferr := f.Stat()
		pi, perr := os.Stat(path)
		if ferr == nil && perr == nil && os.SameFile(fi, pi) {
			return f, nil
		}
		unlockState(f)
		if attempt == 3 {
			return nil, i18n.Errorf("locking %s: the lock file keeps being replaced (is the profile being renamed or deleted?)", path)
		}
	}
}

func unlockState(f *os.File) error {
	err := unlockFile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
