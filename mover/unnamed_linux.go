package mover

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// canUnnamed says whether spare files can be created unnamed (O_TMPFILE).
const canUnnamed = true

// openUnnamed creates an unnamed file in the folder dir (O_TMPFILE): it has no name until
// nameUnnamed, and vanishes when closed before.
func openUnnamed(dir *os.File) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "unnamed"), nil
}

// nameUnnamed links the unnamed file f into the folder dir under name (which must not
// exist: the link never replaces).
func nameUnnamed(f, dir *os.File, name string) error {
	return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), int(dir.Fd()), name, unix.AT_SYMLINK_FOLLOW)
}
