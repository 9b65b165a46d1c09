//go:build unix

package mover

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mailmover/mover/journal"
	"mailmover/store"
)

// TestMain lets the test binary act as a mover process for the crash tests
// (MM_MOVER_CHILD=1): it runs one profile like `mailmover run` does, with the password
// from MM_CHILD_PASSWORD and an optional file-size limit (MM_CHILD_FSIZE bytes).
func TestMain(m *testing.M) {
	if os.Getenv("MM_MOVER_CHILD") == "1" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

func childMain() int {
	if lim := os.Getenv("MM_CHILD_FSIZE"); lim != "" {
		n, _ := strconv.ParseUint(lim, 10, 64)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			return 1
		}
	}
	home, name := os.Getenv("MM_CHILD_HOME"), os.Getenv("MM_CHILD_PROFILE")
	p, err := store.LoadProfile(home, name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sec := store.NewMemorySecrets()
	sec.Set(name, store.SecretPassword, os.Getenv("MM_CHILD_PASSWORD"))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := SourceConfig(p, sec, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ev := make(chan Event, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e := range ev {
			fmt.Printf("%s %s\n", e.Kind, e.Text)
		}
	}()
	m, err := New(Options{Profile: p, Home: home, Config: cfg, Events: ev, Logger: logger, MaxRetry: 200 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv("MM_CHILD_ONCE") == "1" {
		err = m.RunOnce(ctx)
	} else {
		err = m.Run(ctx)
	}
	close(ev)
	wg.Wait()
	var fe *FailedError
	switch {
	case errors.As(err, &fe):
		fmt.Fprintln(os.Stderr, err)
		return 3
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// moverProcess starts a mover process for h's profile: the real mailmover binary when a
// keyring is available (MM_KEYRING=1; the password is stored with `mailmover secret
// set`), else this test binary as a child.
type moverProcess struct {
	t    testing.TB
	h    *harness
	pass string
	bin  string // the mailmover binary, or "" for the test binary
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// mailmoverBinary builds the mailmover binary once per test run.
func mailmoverBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailmover-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "mailmover")
		out, err := exec.Command("go", "build", "-o", buildBin, "mailmover").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func newMoverProcess(t testing.TB, h *harness, pass string) *moverProcess {
	t.Helper()
	mp := &moverProcess{t: t, h: h, pass: pass}
	var rnd [4]byte
	rand.Read(rnd[:])
	h.prof.Name = "crash-" + hex.EncodeToString(rnd[:])
	if err := store.SaveProfile(h.home, h.prof); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("MM_KEYRING") == "1" {
		mp.bin = mailmoverBinary(t)
		cmd := exec.Command(mp.bin, "secret", "set", "-profile", h.prof.Name, "password")
		cmd.Env = append(os.Environ(), store.HomeEnv+"="+h.home)
		cmd.Stdin = strings.NewReader(pass + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mailmover secret set: %v\n%s", err, out)
		}
		t.Cleanup(func() {
			c := exec.Command(mp.bin, "secret", "delete", "-profile", h.prof.Name, "password")
			c.Env = append(os.Environ(), store.HomeEnv+"="+h.home)
			c.Run()
		})
	}
	return mp
}

func (mp *moverProcess) command(once bool, extraEnv ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if mp.bin != "" {
		args := []string{"run", "-profile", mp.h.prof.Name}
		if once {
			args = append(args, "-once")
		}
		cmd = exec.Command(mp.bin, args...)
		cmd.Env = append(os.Environ(), store.HomeEnv+"="+mp.h.home)
	} else {
		cmd = exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "MM_MOVER_CHILD=1", "MM_CHILD_HOME="+mp.h.home,
			"MM_CHILD_PROFILE="+mp.h.prof.Name, "MM_CHILD_PASSWORD="+mp.pass)
		if once {
			cmd.Env = append(cmd.Env, "MM_CHILD_ONCE=1")
		}
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

func testKill9(t *testing.T, tg *imapTarget, kills int) {
	h := newHarness(t)
	tg.append(t, h.makeMail(120, 40_000, 6)...)
	h.useTarget(tg, "")
	mp := newMoverProcess(t, h, tg.pass)
	r := mrand.New(mrand.NewPCG(11, 12))
	saved := 0
	for i := range kills {
		cmd := mp.command(false)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of saved files (0–25), at a random moment within
		// the next file.
		lines := make(chan string, 1000)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		target := r.IntN(25)
		timeout := time.After(20 * time.Second)
		n := 0
	read:
		for n < target {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				switch lineKind(l) {
				case "saved":
					n++
				case "idle":
					break read
				}
			case <-timeout:
				t.Fatalf("kill %d: the mover saved only %d files in 20s", i, n)
			}
		}
		time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond) // a random point inside the work
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		saved += n
	}
	t.Logf("%s: %d kills (at least %d files saved between them)", tg.name, kills, saved)
	cmd := mp.command(true)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final run -once: %v\n%s", err, out)
	}
	h.exactlyOnce()
	if n, unseen := tg.status(t, tg.folder); n != 120 || unseen != 0 {
		t.Errorf("server: %d messages, %d unseen; want 120, 0", n, unseen)
	}
}

// lineKind returns the event kind of an output line: "KIND text" from the test child,
// "DATE TIME KIND text" from `mailmover run`.
func lineKind(l string) string {
	f := strings.Fields(l)
	if len(f) >= 3 && len(f[0]) == 10 && strings.Count(f[0], "-") == 2 {
		return f[2]
	}
	if len(f) > 0 {
		return f[0]
	}
	return ""
}

func TestKill9Memimap(t *testing.T) { testKill9(t, memTarget(t), 12) }

func TestKill9Dovecot(t *testing.T) { testKill9(t, dovecotTarget(t), 12) }

// TestFileSizeLimitLeavesMailUnmarked runs a mover process whose file size is limited
// (RLIMIT_FSIZE): the message with the big attachment fails with EFBIG, stays unseen, the
// log says why; the others are saved.
func TestFileSizeLimitLeavesMailUnmarked(t *testing.T) {
	tg := memTarget(t)
	h := newHarness(t)
	small := h.makeMail(3, 2000, 8)
	big := buildMessage(99, "Big", "billing@example.com", "hi", attachment{name: "big.pdf", data: make([]byte, 300_000)})
	tg.append(t, small[0], small[1], big, small[2])
	h.useTarget(tg, "")
	mp := newMoverProcess(t, h, tg.pass)
	mp.bin = "" // the limit is set by the test binary's child
	cmd := mp.command(true, "MM_CHILD_FSIZE=200000")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("run -once: %v, want exit 3 (a message failed)\n%s", err, out)
	}
	h.exactlyOnce()
	if _, unseen := tg.status(t, tg.folder); unseen != 1 {
		t.Errorf("%d unseen, want 1 (the big one)", unseen)
	}
	log, _ := os.ReadFile(LogPath(h.home, h.prof.Name))
	if !strings.Contains(string(log), "file too large") || !strings.Contains(string(log), "ulimit") {
		t.Errorf("the log does not say why:\n%s", log)
	}
	// Without the limit, the next run saves it.
	h.want[sum(make([]byte, 300_000))] = "big.pdf"
	if out, err := mp.command(true).CombinedOutput(); err != nil {
		t.Fatalf("run -once: %v\n%s", err, out)
	}
	h.exactlyOnce()
}

// TestProfilesInSeparateProcesses: two profiles run at once in two processes, each with
// its own state; a second process on a running profile is refused.
func TestProfilesInSeparateProcesses(t *testing.T) {
	tg := memTarget(t)
	a := newHarness(t)
	tg.append(t, a.makeMail(30, 5000, 21)...)
	a.useTarget(tg, "")
	a.prof.Common.Search, a.prof.Common.After = store.SearchAll, store.AfterNone
	pa := newMoverProcess(t, a, tg.pass)
	b := newHarness(t)
	b.home = a.home // same home: state/ side by side
	b.want = a.want // same mail, another destination
	b.useTarget(tg, "")
	b.prof.Common.Search, b.prof.Common.After = store.SearchAll, store.AfterNone
	pb := newMoverProcess(t, b, tg.pass)

	// A watching process holds profile a.
	watch := pa.command(false)
	out, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	idle := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		closed := false
		for sc.Scan() {
			if lineKind(sc.Text()) == "idle" && !closed {
				close(idle)
				closed = true
			}
		}
	}()
	select {
	case <-idle:
	case <-time.After(20 * time.Second):
		t.Fatal("the first process did not get to idle")
	}
	// Profile b in its own process at the same time: fine.
	if out, err := pb.command(true).CombinedOutput(); err != nil {
		t.Fatalf("profile b: %v\n%s", err, out)
	}
	// Profile a a second time: refused.
	second, err := pa.command(true).CombinedOutput()
	if err == nil || !strings.Contains(string(second), "already running") {
		t.Errorf("second process on profile a: %v\n%s", err, second)
	}
	watch.Process.Signal(syscall.SIGTERM)
	if err := watch.Wait(); err != nil {
		t.Errorf("first process after SIGTERM: %v", err)
	}
	a.exactlyOnce()
	b.exactlyOnce()
	for _, h := range []*harness{a, b} {
		st, err := journal.Load(h.home, h.prof.Name)
		if err != nil || len(st.Messages) != 30 {
			t.Errorf("state of %s: %d messages, %v", h.prof.Name, len(st.Messages), err)
		}
	}
}
