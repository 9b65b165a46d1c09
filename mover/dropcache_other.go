//go:build !linux

package mover

import "os"

// dropCache is a no-op here (see dropcache_linux.go: posix_fadvise exists on Linux only).
func dropCache(f *os.File) {}
