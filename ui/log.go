package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/mover"
)

// logRefresh is how often the live log is redrawn while events arrive.
const logRefresh = 100 * time.Millisecond

// logView is the Log tab: a capped list of the events of every mover running in the
// window, with a profile column; counters; filters (one profile or all, errors only);
// auto-scroll that pauses while the user reads further up; and the status line, which
// tells of the profile in the form.
type logView struct {
	v     *view
	model *logModel

	list       *widget.List
	entries    []mover.Event // what the list shows (UI thread only)
	spare      []mover.Event // the other buffer, filled by the next snapshot
	version    uint64        // model version the list shows
	errorsOnly *widget.Check
	profile    *widget.Select // "All profiles" or one profile
	jump       *widget.Button
	lastBottom float32
	following  bool
	// settle counts redraws still to come after new lines: the list's height and
	// content size are laid out on the next frame, so following re-scrolls a few times.
	settle atomic.Int32

	messages, files, bytes, errors *widget.Label
	shown                          *widget.Label

	forget       *widget.Button  // Progress…: retry the failed mail, or forget which messages are done
	progressBox  *fyne.Container // the backlog progress, shown while a pass runs
	progressBar  *widget.ProgressBar
	progressText *widget.Label

	statusIcon *widget.Icon
	status     *widget.Label
}

func newLogView(v *view) *logView {
	return &logView{v: v, model: newLogModel(logCapacity), following: true}
}

func (l *logView) build() fyne.CanvasObject {
	l.list = widget.NewList(
		func() int { return len(l.entries) },
		func() fyne.CanvasObject {
			tm := widget.NewLabel("00:00:00")
			tm.TextStyle.Monospace = true
			msg := widget.NewLabel("")
			msg.Truncation = fyne.TextTruncateEllipsis
			prof := widget.NewLabel("")
			prof.Truncation = fyne.TextTruncateEllipsis
			prof.TextStyle.Bold = true
			return container.NewBorder(nil, nil,
				container.NewHBox(tm, widget.NewIcon(theme.InfoIcon()),
					container.NewGridWrap(fyne.NewSize(logProfileWidth, tm.MinSize().Height), prof)), nil, msg)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < 0 || id >= len(l.entries) {
				return
			}
			ev := l.entries[id]
			row := o.(*fyne.Container)
			left := row.Objects[1].(*fyne.Container)
			left.Objects[0].(*widget.Label).SetText(ev.Time.Local().Format("15:04:05"))
			left.Objects[1].(*widget.Icon).SetResource(kindIcon(ev.Kind))
			left.Objects[2].(*fyne.Container).Objects[0].(*widget.Label).SetText(ev.Profile)
			msg := row.Objects[0].(*widget.Label)
			msg.Importance = kindImportance(ev.Kind)
			msg.SetText(eventText(ev))
		})
	l.list.OnSelected = func(id widget.ListItemID) { l.list.Unselect(id) }

	l.errorsOnly = widget.NewCheck(lang.L("Errors only"), func(bool) { l.version = 0; l.flush() })
	l.profile = widget.NewSelect([]string{lang.L("All profiles")}, func(string) { l.version = 0; l.flush() })
	l.profile.SetSelectedIndex(0)
	l.jump = widget.NewButtonWithIcon(lang.L("Latest"), theme.MoveDownIcon(), func() {
		l.following = true
		l.scrollToEnd()
		l.jump.Disable()
	})
	l.jump.Disable()
	clear := widget.NewButtonWithIcon(lang.L("Clear"), theme.ContentClearIcon(), func() {
		l.model.clear()
		l.flush()
	})
	open := widget.NewButtonWithIcon(lang.L("Open destination folder"), theme.FolderOpenIcon(), l.openDestination)
	// One button for what changes the profile's progress: retry the failed mail, or
	// forget everything (the bar must fit 1024×768 in German at large text).
	l.forget = widget.NewButtonWithIcon(lang.L("Progress…"), theme.HistoryIcon(), nil)
	l.forget.OnTapped = func() {
		menu := fyne.NewMenu("",
			fyne.NewMenuItem(lang.L("Retry failed mail"), l.retryFailed),
			fyne.NewMenuItem(lang.L("Forget progress…"), l.forgetProgress))
		c := fyne.CurrentApp().Driver().CanvasForObject(l.forget)
		if c == nil {
			return
		}
		widget.ShowPopUpMenuAtRelativePosition(menu, c, fyne.NewPos(0, l.forget.Size().Height), l.forget)
	}

	l.messages, l.files, l.bytes, l.errors = counterLabel(), counterLabel(), counterLabel(), counterLabel()
	l.shown = widget.NewLabel("")
	counters := container.NewHBox(
		container.NewGridWrap(fyne.NewSize(180, l.profile.MinSize().Height), l.profile),
		counterBox(lang.L("Messages"), l.messages), counterBox(lang.L("Files"), l.files),
		counterBox(lang.L("Saved"), l.bytes), counterBox(lang.L("Errors"), l.errors),
		layoutSpacer(), l.shown)
	bar := container.NewHBox(l.errorsOnly, l.jump, layoutSpacer(), clear, l.forget, open)
	l.progressBar = widget.NewProgressBar()
	l.progressText = widget.NewLabel("")
	l.progressText.Truncation = fyne.TextTruncateEllipsis
	l.progressBox = container.NewVBox(l.progressBar, l.progressText)
	l.progressBox.Hide()
	l.updateCounters(mover.Counters{}, 0, 0)
	return container.NewBorder(container.NewVBox(counters, l.progressBox, bar, widget.NewSeparator()), nil, nil, nil, l.list)
}

// buildStatus makes the status line shown under the tabs.
func (l *logView) buildStatus() fyne.CanvasObject {
	l.statusIcon = widget.NewIcon(theme.MediaStopIcon())
	l.status = widget.NewLabel(lang.L("Stopped"))
	l.status.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, l.statusIcon, nil, l.status)
}

func counterLabel() *widget.Label {
	lbl := widget.NewLabel("0")
	lbl.TextStyle.Bold = true
	return lbl
}

func counterBox(name string, value *widget.Label) fyne.CanvasObject {
	return container.NewHBox(mutedLine(name), value)
}

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

// startTicker redraws the log on a timer while events arrive.
func (l *logView) startTicker(ctx context.Context) {
	l.v.br.ticker(ctx, logRefresh, func() bool {
		return l.model.changedSince(l.seenVersion()) || l.settle.Load() > 0
	}, l.flush)
}

// seenVersion is read by the ticker goroutine; it is kept in the model (locked).
func (l *logView) seenVersion() uint64 { return l.model.seen() }

// logProfileWidth is the width of the log's profile column.
const logProfileWidth = 110

// filter is what the user chose to see.
func (l *logView) filter() logFilter {
	f := logFilter{errorsOnly: l.errorsOnly != nil && l.errorsOnly.Checked}
	if l.profile != nil && l.profile.SelectedIndex() > 0 {
		f.profile = l.profile.Selected
	}
	return f
}

// setProfiles offers the profiles (and any the log has events of) in the filter,
// keeping the choice.
func (l *logView) setProfiles(names []string) {
	if l.profile == nil {
		return
	}
	for _, n := range l.model.names() {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	opts := append([]string{lang.L("All profiles")}, names...)
	if slices.Equal(opts, l.profile.Options) {
		return
	}
	cur := l.filter().profile
	l.profile.Options = opts
	if cur != "" && slices.Contains(names, cur) {
		l.profile.SetSelected(cur)
	} else if cur != "" {
		l.profile.SetSelectedIndex(0)
	}
	l.profile.Refresh()
}

// showProfile filters the log to one profile ("" = all).
func (l *logView) showProfile(name string) {
	if name == "" {
		l.profile.SetSelectedIndex(0)
		return
	}
	if !slices.Contains(l.profile.Options, name) {
		l.setProfiles(append(slices.Clone(l.profile.Options[1:]), name))
	}
	l.profile.SetSelected(name)
}

// flush copies the model into the list (UI thread). It keeps the view at the bottom
// when the user was there, and pauses following while they read further up.
func (l *logView) flush() {
	// Two buffers take turns, so a busy log does not allocate 10,000 entries per redraw.
	snap, ok := l.model.snapshot(l.version, l.filter(), l.spare)
	atBottom := l.list.GetScrollOffset() >= l.lastBottom-2
	if !ok {
		if l.settle.Load() > 0 {
			l.settle.Add(-1)
			if l.following && atBottom {
				l.scrollToEnd()
			}
		}
		return
	}
	l.model.markSeen(snap.version)
	l.version = snap.version
	l.spare = l.entries
	l.entries = snap.entries
	l.updateCounters(snap.counters, snap.total, len(snap.entries))
	l.updateProgress(snap.pass)
	l.list.Refresh()
	if atBottom {
		l.following = true
		l.scrollToEnd()
		l.settle.Store(3)
		l.jump.Disable()
	} else {
		l.following = false
		l.jump.Enable()
	}
	l.refreshStatus()
}

// refreshStatus shows the state of the profile in the form in the status line: its
// mover's latest event while it runs here, else how its last run ended.
func (l *logView) refreshStatus() {
	v := l.v
	name := v.profileName
	r := v.runs[name]
	switch {
	case r != nil && r.stopping:
		l.setStatusText(lang.L("Stopping — finishing the file in hand…"), theme.MediaStopIcon())
	case r != nil:
		if !l.showRunStatus(name) {
			l.setStatusText(lang.L("Starting…"), theme.ViewRefreshIcon())
		}
	default:
		if n, ok := v.endNotes[name]; ok {
			l.setStatusText(n.text, n.icon)
		} else {
			l.setStatusText(lang.L("Stopped"), theme.MediaStopIcon())
		}
	}
}

func (l *logView) updateCounters(c mover.Counters, total int64, shown int) {
	l.messages.SetText(formatInt(int64(c.Messages)))
	l.files.SetText(formatInt(int64(c.Files)))
	l.bytes.SetText(formatBytes(c.Bytes))
	l.errors.SetText(formatInt(int64(c.Errors)))
	if c.Errors > 0 {
		l.errors.Importance = widget.DangerImportance
	} else {
		l.errors.Importance = widget.MediumImportance
	}
	l.errors.Refresh()
	switch {
	case total == 0:
		l.shown.SetText(lang.L("No events yet"))
	case int64(shown) < total:
		l.shown.SetText(fmt.Sprintf(lang.L("Showing %s of %s events"), formatInt(int64(shown)), formatInt(total)))
	default:
		l.shown.SetText(plural(int(total), lang.L("%d event"), lang.L("%d events")))
	}
}

// scrollToEnd shows the newest line and remembers where the bottom is.
func (l *logView) scrollToEnd() {
	l.list.ScrollToBottom()
	l.lastBottom = l.list.GetScrollOffset()
}

// updateProgress shows the backlog progress bar while a pass of more than a handful of
// messages runs.
func (l *logView) updateProgress(p passProgress) {
	frac, text, show := p.describe()
	if !show {
		l.progressBox.Hide()
		return
	}
	l.progressBar.SetValue(frac)
	l.progressText.SetText(text)
	l.progressBox.Show()
}

// showRunStatus shows the latest event of profile's run in the status line, with its
// backlog's progress; false when the run has no event yet.
func (l *logView) showRunStatus(profile string) bool {
	ev, pass, ok := l.model.lastOf(profile)
	if !ok {
		return false
	}
	l.setStatus(ev)
	if _, _, show := pass.describe(); show && l.status != nil {
		l.status.SetText(l.status.Text + fmt.Sprintf(lang.L(" — %d of %d messages"), pass.done, pass.total))
	}
	return true
}

// setStatus shows the mover's state in the status line.
func (l *logView) setStatus(ev mover.Event) {
	if l.status == nil {
		return
	}
	text, icon := statusOf(ev)
	l.setStatusText(text, icon)
}

// setStatusText shows a state that does not come from an event (e.g. "Stopping…").
func (l *logView) setStatusText(text string, icon fyne.Resource) {
	if l.status == nil {
		return
	}
	if l.status.Text != text {
		l.status.SetText(text)
	}
	l.statusIcon.SetResource(icon)
}

// forgetProgress asks, then makes the next run process matching mail again.
func (l *logView) forgetProgress() {
	v := l.v
	name := v.profileName
	if name == "" || v.isNew || v.runningProfile(name) {
		return
	}
	d := dialog.NewConfirm(lang.L("Forget progress?"),
		fmt.Sprintf(lang.L("MailMover forgets which messages of %q are done. The next run processes all matching mail again, also mail it has saved before."), name),
		func(ok bool) {
			if !ok {
				return
			}
			run(v.br, func() (struct{}, error) { return struct{}{}, v.be.ForgetState(name) },
				func(_ struct{}, err error) {
					if err != nil {
						v.showError(lang.L("Could not forget the progress"), err)
						return
					}
					v.showMessage(lang.L("Progress forgotten"), fmt.Sprintf(lang.L("The next run of %q starts from the beginning."), name))
				})
		}, v.win)
	d.SetConfirmText(lang.L("Forget"))
	d.Show()
}

// retryFailed makes the profile's failed messages — also those set aside after failing
// too often — due at its next run ('mailmover forget -failed'); nothing else is
// forgotten.
func (l *logView) retryFailed() {
	v := l.v
	name := v.profileName
	if name == "" || v.isNew || v.runningProfile(name) {
		return
	}
	run(v.br, func() (int, error) { return v.be.RetryFailed(name) },
		func(n int, err error) {
			if err != nil {
				v.showError(lang.L("Could not retry the failed mail"), err)
				return
			}
			v.showMessage(lang.L("Failed mail"), fmt.Sprintf(lang.L("%d failed message(s) of %q are tried again at its next run."), n, name))
		})
}

func (l *logView) openDestination() {
	folder := strings.TrimSpace(l.v.dest.folder.Text)
	if folder == "" {
		return
	}
	if err := l.v.app.OpenURL(folderURL(folder)); err != nil { // folderpath.go
		l.v.showError(lang.L("Could not open the folder"), err)
	}
}

// statusOf turns the latest event into the status line: connected, idle, working,
// paused, error or stopped.
func statusOf(ev mover.Event) (string, fyne.Resource) {
	switch ev.Kind {
	case mover.KindConnecting:
		return lang.L("Connecting…"), theme.ViewRefreshIcon()
	case mover.KindConnected:
		return lang.L("Connected"), theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case mover.KindIdle:
		return lang.L("Idle — waiting for new mail"), theme.NewSuccessThemedResource(theme.HistoryIcon())
	case mover.KindFound, mover.KindMessage, mover.KindFileSaved, mover.KindSkipped,
		mover.KindPostAction, mover.KindMessageDone, mover.KindProgress:
		return lang.L("Working"), theme.NewPrimaryThemedResource(theme.MediaPlayIcon())
	case mover.KindRetry:
		return lang.L("Reconnecting — ") + ev.Text, theme.NewWarningThemedResource(theme.ViewRefreshIcon())
	case mover.KindPaused:
		return lang.L("Paused — ") + firstNonEmpty(ev.Advice, ev.Text), theme.NewWarningThemedResource(theme.MediaPauseIcon())
	case mover.KindError:
		return lang.L("Error — ") + ev.Text, theme.NewErrorThemedResource(theme.ErrorIcon())
	case mover.KindWarning:
		return lang.L("Warning — ") + ev.Text, theme.NewWarningThemedResource(theme.WarningIcon())
	case mover.KindStopped:
		return lang.L("Stopped"), theme.MediaStopIcon()
	}
	return ev.Kind.String(), theme.InfoIcon()
}

// kindIcon is the icon of an event kind in the log.
func kindIcon(k mover.Kind) fyne.Resource {
	switch k {
	case mover.KindConnecting, mover.KindRetry:
		return theme.ViewRefreshIcon()
	case mover.KindConnected:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case mover.KindIdle:
		return theme.HistoryIcon()
	case mover.KindFound:
		return theme.SearchIcon()
	case mover.KindMessage:
		return theme.MailComposeIcon()
	case mover.KindFileSaved:
		return theme.NewPrimaryThemedResource(theme.DocumentSaveIcon())
	case mover.KindSkipped:
		return theme.MediaSkipNextIcon()
	case mover.KindPostAction:
		return theme.MailSendIcon()
	case mover.KindMessageDone:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case mover.KindError:
		return theme.NewErrorThemedResource(theme.ErrorIcon())
	case mover.KindPaused:
		return theme.NewWarningThemedResource(theme.MediaPauseIcon())
	case mover.KindWarning:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	case mover.KindStopped:
		return theme.MediaStopIcon()
	}
	return theme.InfoIcon()
}

func kindImportance(k mover.Kind) widget.Importance {
	switch k {
	case mover.KindError:
		return widget.DangerImportance
	case mover.KindWarning, mover.KindPaused:
		return widget.WarningImportance
	case mover.KindFileSaved:
		return widget.MediumImportance
	}
	return widget.MediumImportance
}

// eventText is the log line of an event: its message, and the saved path.
func eventText(ev mover.Event) string {
	var b strings.Builder
	switch ev.Kind {
	case mover.KindFileSaved:
		b.WriteString(lang.L("Saved "))
		b.WriteString(ev.Path)
		if ev.Bytes > 0 {
			b.WriteString("  (" + formatBytes(ev.Bytes) + ")")
		}
		return b.String()
	case mover.KindMessage:
		if ev.From != "" {
			fmt.Fprintf(&b, lang.L("Message %d from %s"), ev.UID, ev.From)
		} else {
			fmt.Fprintf(&b, lang.L("Message %d"), ev.UID)
		}
		if ev.Subject != "" {
			b.WriteString(": " + ev.Subject)
		}
		if ev.Text != "" {
			b.WriteString(" — " + ev.Text)
		}
		return b.String()
	case mover.KindFound:
		if ev.Text == "" {
			return fmt.Sprintf(lang.L("Found %s to do"), plural(ev.Total, lang.L("%d message"), lang.L("%d messages")))
		}
	case mover.KindProgress:
		if ev.Text == "" {
			return fmt.Sprintf(lang.L("%d of %d messages done"), ev.Done, ev.Total)
		}
	}
	b.WriteString(firstNonEmpty(ev.Text, kindTitle(ev.Kind)))
	if ev.UID != 0 && !strings.Contains(ev.Text, fmt.Sprint(ev.UID)) {
		fmt.Fprintf(&b, lang.L(" (message %d)"), ev.UID)
	}
	if ev.Advice != "" {
		b.WriteString(" — " + ev.Advice)
	}
	return b.String()
}

func kindTitle(k mover.Kind) string {
	s := k.String()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
