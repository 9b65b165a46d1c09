package mover

// Tests of the Windows write path (place_windows.go). They run where the mover's test
// binary runs on Windows: here under Wine (winetest.TestMoverUnderWine cross-compiles
// this package and runs `mover.test.exe -test.run Windows|Place`).

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"

	"mailmover/mover/journal"
	"mailmover/store"
)

// tempDir is t.TempDir for these tests: Go's own RemoveAll asks for a POSIX-semantics
// delete, which Wine 8 does not have, so the folder is removed with dest.remove's
// fallback (the classic delete).
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mm-wintest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var dirs []string
		filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			switch {
			case err != nil:
			case e.IsDir():
				dirs = append(dirs, p)
			default:
				if h, err := windows.UTF16PtrFromString(p); err == nil {
					windows.DeleteFile(h)
				}
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			os.Remove(dirs[i])
		}
	})
	return dir
}

// underWine reports whether the tests run under Wine.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// writeTempFile makes a temporary file holding data in d.
func writeTempFile(t *testing.T, d *dest, data string) string {
	t.Helper()
	tf, err := d.writeTemp(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return tf.name
}

// forEachWindowsMode runs f with the normal path and with each fallback forced.
func forEachWindowsMode(t *testing.T, f func(t *testing.T)) {
	for _, m := range []struct {
		name               string
		moveFile, classicD bool
	}{{"rename at handle, POSIX delete", false, false}, {"MoveFileEx, classic delete", true, true}} {
		t.Run(m.name, func(t *testing.T) {
			testForceMoveFileEx, testForceClassicDelete = m.moveFile, m.classicD
			defer func() { testForceMoveFileEx, testForceClassicDelete = false, false }()
			f(t)
		})
	}
}

func readAll(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWindowsRenameNoReplace: a file is put into place by a rename that never replaces,
// case-insensitively (Invoice.pdf and invoice.pdf are one name), in the top folder and
// in a subfolder; the temporary name is gone afterwards.
func TestWindowsRenameNoReplace(t *testing.T) {
	forEachWindowsMode(t, func(t *testing.T) {
		d, err := openDest(tempDir(t), "p")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		for _, rel := range []string{"Invoice.pdf", "sub/deeper/Invoice.pdf"} {
			if err := d.ensureDir(rel); err != nil {
				t.Fatal(err)
			}
			tmp := writeTempFile(t, d, "first")
			if err := d.linkNoReplace(tmp, rel); err != nil {
				t.Fatalf("placing %s: %v", rel, err)
			}
			if d.exists(tmp) {
				t.Errorf("the temporary file %s is still there", tmp)
			}
			if got := readAll(t, d.abs(rel)); got != "first" {
				t.Errorf("%s = %q", rel, got)
			}
			other := writeTempFile(t, d, "second")
			lower := filepath.ToSlash(filepath.Join(filepath.Dir(rel), "invoice.pdf"))
			if err := d.linkNoReplace(other, lower); !errors.Is(err, errExists) {
				t.Fatalf("placing %s over %s = %v, want errExists", lower, rel, err)
			}
			if got := readAll(t, d.abs(rel)); got != "first" {
				t.Errorf("%s was replaced: %q", rel, got)
			}
			if !d.exists(other) {
				t.Errorf("the refused temporary file is gone")
			}
			if err := d.remove(other); err != nil {
				t.Errorf("removing %s: %v", other, err)
			}
			if d.exists(other) {
				t.Errorf("%s is still there after remove", other)
			}
		}
		if err := d.syncDir("."); err != nil {
			t.Errorf("syncDir(.): %v", err)
		}
		if err := d.syncDir("sub/deeper"); err != nil {
			t.Errorf("syncDir(sub/deeper): %v", err)
		}
		// syncDir's nil is not a refusal taken for "cannot": the folder opens for
		// flushing (write access, an empty name relative to its own handle).
		dir, err := d.openFolder("sub/deeper")
		if err != nil {
			t.Fatal(err)
		}
		defer dir.Close()
		h, err := openAt(windows.Handle(dir.Fd()), "", fileAddFile, windows.FILE_DIRECTORY_FILE)
		if err != nil {
			t.Fatalf("opening a folder for flushing: %v", err)
		}
		if err := windows.FlushFileBuffers(h); err != nil {
			t.Logf("FlushFileBuffers on a folder here: %v", err)
		}
		windows.CloseHandle(h)
	})
}

// TestWindowsPlaceRenamesOnCaseCollision: on_conflict = rename numbers a name that
// differs from a taken one only in case, as the file system sees them as one.
func TestWindowsPlaceRenamesOnCaseCollision(t *testing.T) {
	forEachWindowsMode(t, func(t *testing.T) {
		d, err := openDest(tempDir(t), "p")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := os.WriteFile(filepath.Join(d.dir, "INVOICE.PDF"), []byte("theirs"), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := writeTempFile(t, d, "ours")
		f := journal.FileRecord{Temp: tmp, Path: "invoice.pdf", SHA256: sum([]byte("ours"))}
		if err := d.place(&f, store.ConflictRename); err != nil {
			t.Fatal(err)
		}
		if f.Path != "invoice (2).pdf" {
			t.Errorf("placed as %q, want invoice (2).pdf", f.Path)
		}
		if got := readAll(t, filepath.Join(d.dir, "INVOICE.PDF")); got != "theirs" {
			t.Errorf("the taken file now holds %q", got)
		}
		if got := readAll(t, d.abs(f.Path)); got != "ours" {
			t.Errorf("%s = %q", f.Path, got)
		}
		// Placing again (recovery after a crash) sees it done.
		if err := d.place(&f, store.ConflictRename); err != nil {
			t.Errorf("placing again: %v", err)
		}
	})
}

// TestWindowsLongPaths: a destination whose files' paths are longer than 260
// characters (MAX_PATH) works: writing, placing, removing, cleaning up.
func TestWindowsLongPaths(t *testing.T) {
	forEachWindowsMode(t, func(t *testing.T) {
		if testForceMoveFileEx && underWine() {
			// Wine 8's GetFinalPathNameByHandle stops at MAX_PATH; Windows' does not.
			t.Skip("the MoveFileEx fallback's long paths need a real Windows")
		}
		base := tempDir(t)
		dir := base
		for i := 0; len(dir) < 200; i++ {
			dir = filepath.Join(dir, strings.Repeat(string(rune('a'+i)), 40))
		}
		d, err := openDest(dir, "p")
		if err != nil {
			t.Fatalf("destination of %d characters: %v", len(dir), err)
		}
		defer d.Close()
		rel := strings.Repeat("x", 60) + "/" + strings.Repeat("y", 60) + "/" + strings.Repeat("z", 100) + ".pdf"
		if n := len(d.abs(rel)); n <= 300 {
			t.Fatalf("path of %d characters is not long enough for the test", n)
		}
		tmp := writeTempFile(t, d, "long")
		f := journal.FileRecord{Temp: tmp, Path: rel, SHA256: sum([]byte("long"))}
		if err := d.place(&f, store.ConflictRename); err != nil {
			t.Fatalf("placing a file of %d characters: %v", len(d.abs(rel)), err)
		}
		if f.Path != rel || !d.hasContent(rel, sum([]byte("long"))) {
			t.Errorf("placed as %q, content there: %v", f.Path, d.hasContent(rel, sum([]byte("long"))))
		}
		stale := writeTempFile(t, d, "stale")
		if n, err := d.cleanTemps(nil); err != nil || n != 1 || d.exists(stale) {
			t.Errorf("cleanTemps = %d, %v; stale file still there: %v", n, err, d.exists(stale))
		}
	})
}

// TestWindowsPlaceAfterCrash: each state a crash can leave while a file is put into
// place is recognised (mover/doc.go step 4), on the Windows path.
func TestWindowsPlaceAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(d *dest, tmp string) error
		want  string // content of a.pdf afterwards, "" none
		err   error
	}{
		{"not yet placed", func(d *dest, tmp string) error { return nil }, "new", nil},
		{"renamed before the crash", func(d *dest, tmp string) error { return d.renameNoReplace(tmp, "a.pdf") }, "new", nil},
		{"linked, temporary name not yet removed", func(d *dest, tmp string) error {
			return os.Link(filepath.Join(d.dir, tmp), filepath.Join(d.dir, "a.pdf"))
		}, "new", nil},
		{"temporary file gone, the name holds other content", func(d *dest, tmp string) error {
			if err := d.remove(tmp); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(d.dir, "A.PDF"), []byte("other"), 0o644)
		}, "other", errTempGone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := openDest(tempDir(t), "p")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			tmp := writeTempFile(t, d, "new")
			if err := tc.setup(d, tmp); err != nil {
				t.Fatalf("setting up: %v", err)
			}
			f := journal.FileRecord{Temp: tmp, Path: "a.pdf", SHA256: sum([]byte("new"))}
			if err := d.place(&f, store.ConflictRename); !errors.Is(err, tc.err) {
				t.Fatalf("place = %v, want %v", err, tc.err)
			}
			if d.exists(tmp) {
				t.Errorf("the temporary file is still there")
			}
			if f.Path != "a.pdf" {
				t.Errorf("placed as %q", f.Path)
			}
			if got := readAll(t, d.abs("a.pdf")); got != tc.want {
				t.Errorf("a.pdf = %q, want %q", got, tc.want)
			}
		})
	}
}
