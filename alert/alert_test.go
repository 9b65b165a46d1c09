package alert

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/store"
)

// receiver is a webhook receiver on loopback that hands each request to the test.
type receiver struct {
	srv *httptest.Server
	got chan request
}

type request struct {
	path, contentType string
	body              []byte
}

func newReceiver(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{got: make(chan request, 64)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.got <- request{path: r.URL.Path, contentType: r.Header.Get("Content-Type"), body: body}
		if handle != nil {
			handle(w, r)
			return
		}
		w.WriteHeader(http.StatusAccepted) // as Teams Workflows answer
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// next returns the next request, failing after a while.
func (rc *receiver) next(t *testing.T) request {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no request came")
	}
	return request{}
}

// none checks that no request comes for a moment.
func (rc *receiver) none(t *testing.T, why string) {
	t.Helper()
	select {
	case r := <-rc.got:
		t.Errorf("%s: a request came: %s %s", why, r.path, r.body)
	case <-time.After(200 * time.Millisecond):
	}
}

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// settings returns alert settings with the defaults and the given receivers.
func settings(webhooks map[string]*store.Webhook, commands map[string]*store.Command) *store.Settings {
	s := store.DefaultSettings()
	s.Alerts.Webhook, s.Alerts.Command = webhooks, commands
	return s
}

var (
	paused   = State{Profile: "invoices", Condition: Paused, State: "paused", Reason: "paused: the server refused the password", Advice: "Check the password of invoices."}
	idle     = State{Profile: "invoices", Condition: Healthy, State: "idle"}
	starting = State{Profile: "invoices", Condition: Other, State: "starting"}
)

func retrying(n int) State {
	return State{Profile: "invoices", Condition: Retrying, State: "retrying", Retries: n, Reason: "connection refused", Advice: "Check that the server is reachable."}
}

// Each kind's payload in each format: the generic fields, Slack's text, Teams' Adaptive
// Card (with the generic fields beside it).
func TestPayloadOfEachKind(t *testing.T) {
	rc := newReceiver(t, nil)
	clk := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	n := New(t.TempDir(), Options{Now: clk.now, Host: "srv01", Settings: settings(map[string]*store.Webhook{
		"generic": {URL: rc.srv.URL + "/generic"},
		"slack":   {URL: rc.srv.URL + "/slack", Format: store.FormatSlack},
		"teams":   {URL: rc.srv.URL + "/teams", Format: store.FormatTeams},
	}, nil)})
	w := n.Watch("invoices", nil)
	// take collects one request per receiver.
	take := func() map[string]request {
		t.Helper()
		got := map[string]request{}
		for range 3 {
			r := rc.next(t)
			got[r.path] = r
		}
		return got
	}
	check := func(kind, state, title string, got map[string]request, more func(g map[string]any)) {
		t.Helper()
		for path, r := range got {
			if r.contentType != "application/json" {
				t.Errorf("%s %s: content type %q", kind, path, r.contentType)
			}
			var m map[string]any
			if err := json.Unmarshal(r.body, &m); err != nil {
				t.Fatalf("%s %s: %v: %s", kind, path, err, r.body)
			}
			switch path {
			case "/slack":
				if len(m) != 1 || !strings.HasPrefix(m["text"].(string), "*"+title+"*") {
					t.Errorf("%s slack: %s", kind, r.body)
				}
			case "/generic", "/teams":
				if m["source"] != "mailmover" || m["event"] != kind || m["profile"] != "invoices" || m["state"] != state ||
					m["host"] != "srv01" || m["title"] != title || !strings.HasPrefix(m["text"].(string), title) || m["time"] != clk.now().Format(time.RFC3339) {
					t.Errorf("%s %s: %s", kind, path, r.body)
				}
				if more != nil {
					more(m)
				}
				_, hasCard := m["attachments"]
				if hasCard != (path == "/teams") {
					t.Errorf("%s %s: attachments %v", kind, path, hasCard)
				}
				if path == "/teams" {
					checkTeams(t, r.body, title)
				}
			}
		}
	}

	w.Observe(starting)
	w.Observe(paused)
	got := take()
	check("paused", "paused", "MailMover on srv01: profile invoices is paused and needs you", got, func(m map[string]any) {
		if m["reason"] != paused.Reason || m["advice"] != paused.Advice || !strings.Contains(m["text"].(string), "\n"+paused.Advice) {
			t.Errorf("paused: %v", m)
		}
	})
	if s := got["/slack"].body; !bytes.Contains(s, []byte(`the server refused the password\nCheck the password of invoices.`)) {
		t.Errorf("slack text: %s", s)
	}

	clk.add(time.Minute)
	w.Observe(idle)
	check("recovered", "idle", "MailMover on srv01: profile invoices works again", take(), func(m map[string]any) {
		if p, _ := m["previous"].([]any); len(p) != 1 || p[0] != "paused" {
			t.Errorf("recovered: previous %v", m["previous"])
		}
	})

	clk.add(time.Minute)
	for i := 1; i <= 4; i++ {
		w.Observe(retrying(i))
	}
	rc.none(t, "4 failures in a row")
	w.Observe(retrying(5))
	check("failing", "retrying", "MailMover on srv01: profile invoices could not connect 5 times in a row", take(), func(m map[string]any) {
		if m["retries"] != 5.0 {
			t.Errorf("failing: retries %v", m["retries"])
		}
	})
	w.Observe(retrying(6))
	rc.none(t, "a sixth failure")
	w.Observe(idle)
	take() // recovered

	clk.add(time.Minute)
	lapse := time.Date(2026, 12, 12, 9, 0, 0, 0, time.UTC)
	w.Observe(State{Profile: "invoices", Condition: Healthy, State: "idle", SignInLapse: lapse})
	check("lapse", "idle", "MailMover on srv01: the sign-in of profile invoices lapses around "+lapse.Local().Format(time.DateOnly), take(), func(m map[string]any) {
		if m["sign_in_lapse"] != "2026-12-12T09:00:00Z" || !strings.Contains(m["advice"].(string), "mailmover login -profile invoices") {
			t.Errorf("lapse: %v", m)
		}
	})
	w.Flush()
}

// checkTeams checks a Teams body as the Workflows template "Send webhook alerts to a
// channel" reads it: a message whose attachments hold an Adaptive Card.
func checkTeams(t *testing.T, body []byte, title string) {
	t.Helper()
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			ContentURL  *string         `json:"contentUrl"`
			Content     json.RawMessage `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("teams body: %s", body)
	}
	var c struct {
		Schema  string `json:"$schema"`
		Type    string `json:"type"`
		Version string `json:"version"`
		Body    []struct {
			Type  string `json:"type"`
			Text  string `json:"text"`
			Facts []struct{ Title, Value string }
		} `json:"body"`
	}
	if err := json.Unmarshal(m.Attachments[0].Content, &c); err != nil {
		t.Fatal(err)
	}
	if c.Type != "AdaptiveCard" || c.Version != "1.4" || !strings.Contains(c.Schema, "adaptivecards.io") || len(c.Body) < 2 ||
		c.Body[0].Type != "TextBlock" || c.Body[0].Text != title || c.Body[len(c.Body)-1].Type != "FactSet" {
		t.Errorf("card: %s", m.Attachments[0].Content)
	}
	facts := map[string]string{}
	for _, f := range c.Body[len(c.Body)-1].Facts {
		facts[f.Title] = f.Value
	}
	if facts["Profile"] != "invoices" || facts["Computer"] != "srv01" {
		t.Errorf("facts %v", facts)
	}
}

// The throttle (a fake clock): one alert per profile and kind per 30 minutes; a problem
// alerted once stays quiet until it recovers or a day has passed, also over a new run
// (the record in HOME/alerts); a recovery only after an alert was sent; a lapsing
// sign-in once a day.
func TestThrottle(t *testing.T) {
	rc := newReceiver(t, nil)
	home := t.TempDir()
	clk := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	n := New(home, Options{Now: clk.now, Host: "srv01", Settings: settings(map[string]*store.Webhook{"hook": {URL: rc.srv.URL}}, nil)})
	event := func() string {
		t.Helper()
		var m map[string]any
		json.Unmarshal(rc.next(t).body, &m)
		return m["event"].(string)
	}

	w := n.Watch("invoices", nil)
	w.Observe(paused)
	if e := event(); e != "paused" {
		t.Fatalf("event %s", e)
	}
	// Paused again in a new run (a restart, 'run -once' from a scheduler): not again.
	for range 3 {
		clk.add(40 * time.Minute)
		w = n.Watch("invoices", nil)
		w.Observe(starting)
		w.Observe(paused)
	}
	rc.none(t, "the same pause in later runs")
	// Recovered: one recovery.
	w.Observe(idle)
	if e := event(); e != "recovered" {
		t.Fatalf("event %s", e)
	}
	w.Observe(idle)
	rc.none(t, "still idle")
	// Paused again: alerted (the last pause alert was 2 hours ago), and recovered.
	w.Observe(paused)
	if e := event(); e != "paused" {
		t.Fatalf("event %s", e)
	}
	w.Observe(idle)
	event() // recovered
	// Paused 10 minutes later: throttled, and so no recovery after it.
	clk.add(10 * time.Minute)
	w.Observe(paused)
	rc.none(t, "a pause 10 minutes after the last")
	w.Observe(idle)
	rc.none(t, "a recovery from a pause that was not alerted")
	// 30 minutes after the last pause alert: alerted again.
	clk.add(25 * time.Minute)
	w.Observe(paused)
	if e := event(); e != "paused" {
		t.Fatalf("event %s", e)
	}
	// A day later, still paused in a new run: a reminder.
	clk.add(25 * time.Hour)
	w = n.Watch("invoices", nil)
	w.Observe(starting)
	w.Observe(paused)
	if e := event(); e != "paused" {
		t.Fatalf("reminder: event %s", e)
	}
	w.Observe(idle)
	event() // recovered

	// Another profile is throttled on its own.
	w2 := n.Watch("reports", nil)
	w2.Observe(State{Profile: "reports", Condition: Paused, State: "paused"})
	if e := event(); e != "paused" {
		t.Fatalf("reports: event %s", e)
	}

	// A lapsing sign-in: once a day, not while paused, not when far off.
	far := State{Profile: "invoices", Condition: Healthy, State: "idle", SignInLapse: clk.now().Add(30 * 24 * time.Hour)}
	w.Observe(far)
	rc.none(t, "a lapse 30 days ahead")
	near := far
	near.SignInLapse = clk.now().Add(5 * 24 * time.Hour)
	w.Observe(near)
	if e := event(); e != "lapse" {
		t.Fatalf("event %s", e)
	}
	for range 5 {
		clk.add(time.Hour)
		w.Observe(near)
	}
	rc.none(t, "the lapse again within a day")
	clk.add(20 * time.Hour)
	w.Observe(near)
	if e := event(); e != "lapse" {
		t.Fatalf("event %s", e)
	}

	// The record is a small file without secrets.
	data, err := os.ReadFile(filepath.Join(home, "alerts", "invoices.json"))
	if err != nil || !strings.Contains(string(data), `"lapse"`) {
		t.Errorf("record: %s, %v", data, err)
	}
}

// Only the events asked for alert; an [alerts] table without receivers sends nothing.
func TestEventsAndNoReceivers(t *testing.T) {
	rc := newReceiver(t, nil)
	s := settings(map[string]*store.Webhook{"hook": {URL: rc.srv.URL}}, nil)
	s.Alerts.Events = []string{store.AlertFailing}
	w := New(t.TempDir(), Options{Settings: s}).Watch("invoices", nil)
	w.Observe(paused)
	w.Observe(idle)
	rc.none(t, "pause and recovery not asked for")
	w.Observe(State{Profile: "invoices", Condition: Failed, State: "error", Reason: "the destination is not writable"})
	if r := rc.next(t); !bytes.Contains(r.body, []byte(`"event":"failing"`)) || !bytes.Contains(r.body, []byte("stopped with an error")) {
		t.Errorf("body %s", r.body)
	}

	home := t.TempDir()
	w = New(home, Options{Settings: store.DefaultSettings()}).Watch("invoices", nil)
	w.Observe(paused)
	if _, err := os.Stat(filepath.Join(home, "alerts")); !os.IsNotExist(err) {
		t.Errorf("no receivers, yet a record: %v", err)
	}
}

// A missing settings file means no alerts; one written later is picked up; a broken one
// is logged with its key and line, and there are no alerts until it is mended.
func TestSettingsFile(t *testing.T) {
	rc := newReceiver(t, nil)
	home := t.TempDir()
	var logs logBuffer
	n := New(home, Options{})
	w := n.Watch("invoices", logs.logger())
	w.Observe(paused)
	rc.none(t, "no settings file")
	if err := n.SettingsError(); err != nil {
		t.Fatal(err)
	}

	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(store.SettingsPath(home), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		n.mu.Lock()
		n.checked = time.Time{} // look again now, not in settingsCheck
		n.mu.Unlock()
	}
	write("[alerts]\nthrotle = \"1h\"\n\n[alerts.webhook.hook]\nurl = \"" + rc.srv.URL + "\"\n")
	w = n.Watch("invoices", logs.logger())
	w.Observe(paused)
	rc.none(t, "a broken settings file")
	if err := n.SettingsError(); err == nil || !strings.Contains(err.Error(), "alerts.throtle (line 2)") {
		t.Errorf("settings error %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "alerts are off") || !strings.Contains(l, "alerts.throtle (line 2)") {
		t.Errorf("log: %s", l)
	}

	write("[alerts]\nthrottle = \"1h\"\n\n[alerts.webhook.hook]\nurl = \"" + rc.srv.URL + "\"\n")
	w = n.Watch("invoices", logs.logger())
	w.Observe(paused)
	if r := rc.next(t); !bytes.Contains(r.body, []byte(`"event":"paused"`)) {
		t.Errorf("body %s", r.body)
	}
	if n.WorldReadable() {
		t.Error("a 0600 file is world-readable")
	}
	os.Chmod(store.SettingsPath(home), 0o644)
	if !n.WorldReadable() && runtime.GOOS != "windows" {
		t.Error("a 0644 file is not world-readable")
	}
}

// A receiver that hangs does not hold up the mover: Observe returns at once, the request
// is given up at the timeout and logged, and Flush waits no longer than that.
func TestHangingReceiver(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	var logs logBuffer
	n := New(t.TempDir(), Options{Settings: settings(map[string]*store.Webhook{"slow": {URL: rc.srv.URL, Timeout: store.Duration{Duration: time.Second}}}, nil)})
	w := n.Watch("invoices", logs.logger())
	start := time.Now()
	w.Observe(paused)
	for i := range 50 {
		w.Observe(retrying(i + 1))
		w.Observe(idle)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("Observe took %s with a hanging receiver", d)
	}
	rc.next(t)
	w.Flush()
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("Flush returned after %s", d)
	}
	if l := logs.String(); !strings.Contains(l, "alert not delivered") || !strings.Contains(l, "no answer within 1s") {
		t.Errorf("log: %s", l)
	}
	// A bounded Flush gives up on its own.
	w = n.Watch("reports", logs.logger())
	w.Observe(State{Profile: "reports", Condition: Paused, State: "paused"})
	start = time.Now()
	w.FlushWithin(100 * time.Millisecond)
	if d := time.Since(start); d > time.Second {
		t.Errorf("FlushWithin(100ms) took %s", d)
	}
}

// A receiver that fails is logged (its answer, bounded, without the address) and the
// next alert goes out all the same; redirects to another host are refused, to the same
// host followed.
func TestFailingReceiverAndRedirects(t *testing.T) {
	other := newReceiver(t, nil)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail/sig=SECRET":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "invalid_payload "+strings.Repeat("x", 100_000))
		case "/away":
			http.Redirect(w, r, other.srv.URL+"/stolen", http.StatusTemporaryRedirect)
		case "/moved":
			http.Redirect(w, r, "/here", http.StatusPermanentRedirect)
		}
	})
	var logs logBuffer
	n := New(t.TempDir(), Options{Settings: settings(map[string]*store.Webhook{
		"fail":  {URL: rc.srv.URL + "/fail/sig=SECRET"},
		"away":  {URL: rc.srv.URL + "/away"},
		"moved": {URL: rc.srv.URL + "/moved"},
	}, nil)})
	w := n.Watch("invoices", logs.logger())
	w.Observe(paused)
	w.Flush()
	paths := map[string]bool{}
	for range 4 {
		r := rc.next(t)
		paths[r.path] = true
		if r.path == "/here" && !bytes.Contains(r.body, []byte(`"event":"paused"`)) {
			t.Errorf("the same-host redirect lost the body: %s", r.body)
		}
	}
	if !paths["/here"] || !paths["/away"] || !paths["/moved"] {
		t.Errorf("requests %v", paths)
	}
	other.none(t, "a redirect to another host")
	l := logs.String()
	for _, want := range []string{"the receiver answered 400 Bad Request: invalid_payload", "a webhook is never followed to another host", "to=\"webhook fail\""} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, "SECRET") || strings.Contains(l, strings.Repeat("x", 400)) {
		t.Errorf("log shows the address or the whole answer:\n%s", l)
	}
	// The mover goes on: the next alert is sent.
	w.Observe(idle)
	w.Flush()
	if r := rc.next(t); !bytes.Contains(r.body, []byte("recovered")) {
		t.Errorf("next: %s", r.body)
	}
}

// A pause that lasts within one run (the mover retries every minute and stays paused) is
// reminded of after Remind, and a pause throttled at first is sent once the throttle
// allows; with remind = 0 there is no reminder.
func TestLastingProblem(t *testing.T) {
	for _, remind := range []time.Duration{24 * time.Hour, 0} {
		rc := newReceiver(t, nil)
		clk := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
		s := settings(map[string]*store.Webhook{"hook": {URL: rc.srv.URL}}, nil)
		s.Alerts.Remind.Duration = remind
		w := New(t.TempDir(), Options{Now: clk.now, Settings: s}).Watch("invoices", nil)
		w.Observe(paused)
		rc.next(t)
		for range 30 { // a day and a half of heartbeats, an hour apart
			clk.add(time.Hour)
			w.Observe(paused)
		}
		if remind == 0 {
			rc.none(t, "no reminder with remind = 0")
			continue
		}
		if r := rc.next(t); !bytes.Contains(r.body, []byte(`"event":"paused"`)) {
			t.Errorf("reminder %s", r.body)
		}
		rc.none(t, "a second reminder within the day")
	}

	// Throttled at first (a pause alert 10 minutes before, in another run), then sent.
	rc := newReceiver(t, nil)
	clk := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	n := New(t.TempDir(), Options{Now: clk.now, Settings: settings(map[string]*store.Webhook{"hook": {URL: rc.srv.URL}}, nil)})
	w := n.Watch("invoices", nil)
	w.Observe(paused)
	rc.next(t)
	w.Observe(idle)
	rc.next(t) // recovered
	clk.add(10 * time.Minute)
	w.Observe(paused)
	rc.none(t, "throttled")
	clk.add(21 * time.Minute)
	w.Observe(paused)
	if r := rc.next(t); !bytes.Contains(r.body, []byte(`"event":"paused"`)) {
		t.Errorf("after the throttle: %s", r.body)
	}
}

func TestMain(m *testing.M) {
	// Watchers made with a nil logger log to slog's default: keep the test output quiet.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
