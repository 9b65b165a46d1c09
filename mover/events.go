package mover

import (
	"context"
	"time"
)

// stopGrace is how long the final events wait for a consumer after the run's context
// ended.
const stopGrace = time.Second

// emit stamps e, logs it and sends it on Options.Events. Sends block until the consumer
// takes the event or ctx ends; KindProgress is dropped when the channel is full, except
// the last one of a pass (Done == Total), so a consumer always sees the pass end. After
// ctx ended, an event is sent only if the consumer takes it within stopGrace (KindStopped)
// or at once (others).
func (m *Mover) emit(ctx context.Context, e Event) {
	e.Time = time.Now()
	e.Profile = m.prof.Name
	e.Counters = m.cnt
	logEvent(m.eventLog, e)
	if e.Kind != KindProgress {
		m.logger.Debug(e.Text, "kind", e.Kind.String(), "uid", e.UID, "path", e.Path)
	}
	ch := m.opts.Events
	if ch == nil {
		return
	}
	if e.Kind == KindProgress && e.Done < e.Total {
		select {
		case ch <- e:
		default:
		}
		return
	}
	if ctx.Err() != nil {
		if e.Kind == KindStopped {
			t := time.NewTimer(stopGrace)
			defer t.Stop()
			select {
			case ch <- e:
			case <-t.C:
			}
			return
		}
		select {
		case ch <- e:
		default:
		}
		return
	}
	select {
	case ch <- e:
	case <-ctx.Done():
	}
}
