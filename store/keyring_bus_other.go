//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package store

// sessionBusProblem is nil where the keyring does not use D-Bus.
func sessionBusProblem() error { return nil }
