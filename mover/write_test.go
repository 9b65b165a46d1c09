package mover

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"mailmover/mover/journal"
	"mailmover/store"
)

// TestPlaceRecognisesEveryCrashState puts a temporary file into place from each state a
// crash can leave, for each on_conflict policy.
func TestPlaceRecognisesEveryCrashState(t *testing.T) {
	type setup func(t *testing.T, d *dest, tmp string)
	write := func(t *testing.T, d *dest, name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(d.dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		policy  string
		setup   setup
		want    map[string]string // file → content afterwards
		skipped bool
		err     error
	}{
		{"not yet placed", store.ConflictRename, func(t *testing.T, d *dest, tmp string) {},
			map[string]string{"a.pdf": "new"}, false, nil},
		{"linked, temp not yet removed", store.ConflictRename, func(t *testing.T, d *dest, tmp string) {
			os.Link(filepath.Join(d.dir, tmp), filepath.Join(d.dir, "a.pdf"))
		}, map[string]string{"a.pdf": "new"}, false, nil},
		{"linked under the second name", store.ConflictRename, func(t *testing.T, d *dest, tmp string) {
			write(t, d, "a.pdf", "someone else's")
			os.Link(filepath.Join(d.dir, tmp), filepath.Join(d.dir, "a (2).pdf"))
		}, map[string]string{"a.pdf": "someone else's", "a (2).pdf": "new"}, false, nil},
		{"name taken meanwhile, rename", store.ConflictRename, func(t *testing.T, d *dest, tmp string) {
			write(t, d, "a.pdf", "someone else's")
		}, map[string]string{"a.pdf": "someone else's", "a (2).pdf": "new"}, false, nil},
		{"name taken meanwhile, overwrite", store.ConflictOverwrite, func(t *testing.T, d *dest, tmp string) {
			write(t, d, "a.pdf", "old")
		}, map[string]string{"a.pdf": "new"}, false, nil},
		{"name taken meanwhile, skip", store.ConflictSkip, func(t *testing.T, d *dest, tmp string) {
			write(t, d, "a.pdf", "old")
		}, map[string]string{"a.pdf": "old"}, true, nil},
		{"already renamed", store.ConflictOverwrite, func(t *testing.T, d *dest, tmp string) {
			os.Rename(filepath.Join(d.dir, tmp), filepath.Join(d.dir, "a.pdf"))
		}, map[string]string{"a.pdf": "new"}, false, nil},
		{"both gone", store.ConflictRename, func(t *testing.T, d *dest, tmp string) {
			os.Remove(filepath.Join(d.dir, tmp))
		}, map[string]string{}, false, errTempGone},
		{"temp gone, the name holds other content", store.ConflictRename, func(t *testing.T, d *dest, tmp string) {
			os.Remove(filepath.Join(d.dir, tmp))
			write(t, d, "a.pdf", "someone else's")
		}, map[string]string{"a.pdf": "someone else's"}, false, errTempGone},
		{"name taken meanwhile by the same content, skip", store.ConflictSkip, func(t *testing.T, d *dest, tmp string) {
			write(t, d, "a.pdf", "new")
		}, map[string]string{"a.pdf": "new"}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := openDest(t.TempDir(), "p")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			tf, err := d.createTemp()
			if err != nil {
				t.Fatal(err)
			}
			tf.f.WriteString("new")
			tf.f.Close()
			tc.setup(t, d, tf.name)
			f := journal.FileRecord{Temp: tf.name, Path: "a.pdf", SHA256: sum([]byte("new"))}
			err = d.place(&f, tc.policy)
			if !errors.Is(err, tc.err) {
				t.Fatalf("place = %v, want %v", err, tc.err)
			}
			if (f.Skipped != "") != tc.skipped {
				t.Errorf("skipped = %q", f.Skipped)
			}
			if f.Skipped != "" && f.Same != (tc.want["a.pdf"] == "new") {
				t.Errorf("skipped with same = %v, but a.pdf holds %q", f.Same, tc.want["a.pdf"])
			}
			entries, _ := os.ReadDir(d.dir)
			got := map[string]string{}
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(d.dir, e.Name()))
				got[e.Name()] = string(b)
			}
			if len(got) != len(tc.want) {
				t.Errorf("files %v, want %v", got, tc.want)
			}
			for n, c := range tc.want {
				if got[n] != c {
					t.Errorf("%s = %q, want %q (all: %v)", n, got[n], c, got)
				}
			}
		})
	}
}

// TestDestinationStaysInside: a symbolic link planted in the destination does not lead
// a file outside it.
func TestDestinationStaysInside(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	os.MkdirAll(outside, 0o755)
	d, err := openDest(filepath.Join(base, "dest"), "p")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.Symlink(outside, filepath.Join(d.dir, "sub")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	tf, err := d.createTemp()
	if err != nil {
		t.Fatal(err)
	}
	tf.f.Close()
	f := journal.FileRecord{Temp: tf.name, Path: "sub/x.pdf"}
	if err := d.place(&f, store.ConflictRename); err == nil {
		t.Error("placed a file through a symbolic link")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written outside the destination: %v", entries)
	}
}
