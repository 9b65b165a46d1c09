package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/internal/memimap"
	"mailmover/mover"
	"mailmover/store"
)

// env is a home with profiles pointing at one in-memory IMAP server, one user each.
type env struct {
	t    *testing.T
	home string
	srv  *memimap.Server
	sec  store.Secrets
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, home: t.TempDir(), srv: srv, sec: store.NewMemorySecrets()}
}

// profile adds user name with n messages of one attachment and saves profile name;
// a profile whose password is wrong is made with wrongPassword.
func (e *env) profile(name string, n int, wrongPassword bool) string {
	e.t.Helper()
	user := name + "@example.com"
	if err := e.srv.AddUser(user, "pw-"+name); err != nil {
		e.t.Fatal(err)
	}
	for i := range n {
		raw := fmt.Sprintf("From: a@example.com\r\nSubject: %s %d\r\nMessage-ID: <%s-%d@x>\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"+
			"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"%s-%d.pdf\"\r\n\r\npdf %d\r\n--b--\r\n", name, i, name, i, name, i, i)
		if _, err := e.srv.Append(user, "INBOX", []byte(raw)); err != nil {
			e.t.Fatal(err)
		}
	}
	dest := filepath.Join(e.home, "dest-"+name)
	p := store.DefaultProfile(name)
	p.Setup.Host, p.Setup.Port, p.Setup.Username = e.srv.Host(), e.srv.Port(), user
	p.Security.TLS, p.Security.Auth = store.TLSNone, store.AuthPassword
	p.Common.PollInterval.Duration = 5 * time.Second
	p.Common.Watch = store.WatchPoll
	p.Destination.Folder = dest
	if err := store.SaveProfile(e.home, p); err != nil {
		e.t.Fatal(err)
	}
	pw := "pw-" + name
	if wrongPassword {
		pw = "wrong"
	}
	e.sec.Set(name, store.SecretPassword, pw)
	return dest
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// One process, many mailboxes: with -once every profile's pass runs, a broken one (wrong
// password) does not stop the others, and the results name it; a switched-off profile
// is left alone; every running mover writes its status file.
func TestOnceRunsEveryEnabledProfile(t *testing.T) {
	e := newEnv(t)
	a := e.profile("a", 3, false)
	b := e.profile("b", 2, false)
	e.profile("broken", 1, true)
	off := e.profile("off", 1, false)
	p, _ := store.LoadProfile(e.home, "off")
	p.Setup.Enabled = false
	if err := store.SaveProfile(e.home, p); err != nil {
		t.Fatal(err)
	}
	f, err := Start(context.Background(), Options{Home: e.home, Secrets: e.sec, Once: true, Front: "run"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for ev := range f.Events() {
		seen[ev.Profile] = true
	}
	res := f.Wait()
	if got := Failed(res); len(got) != 1 || got[0] != "broken" {
		t.Errorf("failed profiles %v (results %v), want [broken]", got, res)
	}
	if _, ok := res["off"]; ok || seen["off"] {
		t.Error("the switched-off profile ran")
	}
	if len(files(t, a)) != 3 || len(files(t, b)) != 2 || len(files(t, off)) != 0 {
		t.Errorf("files: a %v, b %v, off %v", files(t, a), files(t, b), files(t, off))
	}
	now := time.Now()
	if r := mover.CheckStatus(e.home, "a", now); r.Code != mover.CheckOK || r.Status.State != mover.StateStopped || r.Status.FilesToday != 3 {
		t.Errorf("status of a: %+v %+v", r, r.Status)
	}
	if r := mover.CheckStatus(e.home, "broken", now); r.Code != mover.CheckCritical {
		t.Errorf("status of broken: %+v %+v", r, r.Status)
	}
	if r := mover.CheckStatus(e.home, "off", now); r.Code != mover.CheckUnknown {
		t.Errorf("status of off: %+v", r)
	}
}

// Watch mode: a profile added while the fleet runs is picked up (at once on Reload), a
// removed one is stopped, and the others keep running untouched.
func TestWatchPicksUpProfilesAddedAndRemoved(t *testing.T) {
	e := newEnv(t)
	a := e.profile("a", 1, false)
	f, err := Start(context.Background(), Options{Home: e.home, Secrets: e.sec, Watch: true, WatchInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	idle := map[string]int{}
	stopped := map[string]int{}
	events := make(chan mover.Event, 1024)
	go func() {
		for ev := range f.Events() {
			events <- ev
		}
		close(events)
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for !cond() {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("%s: the fleet ended", what)
				}
				switch ev.Kind {
				case mover.KindIdle:
					idle[ev.Profile]++
				case mover.KindStopped:
					stopped[ev.Profile]++
				}
			case <-deadline:
				t.Fatalf("%s: not within 20 s (idle %v, stopped %v)", what, idle, stopped)
			}
		}
	}
	waitFor("a idle", func() bool { return idle["a"] > 0 })
	c := e.profile("c", 2, false)
	f.Reload()
	waitFor("c idle", func() bool { return idle["c"] > 0 })
	if len(files(t, c)) != 2 || len(files(t, a)) != 1 {
		t.Errorf("files: a %v, c %v", files(t, a), files(t, c))
	}
	if err := store.DeleteProfile(e.home, "c", nil); err != nil && !strings.Contains(err.Error(), "running") {
		t.Fatal(err)
	}
	// A running profile cannot be deleted (its lock is held): switch it off instead.
	p, _ := store.LoadProfile(e.home, "c")
	if p != nil {
		p.Setup.Enabled = false
		if err := store.SaveProfile(e.home, p); err != nil {
			t.Fatal(err)
		}
	}
	f.Reload()
	waitFor("c stopped", func() bool { return stopped["c"] > 0 })
	if stopped["a"] != 0 {
		t.Error("switching c off stopped a")
	}
	if got := f.Running(); len(got) != 1 || got[0] != "a" {
		t.Errorf("running %v, want [a]", got)
	}
	f.Stop()
	for range events {
	}
	f.Wait()
}
