//go:build !unix

package imapsrc

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs here") }
