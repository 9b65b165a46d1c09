package ui

import (
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2/lang"

	"mailmover/mover"
)

// notifyEvery is how often one cause may raise a desktop notification.
const notifyEvery = time.Hour

// failRepeat is how many failures of one message count as "fails repeatedly".
const failRepeat = 3

// notifier turns the mover's events into desktop notifications: when the mover pauses
// (for example to sign in again), when a message fails repeatedly, and when the refresh
// token nears its known lapse — at most one per cause per hour. It is safe for use from
// any goroutine; send is called without the lock held.
type notifier struct {
	now  func() time.Time
	send func(title, body string)

	mu       sync.Mutex
	last     map[string]time.Time // cause -> when it last notified
	failures map[failureKey]int   // a profile's message -> failures seen in its run
}

func newNotifier(now func() time.Time, send func(title, body string)) *notifier {
	return &notifier{now: now, send: send, last: map[string]time.Time{}, failures: map[failureKey]int{}}
}

// failureKey is a message of a profile (UIDs repeat across mailboxes).
type failureKey struct {
	profile string
	uid     uint32
}

// notify sends a notification unless the cause notified within the last hour; it reports
// whether it sent one.
func (n *notifier) notify(cause, title, body string) bool {
	n.mu.Lock()
	now := n.now()
	if t, ok := n.last[cause]; ok && now.Sub(t) < notifyEvery {
		n.mu.Unlock()
		return false
	}
	n.last[cause] = now
	n.mu.Unlock()
	n.send(title, body)
	return true
}

// event looks at one mover event.
func (n *notifier) event(ev mover.Event) {
	switch ev.Kind {
	case mover.KindPaused:
		n.notify("paused:"+ev.Profile, lang.L("MailMover paused (")+ev.Profile+")", firstNonEmpty(ev.Advice, ev.Text))
	case mover.KindError:
		if ev.UID == 0 {
			return
		}
		n.mu.Lock()
		k := failureKey{ev.Profile, ev.UID}
		n.failures[k]++
		count := n.failures[k]
		n.mu.Unlock()
		if count >= failRepeat {
			n.notify("failing:"+ev.Profile, lang.L("A message keeps failing (")+ev.Profile+")",
				fmt.Sprintf(lang.L("Message %d failed %d times: %s"), ev.UID, count, firstNonEmpty(ev.Advice, ev.Text)))
		}
	case mover.KindMessageDone:
		n.mu.Lock()
		delete(n.failures, failureKey{ev.Profile, ev.UID})
		n.mu.Unlock()
	}
}

// lapse warns that the refresh token of profile nears its known lapse.
func (n *notifier) lapse(profile, warning string) {
	if warning != "" {
		n.notify("lapse:"+profile, lang.L("Sign in again soon (")+profile+")", warning)
	}
}
