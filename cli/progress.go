package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"mailmover/i18n"
	"mailmover/mover"
)

// Progress output of `mailmover run`: the counts come from the mover's KindFound and
// KindProgress events (and the counters every event carries), never from guesses.
const (
	// progressMinMessages: a pass with at most this many messages shows no progress.
	progressMinMessages = 10
	// progressPlainEvery: without a terminal, at most one progress line this often (and
	// one when the pass ends).
	progressPlainEvery = 5 * time.Second
	// progressDrawEvery: on a terminal, the line is redrawn at most this often.
	progressDrawEvery = 100 * time.Millisecond
)

// eventPrinter writes the mover's events for `mailmover run` and, during a pass over
// more than progressMinMessages messages, its progress: on a terminal one line rewritten
// in place with "\r" (cleared before an event line is printed and drawn again after it);
// otherwise a plain line at most every plainEvery and at the end of the pass. On both, the
// pass's final state stays as a plain line. Its methods may be called from any goroutine.
type eventPrinter struct {
	mu         sync.Mutex
	w          io.Writer
	tty        bool
	now        func() time.Time
	loc        *time.Location // for the times printed
	plainEvery time.Duration
	drawEvery  time.Duration
	minTotal   int

	pass     bool // a pass with progress output is under way
	done     int
	total    int
	start    time.Time      // when the pass was found
	base     mover.Counters // the counters when the pass was found
	cur      mover.Counters // the latest counters
	printed  time.Time      // last plain line (or the pass start)
	lastDone int            // done in the last plain line (-1: none yet)
	drawn    int            // runes of the line on screen (tty), 0: none
	drawTime time.Time      // last draw (tty)
	// withProfile puts the profile's name in each line (several profiles in one output).
	withProfile bool
}

// newEventPrinter returns a printer writing to w, a terminal when tty is set, with the
// time from now (nil: time.Now).
func newEventPrinter(w io.Writer, tty bool, now func() time.Time) *eventPrinter {
	if now == nil {
		now = time.Now
	}
	return &eventPrinter{w: w, tty: tty, now: now, loc: time.Local, plainEvery: progressPlainEvery,
		drawEvery: progressDrawEvery, minTotal: progressMinMessages}
}

// isTerminal reports whether w is a terminal (a character device other than the null
// device), without a dependency: os.File's Stat mode.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(st, null) {
		return false
	}
	return true
}

// Interleave returns a writer for another stream shown on the same terminal (standard
// error's logs, when it is a terminal too): each write clears the progress line first and
// draws it again after, so the lines do not mix. Without a terminal, it returns w.
func (p *eventPrinter) Interleave(w io.Writer) io.Writer {
	if !p.tty {
		return w
	}
	return interleaved{p: p, w: w}
}

type interleaved struct {
	p *eventPrinter
	w io.Writer
}

func (i interleaved) Write(b []byte) (int, error) {
	i.p.mu.Lock()
	defer i.p.mu.Unlock()
	i.p.clear()
	n, err := i.w.Write(b)
	i.p.draw(true)
	return n, err
}

// Event prints e: an event line, or the progress it reports.
func (p *eventPrinter) Event(e mover.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case mover.KindProgress:
		p.progress(e)
		return
	case mover.KindFound:
		p.endPass()
		p.cur = e.Counters
		p.line(e)
		if e.Total > p.minTotal {
			now := p.now()
			p.pass, p.done, p.total, p.start, p.base = true, 0, e.Total, now, e.Counters
			p.printed, p.lastDone = now, -1
			p.draw(true)
		}
		return
	case mover.KindConnecting, mover.KindRetry, mover.KindIdle, mover.KindPaused, mover.KindStopped:
		// The pass is over (or broken off): its last state stays as a line.
		p.cur = e.Counters
		p.endPass()
	default:
		p.cur = e.Counters
	}
	p.clear()
	p.line(e)
	p.draw(true)
}

// Close ends the output: a pass under way leaves its last state as a line.
func (p *eventPrinter) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endPass()
}

func (p *eventPrinter) progress(e mover.Event) {
	p.cur = e.Counters
	if !p.pass {
		return
	}
	p.done, p.total = e.Done, e.Total
	if p.done >= p.total {
		p.endPass()
		return
	}
	if p.tty {
		p.draw(false)
		return
	}
	if now := p.now(); now.Sub(p.printed) >= p.plainEvery {
		p.plain(now)
	}
}

// endPass leaves the pass's last state as a plain line (unless that line is printed
// already) and ends the pass.
func (p *eventPrinter) endPass() {
	if !p.pass {
		return
	}
	p.clear()
	if p.done != p.lastDone && p.done > 0 {
		p.plain(p.now())
	}
	p.pass = false
}

// plain prints the progress as a line of the log.
func (p *eventPrinter) plain(now time.Time) {
	fmt.Fprintf(p.w, "%s %-11s %s\n", stamp(now.In(p.loc)), mover.KindProgress.Label(), p.status(now))
	p.printed, p.lastDone = now, p.done
}

// draw writes the progress line in place on a terminal (when forced, or when the last
// draw is drawEvery old).
func (p *eventPrinter) draw(force bool) {
	if !p.tty || !p.pass {
		return
	}
	now := p.now()
	if !force && p.drawn > 0 && now.Sub(p.drawTime) < p.drawEvery {
		return
	}
	s := i18n.T("progress: ") + p.status(now)
	n := utf8.RuneCountInString(s)
	pad := ""
	if p.drawn > n {
		pad = strings.Repeat(" ", p.drawn-n)
	}
	fmt.Fprint(p.w, "\r"+s+pad)
	p.drawn, p.drawTime = n, now
}

// clear removes the progress line from a terminal.
func (p *eventPrinter) clear() {
	if p.drawn == 0 {
		return
	}
	fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.drawn)+"\r")
	p.drawn = 0
}

// line prints an event line: time, kind, text (and the path when the text does not name
// it); advice follows on its own line.
func (p *eventPrinter) line(e mover.Event) {
	text := e.Text
	if e.Path != "" && !strings.Contains(text, e.Path) {
		text += " — " + e.Path
	}
	if p.withProfile && e.Profile != "" {
		text = "[" + e.Profile + "] " + text
	}
	fmt.Fprintf(p.w, "%s %-11s %s\n", stamp(e.Time.In(p.loc)), e.Kind.Label(), text)
	if e.Advice != "" {
		fmt.Fprintf(p.w, "%31s %s\n", i18n.T("advice:"), e.Advice)
	}
}

// stamp writes the time of an output line: the day in the language's style and the time.
func stamp(t time.Time) string {
	return i18n.FormatDate(t) + " " + t.Format("15:04:05")
}

// status says how far the pass is: "120/500 messages (24%), 240 files, 1.2 MB,
// 8.0 msg/s, 47s left" (rate and time left once known; "done in …" at the end).
func (p *eventPrinter) status(now time.Time) string {
	pct := 0
	if p.total > 0 {
		pct = p.done * 100 / p.total
	}
	files := p.cur.Files - p.base.Files
	s := i18n.Sprintf("%s/%s messages (%d%%), %s, %s", i18n.FormatInt(int64(p.done)), i18n.FormatInt(int64(p.total)), pct,
		i18n.Sprintf(plural(files, i18n.Key("%s file"), i18n.Key("%s files")), i18n.FormatInt(int64(files))), i18n.FormatBytes(p.cur.Bytes-p.base.Bytes))
	elapsed := now.Sub(p.start)
	if p.done > 0 && elapsed > 0 {
		rate := float64(p.done) / elapsed.Seconds()
		s += ", " + humanRate(rate)
		if p.done < p.total {
			left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			s += i18n.Sprintf(", %s left", humanDuration(left))
		} else {
			s += i18n.Sprintf(", done in %s", humanDuration(elapsed))
		}
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// humanRate writes messages per second for people: 12.5 msg/s, or 4.0 msg/min below one
// a second.
func humanRate(perSecond float64) string {
	if perSecond >= 1 {
		return i18n.Sprintf("%s msg/s", i18n.FormatDecimal(perSecond))
	}
	return i18n.Sprintf("%s msg/min", i18n.FormatDecimal(perSecond*60))
}

// humanDuration writes a duration for people, rounded up to whole seconds: 7s, 3m05s,
// 2h07m.
func humanDuration(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}
