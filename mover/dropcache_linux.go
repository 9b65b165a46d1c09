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

// writebackStart starts writing the range of f to the disk without waiting
// (sync_file_range WRITE; best effort).
func writebackStart(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// writebackWait waits until the range of f is written to the disk and drops its clean
// pages from the page cache (best effort; the fsync at the commit makes the file durable).
func writebackWait(f *os.File, off, n int64) {
	fd := int(f.Fd())
	_ = unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	_ = unix.Fadvise(fd, off, n, unix.FADV_DONTNEED)
}
