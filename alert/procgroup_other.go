//go:build !unix

package alert

import "os/exec"

// ownGroup leaves the command as it is: where there are no process groups, cancelling
// kills the command itself (exec's default), and commandWaitDelay bounds the wait for
// output a child left behind holds open.
func ownGroup(*exec.Cmd) {}
