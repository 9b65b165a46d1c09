package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailmover/internal/memimap"
	"mailmover/internal/testenv"
	"mailmover/mover"
	"mailmover/store"
)

// The fleet's scale targets (issue 14), measured by `make bench` (not timed tests):
//   - idle-RSS-MB: the process's resident memory with N profiles idling in one fleet
//     (target ≤ 150 MB for 50);
//   - pickup-p95-ms: a message appended to any of them, until its file is durable (≤ 1 s);
//   - backlog-ratio: N backlogs of M messages moved concurrently, total messages per
//     second ÷ one mailbox alone (≥ 1), every file exactly once.
//
// It runs against the test Dovecot when its variables are set (scripts/testenv-up.sh;
// each profile reads a folder of its own, so mail_max_userip_connections must allow N
// connections: testenv-up sets 200), else against the in-process IMAP server.
// MM_FLEET_N and MM_FLEET_BACKLOG change N (50) and M (100).
func BenchmarkFleet(b *testing.B) {
	n, backlog := envInt("MM_FLEET_N", 50), envInt("MM_FLEET_BACKLOG", 100)
	t := newTarget(b)
	b.Logf("target: %s, %d profiles, backlogs of %d", t.name, n, backlog)
	for range b.N {
		home := b.TempDir()
		sec := store.NewMemorySecrets()
		var folders, dests []string
		for i := range n {
			folder, dest := t.folder(b, i), filepath.Join(home, fmt.Sprintf("dest-%02d", i))
			folders, dests = append(folders, folder), append(dests, dest)
			t.saveProfile(b, home, sec, fmt.Sprintf("p%02d", i), folder, dest)
		}
		// Idle: every profile connected and waiting.
		ctx, cancel := context.WithCancel(context.Background())
		f, err := Start(ctx, Options{Home: home, Secrets: sec})
		if err != nil {
			b.Fatal(err)
		}
		stopped := false
		defer func() { // also when the benchmark fails: no mover outlives its folders
			if !stopped {
				cancel()
				f.Wait()
			}
		}()
		saved := make(chan mover.Event, 1024)
		idle := map[string]bool{}
		idleAll := make(chan struct{})
		go func() {
			for e := range f.Events() {
				switch e.Kind {
				case mover.KindIdle:
					if !idle[e.Profile] {
						idle[e.Profile] = true
						if len(idle) == n {
							close(idleAll)
						}
					}
				case mover.KindFileSaved:
					saved <- e
				case mover.KindError, mover.KindPaused:
					b.Errorf("%s: %s", e.Profile, e.Text)
				}
			}
		}()
		select {
		case <-idleAll:
		case <-time.After(2 * time.Minute):
			b.Fatalf("only %d of %d profiles idle after 2 minutes", len(idle), n)
		}
		runtime.GC()
		time.Sleep(time.Second)
		b.ReportMetric(float64(rssKB())/1024, "idle-RSS-MB")

		// Pickup: one message at a time into a different profile's folder.
		var lat []time.Duration
		for i := range min(n, 40) {
			start := time.Now()
			t.append(b, folders[(i*7)%n], message(fmt.Sprintf("pickup-%d", i), 20<<10))
			select {
			case <-saved:
				lat = append(lat, time.Since(start))
			case <-time.After(30 * time.Second):
				b.Fatalf("message %d not saved within 30 s", i)
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*95/100].Milliseconds()), "pickup-p95-ms")
		cancel()
		f.Wait()
		stopped = true

		// Backlogs: one mailbox alone, then all of them at once.
		for i := range n {
			var msgs [][]byte
			for j := range backlog {
				msgs = append(msgs, message(fmt.Sprintf("b%d-%d", i, j), 20<<10))
			}
			t.append(b, folders[i], msgs...)
		}
		alone := runOnce(b, home, sec, []string{"p00"})
		all := runOnce(b, home, sec, nil)
		one := float64(backlog) / alone.Seconds()
		total := float64((n-1)*backlog) / all.Seconds()
		b.ReportMetric(one, "alone-msgs/s")
		b.ReportMetric(total, "fleet-msgs/s")
		b.ReportMetric(total/one, "backlog-ratio")
		for i, d := range dests {
			entries, _ := os.ReadDir(d)
			if want := backlog + pickupsFor(i, n); len(entries) != want {
				b.Errorf("%s holds %d files, want %d", d, len(entries), want)
			}
		}
	}
}

func pickupsFor(i, n int) int {
	c := 0
	for k := range min(n, 40) {
		if (k*7)%n == i {
			c++
		}
	}
	return c
}

func runOnce(b *testing.B, home string, sec store.Secrets, names []string) time.Duration {
	start := time.Now()
	f, err := Start(context.Background(), Options{Home: home, Secrets: sec, Names: names, Once: true})
	if err != nil {
		b.Fatal(err)
	}
	for range f.Events() {
	}
	if bad := Failed(f.Wait()); len(bad) > 0 {
		b.Fatalf("failed: %v", bad)
	}
	return time.Since(start)
}

func message(id string, size int) []byte {
	data := bytes.Repeat([]byte(id+" "), size/(len(id)+1)+1)[:size]
	var enc strings.Builder
	const line = 57
	for len(data) > 0 {
		k := min(line, len(data))
		enc.WriteString(encodeBase64(data[:k]) + "\r\n")
		data = data[k:]
	}
	return []byte("From: bench@example.com\r\nSubject: " + id + "\r\nMessage-ID: <" + id + "@bench>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"" + id + ".pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		enc.String() + "--b--\r\n")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// rssKB reads this process's resident set (Linux).
func rssKB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(v)[0])
			return kb
		}
	}
	return 0
}

// target is the IMAP server the benchmark uses.
type target struct {
	name    string
	dovecot *testenv.DovecotEnv
	mem     *memimap.Server
}

func newTarget(b *testing.B) *target {
	if os.Getenv("MM_DOVECOT_HOST") != "" {
		d := testenv.Dovecot(b)
		return &target{name: "Dovecot " + d.IMAPSAddr(), dovecot: &d}
	}
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	if err := srv.AddUser("bench@example.com", "pw"); err != nil {
		b.Fatal(err)
	}
	return &target{name: "the in-process IMAP server", mem: srv}
}

func (t *target) folder(b *testing.B, i int) string {
	if t.dovecot != nil {
		return t.dovecot.NewMailbox(b, fmt.Sprintf("fleet%02d", i))
	}
	name := fmt.Sprintf("fleet%02d", i)
	if err := t.mem.CreateFolder("bench@example.com", name); err != nil {
		b.Fatal(err)
	}
	return name
}

func (t *target) append(b *testing.B, folder string, msgs ...[]byte) {
	if t.dovecot != nil {
		t.dovecot.Append(b, folder, msgs...)
		return
	}
	for _, m := range msgs {
		if _, err := t.mem.Append("bench@example.com", folder, m); err != nil {
			b.Fatal(err)
		}
	}
}

func (t *target) saveProfile(b *testing.B, home string, sec store.Secrets, name, folder, dest string) {
	p := store.DefaultProfile(name)
	p.Setup.Folder = folder
	p.Destination.Folder = dest
	if t.dovecot != nil {
		d := t.dovecot
		p.Setup.Host, p.Setup.Port, p.Setup.Username = d.Host, d.IMAPSPort, d.User
		p.Security = store.Security{TLS: store.TLSImplicit, Auth: store.AuthPassword, VerifyCertificate: true, CAFile: d.CAFile}
		sec.Set(name, store.SecretPassword, d.Password)
	} else {
		p.Setup.Host, p.Setup.Port, p.Setup.Username = t.mem.Host(), t.mem.Port(), "bench@example.com"
		p.Security.TLS, p.Security.Auth = store.TLSNone, store.AuthPassword
		sec.Set(name, store.SecretPassword, "pw")
	}
	if err := store.SaveProfile(home, p); err != nil {
		b.Fatal(err)
	}
}

func encodeBase64(p []byte) string { return base64.StdEncoding.EncodeToString(p) }
