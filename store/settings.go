package store

import (
	"errors"
	"io/fs"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"mailmover/i18n"
)

// MailMover's settings for every profile live in one small file in the home,
// HOME/mailmover.toml. Today it holds the alerts ([alerts]): which changes of a profile's
// state alert, how often, and where to (webhooks and commands). It is optional: without
// it there are no alerts. It is strict TOML like a profile: an unknown key or a bad value
// is an error naming the key and the line. The file holds no password or token, but a
// webhook's address is itself a credential (anyone who has it can post to the channel):
// keep the file readable only by the user who runs MailMover.

// SettingsFile is the name of the settings file in the home.
const SettingsFile = "mailmover.toml"

// SettingsPath returns the settings file, HOME/mailmover.toml.
func SettingsPath(home string) string { return filepath.Join(home, SettingsFile) }

// AlertStateDir returns the folder where the alerts remember, per profile, what they sent
// (for the throttle), HOME/alerts.
func AlertStateDir(home string) string { return filepath.Join(home, "alerts") }

// AlertStatePath returns the alert record of profile name, HOME/alerts/NAME.json.
func AlertStatePath(home, name string) string {
	return filepath.Join(AlertStateDir(home), name+".json")
}

// Alert events, in Alerts.Events.
const (
	AlertPaused    = "paused"    // a profile pauses: it needs a sign-in or a setting
	AlertFailing   = "failing"   // the connection failed Failures times in a row, or the mover stopped with an error
	AlertRecovered = "recovered" // a profile that alerted runs again
	AlertLapse     = "lapse"     // the sign-in lapses within LapseDays (at most once a day)
)

// AlertEvents lists the alert events in their order.
var AlertEvents = []string{AlertPaused, AlertFailing, AlertRecovered, AlertLapse}

// Webhook formats, in Webhook.Format.
const (
	FormatGeneric = "generic" // MailMover's JSON: a text and the alert's fields
	FormatSlack   = "slack"   // a Slack incoming webhook: {"text": …}
	FormatTeams   = "teams"   // a Teams Workflows webhook: the generic fields plus an Adaptive Card
)

// Limits and defaults of the alert settings.
const (
	DefaultAlertFailures  = 5
	DefaultAlertThrottle  = 30 * time.Minute
	DefaultAlertRemind    = 24 * time.Hour
	DefaultAlertLapseDays = 14
	DefaultWebhookTimeout = 10 * time.Second
	MaxWebhookTimeout     = time.Minute
	DefaultCommandTimeout = 30 * time.Second
	MaxCommandTimeout     = 10 * time.Minute
	minAlertThrottle      = time.Minute
)

// Settings is the settings file.
type Settings struct {
	Alerts Alerts `toml:"alerts"`
}

// Alerts are the [alerts] table: when a profile alerts and where to.
type Alerts struct {
	// Events are the changes that alert (AlertEvents; default all four).
	Events []string `toml:"events"`
	// Failures is how many failed connection attempts in a row make a profile "failing".
	Failures int `toml:"failures"`
	// Throttle is the least time between two alerts of one kind for one profile.
	Throttle Duration `toml:"throttle"`
	// Remind is how long a problem that was alerted and has not recovered stays quiet
	// before it alerts again (0: never again until it recovers).
	Remind Duration `toml:"remind"`
	// LapseDays is how many days before a sign-in's expected lapse it alerts.
	LapseDays int `toml:"lapse_days"`
	// Webhook and Command are the receivers, by a name of the user's (used in logs).
	Webhook map[string]*Webhook `toml:"webhook"`
	Command map[string]*Command `toml:"command"`
}

// Webhook is an [alerts.webhook.NAME] table: an HTTP POST of JSON.
type Webhook struct {
	// URL is where to post: https, or http to this machine (IsLoopbackHost).
	URL string `toml:"url"`
	// Format is FormatTeams, FormatSlack or FormatGeneric; empty: from the URL's host
	// (WebhookFormat).
	Format string `toml:"format"`
	// Timeout bounds the whole request (0: DefaultWebhookTimeout).
	Timeout Duration `toml:"timeout"`
}

// Command is an [alerts.command.NAME] table: a program run with the alert as JSON on its
// standard input and in MAILMOVER_* environment variables.
type Command struct {
	// Argv is the program and its arguments (no shell).
	Argv []string `toml:"argv"`
	// Timeout is how long it may run before it is killed (0: DefaultCommandTimeout).
	Timeout Duration `toml:"timeout"`
}

// Active reports whether alerts are set up: at least one webhook or command.
func (a *Alerts) Active() bool { return len(a.Webhook)+len(a.Command) > 0 }

// Wants reports whether event (AlertEvents) alerts.
func (a *Alerts) Wants(event string) bool { return slices.Contains(a.Events, event) }

// DefaultSettings returns the settings of a home without a settings file: no alerts, and
// the defaults an [alerts] table starts from.
func DefaultSettings() *Settings {
	return &Settings{Alerts: Alerts{
		Events:    slices.Clone(AlertEvents),
		Failures:  DefaultAlertFailures,
		Throttle:  Duration{DefaultAlertThrottle},
		Remind:    Duration{DefaultAlertRemind},
		LapseDays: DefaultAlertLapseDays,
	}}
}

// WebhookFormat returns the format a webhook is posted in: its Format, or, when empty,
// the one its URL's host implies — FormatSlack for hooks.slack.com, FormatTeams for the
// hosts of Teams Workflows and Power Automate (*.logic.azure.com, *.powerautomate.com,
// *.powerplatform.com, flow.microsoft.com) and the old Office 365 connectors
// (*.webhook.office.com) — else FormatGeneric.
func (w *Webhook) WebhookFormat() string {
	if w.Format != "" {
		return w.Format
	}
	u, err := url.Parse(w.URL)
	if err != nil {
		return FormatGeneric
	}
	h := strings.ToLower(u.Hostname())
	under := func(domain string) bool { return h == domain || strings.HasSuffix(h, "."+domain) }
	switch {
	case under("hooks.slack.com"):
		return FormatSlack
	case under("logic.azure.com"), under("powerautomate.com"), under("powerplatform.com"),
		under("flow.microsoft.com"), under("webhook.office.com"):
		return FormatTeams
	}
	return FormatGeneric
}

// LoadSettings reads HOME/mailmover.toml. A missing file gives DefaultSettings (no
// alerts) and no error; otherwise the errors are ParseSettings'.
func LoadSettings(home string) (*Settings, error) {
	path := SettingsPath(home)
	data, err := readLimited(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return nil, i18n.Errorf("reading the settings: %w", err)
	}
	return parseSettings(path, data)
}

// ParseSettings reads the settings file from TOML text. Keys left out keep
// DefaultSettings' values. It is strict: a syntax error, an unknown key, a value of the
// wrong type and every problem Validate finds come back joined as *FieldError values that
// name the key and the line, with File "mailmover.toml" (LoadSettings: the file's path).
func ParseSettings(data []byte) (*Settings, error) { return parseSettings(SettingsFile, data) }

func parseSettings(file string, data []byte) (*Settings, error) {
	if len(data) > MaxProfileSize {
		return nil, &FieldError{File: file, Msg: i18n.Sprintf("the file is %d bytes; the settings are at most %d", len(data), MaxProfileSize)}
	}
	text := string(data)
	s := DefaultSettings()
	md, err := toml.Decode(text, s)
	if err != nil {
		err = decodeError(file, text, err)
		if fe, ok := err.(*FieldError); ok {
			// url = … right under [alerts.webhook]: the decoder wants a table there.
			if k := strings.Split(fe.Key, "."); len(k) == 3 && k[0] == "alerts" && (k[1] == "webhook" || k[1] == "command") {
				fe.Msg = unknownSettingMsg(toml.Key(k))
			}
		}
		return nil, err
	}
	lines := keyLines(text)
	var errs []error
	for _, k := range md.Undecoded() {
		if len(errs) == maxUnknownReported {
			errs = append(errs, &FieldError{File: file, Msg: i18n.T("and more unknown keys")})
			break
		}
		errs = append(errs, &FieldError{File: file, Key: k.String(), Line: lineOf(lines, strings.Join(k, ".")), Msg: unknownSettingMsg(k)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := s.Validate(); err != nil {
		// The lines are found by the key as written; a quoted name ("my hook") is
		// spelt with its quotes in the messages.
		raw := map[string]string{}
		for _, t := range []struct {
			table string
			names []string
		}{{"alerts.webhook.", slices.Sorted(maps.Keys(s.Alerts.Webhook))}, {"alerts.command.", slices.Sorted(maps.Keys(s.Alerts.Command))}} {
			for _, n := range t.names {
				raw[t.table+tomlKeyPart(n)] = t.table + n
			}
		}
		for _, fe := range FieldErrors(err) {
			fe.File = file
			key := fe.Key
			for quoted, r := range raw {
				if rest, ok := strings.CutPrefix(key, quoted); ok && (rest == "" || rest[0] == '.') {
					key = r + rest
				}
			}
			fe.Line = lineOf(lines, key)
		}
		return nil, err
	}
	return s, nil
}

// settingsKeys are the keys of each table of the settings file; "*" stands for a name of
// the user's.
var settingsKeys = map[string][]string{
	"":                 {"alerts"},
	"alerts":           {"events", "failures", "throttle", "remind", "lapse_days", "webhook", "command"},
	"alerts.webhook.*": {"url", "format", "timeout"},
	"alerts.command.*": {"argv", "timeout"},
}

// unknownSettingMsg says a key of the settings file is unknown and, when it can, which was
// meant.
func unknownSettingMsg(k toml.Key) string {
	table := ""
	switch {
	case len(k) == 1:
	case len(k) == 2 && k[0] == "alerts":
		table = "alerts"
	case len(k) == 4 && k[0] == "alerts" && (k[1] == "webhook" || k[1] == "command"):
		table = "alerts." + k[1] + ".*"
	case len(k) == 3 && k[0] == "alerts" && (k[1] == "webhook" || k[1] == "command"):
		return i18n.Sprintf("unknown key; give each %s a name of its own, as a table: [alerts.%s.NAME]", k[1], k[1])
	default:
		return i18n.T("unknown key")
	}
	keys := settingsKeys[table]
	if s := closest(k[len(k)-1], keys); s != "" {
		return i18n.Sprintf("unknown key; did you mean %q?", s)
	}
	if table == "" {
		return i18n.T("unknown table or key; the settings file has the table [alerts]")
	}
	return i18n.Sprintf("unknown key; the keys here are %s", strings.Join(keys, ", "))
}

// Validate checks the settings and returns all problems joined, each a *FieldError naming
// its key (Line is 0; ParseSettings fills it in). The rules: events from AlertEvents;
// failures 1–1000; throttle at least 1m; remind 0 or more; lapse_days 1–90; a webhook's
// url is an https URL (plain http only to this machine, IsLoopbackHost) without user
// name or password, its format empty or teams, slack or generic, its timeout 0 (the
// default) up to 1m; a command's argv names a program, its timeout 0 (the default) up to
// 10m.
func (s *Settings) Validate() error {
	var c checker
	a := &s.Alerts
	for _, e := range a.Events {
		c.oneOf("alerts.events", e, AlertEvents...)
	}
	if a.Failures < 1 || a.Failures > 1000 {
		c.add("alerts.failures", i18n.Sprintf("is %d; give 1 to 1000 failed connection attempts in a row", a.Failures))
	}
	if a.Throttle.Duration < minAlertThrottle {
		c.add("alerts.throttle", i18n.Sprintf("is %s; give at least %s", a.Throttle.Duration, minAlertThrottle))
	}
	if a.Remind.Duration < 0 {
		c.add("alerts.remind", i18n.Sprintf("is %s; give 0 (never again until it recovers) or more", a.Remind.Duration))
	}
	if a.LapseDays < 1 || a.LapseDays > 90 {
		c.add("alerts.lapse_days", i18n.Sprintf("is %d; give 1 to 90 days", a.LapseDays))
	}
	for _, name := range slices.Sorted(maps.Keys(a.Webhook)) {
		w, key := a.Webhook[name], "alerts.webhook."+tomlKeyPart(name)
		if w == nil {
			continue
		}
		checkWebhookURL(&c, key+".url", w.URL)
		if w.Format != "" {
			c.oneOf(key+".format", w.Format, FormatTeams, FormatSlack, FormatGeneric)
		}
		checkTimeout(&c, key+".timeout", w.Timeout.Duration, MaxWebhookTimeout)
	}
	for _, name := range slices.Sorted(maps.Keys(a.Command)) {
		cmd, key := a.Command[name], "alerts.command."+tomlKeyPart(name)
		if cmd == nil {
			continue
		}
		switch {
		case len(cmd.Argv) == 0 || strings.TrimSpace(cmd.Argv[0]) == "":
			c.add(key+".argv", i18n.T(`is empty; give the program and its arguments as a list, e.g. ["/usr/local/bin/notify", "--to", "ops"]`))
		case slices.ContainsFunc(cmd.Argv, func(s string) bool { return strings.ContainsRune(s, 0) }):
			c.add(key+".argv", i18n.T("contains a NUL character"))
		}
		checkTimeout(&c, key+".timeout", cmd.Timeout.Duration, MaxCommandTimeout)
	}
	return errors.Join(c.errs...)
}

// checkWebhookURL checks a webhook's address. The messages name its scheme and host only:
// the rest of a webhook's address is a credential.
func checkWebhookURL(c *checker, key, s string) {
	if !c.required(key, s, i18n.T("give the webhook's https:// address")) {
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Opaque != "" {
		c.add(key, i18n.T("is not an http(s) URL; give the webhook's https:// address"))
		return
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		c.add(key, i18n.Sprintf("uses http to %s; only https is allowed, except to this machine (localhost, 127.0.0.1, ::1)", u.Host))
	}
	if u.User != nil {
		c.add(key, i18n.T("holds a user name or password; webhooks take their credential in the address's path or query"))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		c.add(key, i18n.T("contains a space or control character"))
	}
}

func checkTimeout(c *checker, key string, d, most time.Duration) {
	if d < 0 || (d > 0 && d < time.Second) || d > most {
		c.add(key, i18n.Sprintf("is %s; give 1s to %s (or leave it out)", d, most))
	}
}

// tomlKeyPart writes a table name as a TOML key part: bare when it can be, else quoted.
func tomlKeyPart(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r > 0x7f || !isBareKeyChar(byte(r)) }) {
		return s
	}
	return toml.Key{s}.String()
}
