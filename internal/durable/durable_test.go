package durable

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "folder")
	path := filepath.Join(dir, "f.toml")
	for _, content := range []string{"first", "second"} {
		if err := WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Fatalf("content %q, %v", b, err)
		}
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestWriteFileLeavesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "is-a-folder")
	os.Mkdir(path, 0o700)
	os.WriteFile(filepath.Join(path, "x"), nil, 0o600)
	if err := WriteFile(path, []byte("x"), 0o600); err == nil {
		t.Fatal("renamed over a folder that is not empty")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestUnsupportedDirSync(t *testing.T) {
	if !Unsupported(&os.PathError{Op: "sync", Path: "d", Err: syscall.EINVAL}) {
		t.Error("EINVAL is how some file systems refuse to sync a folder")
	}
	if Unsupported(&os.PathError{Op: "sync", Path: "d", Err: syscall.EIO}) {
		t.Error("EIO is a real failure")
	}
	if err := SyncDir(t.TempDir()); err != nil {
		t.Error(err)
	}
}
