package mover

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCache tells the kernel that the pages of f, which has just been fsynced, will not be
// read by us again (posix_fadvise DONTNEED): they leave the page cache at once, clean,
// instead of pushing out what the machine's other programs read, and the next file is
// written into pages the kernel has at hand. MailMover never reads a file it wrote; a
// program that opens it later reads it from the disk. Best effort: an error is ignored
// (the file is durable either way).
func dropCache(f *os.File) {
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
