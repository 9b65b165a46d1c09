//go:build unix

package durable

import (
	"errors"
	"syscall"
)

func unsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
