//go:build !windows

package mover

import (
	"errors"
	"path/filepath"
	"syscall"
)

// renameInsteadOfLink says that linkNoReplace puts files into place with
// renameNoReplace: only on Windows (place_windows.go). Elsewhere a hard link does it.
const renameInsteadOfLink = false

func (d *dest) renameNoReplace(tmp, rel string) error { return errors.ErrUnsupported }

// remove deletes the file name of the destination.
func (d *dest) remove(name string) error { return d.root.Remove(name) }

// flushFolder fsyncs the folder rel of the destination; a file system that cannot sync a
// folder (EINVAL, unsupported) is not an error.
func (d *dest) flushFolder(rel string) error {
	f, err := d.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}
