package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/mover"
	"mailmover/store"
)

// overview is the Overview tab: every profile with its state, which process runs it,
// its last file, today's counts and what to do next, with Start/Stop per profile and
// for all. Profiles running in this window are shown from their events and status
// files at once; those run by another process (the service, 'mailmover run') from their
// status files, read every few seconds.
type overview struct {
	v     *view
	model *overviewModel
	pid   int              // this process, to tell its status files from others'
	now   func() time.Time // the clock of the texts (tests set it)

	summary  *widget.Label
	startAll *widget.Button
	stopAll  *widget.Button
	listBox  *fyne.Container // the cards
	empty    fyne.CanvasObject
	cards    map[string]*overviewCard
	order    []string      // the cards' profiles, in order
	rows     []overviewRow // what the cards show (UI thread only)
	listErr  error
	worst    rowSeverity // the worst state of what runs (for the tray)
	problems int         // profiles that need attention
	// elsewhere are the profiles another process runs (the form's Start is off for them).
	elsewhere map[string]bool
}

// overviewCard is one profile's part of the overview.
type overviewCard struct {
	box     *fyne.Container
	icon    *widget.Icon
	line    *widget.RichText // the name, the state and where it runs, on one line
	name    string
	state   string
	stateC  fyne.ThemeColorName
	where   string
	detail  *widget.Label
	problem *widget.Label
	start   *widget.Button
	stop    *widget.Button
	open    *widget.Button
}

// rowSeverity orders states for the tray: the worst one of the profiles that run shows.
type rowSeverity int

const (
	severityOK rowSeverity = iota
	severityRetrying
	severityPaused
	severityError
)

func newOverview(v *view) *overview {
	return &overview{v: v, pid: os.Getpid(), now: time.Now, cards: map[string]*overviewCard{},
		model: newOverviewModel(v.be.ListProfiles, v.be.Status)}
}

func (o *overview) build() fyne.CanvasObject {
	o.summary = widget.NewLabel("")
	o.summary.Truncation = fyne.TextTruncateEllipsis
	o.startAll = widget.NewButtonWithIcon(lang.L("Start all"), theme.MediaPlayIcon(), o.v.startAll)
	o.stopAll = widget.NewButtonWithIcon(lang.L("Stop all"), theme.MediaStopIcon(), func() { o.v.stopAll(nil) })
	o.stopAll.Disable()
	head := widget.NewLabelWithStyle(lang.L("All profiles"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.SizeName = theme.SizeNameSubHeadingText
	intro := muted(lang.L("Each profile with its state and what to do next. Profiles run by the service or by 'mailmover run' show here too, from their status files (read every few seconds); stop them there."))
	o.empty = container.NewPadded(muted(lang.L("No profiles yet: create one with + next to the profile name.")))
	o.listBox = container.NewVBox(o.empty)
	top := container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(o.startAll, o.stopAll), head), intro,
		o.summary, widget.NewSeparator())
	return container.NewBorder(container.NewPadded(top), nil, nil, nil, container.NewVScroll(o.listBox))
}

// startPoller reads the status files on a timer and redraws the overview on news.
func (o *overview) startPoller(ctx context.Context) {
	o.v.br.ticker(ctx, overviewTick, func() bool { return o.model.poll(time.Now()) }, o.flush)
}

// flush shows the model (UI thread).
func (o *overview) flush() {
	rows, version, listErr := o.model.rows()
	o.model.markSeen(version)
	o.rows, o.listErr = rows, listErr
	o.render()
}

// render updates the cards, buttons, summary and tray from o.rows (UI thread).
func (o *overview) render() {
	names := make([]string, len(o.rows))
	for i, r := range o.rows {
		names[i] = r.name
	}
	if !slices.Equal(names, o.order) {
		o.order = names
		objs := make([]fyne.CanvasObject, 0, len(names))
		for _, n := range names {
			c := o.cards[n]
			if c == nil {
				c = o.newCard(n)
				o.cards[n] = c
			}
			objs = append(objs, c.box)
		}
		for n := range o.cards {
			if !slices.Contains(names, n) {
				delete(o.cards, n)
			}
		}
		if len(objs) == 0 {
			objs = append(objs, o.empty)
		}
		o.listBox.Objects = objs
		o.listBox.Refresh()
	}
	now := o.now()
	worst, problems, here := severityOK, 0, 0
	relayout := false
	elsewhere := map[string]bool{}
	for _, r := range o.rows {
		d := o.describe(r, now)
		if o.cards[r.name].show(d) {
			relayout = true
		}
		if d.counts && d.severity > worst {
			worst = d.severity
		}
		if d.severity >= severityPaused {
			problems++
		}
		if r.here {
			here++
		} else if d.elsewhere {
			elsewhere[r.name] = true
		}
	}
	parts := []string{plural(len(o.rows), lang.L("%d profile"), lang.L("%d profiles"))}
	parts = append(parts, fmt.Sprintf(lang.L("%d running in this window"), here))
	if len(elsewhere) > 0 {
		parts = append(parts, fmt.Sprintf(lang.L("%d running in another process"), len(elsewhere)))
	}
	if problems > 0 {
		parts = append(parts, plural(problems, lang.L("%d needs attention"), lang.L("%d need attention")))
	}
	if relayout {
		o.listBox.Refresh() // texts changed their size: lay the cards out again
	}
	text := strings.Join(parts, " · ")
	if o.listErr != nil {
		text = lang.L("Could not list the profiles") + ": " + o.listErr.Error()
	}
	setText(o.summary, text)
	o.worst, o.problems = worst, problems
	form := o.v.profileName
	if elsewhere[form] != o.elsewhere[form] {
		defer o.v.updateActions() // the form's Start
	}
	o.elsewhere = elsewhere
	o.updateButtons()
	o.v.setTrayState(worst)
}

// updateButtons enables Start all and Stop all (UI thread).
func (o *overview) updateButtons() {
	if o.stopAll == nil {
		return
	}
	setEnabled(o.stopAll, len(o.v.runs) > 0)
	startable := false
	for _, r := range o.rows {
		if d := o.describe(r, o.now()); d.canStart {
			startable = true
		}
	}
	setEnabled(o.startAll, startable)
}

func (o *overview) newCard(name string) *overviewCard {
	c := &overviewCard{icon: widget.NewIcon(theme.MediaStopIcon())}
	c.name = name
	c.line = widget.NewRichText()
	c.line.Truncation = fyne.TextTruncateEllipsis
	c.detail = widget.NewLabel("")
	c.detail.Truncation = fyne.TextTruncateEllipsis
	c.problem = widget.NewLabel("")
	c.problem.Wrapping = fyne.TextWrapWord
	c.problem.Hide()
	c.start = widget.NewButtonWithIcon(lang.L("Start"), theme.MediaPlayIcon(), func() { o.v.startNamed(name) })
	c.stop = widget.NewButtonWithIcon(lang.L("Stop"), theme.MediaStopIcon(), func() { o.v.stopProfile(name, nil) })
	c.open = widget.NewButtonWithIcon(lang.L("Open"), theme.DocumentCreateIcon(), func() { o.openProfile(name) })
	c.stop.Disable()
	body := container.NewVBox(c.line, c.detail, c.problem)
	// The icon and the buttons stay at the top of a card that grows with its problem text.
	c.box = container.NewVBox(container.NewBorder(nil, nil, container.NewVBox(container.NewPadded(c.icon)),
		container.NewVBox(container.NewHBox(c.start, c.stop, c.open)), body), widget.NewSeparator())
	return c
}

// rowView is how a card shows a profile.
type rowView struct {
	icon     fyne.Resource
	state    string
	colour   fyne.ThemeColorName
	where    string
	detail   string
	problem  string
	severity rowSeverity
	// counts is set when the tray shows the profile's state: it runs (here or in
	// another process), or its run here ended by itself with a problem.
	counts    bool
	elsewhere bool // another process runs it
	canStart  bool
	canStop   bool
}

// show puts d on the card and reports whether its texts or lines changed.
func (c *overviewCard) show(d rowView) bool {
	changed := c.icon.Resource != d.icon
	c.icon.SetResource(d.icon)
	if c.state != d.state || c.stateC != d.colour || c.where != d.where || len(c.line.Segments) == 0 {
		c.state, c.stateC, c.where = d.state, d.colour, d.where
		c.line.Segments = []widget.RichTextSegment{
			&widget.TextSegment{Text: c.name + "   ", Style: widget.RichTextStyle{Inline: true, TextStyle: fyne.TextStyle{Bold: true}}},
			&widget.TextSegment{Text: d.state, Style: widget.RichTextStyle{Inline: true, ColorName: d.colour}},
			&widget.TextSegment{Text: "  ·  " + d.where, Style: widget.RichTextStyle{Inline: true, ColorName: theme.ColorNamePlaceHolder}},
		}
		c.line.Refresh()
		changed = true
	}
	for _, l := range []struct {
		label *widget.Label
		text  string
	}{{c.detail, d.detail}, {c.problem, d.problem}} {
		if l.label.Text != l.text {
			l.label.SetText(l.text)
			changed = true
		}
		if l.label.Visible() != (l.text != "") {
			changed = true
			if l.text == "" {
				l.label.Hide()
			} else {
				l.label.Show()
			}
		}
	}
	imp := widget.WarningImportance
	if d.severity == severityError {
		imp = widget.DangerImportance
	}
	if c.problem.Importance != imp {
		c.problem.Importance = imp
		c.problem.Refresh()
	}
	setEnabled(c.start, d.canStart)
	setEnabled(c.stop, d.canStop)
	return changed
}

// setText sets a label's text when it differs (a redraw otherwise).
func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}

// describe turns what the model knows of a profile into what its card shows: its state
// from the status file its mover keeps (the engine's one rule for states), which process
// runs it (its PID and front end, and whether the file is fresh), and what to do.
func (o *overview) describe(r overviewRow, now time.Time) rowView {
	v := o.v
	run := v.runs[r.name]
	st := r.st
	if r.here && st != nil && (st.PID != o.pid || (run != nil && st.Updated.Before(run.started))) {
		st = nil // the file still tells of an earlier run
	}
	d := rowView{where: lang.L("not running")}
	alive := st != nil && st.State != mover.StateStopped && now.Sub(st.Updated) <= mover.StatusStale
	state := ""
	if st != nil {
		state = st.State
	}
	switch {
	case r.here:
		d.where, d.counts = lang.L("in this window"), true
		if state == "" {
			state = mover.StateStarting
		}
		d.canStop = run != nil && !run.stopping
	case alive && st.PID != o.pid:
		d.where, d.counts, d.elsewhere = whereRuns(st), true, true
	default:
		d.canStart = slices.Contains(o.model.namesNow(), r.name)
		if end, ok := v.endNotes[r.name]; ok && end.problem {
			d.counts = true
		}
	}
	stale := st != nil && !r.here && !d.elsewhere && st.State != mover.StateStopped &&
		st.State != mover.StateError && st.State != mover.StatePaused && now.Sub(st.Updated) > mover.StatusStale
	switch {
	case st == nil && !r.here:
		d.state, d.icon = lang.L("Not run yet"), theme.MediaStopIcon()
	case stale:
		d.state = fmt.Sprintf(lang.L("Gone — no news since %s"), shortTime(st.Updated, now))
		d.icon, d.colour, d.severity = theme.NewWarningThemedResource(theme.WarningIcon()), theme.ColorNameWarning, severityError
		d.problem = fmt.Sprintf(lang.L("Its process (pid %d) stopped updating the status file: it ended without stopping the mover, or hangs. Start the profile here, or restart the service."), st.PID)
	default:
		d.state, d.icon, d.colour, d.severity = stateView(state)
	}
	if st != nil {
		d.detail = statusDetail(st, now, r.here || d.elsewhere)
		if (state == mover.StateRetrying || state == mover.StatePaused || state == mover.StateError) && !stale {
			d.problem = st.Reason
			if st.Advice != "" {
				d.problem = strings.TrimSpace(d.problem + "\n" + lang.L("What to do: ") + st.Advice)
			}
		}
	} else if r.hasLast && r.here {
		d.state, d.icon = statusOf(r.last)
	}
	if run != nil && run.stopping {
		d.state = lang.L("Stopping — finishing the file in hand…")
	}
	return d
}

// stateView is the word, icon, colour and severity of a mover state.
func stateView(state string) (string, fyne.Resource, fyne.ThemeColorName, rowSeverity) {
	switch state {
	case mover.StateStarting:
		return lang.L("Starting…"), theme.ViewRefreshIcon(), theme.ColorNameForeground, severityOK
	case mover.StateConnecting:
		return lang.L("Connecting…"), theme.ViewRefreshIcon(), theme.ColorNameForeground, severityOK
	case mover.StateRunning:
		return lang.L("Working"), theme.NewPrimaryThemedResource(theme.MediaPlayIcon()), theme.ColorNamePrimary, severityOK
	case mover.StateIdle:
		return lang.L("Idle — waiting for new mail"), theme.NewSuccessThemedResource(theme.HistoryIcon()), theme.ColorNameSuccess, severityOK
	case mover.StateRetrying:
		return lang.L("Retrying"), theme.NewWarningThemedResource(theme.ViewRefreshIcon()), theme.ColorNameWarning, severityRetrying
	case mover.StatePaused:
		return lang.L("Paused — needs you"), theme.NewWarningThemedResource(theme.MediaPauseIcon()), theme.ColorNameWarning, severityPaused
	case mover.StateError:
		return lang.L("Error"), theme.NewErrorThemedResource(theme.ErrorIcon()), theme.ColorNameError, severityError
	}
	return lang.L("Stopped"), theme.MediaStopIcon(), theme.ColorNameForeground, severityOK
}

// whereRuns names the process that runs a profile, from its status file.
func whereRuns(st *mover.Status) string {
	switch st.Front {
	case "service":
		return fmt.Sprintf(lang.L("in the service (pid %d)"), st.PID)
	case "run":
		return fmt.Sprintf(lang.L("in 'mailmover run' (pid %d)"), st.PID)
	case "window":
		return fmt.Sprintf(lang.L("in another window (pid %d)"), st.PID)
	case "demo":
		return fmt.Sprintf(lang.L("in the demo (pid %d)"), st.PID)
	}
	return fmt.Sprintf(lang.L("in another process (pid %d)"), st.PID)
}

// statusDetail is a card's second line: since when, the last file, today's counts, the
// backlog and failed messages.
func statusDetail(st *mover.Status, now time.Time, running bool) string {
	var parts []string
	if running && !st.Since.IsZero() {
		parts = append(parts, fmt.Sprintf(lang.L("since %s"), shortTime(st.Since, now)))
	}
	if st.LastFile != "" {
		parts = append(parts, fmt.Sprintf(lang.L("last file %s at %s"), filepath.Base(st.LastFile), shortTime(st.LastFileTime, now)))
	} else {
		parts = append(parts, lang.L("no file yet"))
	}
	files, messages, bytes := 0, 0, int64(0)
	if st.Day == now.Local().Format(time.DateOnly) {
		files, messages, bytes = st.FilesToday, st.MessagesToday, st.BytesToday
	}
	parts = append(parts, lang.L("today")+" "+plural(files, lang.L("%d file"), lang.L("%d files"))+", "+
		plural(messages, lang.L("%d message"), lang.L("%d messages"))+", "+formatBytes(bytes))
	if running && st.Backlog > 0 {
		parts = append(parts, fmt.Sprintf(lang.L("%d to do"), st.Backlog))
	}
	if st.FailedMessages > 0 {
		parts = append(parts, plural(st.FailedMessages, lang.L("%d message failed"), lang.L("%d messages failed")))
	}
	return strings.Join(parts, " · ")
}

// shortTime writes a time of today as 15:04, else with its date.
func shortTime(t, now time.Time) string {
	t = t.Local()
	if t.Format(time.DateOnly) == now.Local().Format(time.DateOnly) {
		return t.Format("15:04")
	}
	return formatDate(t) + " " + t.Format("15:04")
}

// openProfile shows a profile in the form, on the tab of its problem: the OAuth2 tab
// when an OAuth2 profile is paused (sign in again with GET), the Security tab when a
// password profile is, else Setup.
func (o *overview) openProfile(name string) {
	v := o.v
	tab := "setup"
	for _, r := range o.rows {
		if r.name != name || r.st == nil || (r.st.State != mover.StatePaused && r.st.State != mover.StateError) {
			continue
		}
		if p, err := v.be.LoadProfile(name); err == nil {
			tab = "oauth2"
			if p.Security.Auth == store.AuthPassword {
				tab = "security"
			}
		}
	}
	show := func() { v.selectTab(tab) }
	if name == v.profileName {
		show()
		return
	}
	v.profiles.confirmDiscard(func() {
		v.isNew, v.dirty = false, false
		v.profiles.reload(name)
		show()
	})
}

// settled reports whether movers run in the window and each has come to rest: idle,
// paused, retrying or in error, as its status file says (for the screenshot).
func (o *overview) settled() bool {
	if len(o.v.runs) == 0 {
		return false
	}
	for _, r := range o.rows {
		if !r.here {
			continue
		}
		if r.st == nil || r.st.PID != o.pid {
			return false
		}
		switch r.st.State {
		case mover.StateIdle, mover.StatePaused, mover.StateRetrying, mover.StateError:
		default:
			return false
		}
	}
	return true
}
