package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ProcResult is one timed child process.
type ProcResult struct {
	Wall     time.Duration
	MaxRSSKB int64 // peak resident set of the process and its waited-for children
	User     time.Duration
	Sys      time.Duration
	ExitCode int
	Err      error
}

// RunTimed runs cmd (stdout and stderr to logPath) and measures its wall time and peak RSS
// from wait4's rusage.
func RunTimed(ctx context.Context, logPath string, env []string, dir string, name string, args ...string) ProcResult {
	var r ProcResult
	log, err := os.Create(logPath)
	if err != nil {
		r.Err = err
		return r
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env, cmd.Dir = log, log, env, dir
	cmd.Stdin = nil
	start := time.Now()
	err = cmd.Run()
	r.Wall = time.Since(start)
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSSKB = ru.Maxrss
			r.User = time.Duration(ru.Utime.Nano())
			r.Sys = time.Duration(ru.Stime.Nano())
		}
		r.ExitCode = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		r.Err = fmt.Errorf("%s: %w (log: %s)", name, err, logPath)
	}
	return r
}

// LoadAvg returns /proc/loadavg's first three fields.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Version runs a command and returns the first line of its output (for the report).
func Version(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "?"
	}
	return s
}
