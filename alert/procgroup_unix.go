//go:build unix

package alert

import (
	"os/exec"
	"syscall"
)

// ownGroup starts the command in a process group of its own, and makes its cancel kill
// the whole group: a shell script's children end with it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
