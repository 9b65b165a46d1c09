// Package durable writes files so that a crash leaves either the old or the new content,
// and makes renames and removals in a folder durable: the one helper for the profile
// files, the mover's state and the destination folders.
package durable

import (
	"errors"
	"os"
	"path/filepath"
)

// WriteFile writes data to path through a temporary file in the same folder: write,
// fsync, rename over path, fsync of the folder. The folder is created (mode 0700) when
// missing; the file gets perm. Errors are the operating system's, naming the file.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs the folder dir so that a rename, a new file or a removal in it is
// durable. Systems that cannot sync a folder (Windows, some network file systems) are no
// error: see Unsupported.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return SyncOpenDir(d)
}

// SyncOpenDir is SyncDir for a folder that is open already (e.g. through an os.Root).
func SyncOpenDir(d *os.File) error {
	if err := d.Sync(); err != nil && !Unsupported(err) {
		return err
	}
	return nil
}

// Unsupported reports whether err is a file system's way of saying it cannot fsync a
// folder (EINVAL, ENOTSUP, errors.ErrUnsupported; on Windows access denied or an invalid
// handle), which is not a failure.
func Unsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || unsupported(err)
}
