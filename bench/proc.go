package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
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
	MinFlt   int64 // minor page faults (the process and its waited-for children)
	CtxSw    int64 // context switches, voluntary and not
	ExitCode int
	Err      error
}

// timeBin is GNU time, used as a small launcher so that the peak RSS is the command's own:
// a child's ru_maxrss starts at its parent's resident size at fork (Linux carries the
// old mm's high-water mark across exec), and this harness may be large.
const timeBin = "/usr/bin/time"

// RunTimed runs cmd (stdout and stderr to logPath) and measures its wall time and peak
// RSS. The peak RSS comes from GNU time's %M when /usr/bin/time exists (launched from a
// ~2 MB process), else from wait4's rusage of the direct child (then at least this
// process's own size).
func RunTimed(ctx context.Context, logPath string, env []string, dir string, name string, args ...string) ProcResult {
	var r ProcResult
	log, err := os.Create(logPath)
	if err != nil {
		r.Err = err
		return r
	}
	defer log.Close()
	rssFile := ""
	if _, err := os.Stat(timeBin); err == nil {
		rssFile = logPath + ".rss"
		args = append([]string{"-f", "%M", "-o", rssFile, name}, args...)
		name = timeBin
	}
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
			r.MinFlt, r.CtxSw = ru.Minflt, ru.Nvcsw+ru.Nivcsw
		}
		r.ExitCode = cmd.ProcessState.ExitCode()
	}
	if rssFile != "" {
		if b, err := os.ReadFile(rssFile); err == nil {
			// The last line is %M (KB); a "Command exited with non-zero status" line may precede it.
			lines := strings.Fields(strings.TrimSpace(string(b)))
			if len(lines) > 0 {
				if kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64); err == nil {
					r.MaxRSSKB = kb
				}
			}
			os.Remove(rssFile)
		}
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

// Version runs a command and returns the first line of its output that is not a warning
// (for the report).
func Version(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.Contains(l, "WARNING") {
			return l
		}
	}
	return "?"
}
