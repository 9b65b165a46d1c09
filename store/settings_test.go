package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sampleSettings = `# MailMover's settings
[alerts]
events = ["paused", "failing", "recovered", "lapse"]
failures = 3
throttle = "1h"
lapse_days = 10

[alerts.webhook.teams]
url = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=XYZ"

[alerts.webhook.slack]
url = "https://hooks.slack.com/services/T000/B000/XXXX"

[alerts.webhook.local]
url = "http://127.0.0.1:9000/hook"
format = "generic"
timeout = "5s"

[alerts.command.page]
argv = ["/usr/local/bin/page-ops", "--urgent"]
timeout = "1m"
`

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings([]byte(sampleSettings))
	if err != nil {
		t.Fatal(err)
	}
	a := s.Alerts
	if !a.Active() || a.Failures != 3 || a.Throttle.Duration != time.Hour || a.Remind.Duration != DefaultAlertRemind || a.LapseDays != 10 {
		t.Errorf("alerts %+v", a)
	}
	if len(a.Webhook) != 3 || len(a.Command) != 1 || a.Command["page"].Timeout.Duration != time.Minute {
		t.Errorf("targets %+v %+v", a.Webhook, a.Command)
	}
	for name, want := range map[string]string{"teams": FormatTeams, "slack": FormatSlack, "local": FormatGeneric} {
		if got := a.Webhook[name].WebhookFormat(); got != want {
			t.Errorf("webhook %s: format %q, want %q", name, got, want)
		}
	}
	for u, want := range map[string]string{
		"https://x.api.powerplatform.com/powerautomate/automations/direct/workflows/1": FormatTeams,
		"https://contoso.webhook.office.com/webhookb2/1":                               FormatTeams,
		"https://hooks.slack.com.evil.example/services/1":                              FormatGeneric,
		"https://example.com/hook":                                                     FormatGeneric,
	} {
		if got := (&Webhook{URL: u}).WebhookFormat(); got != want {
			t.Errorf("%s: format %q, want %q", u, got, want)
		}
	}
	// Nothing set: the defaults, and no alerts.
	s, err = ParseSettings(nil)
	if err != nil || s.Alerts.Active() || len(s.Alerts.Events) != 4 || s.Alerts.Failures != DefaultAlertFailures {
		t.Errorf("empty file: %+v, %v", s, err)
	}
}

// A missing file means no alerts; a broken one is an error naming the file, key and line.
func TestLoadSettings(t *testing.T) {
	home := t.TempDir()
	s, err := LoadSettings(home)
	if err != nil || s.Alerts.Active() {
		t.Fatalf("no file: %+v, %v", s, err)
	}
	if err := os.WriteFile(SettingsPath(home), []byte("[alerts]\nthrotle = \"1h\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadSettings(home)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(home, "mailmover.toml")+": alerts.throtle (line 2): unknown key; did you mean \"throttle\"?") {
		t.Errorf("error %v", err)
	}
}

// Strict parsing: every unknown key and bad value names its key and line, and a webhook's
// address never appears in a message (it is a credential).
func TestParseSettingsErrors(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string
	}{
		{"unknown table", "[alert]\nfailures = 3\n", []string{`alert (line 1): unknown key; did you mean "alerts"?`}},
		{"unknown key", "[alerts]\nfailures = 3\nevnts = [\"paused\"]\n", []string{`alerts.evnts (line 3): unknown key; did you mean "events"?`}},
		{"webhook key", "[alerts.webhook.teams]\nurl = \"https://example.com/x\"\nformt = \"teams\"\n",
			[]string{`alerts.webhook.teams.formt (line 3): unknown key; did you mean "format"?`}},
		{"command key", "[alerts.command.x]\nargv = [\"/bin/true\"]\nshell = \"sh\"\n",
			[]string{`alerts.command.x.shell (line 3): unknown key; the keys here are argv, timeout`}},
		{"webhook without name", "[alerts.webhook]\nurl = \"https://example.com/x\"\n",
			[]string{`alerts.webhook.url (line 2): unknown key; give each webhook a name of its own, as a table: [alerts.webhook.NAME]`}},
		{"bad values", `[alerts]
events = ["paused", "stopped"]
failures = 0
throttle = "10s"
remind = "-1h"
lapse_days = 400
`, []string{
			`alerts.events (line 2): "stopped" is not one of paused, failing, recovered, lapse`,
			`alerts.failures (line 3): is 0; give 1 to 1000`,
			`alerts.throttle (line 4): is 10s; give at least 1m0s`,
			`alerts.remind (line 5): is -1h0m0s`,
			`alerts.lapse_days (line 6): is 400; give 1 to 90 days`,
		}},
		{"plain http", "[alerts.webhook.teams]\nurl = \"http://hooks.example.com/secret-path?sig=SECRETSIG\"\n",
			[]string{`alerts.webhook.teams.url (line 2): uses http to hooks.example.com; only https is allowed`}},
		{"loopback look-alike", "[alerts.webhook.x]\nurl = \"http://127.0.0.1.nip.io/hook\"\n",
			[]string{`alerts.webhook.x.url (line 2): uses http to 127.0.0.1.nip.io`}},
		{"user info", "[alerts.webhook.x]\nurl = \"https://user:SECRETSIG@example.com/hook\"\n",
			[]string{`alerts.webhook.x.url (line 2): holds a user name or password`}},
		{"no url", "[alerts.webhook.x]\nformat = \"slack\"\n", []string{`alerts.webhook.x.url (line 1): is empty`}},
		{"not a url", "[alerts.webhook.x]\nurl = \"mailto:SECRETSIG@example.com\"\n", []string{`alerts.webhook.x.url (line 2): is not an http(s) URL`}},
		{"format", "[alerts.webhook.x]\nurl = \"https://example.com/SECRETSIG\"\nformat = \"discord\"\n",
			[]string{`alerts.webhook.x.format (line 3): "discord" is not one of teams, slack, generic`}},
		{"timeouts", "[alerts.webhook.x]\nurl = \"https://example.com/h\"\ntimeout = \"5m\"\n[alerts.command.y]\nargv = [\"/bin/true\"]\ntimeout = \"100ms\"\n",
			[]string{`alerts.webhook.x.timeout (line 3): is 5m0s; give 1s to 1m0s`, `alerts.command.y.timeout (line 6): is 100ms; give 1s to 10m0s`}},
		{"empty argv", "[alerts.command.y]\nargv = []\n", []string{`alerts.command.y.argv (line 2): is empty`}},
		{"shell string", "[alerts.command.y]\nargv = \"notify --to ops\"\n", []string{`alerts.command.y.argv (line 2): is a string; it must be`}},
		{"wrong type", "[alerts]\nfailures = \"five\"\n", []string{`alerts.failures (line 2): is a string; it must be an integer`}},
		{"bad duration", "[alerts]\nthrottle = \"half an hour\"\n", []string{`alerts.throttle`, `line 2`}},
		{"syntax", "[alerts]\nfailures = = 3\n", []string{`(line 2)`}},
		{"twice", "[alerts]\nfailures = 3\nfailures = 4\n", []string{`alerts.failures (line 3): is given twice`}},
		{"quoted name", "[alerts.webhook.\"my hook\"]\nurl = \"ftp://example.com/\"\n", []string{`alerts.webhook."my hook".url (line 2): is not an http(s) URL`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSettings([]byte(c.text))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), "mailmover.toml: "+w) && !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "mailmover.toml") {
				t.Errorf("error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), "SECRETSIG") || strings.Contains(err.Error(), "secret-path") {
				t.Errorf("error %q shows the webhook's address", err)
			}
		})
	}
}
