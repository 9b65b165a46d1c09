package ui

import (
	"context"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"

	"mailmover/mover"
)

// bridge is the only place where goroutines hand work to the UI: every widget update that
// starts off the UI thread goes through bridge.do, which is fyne.Do in the program (tests
// replace it with a queue they drain on the test goroutine).
type bridge struct {
	do func(func())
}

func newBridge() *bridge { return &bridge{do: fyne.Do} }

// run calls work on a new goroutine and then done(result, err) on the UI thread.
func run[T any](b *bridge, work func() (T, error), done func(T, error)) {
	go func() {
		v, err := work()
		b.do(func() { done(v, err) })
	}()
}

// ui calls fn on the UI thread (asynchronously).
func (b *bridge) ui(fn func()) { b.do(fn) }

// ticker calls flush on the UI thread every interval until ctx ends, but only when
// changed reports new data and no earlier flush is still queued, so a busy UI thread
// never accumulates a backlog of refreshes.
func (b *bridge) ticker(ctx context.Context, interval time.Duration, changed func() bool, flush func()) {
	var pending atomic.Bool // a flush is queued and not yet run
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !changed() || !pending.CompareAndSwap(false, true) {
					continue
				}
				b.do(func() {
					pending.Store(false)
					flush()
				})
			}
		}
	}()
}

// pump reads the events of profile's mover into the log model (and hands each to
// onEvent, which must not touch widgets) until the channel closes, then calls finished
// on the UI thread. Each mover running in the window has its own pump; an event that
// does not name its profile gets profile's name.
func (b *bridge) pump(profile string, events <-chan mover.Event, model *logModel, onEvent func(mover.Event), finished func()) {
	go func() {
		for ev := range events {
			if ev.Profile == "" {
				ev.Profile = profile
			}
			model.add(ev)
			if onEvent != nil {
				onEvent(ev)
			}
		}
		b.do(finished)
	}()
}
