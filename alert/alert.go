// Package alert tells people when a profile needs them: it calls the webhooks and runs
// the commands set up in HOME/mailmover.toml ([alerts], store.Settings) when a profile
// pauses (it needs a sign-in or a setting), fails repeatedly (its connection failed
// Failures times in a row, or the mover stopped with an error), recovers after one of
// those was alerted, or its sign-in will lapse soon.
//
// The engine (mover.Start) hands every run's status to a Watcher, so the window, 'run',
// 'run -all' and the service alert alike without wiring of their own. Deciding is cheap
// and happens on the caller's goroutine; sending happens on a worker per receiver, each
// request or command bounded by its timeout, so a slow or hanging receiver never holds
// up a mover. A failed alert is logged and never stops anything.
//
// Alerts are throttled per profile and kind (Alerts.Throttle, default 30 minutes): a
// problem alerted once is not alerted again until it has recovered (or Alerts.Remind has
// passed), a recovery is sent only after a problem was alerted, and a lapsing sign-in at
// most once a day. What was sent is remembered in HOME/alerts/PROFILE.json, so that the
// throttle holds across restarts and across 'run -once' started by a scheduler.
//
// An alert carries the profile's name, the kind, the state and since when, why (the
// status's reason) and what to do (its advice), the time and the host name, never a
// password, token or client secret: the texts come from the engine's events, which hold
// none, and are scrubbed of anything that looks like a credential all the same (Scrub).
// This package imports neither the window's toolkit nor the IMAP source.
package alert

import (
	"strings"
	"time"
	"unicode/utf8"

	"mailmover/i18n"
	"mailmover/store"
)

// Condition is what a profile's state means for the alerts; the engine maps its states
// to these.
type Condition int

// Conditions.
const (
	Other    Condition = iota // starting, connecting, stopped: nothing to say
	Healthy                   // running or idle
	Paused                    // needs the user: a sign-in or a setting
	Retrying                  // the connection failed; State.Retries counts the failures in a row
	Failed                    // the mover could not start or gave up
)

// State is what the alerts need of a profile's status (mover.Status).
type State struct {
	Profile   string
	Condition Condition
	// State names the state as the status file does ("paused", "retrying", …).
	State   string
	Since   time.Time
	Retries int
	// Reason and Advice say why the profile is paused, retrying or failed, and what to do.
	Reason, Advice string
	// SignInLapse is when the sign-in is expected to lapse, when known.
	SignInLapse time.Time
}

// Alert is one alert as it is sent: the generic webhook's JSON body and a command's
// standard input.
type Alert struct {
	// Source is always "mailmover".
	Source string `json:"source"`
	// Event is the kind: store.AlertPaused, AlertFailing, AlertRecovered or AlertLapse.
	Event   string `json:"event"`
	Profile string `json:"profile"`
	// State is the profile's state ("paused", "retrying", "error", "running", "idle", …),
	// and Since when.
	State string    `json:"state"`
	Since time.Time `json:"since,omitzero"`
	// Title is one line; Text is the title, the reason and the advice, one a line (what
	// a chat shows).
	Title  string `json:"title"`
	Text   string `json:"text"`
	Reason string `json:"reason,omitempty"`
	Advice string `json:"advice,omitempty"`
	// Retries counts the failed connection attempts in a row.
	Retries int `json:"retries,omitempty"`
	// SignInLapse is when the sign-in is expected to lapse, when known.
	SignInLapse time.Time `json:"sign_in_lapse,omitzero"`
	// Previous lists the problems a recovery follows ("paused", "failing").
	Previous []string `json:"previous,omitempty"`
	// Time is when the alert was made; Host the computer's name.
	Time time.Time `json:"time"`
	Host string    `json:"host"`
}

// maxTextLen caps the reason and the advice, in characters (Teams takes 28 KB a message).
const maxTextLen = 1000

// newAlert makes the alert of kind for s.
func newAlert(kind string, s State, host string, now time.Time, previous []string) Alert {
	a := Alert{Source: "mailmover", Event: kind, Profile: s.Profile, State: s.State, Since: s.Since,
		Reason: clip(Scrub(s.Reason)), Advice: clip(Scrub(s.Advice)), Retries: s.Retries,
		SignInLapse: s.SignInLapse, Previous: previous, Time: now, Host: host}
	switch kind {
	case store.AlertPaused:
		a.Title = i18n.Sprintf("MailMover on %s: profile %s is paused and needs you", host, s.Profile)
	case store.AlertFailing:
		if s.Condition == Retrying {
			a.Title = i18n.Sprintf("MailMover on %s: profile %s could not connect %d times in a row", host, s.Profile, s.Retries)
		} else {
			a.Title = i18n.Sprintf("MailMover on %s: profile %s stopped with an error", host, s.Profile)
		}
	case store.AlertRecovered:
		a.Title = i18n.Sprintf("MailMover on %s: profile %s works again", host, s.Profile)
		a.Reason, a.Advice = "", ""
		if !s.Since.IsZero() {
			a.Reason = i18n.Sprintf("%s since %s", s.State, s.Since.Local().Format("2006-01-02 15:04"))
		}
	case store.AlertLapse:
		day := s.SignInLapse.Local().Format(time.DateOnly)
		if s.SignInLapse.After(now) {
			a.Title = i18n.Sprintf("MailMover on %s: the sign-in of profile %s lapses around %s", host, s.Profile, day)
			a.Advice = i18n.Sprintf("Sign in again before then: press GET on the OAuth2 tab or run 'mailmover login -profile %s'.", s.Profile)
		} else {
			a.Title = i18n.Sprintf("MailMover on %s: the sign-in of profile %s has most likely lapsed (%s)", host, s.Profile, day)
			a.Advice = i18n.Sprintf("Sign in again: press GET on the OAuth2 tab or run 'mailmover login -profile %s'.", s.Profile)
		}
		a.Reason = ""
	}
	lines := []string{a.Title}
	for _, l := range []string{a.Reason, a.Advice} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	a.Text = strings.Join(lines, "\n")
	return a
}

// clip shortens s to maxTextLen characters.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxTextLen {
		return s
	}
	r := []rune(s)
	return string(r[:maxTextLen-1]) + "…"
}
