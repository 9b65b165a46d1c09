//go:build !windows

package main

// attachConsole is needed only by the GUI-subsystem Windows build (console_windows.go).
func attachConsole([]string) {}
