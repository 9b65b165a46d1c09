//go:build !windows

package store

import "mailmover/i18n"

// notAbsolute says that p is not an absolute path and how one starts here.
func notAbsolute(p string) error {
	return i18n.Errorf("%q is not an absolute path (start it with / or ~/)", p)
}
