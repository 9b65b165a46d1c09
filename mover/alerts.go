package mover

import (
	"time"

	"mailmover/alert"
	"mailmover/i18n"
	"mailmover/store"
)

// Every run started with Start alerts by the settings in HOME/mailmover.toml (package
// alert): its status writer hands each status to an alert.Watcher, which decides at once
// and sends on the receivers' own workers.

// watchAlerts returns the run's alert watcher and makes sw feed it.
func watchAlerts(o Options, sw *statusWriter) *alert.Watcher {
	aw := notifier(o).Watch(o.Profile.Name, o.Logger)
	sw.notify = func(st Status) { aw.Observe(alertState(st)) }
	return aw
}

// alertSettingsProblem returns a warning event when the settings file cannot be used
// (there are no alerts then) or lets others read the webhooks' addresses; nil otherwise.
func alertSettingsProblem(o Options) *Event {
	n := notifier(o)
	e := &Event{Time: time.Now(), Kind: KindWarning, Profile: o.Profile.Name}
	switch err := n.SettingsError(); {
	case err != nil:
		e.Text = i18n.Sprintf("alerts are off: %v", err)
		e.Advice = i18n.Sprintf("Correct %s; it is read again when it changes.", store.SettingsPath(o.Home))
	case n.WorldReadable():
		e.Text = i18n.Sprintf("%s can be read by other users, and webhook addresses are credentials", store.SettingsPath(o.Home))
		e.Advice = i18n.Sprintf("Make it readable only by you: chmod 600 %s", store.SettingsPath(o.Home))
	default:
		return nil
	}
	return e
}

func notifier(o Options) *alert.Notifier {
	if o.Alerts != nil {
		return o.Alerts
	}
	return alert.ForHome(o.Home)
}

// alertState is what the alerts need of a status.
func alertState(st Status) alert.State {
	c := alert.Other
	switch st.State {
	case StateRunning, StateIdle:
		c = alert.Healthy
	case StatePaused:
		c = alert.Paused
	case StateRetrying:
		c = alert.Retrying
	case StateError:
		c = alert.Failed
	}
	return alert.State{Profile: st.Profile, Condition: c, State: st.State, Since: st.Since, Retries: st.Retries,
		Reason: st.Reason, Advice: st.Advice, SignInLapse: st.SignInLapse}
}
