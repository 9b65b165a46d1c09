package mover

// The write path on a FAT file system (fusefat, a real FAT image in user space): no hard
// links (link(2) fails with EPERM) and names that differ only in case are one name.
// linkNoReplace then falls back to a check and a rename; every crash state of
// mover/doc.go step 4 is still recognised.

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/internal/testenv"
	"mailmover/mover/journal"
	"mailmover/store"
)

// mountFAT makes a small FAT image and mounts it with fusefat; it skips (fails under
// MM_REQUIRE_REAL=1) where fusefat, mkfs.fat or /dev/fuse is missing.
func mountFAT(t *testing.T) string {
	t.Helper()
	var missing []string
	for _, tool := range []string{"fusefat", "mkfs.fat", "fusermount"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		missing = append(missing, "/dev/fuse")
	}
	if len(missing) > 0 {
		msg := "no FAT file system to test on: " + strings.Join(missing, ", ") + " missing (scripts/setup.sh installs fusefat and dosfstools)"
		if testenv.RequireReal() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "fat.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.fat", "-C", img, "8192").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.fat: %v\n%s", err, out)
	}
	if out, err := exec.Command("fusefat", "-o", "rw+", img, mnt).CombinedOutput(); err != nil {
		t.Fatalf("fusefat: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		for range 50 { // the file system may still be busy for a moment
			if exec.Command("fusermount", "-u", mnt).Run() == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("could not unmount %s", mnt)
	})
	// It is FAT: no hard links.
	probe := filepath.Join(mnt, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(probe, probe+"2"); err == nil {
		t.Fatal("the FAT mount makes hard links; the test would not test the fallback")
	}
	os.Remove(probe)
	return mnt
}

// TestPlaceOnFAT: files are put into place without hard links, a name taken in other
// case is numbered, and the crash states are recognised.
func TestPlaceOnFAT(t *testing.T) {
	mnt := mountFAT(t)
	d, err := openDest(filepath.Join(mnt, "in"), "p")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	place := func(content, name string) journal.FileRecord {
		t.Helper()
		tf, err := d.writeTemp(strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		if errs := d.syncTemps([]string{tf.name}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		f := journal.FileRecord{Temp: tf.name, Path: name, SHA256: sum([]byte(content))}
		if err := d.place(&f, store.ConflictRename); err != nil {
			t.Fatalf("placing %s on FAT: %v", name, err)
		}
		if d.exists(tf.name) {
			t.Errorf("the temporary file of %s is still there", name)
		}
		return f
	}
	first := place("first", "Invoice.pdf")
	second := place("second", "invoice.pdf")
	if first.Path != "Invoice.pdf" || second.Path != "invoice (2).pdf" {
		t.Errorf("placed as %q and %q, want Invoice.pdf and invoice (2).pdf (one name on FAT)", first.Path, second.Path)
	}
	sub := place("deep", "2026/11/report.pdf")
	if !d.hasContent(sub.Path, sum([]byte("deep"))) {
		t.Errorf("%s does not hold its content", sub.Path)
	}
	// Recovery: placing the same record again sees it done.
	if err := d.place(&first, store.ConflictRename); err != nil || first.Path != "Invoice.pdf" {
		t.Errorf("placing again = %v, %q", err, first.Path)
	}
	// The temporary file gone and the name holding other content: not saved.
	tf, err := d.writeTemp(strings.NewReader("lost"))
	if err != nil {
		t.Fatal(err)
	}
	d.removeTemp(tf.name)
	lost := journal.FileRecord{Temp: tf.name, Path: "INVOICE.PDF", SHA256: sum([]byte("lost"))}
	if err := d.place(&lost, store.ConflictRename); !errors.Is(err, errTempGone) {
		t.Errorf("place with the temporary file gone = %v, want errTempGone", err)
	}
	stale, err := d.writeTemp(strings.NewReader("stale"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := d.cleanTemps(nil); err != nil || n != 1 || d.exists(stale.name) {
		t.Errorf("cleanTemps on FAT = %d, %v", n, err)
	}
	if got, _ := os.ReadFile(d.abs("Invoice.pdf")); string(got) != "first" {
		t.Errorf("Invoice.pdf = %q", got)
	}
}
