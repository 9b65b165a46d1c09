package mover

import (
	"time"

	"mailmover/i18n"
)

// Kind says what an Event reports.
type Kind int

// Event kinds.
const (
	KindConnecting  Kind = iota // dialing the server
	KindConnected               // signed in, folder selected
	KindIdle                    // waiting for new mail (IDLE or poll)
	KindFound                   // a search found N messages to do (Total)
	KindMessage                 // started on a message (UID, Subject, From)
	KindFileSaved               // a file is durable on disk (Path, Bytes)
	KindSkipped                 // a part or message was skipped (Text says why)
	KindPostAction              // the post-action was applied (Text: seen/moved/deleted)
	KindMessageDone             // a message is done and checkpointed
	KindError                   // something failed (Text, Advice); the mover goes on
	KindRetry                   // reconnecting after a failure (Text says when)
	KindPaused                  // the mover needs the user (e.g. sign in again); Advice says what
	KindProgress                // Done of Total messages in this pass
	KindWarning                 // something the user should know (Text, Advice)
	KindStopped                 // the run ended
)

// kindLabels name the mover's event kinds in the output (Kind's String is for logs).
var kindLabels = map[Kind]string{
	KindConnecting:  i18n.Key("connecting"),
	KindConnected:   i18n.Key("connected"),
	KindIdle:        i18n.Key("idle"),
	KindFound:       i18n.Key("found"),
	KindMessage:     i18n.Key("message"),
	KindFileSaved:   i18n.Key("saved"),
	KindSkipped:     i18n.Key("skipped"),
	KindPostAction:  i18n.Key("post-action"),
	KindMessageDone: i18n.Key("done"),
	KindError:       i18n.Key("error"),
	KindRetry:       i18n.Key("retry"),
	KindPaused:      i18n.Key("paused"),
	KindProgress:    i18n.Key("progress"),
	KindWarning:     i18n.Key("warning"),
	KindStopped:     i18n.Key("stopped"),
}

// Label names the kind for people, in the language shown (the command line's event lines).
func (k Kind) Label() string {
	if l, ok := kindLabels[k]; ok {
		return i18n.T(l)
	}
	return k.String()
}

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindConnecting:
		return "connecting"
	case KindConnected:
		return "connected"
	case KindIdle:
		return "idle"
	case KindFound:
		return "found"
	case KindMessage:
		return "message"
	case KindFileSaved:
		return "saved"
	case KindSkipped:
		return "skipped"
	case KindPostAction:
		return "post-action"
	case KindMessageDone:
		return "done"
	case KindError:
		return "error"
	case KindRetry:
		return "retry"
	case KindPaused:
		return "paused"
	case KindProgress:
		return "progress"
	case KindWarning:
		return "warning"
	case KindStopped:
		return "stopped"
	}
	return "unknown"
}

// Counters are the run's running totals, carried on every Event.
type Counters struct {
	Messages int   // messages done
	Files    int   // files saved
	Bytes    int64 // bytes saved
	Errors   int   // errors so far
}

// Event is one step of the mover's work. It never carries a secret.
type Event struct {
	Time     time.Time
	Kind     Kind
	Profile  string
	UID      uint32
	Subject  string
	From     string
	Path     string // saved file (KindFileSaved)
	Bytes    int64  // saved bytes (KindFileSaved), or bytes saved so far in this pass (KindProgress)
	Done     int    // messages done in this pass (KindProgress)
	Total    int    // messages to do in this pass (KindFound, KindProgress)
	Text     string // human-readable, one line
	Advice   string // what the user should check (errors, pauses, warnings)
	Counters Counters
}
