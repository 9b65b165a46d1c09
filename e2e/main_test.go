package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/internal/testenv"
)

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildLog  []byte
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// mailmover builds the real binary once per test run (plain go build, like a user's) and
// returns its path.
func mailmover(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "mailmover-e2e-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "mailmover")
		cmd := exec.Command("go", "build", "-o", binPath, "mailmover")
		buildLog, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build mailmover: %v\n%s", buildErr, buildLog)
	}
	return binPath
}

// repoRoot is the module root (the tests run in e2e/).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// run runs the binary with args and extra environment, and returns its combined output
// and exit code.
func run(t *testing.T, timeout time.Duration, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, mailmover(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("mailmover %s did not finish within %s; output:\n%s", strings.Join(args, " "), timeout, out.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("mailmover %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), code
}

// requireCommand checks that `mailmover help` lists the command: a missing command
// fails under MM_REQUIRE_REAL=1 (make test) and skips otherwise.
func requireCommand(t *testing.T, name string) {
	t.Helper()
	out, _ := run(t, time.Minute, nil, "help")
	if !strings.Contains(out, "mailmover "+name+" ") {
		msg := fmt.Sprintf("mailmover has no %q command (help:\n%s)", name, out)
		if testenv.RequireReal() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}
