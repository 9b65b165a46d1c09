package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"mailmover/i18n"
	"mailmover/mover"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time               { return c.t }
func (c *fakeClock) add(d time.Duration)          { c.t = c.t.Add(d) }
func (c *fakeClock) ev(e mover.Event) mover.Event { e.Time = c.t; return e }

func newTestPrinter(tty bool) (*eventPrinter, *bytes.Buffer, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	p := newEventPrinter(&out, tty, clock.now)
	p.loc = time.UTC
	return p, &out, clock
}

// counters as a pass of messages with two files of 75 kB each would have them.
func cnt(done int) mover.Counters {
	return mover.Counters{Messages: done, Files: 2 * done, Bytes: 150_000 * int64(done)}
}

func TestProgressPlainLines(t *testing.T) {
	p, out, c := newTestPrinter(false)
	p.Event(c.ev(mover.Event{Kind: mover.KindConnected, Text: "connected"}))
	// A pass over 20 messages, one per second: a line every 5 s and at the end; an error
	// line in between.
	p.Event(c.ev(mover.Event{Kind: mover.KindFound, Total: 20, Text: "20 message(s) to do"}))
	for i := 1; i <= 20; i++ {
		c.add(time.Second)
		p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: i, Total: 20, Counters: cnt(i)}))
		if i == 7 {
			p.Event(c.ev(mover.Event{Kind: mover.KindError, UID: 8, Text: "message UID 8 failed", Advice: "check the disk", Counters: cnt(i)}))
		}
	}
	p.Event(c.ev(mover.Event{Kind: mover.KindIdle, Text: "waiting for new mail (IDLE)", Counters: cnt(20)}))
	// A pass of a handful: no progress.
	p.Event(c.ev(mover.Event{Kind: mover.KindFound, Total: 10, Text: "10 message(s) to do", Counters: cnt(20)}))
	for i := 1; i <= 10; i++ {
		c.add(time.Second)
		p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: i, Total: 10, Counters: cnt(20 + i)}))
	}
	// A pass broken off by a stop: its last state stays as a line before the stop's.
	p.Event(c.ev(mover.Event{Kind: mover.KindFound, Total: 30, Text: "30 message(s) to do", Counters: cnt(30)}))
	c.add(2 * time.Second)
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 3, Total: 30, Counters: cnt(33)}))
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 4, Total: 30, Counters: cnt(34)}))
	c.add(2 * time.Second)
	p.Event(c.ev(mover.Event{Kind: mover.KindStopped, Text: "stopped", Counters: cnt(34)}))
	p.Close()

	want := `2026-11-29 10:00:00 connected   connected
2026-11-29 10:00:00 found       20 message(s) to do
2026-11-29 10:00:05 progress    5/20 messages (25%), 10 files, 750.0 kB, 1.0 msg/s, 15s left
2026-11-29 10:00:07 error       message UID 8 failed
                        advice: check the disk
2026-11-29 10:00:10 progress    10/20 messages (50%), 20 files, 1.5 MB, 1.0 msg/s, 10s left
2026-11-29 10:00:15 progress    15/20 messages (75%), 30 files, 2.2 MB, 1.0 msg/s, 5s left
2026-11-29 10:00:20 progress    20/20 messages (100%), 40 files, 3.0 MB, 1.0 msg/s, done in 20s
2026-11-29 10:00:20 idle        waiting for new mail (IDLE)
2026-11-29 10:00:20 found       10 message(s) to do
2026-11-29 10:00:30 found       30 message(s) to do
2026-11-29 10:00:34 progress    4/30 messages (13%), 8 files, 600.0 kB, 1.0 msg/s, 26s left
2026-11-29 10:00:34 stopped     stopped
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestProgressTerminalLine(t *testing.T) {
	p, out, c := newTestPrinter(true)
	var want strings.Builder
	var onScreen string
	draw := func(s string) {
		pad := ""
		if n, m := utf8.RuneCountInString(onScreen), utf8.RuneCountInString(s); n > m {
			pad = strings.Repeat(" ", n-m)
		}
		want.WriteString("\r" + s + pad)
		onScreen = s
	}
	clear := func() {
		want.WriteString("\r" + strings.Repeat(" ", utf8.RuneCountInString(onScreen)) + "\r")
		onScreen = ""
	}

	p.Event(c.ev(mover.Event{Kind: mover.KindFound, Total: 12, Text: "12 message(s) to do"}))
	want.WriteString("2026-11-29 10:00:00 found       12 message(s) to do\n")
	draw("progress: 0/12 messages (0%), 0 files, 0 B")

	c.add(time.Second)
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 1, Total: 12, Counters: cnt(1)}))
	draw("progress: 1/12 messages (8%), 2 files, 150.0 kB, 1.0 msg/s, 11s left")

	// An event line: the progress line is cleared first and drawn again after it.
	p.Event(c.ev(mover.Event{Kind: mover.KindFileSaved, Text: "saved /d/a.pdf (10 bytes)", Path: "/d/a.pdf", Counters: cnt(1)}))
	clear()
	want.WriteString("2026-11-29 10:00:01 saved       saved /d/a.pdf (10 bytes)\n")
	draw("progress: 1/12 messages (8%), 2 files, 150.0 kB, 1.0 msg/s, 11s left")

	// Within 100 ms of the last draw: not drawn again.
	c.add(50 * time.Millisecond)
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 2, Total: 12, Counters: cnt(2)}))
	c.add(950 * time.Millisecond)
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 10, Total: 12, Counters: cnt(10)}))
	draw("progress: 10/12 messages (83%), 20 files, 1.5 MB, 5.0 msg/s, 1s left")

	// The end of the pass: the line is replaced by a plain one that stays.
	c.add(time.Second)
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 12, Total: 12, Counters: cnt(12)}))
	clear()
	want.WriteString("2026-11-29 10:00:03 progress    12/12 messages (100%), 24 files, 1.8 MB, 4.0 msg/s, done in 3s\n")
	p.Event(c.ev(mover.Event{Kind: mover.KindIdle, Text: "waiting for new mail (IDLE)", Counters: cnt(12)}))
	want.WriteString("2026-11-29 10:00:03 idle        waiting for new mail (IDLE)\n")
	p.Close()

	if got := out.String(); got != want.String() {
		t.Errorf("output:\n%q\nwant:\n%q", got, want.String())
	}
}

// TestProgressTerminalShorterLine: a shorter line overwrites the rest of a longer one.
func TestProgressTerminalShorterLine(t *testing.T) {
	p, out, c := newTestPrinter(true)
	p.Event(c.ev(mover.Event{Kind: mover.KindFound, Total: 100, Text: "100 message(s) to do"}))
	c.add(time.Second)
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 6, Total: 100, Counters: cnt(6)}))
	long := "progress: 6/100 messages (6%), 12 files, 900.0 kB, 6.0 msg/s, 16s left"
	c.add(500 * time.Millisecond)
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 7, Total: 100, Counters: cnt(7)}))
	short := "progress: 7/100 messages (7%), 14 files, 1.1 MB, 4.7 msg/s, 20s left"
	got := out.String()
	if !strings.Contains(got, "\r"+long) {
		t.Fatalf("no %q in %q", long, got)
	}
	if len(short) >= len(long) {
		t.Fatalf("test data: %q is not shorter than %q", short, long)
	}
	pad := strings.Repeat(" ", len(long)-len(short))
	if !strings.HasSuffix(got, "\r"+short+pad) {
		t.Errorf("output %q does not end with %q", got, "\r"+short+pad)
	}
	p.Close()
	if !strings.HasSuffix(out.String(), "\n") {
		t.Errorf("Close left the line open: %q", out.String())
	}
}

// TestProgressInterleavedLogs: a log line written to standard error on the same terminal
// clears the progress line first and draws it again after.
func TestProgressInterleavedLogs(t *testing.T) {
	p, out, c := newTestPrinter(true)
	logw := p.Interleave(out) // the same screen
	p.Event(c.ev(mover.Event{Kind: mover.KindFound, Total: 50, Text: "50 message(s) to do"}))
	c.add(2 * time.Second)
	p.Event(c.ev(mover.Event{Kind: mover.KindProgress, Done: 4, Total: 50, Counters: cnt(4)}))
	out.Reset()
	line := "progress: 4/50 messages (8%), 8 files, 600.0 kB, 2.0 msg/s, 23s left"
	if _, err := logw.Write([]byte("level=WARN msg=slow\n")); err != nil {
		t.Fatal(err)
	}
	want := "\r" + strings.Repeat(" ", len(line)) + "\r" + "level=WARN msg=slow\n" + "\r" + line
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	var plain bytes.Buffer
	if w := newEventPrinter(&plain, false, nil).Interleave(&plain); w != io.Writer(&plain) {
		t.Error("without a terminal, Interleave wraps the writer")
	}
}

func TestHumanBytesRateDuration(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {4_200, "4.2 kB"}, {17_000_000, "17.0 MB"}, {3_500_000_000, "3.5 GB"}} {
		if got := i18n.FormatBytes(tc.n); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		rate float64
		want string
	}{{12.54, "12.5 msg/s"}, {1, "1.0 msg/s"}, {0.5, "30.0 msg/min"}, {1.0 / 15, "4.0 msg/min"}} {
		if got := humanRate(tc.rate); got != tc.want {
			t.Errorf("humanRate(%g) = %q, want %q", tc.rate, got, tc.want)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {300 * time.Millisecond, "1s"}, {59 * time.Second, "59s"}, {185 * time.Second, "3m05s"},
		{2*time.Hour + 7*time.Minute + 30*time.Second, "2h07m"}} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a file is a terminal")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Error("the null device is a terminal")
	}
	if ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0); err == nil {
		defer ptmx.Close()
		if !isTerminal(ptmx) {
			t.Error("a pseudo-terminal is not a terminal")
		}
	}
}

// TestRunOnceProgressPlain: `mailmover run -once` over 12 messages with stdout not a
// terminal ends the pass with a plain progress line from the mover's counts; a pass of
// 3 shows none.
func TestRunOnceProgressPlain(t *testing.T) {
	env, _, _ := runTestSetup(t, 12)
	out := env.Stdout.(*bytes.Buffer)
	if code := Run(context.Background(), []string{"run", "-profile", "p", "-once"}, env); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, env.Stderr)
	}
	text := out.String()
	if strings.Contains(text, "\r") {
		t.Errorf("carriage return without a terminal:\n%q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var progress []string
	lastSaved := -1
	for i, l := range lines {
		if strings.Contains(l, " progress ") {
			progress = append(progress, l)
			if lastSaved > i {
				t.Errorf("file saved after the final progress line:\n%s", text)
			}
		}
		if strings.Contains(l, " saved ") {
			lastSaved = i
		}
	}
	if len(progress) != 1 || !strings.Contains(progress[0], " progress    12/12 messages (100%), 12 files, ") ||
		!strings.Contains(progress[0], "msg/s, done in ") {
		t.Errorf("progress lines %q in:\n%s", progress, text)
	}

	env, _, _ = runTestSetup(t, 3)
	out = env.Stdout.(*bytes.Buffer)
	if code := Run(context.Background(), []string{"run", "-profile", "p", "-once"}, env); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, env.Stderr)
	}
	if strings.Contains(out.String(), "progress") {
		t.Errorf("progress for 3 messages:\n%s", out)
	}
}
