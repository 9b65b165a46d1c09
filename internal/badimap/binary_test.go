package badimap_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mailmover/internal/badimap"
	"mailmover/internal/testenv"
)

// The real program, `mailmover check` and `mailmover run -once`, against each bad server:
// it must end by itself, soon, with exit code 1 and a message that says what the server
// did, and its peak memory (the child's maximum resident set) must stay well under
// 256 MB. The binary is a plain `go build` (no race detector, whose memory would
// blur the measure), built once per run.

// Bounds of a run of the program against a bad server.
const (
	maxRSS  = 128 << 20  // bytes; "well under 256 MB"
	killRSS = 4 * maxRSS // a run that gets this large is killed (a broken bound must not take the machine down)
	maxTime = 60 * time.Second
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func mailmover(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailmover-badimap-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mailmover")
		if out, err := exec.Command("go", "build", "-o", binPath, "mailmover").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build mailmover: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// home makes a MAILMOVER_HOME with a profile "bad" for s (password sign-in, no TLS: the
// server is on loopback) and its password in the keyring.
func home(t *testing.T, s *badimap.Server) string {
	t.Helper()
	testenv.Keyring(t)
	dir := t.TempDir()
	prof := fmt.Sprintf(`[setup]
host = "%s"
port = %d
username = "u@example.com"
folder = "INBOX"

[security]
tls = "none"
auth = "password"

[common]
search = "all"
after = "none"
watch = "poll"

[destination]
folder = %q
`, s.Host(), s.Port(), filepath.Join(dir, "out"))
	if err := os.MkdirAll(filepath.Join(dir, "profiles"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "profiles", "bad.toml"), []byte(prof), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mailmover(t), "secret", "set", "-profile", "bad", "password")
	cmd.Env = append(os.Environ(), "MAILMOVER_HOME="+dir)
	cmd.Stdin = strings.NewReader("secret\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mailmover secret set: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		c := exec.Command(mailmover(t), "secret", "delete", "-profile", "bad", "password")
		c.Env = append(os.Environ(), "MAILMOVER_HOME="+dir)
		_ = c.Run()
	})
	return dir
}

// runBad runs the program with args against a server in mode and returns its output,
// exit code, time and peak RSS in bytes.
func runBad(t *testing.T, mode badimap.Mode, args ...string) (string, int, time.Duration, int64) {
	t.Helper()
	s, err := badimap.Start(mode)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := home(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 2*maxTime)
	defer cancel()
	cmd := exec.CommandContext(ctx, mailmover(t), args...)
	cmd.Env = append(os.Environ(), "MAILMOVER_HOME="+dir, "LANG=C.UTF-8", "LANGUAGE=en")
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := make(chan int64, 1)
	stop := make(chan struct{})
	go func() { killed <- watchRSS(cmd.Process, stop) }()
	err = cmd.Wait()
	took := time.Since(start)
	close(stop)
	if n := <-killed; n > 0 {
		t.Errorf("killed at a resident set of %d MiB", n>>20)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("mailmover %v: %v", args, err)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10 // KiB on Linux
	}
	t.Logf("mailmover %s: exit %d after %s, peak RSS %d MiB, the server sent %d MiB; output:\n%s",
		strings.Join(args, " "), code, took.Round(time.Millisecond), rss>>20, s.Sent()>>20, out.String())
	return out.String(), code, took, rss
}

// watchRSS kills p when its resident set passes killRSS, and then returns that size; 0
// when stop is closed first.
func watchRSS(p *os.Process, stop chan struct{}) int64 {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return 0
		case <-tick.C:
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				var n int64
				fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), &n)
				if n<<10 > killRSS {
					_ = p.Kill()
					return n << 10
				}
			}
		}
	}
}

func TestBinaryAgainstBadServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real program")
	}
	for _, tc := range []struct {
		name string
		mode badimap.Mode
		args []string
		code int
		want string // in the output
	}{
		{"check, a good server", badimap.Good, []string{"check", "-profile", "bad"}, 0, "OK"},
		{"check, endless line before sign-in", badimap.EndlessLinePreLogin, []string{"check", "-profile", "bad"}, 1, "longer than 8 MiB"},
		{"check, endless LIST line", badimap.EndlessLineList, []string{"check", "-profile", "bad"}, 1, "longer than 8 MiB"},
		{"check, huge SEARCH", badimap.HugeSearch, []string{"check", "-profile", "bad"}, 1, "in answer to SEARCH"},
		{"run -once, endless line before sign-in", badimap.EndlessLinePreLogin, []string{"run", "-profile", "bad", "-once"}, 1, "longer than 8 MiB"},
		{"run -once, huge SEARCH", badimap.HugeSearch, []string{"run", "-profile", "bad", "-once"}, 1, "in answer to SEARCH"},
		{"run -once, endless literal", badimap.EndlessLiteral, []string{"run", "-profile", "bad", "-once"}, 1, "RFC822.SIZE"},
		{"run -once, literal over size", badimap.LiteralOverSize, []string{"run", "-profile", "bad", "-once"}, 1, "RFC822.SIZE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code, took, rss := runBad(t, tc.mode, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if took > maxTime {
				t.Errorf("took %s, more than %s", took, maxTime)
			}
			if rss > maxRSS {
				t.Errorf("peak RSS %d MiB, more than %d MiB", rss>>20, maxRSS>>20)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("the output does not say %q", tc.want)
			}
		})
	}
}
