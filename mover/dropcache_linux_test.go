package mover

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// residentPages counts the pages of the file at path that are in the page cache (mincore
// over a read-only mapping; mapping does not read the file in).
func residentPages(t *testing.T, path string) (resident, total int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			resident++
		}
	}
	return resident, len(vec)
}

// A temporary file written in the background leaves the page cache once it is fsynced
// (MailMover never reads it again), and its content is still all there, read back from
// the disk. On tmpfs, where the pages are the file, the kernel ignores the advice.
func TestWrittenFilesLeaveThePageCache(t *testing.T) {
	if !asyncWrites {
		t.Skip("files are written in the background only on Linux")
	}
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type == unix.TMPFS_MAGIC {
		t.Skipf("%s is on tmpfs: no page cache to leave", dir)
	}
	d, err := openDest(dir, "p")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.spares = startSpares(d, 2)
	defer d.spares.stop()
	content := bytes.Repeat([]byte("invoice line 0123456789\n"), 200_000) // 4.8 MB
	tf, err := d.writeTemp(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.syncFile(tf.name); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, tf.name)
	resident, total := residentPages(t, path)
	if resident > total/10 {
		t.Errorf("%d of the file's %d pages are still in the page cache after its fsync", resident, total)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("the file reads back %d bytes (%v), want its %d", len(got), err, len(content))
	}
	if resident, _ := residentPages(t, path); resident == 0 {
		t.Log("reading it did not bring its pages back: mincore cannot see the page cache here")
	}
}
