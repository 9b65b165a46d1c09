//go:build unix

package mover

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/alert"
	"mailmover/auth"
	"mailmover/internal/memimap"
	"mailmover/store"
)

// hookLog collects what webhooks receive, by path.
type hookLog struct {
	mu   sync.Mutex
	reqs []hookReq
}

type hookReq struct {
	path string
	body []byte
}

func (h *hookLog) add(path string, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reqs = append(h.reqs, hookReq{path, body})
}

func (h *hookLog) all() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

// waitFor waits until cond holds for the requests received.
func (h *hookLog) waitFor(t *testing.T, what string, cond func([]hookReq) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond(h.all()) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: requests %q", what, h.all())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countEvent(reqs []hookReq, path, event string) int {
	n := 0
	for _, r := range reqs {
		if r.path == path && bytes.Contains(r.body, []byte(`"event":"`+event+`"`)) {
			n++
		}
	}
	return n
}

// syncBuf is a log buffer safe for the mover's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A profile whose password the server refuses pauses and alerts once, through every
// receiver of HOME/mailmover.toml (a generic, a Teams and a Slack webhook and a
// command), and recovers once the server takes it — and neither the alerts' bodies nor
// the command's input and environment hold the password. A receiver that hangs and one
// that fails hold up nothing: the mail is moved meanwhile, the failure is logged.
func TestAlertsFromARealRun(t *testing.T) {
	const password = "Hunter2-S3cret-Pa55word"
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	hooks := &hookLog{}
	release := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hooks.add(r.URL.Path, body)
		switch r.URL.Path {
		case "/hang":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/fail":
			http.Error(w, "invalid_payload", http.StatusBadRequest)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(rc.Close)
	var once sync.Once
	unhang := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unhang)

	home := t.TempDir()
	out := t.TempDir()
	script := filepath.Join(out, "notify.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nn=$(date +%s%N)\ncat > \"$1/$MAILMOVER_EVENT-$n.json\"\nenv > \"$1/$MAILMOVER_EVENT-$n.env\"\n"), 0o755)
	settings := fmt.Sprintf(`[alerts]
[alerts.webhook.generic]
url = "%[1]s/generic"
[alerts.webhook.teams]
url = "%[1]s/teams"
format = "teams"
[alerts.webhook.slack]
url = "%[1]s/slack"
format = "slack"
[alerts.webhook.hang]
url = "%[1]s/hang"
timeout = "8s"
[alerts.webhook.fail]
url = "%[1]s/fail"
[alerts.command.log]
argv = [%[2]q, %[3]q]
`, rc.URL, script, out)
	if err := os.WriteFile(store.SettingsPath(home), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}

	user := "invoices@example.com"
	p := store.DefaultProfile("invoices")
	p.Setup.Host, p.Setup.Port, p.Setup.Username = srv.Host(), srv.Port(), user
	p.Security.TLS, p.Security.Auth = store.TLSNone, store.AuthPassword
	p.Common.Watch, p.Common.PollInterval.Duration = store.WatchPoll, 5*time.Second
	p.Destination.Folder = filepath.Join(home, "dest")
	sec := store.NewMemorySecrets()
	sec.Set("invoices", store.SecretPassword, password)
	var logs syncBuf
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// The server does not know the user yet: the password is refused.
	h, err := Start(context.Background(), Options{Profile: p, Home: home, Secrets: sec, Logger: logger, Front: "run",
		PauseRetry: 300 * time.Millisecond, MaxRetry: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	saved := make(chan string, 16)
	go func() {
		for e := range h.Events() {
			if e.Kind == KindFileSaved {
				saved <- e.Path
			}
		}
	}()
	hooks.waitFor(t, "the pause alert", func(r []hookReq) bool {
		return countEvent(r, "/generic", "paused") == 1 && countEvent(r, "/teams", "paused") == 1 && len(r) >= 5
	})
	// The server takes the password now, with mail waiting; the hanging receiver still
	// holds the pause alert, yet the mover recovers and moves the mail.
	if err := srv.AddUser(user, password); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		raw := fmt.Sprintf("From: a@example.com\r\nSubject: m%d\r\nMessage-ID: <m%d@x>\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"+
			"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"f%d.pdf\"\r\n\r\npdf %d\r\n--b--\r\n", i, i, i, i)
		if _, err := srv.Append(user, "INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for range 3 {
		select {
		case <-saved:
		case <-time.After(5 * time.Second):
			t.Fatalf("no file saved while a receiver hangs\n%s", logs.String())
		}
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the files took %s", d)
	}
	hooks.waitFor(t, "the recovery alert", func(r []hookReq) bool {
		return countEvent(r, "/generic", "recovered") == 1 && countEvent(r, "/slack", "recovered") == 0 && countEvent(r, "/teams", "recovered") == 1
	})
	// The hanging receiver answers at last; the run's end waits for its alerts.
	unhang()
	h.Stop()
	stopped := time.Now()
	h.Wait()
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("Wait took %s after Stop", d)
	}
	if r := hooks.all(); countEvent(r, "/hang", "recovered") != 1 {
		t.Errorf("the hanging receiver did not get the recovery after it answered: %q", r)
	}

	reqs := hooks.all()
	if n := countEvent(reqs, "/generic", "paused"); n != 1 {
		t.Errorf("%d pause alerts", n)
	}
	var pausedBody []byte
	for _, r := range reqs {
		if r.path == "/generic" && bytes.Contains(r.body, []byte(`"event":"paused"`)) {
			pausedBody = r.body
		}
	}
	// The pause alert carries the engine's reason and advice from the real error path.
	t.Logf("pause alert: %s", pausedBody)
	if !bytes.Contains(pausedBody, []byte(`"reason":"paused: `)) || !bytes.Contains(pausedBody, []byte(`"advice":"`)) {
		t.Errorf("pause alert: %s", pausedBody)
	}
	// No secret anywhere: the bodies, the command's input and environment.
	everything := [][]byte{}
	for _, r := range reqs {
		everything = append(everything, r.body)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*-*.*"))
	if len(files) < 4 {
		t.Errorf("the command ran for %d file(s): %v\n%s", len(files), files, logs.String())
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if strings.HasSuffix(f, ".env") {
			// The inherited environment is the test's own; look at the alert's variables.
			var mine []string
			for _, l := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(l, "MAILMOVER_") {
					mine = append(mine, l)
				}
			}
			data = []byte(strings.Join(mine, "\n"))
			if !strings.Contains(string(data), "MAILMOVER_PROFILE=invoices") {
				t.Errorf("%s: %s", f, data)
			}
		}
		everything = append(everything, data)
	}
	for _, b := range everything {
		if bytes.Contains(b, []byte(password)) || bytes.Contains(b, []byte("Pa55word")) {
			t.Errorf("an alert holds the password: %s", b)
		}
	}
	l := logs.String()
	for _, want := range []string{`alert not delivered`, `to="webhook fail"`, `the receiver answered 400 Bad Request: invalid_payload`} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(l, password) {
		t.Error("the log holds the password")
	}
}

// A profile that cannot even start (RecordStartFailure) alerts as failing, once; a
// settings file that cannot be used is a warning event of every run, which runs all the
// same.
func TestAlertsOfStartFailuresAndBrokenSettings(t *testing.T) {
	hooks := &hookLog{}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hooks.add(r.URL.Path, body)
	}))
	t.Cleanup(rc.Close)
	home := t.TempDir()
	os.WriteFile(store.SettingsPath(home), []byte("[alerts.webhook.ops]\nurl = \""+rc.URL+"/ops\"\n"), 0o600)
	RecordStartFailure(home, "scans", "run", "profiles/scans.toml: setup.port (line 3): 0 is not a port", "Correct the profile.")
	RecordStartFailure(home, "scans", "run", "profiles/scans.toml: setup.port (line 3): 0 is not a port", "Correct the profile.")
	reqs := hooks.all() // RecordStartFailure returns after its alerts went out
	if len(reqs) != 1 || !bytes.Contains(reqs[0].body, []byte(`"event":"failing"`)) || !bytes.Contains(reqs[0].body, []byte(`"state":"error"`)) ||
		!bytes.Contains(reqs[0].body, []byte(`setup.port (line 3)`)) {
		t.Errorf("requests %q", reqs)
	}

	home = t.TempDir()
	os.WriteFile(store.SettingsPath(home), []byte("[alerts.webhook.ops]\nurl = \"http://example.com/hook\"\n"), 0o600)
	p := store.DefaultProfile("p")
	p.Setup.Host, p.Setup.Port, p.Setup.Username = "127.0.0.1", 1, "u"
	p.Security.TLS, p.Security.Auth = store.TLSNone, store.AuthPassword
	p.Destination.Folder = filepath.Join(home, "dest")
	sec := store.NewMemorySecrets()
	sec.Set("p", store.SecretPassword, "pw")
	h, err := Start(context.Background(), Options{Profile: p, Home: home, Secrets: sec, Once: true, MaxRetry: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var warning string
	for e := range h.Events() {
		if e.Kind == KindWarning && warning == "" {
			warning = e.Text + " | " + e.Advice
		}
	}
	h.Wait()
	if !strings.Contains(warning, "alerts are off: ") || !strings.Contains(warning, "alerts.webhook.ops.url (line 2): uses http to example.com") ||
		!strings.Contains(warning, "mailmover.toml; it is read again when it changes") {
		t.Errorf("warning %q", warning)
	}
}

// A sign-in that lapses within lapse_days alerts from the status's expected lapse, with
// the date and what to do, and without the tokens.
func TestLapseAlertFromStatus(t *testing.T) {
	hooks := &hookLog{}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hooks.add(r.URL.Path, body)
	}))
	t.Cleanup(rc.Close)
	h := newHarness(t)
	p := h.prof
	p.Security.Auth = store.AuthXOAuth2
	if err := auth.ApplyPreset(&p.OAuth2, store.PresetMicrosoft, "organizations"); err != nil {
		t.Fatal(err)
	}
	p.OAuth2.ClientID = "11111111-2222-3333-4444-555555555555"
	sec := store.NewMemorySecrets()
	tok := &oauth2.Token{AccessToken: "at-Secret-Value", RefreshToken: "rt-Secret-Value", Expiry: time.Now().Add(-time.Hour)}
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(sec, p.Name), tok, time.Now().Add(-80*auth.Day)); err != nil {
		t.Fatal(err)
	}
	s := store.DefaultSettings()
	s.Alerts.Webhook = map[string]*store.Webhook{"ops": {URL: rc.URL + "/ops"}}
	hd, err := Start(context.Background(), Options{Profile: p, Home: h.home, Dial: h.srv.dial, Secrets: sec, Once: true,
		NoLogFile: true, Alerts: alert.New(h.home, alert.Options{Settings: s})})
	if err != nil {
		t.Fatal(err)
	}
	for range hd.Events() {
	}
	hd.Wait()
	reqs := hooks.all()
	if len(reqs) != 1 || !bytes.Contains(reqs[0].body, []byte(`"event":"lapse"`)) || !bytes.Contains(reqs[0].body, []byte(`"sign_in_lapse":"`)) ||
		!bytes.Contains(reqs[0].body, []byte("mailmover login -profile "+p.Name)) {
		t.Fatalf("requests %q", reqs)
	}
	if bytes.Contains(reqs[0].body, []byte("Secret-Value")) {
		t.Errorf("a token in the alert: %s", reqs[0].body)
	}
}
