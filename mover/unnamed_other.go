//go:build !linux

package mover

import (
	"errors"
	"os"
)

// canUnnamed says whether spare files can be created unnamed (O_TMPFILE): only on Linux.
const canUnnamed = false

func openUnnamed(dir *os.File) (*os.File, error) { return nil, errors.ErrUnsupported }

func nameUnnamed(f, dir *os.File, name string) error { return errors.ErrUnsupported }
