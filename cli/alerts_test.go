package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"mailmover/internal/memimap"
	"mailmover/store"
)

// End to end: 'mailmover run -all -once' with two profiles, one with a wrong password,
// and a webhook in HOME/mailmover.toml: exactly one alert, the broken profile's pause;
// none for the good one. Run again (a scheduler starting it every few minutes): still
// only that one alert, since the problem was alerted and has not recovered.
func TestRunAllAlertsOncePerBrokenProfile(t *testing.T) {
	env, out, errb, sec, home := secretTestEnv(t, "")
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	var mu sync.Mutex
	var bodies [][]byte
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.Close)
	settings := fmt.Sprintf("[alerts]\nevents = [\"paused\", \"failing\", \"recovered\", \"lapse\"]\n\n[alerts.webhook.ops]\nurl = %q\nformat = \"teams\"\n", rc.URL+"/hook")
	if err := os.WriteFile(store.SettingsPath(home), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"good", "broken"} {
		user := name + "@example.com"
		srv.AddUser(user, "pw-"+name)
		raw := "From: a@example.com\r\nSubject: s\r\nMessage-ID: <" + name + "@x>\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
			"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"" + name + ".pdf\"\r\n\r\npdf\r\n--b--\r\n"
		if _, err := srv.Append(user, "INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
		p := store.DefaultProfile(name)
		p.Setup.Host, p.Setup.Port, p.Setup.Username = srv.Host(), srv.Port(), user
		p.Security.TLS, p.Security.Auth = store.TLSNone, store.AuthPassword
		p.Destination.Folder = filepath.Join(home, "dest-"+name)
		if err := store.SaveProfile(home, p); err != nil {
			t.Fatal(err)
		}
	}
	sec.Set("good", store.SecretPassword, "pw-good")
	sec.Set("broken", store.SecretPassword, "Wrong-Pa55word-for-broken")

	for run := 1; run <= 2; run++ {
		out.Reset()
		errb.Reset()
		if code := Run(context.Background(), []string{"run", "-all", "-once"}, env); code != 1 {
			t.Fatalf("run %d: exit %d, want 1\n%s\n%s", run, code, out, errb)
		}
		if !strings.Contains(errb.String()+out.String(), "broken") {
			t.Errorf("run %d: the broken profile is not named:\n%s\n%s", run, out, errb)
		}
		// run -once returns after its alerts went out: nothing comes later.
		mu.Lock()
		got := len(bodies)
		mu.Unlock()
		if got != 1 {
			t.Fatalf("run %d: %d alerts, want 1: %q", run, got, bodies)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "dest-good", "good.pdf")); err != nil {
		t.Errorf("the good profile did not move its mail: %v", err)
	}
	var a struct {
		Event, Profile, State, Reason, Advice, Type string
		Attachments                                 []json.RawMessage
	}
	if err := json.Unmarshal(bodies[0], &a); err != nil {
		t.Fatal(err)
	}
	if a.Event != "paused" || a.Profile != "broken" || a.State != "paused" || a.Reason == "" || a.Advice == "" || a.Type != "message" || len(a.Attachments) != 1 {
		t.Errorf("alert %s", bodies[0])
	}
	if bytes.Contains(bodies[0], []byte("Pa55word")) {
		t.Errorf("the alert holds the password: %s", bodies[0])
	}
}
