//go:build !linux

package mover

import "os"

// dropCache is a no-op here (see dropcache_linux.go: posix_fadvise exists on Linux only).
func dropCache(f *os.File) {}

// writebackStart is a no-op here (Linux only; see dropcache_linux.go).
func writebackStart(f *os.File, off, n int64) {}

// writebackWait is a no-op here (Linux only; see dropcache_linux.go).
func writebackWait(f *os.File, off, n int64) {}
