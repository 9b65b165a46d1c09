package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// commandWaitDelay is how long a command's output may stay open after it was killed
// (a child it left behind holding it).
const commandWaitDelay = 2 * time.Second

// command runs a program for each alert.
type command struct {
	argv    []string
	timeout time.Duration
}

func newCommand(c *store.Command) *command {
	timeout := c.Timeout.Duration
	if timeout <= 0 {
		timeout = store.DefaultCommandTimeout
	}
	return &command{argv: c.Argv, timeout: timeout}
}

// send runs the command with a as JSON on its standard input and as MAILMOVER_*
// environment variables; it is killed (with its process group, where there is one) when
// it runs longer than its timeout. Exit status 0 is success.
func (c *command) send(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Stdin = bytes.NewReader(append(body, '\n'))
	cmd.Env = append(withoutAlertVars(os.Environ()), environment(a)...)
	out := &capped{max: maxShown}
	cmd.Stdout, cmd.Stderr = out, out
	ownGroup(cmd)
	cmd.WaitDelay = commandWaitDelay
	err = cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return i18n.Errorf("did not end within %s and was stopped", c.timeout)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if s := oneLine(out.String()); s != "" {
				return i18n.Errorf("%v; it wrote: %s", err, s)
			}
		}
		return err
	}
	return nil
}

func (c *command) String() string { return c.argv[0] }

// withoutAlertVars drops inherited variables that the alert sets.
func withoutAlertVars(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(strings.ToUpper(k), "MAILMOVER_") || strings.EqualFold(k, store.HomeEnv) {
			out = append(out, kv)
		}
	}
	return out
}

// capped keeps the first max bytes written to it.
type capped struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
