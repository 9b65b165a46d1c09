package store

import "mailmover/i18n"

// notAbsolute says that p is not an absolute path and how one starts on Windows (where
// "/in" is not absolute: it lacks the drive).
func notAbsolute(p string) error {
	return i18n.Errorf(`%q is not an absolute path (start it with a drive as in C:\mail-in, with a share as in \\server\share\mail-in, or with ~\ for your profile folder)`, p)
}
