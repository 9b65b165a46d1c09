package ui

import (
	"context"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"

	"mailmover/mover"
	"mailmover/store"
)

// moverRun is one profile's mover running in this window. Several run at once, each
// with its own context; the fields are touched on the UI thread only.
type moverRun struct {
	cancel      context.CancelFunc
	done        chan struct{} // closed when the run's events are drained
	started     time.Time
	stopping    bool
	userStopped bool     // the run ends because the user stopped it
	after       []func() // called once the run has ended (e.g. quit)
}

// endNote is what the status line says of a profile whose run in this window ended.
type endNote struct {
	text    string
	icon    fyne.Resource
	problem bool // it ended by itself after an error or a pause
}

// runningNames lists the profiles running in this window, sorted.
func (v *view) runningNames() []string {
	names := make([]string, 0, len(v.runs))
	for n := range v.runs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// running reports whether any mover runs in this window.
func (v *view) running() bool { return len(v.runs) > 0 }

// runningProfile reports whether profile's mover runs in this window.
func (v *view) runningProfile(name string) bool { return v.runs[name] != nil }

// startProfile starts the mover of the saved profile p: one context per run. quiet
// leaves a failure to start to the overview (Start all), else a dialog says it.
func (v *view) startProfile(p *store.Profile, quiet bool) {
	if p == nil || v.runs[p.Name] != nil {
		return
	}
	name := p.Name
	ctx, cancel := context.WithCancel(v.ctx)
	r := &moverRun{cancel: cancel, done: make(chan struct{}), started: time.Now()}
	v.runs[name] = r
	delete(v.endNotes, name)
	v.log.model.resetProfile(name)
	v.overview.model.setHere(name, true)
	v.runsChanged()
	go func() {
		events, err := v.be.StartMover(ctx, p)
		if err != nil {
			v.br.ui(func() {
				close(r.done)
				v.runEnded(name, r)
				if !quiet {
					v.showError(lang.L("Could not start ")+name, err)
				}
			})
			return
		}
		v.br.pump(name, events, v.log.model, func(ev mover.Event) {
			v.notes.event(ev)
			v.overview.model.event(ev)
		}, func() {
			close(r.done)
			v.runEnded(name, r)
		})
	}()
}

// startNamed starts a saved profile by name (the overview's Start). The profile in the
// form with unsaved changes asks first, as Start does.
func (v *view) startNamed(name string) {
	if name == v.profileName {
		v.startMover()
		return
	}
	p, err := v.be.LoadProfile(name)
	if err != nil {
		v.showError(lang.L("Could not start ")+name, err)
		return
	}
	v.startProfile(p, false)
}

// startAll starts every saved profile that is not switched off ([setup] enabled =
// false) and runs neither here nor in another process, as 'mailmover run -all' would.
// Each runs the saved profile; a profile that cannot start shows it in the overview.
func (v *view) startAll() {
	for _, r := range v.overview.rows {
		if d := v.overview.describe(r, time.Now()); !d.canStart {
			continue
		}
		p, err := v.be.LoadProfile(r.name)
		if err != nil || !p.Setup.Enabled {
			continue
		}
		v.startProfile(p, true)
	}
}

// runEnded resets the run state of profile after its mover's channel closed (UI thread).
func (v *view) runEnded(name string, r *moverRun) {
	if v.runs[name] != r {
		return
	}
	r.cancel()
	delete(v.runs, name)
	v.overview.model.setHere(name, false)
	v.log.flush()
	note := endNote{text: lang.L("Stopped"), icon: theme.MediaStopIcon()}
	if p, ok := v.log.model.lastProblem(name); ok && !r.userStopped {
		note = endNote{text: lang.L("Stopped after an error — ") + firstNonEmpty(p.Text, p.Kind.String()),
			icon: theme.NewErrorThemedResource(theme.ErrorIcon()), problem: true}
	}
	v.endNotes[name] = note
	v.runsChanged()
	for _, next := range r.after {
		next()
	}
}

// stopProfile stops profile's mover; then (after it finished the file in hand and its
// events are drained) calls next on the UI thread. Nothing running: next at once.
func (v *view) stopProfile(name string, next func()) {
	r := v.runs[name]
	if r == nil {
		if next != nil {
			next()
		}
		return
	}
	r.stopping, r.userStopped = true, true
	if next != nil {
		r.after = append(r.after, next)
	}
	r.cancel()
	v.runsChanged()
}

// stopAll stops every mover of the window, then calls next once all have ended.
func (v *view) stopAll(next func()) {
	names := v.runningNames()
	if len(names) == 0 {
		if next != nil {
			next()
		}
		return
	}
	left := len(names)
	for _, n := range names {
		v.stopProfile(n, func() {
			left--
			if left == 0 && next != nil {
				next()
			}
		})
	}
}

// runsChanged refreshes what depends on which movers run: the actions, the profile
// buttons, the overview's buttons, the status line and the tray menu.
func (v *view) runsChanged() {
	v.updateActions()
	v.profiles.updateButtons()
	v.overview.render()
	v.log.refreshStatus()
}

// runningSentence names the profiles that run in the window, for the close question.
func (v *view) runningSentence() string {
	names := v.runningNames()
	if len(names) == 1 {
		return lang.L("The mover is running for profile \"") + names[0] + "\"."
	}
	return lang.L("Movers are running for these profiles: ") + strings.Join(names, ", ") + "."
}
