package main

import (
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// attachConsole lets the GUI-subsystem mailmover.exe show a command's output when it is
// started from cmd or PowerShell: for a command (not the window) whose standard output
// goes nowhere, it attaches to the console of the process that started it and writes
// there. cmd and PowerShell do not wait for a GUI program, so the prompt may come back
// before the output and the exit code is not seen: scripts, scheduled tasks and
// `secret set` from standard input use mailmover-cli.exe, the console-subsystem build of
// the same program (see README, "Windows").
func attachConsole(args []string) {
	switch {
	case len(args) == 0:
		return // the window
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
	case strings.HasPrefix(args[0], "-"):
		return // the window with a flag (-profile P)
	}
	if h, err := windows.GetStdHandle(windows.STD_OUTPUT_HANDLE); err == nil && h != 0 && h != windows.InvalidHandle {
		return // a console program, or output redirected to a file or a pipe
	}
	const attachParentProcess = ^uint32(0) // ATTACH_PARENT_PROCESS
	attach := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	if r, _, _ := attach.Call(uintptr(attachParentProcess)); r == 0 {
		return // started without a console (Explorer, a shortcut)
	}
	if out, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
		os.Stdout, os.Stderr = out, out
	}
	if in, err := os.OpenFile("CONIN$", os.O_RDONLY, 0); err == nil {
		os.Stdin = in
	}
}
