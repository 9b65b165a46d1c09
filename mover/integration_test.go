//go:build unix

package mover

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/internal/memimap"
	"mailmover/internal/testenv"
	"mailmover/store"
)

// imapTarget is a real IMAP server the tests move mail from: the in-memory one, or the
// private Dovecot of the test environment.
type imapTarget struct {
	name         string
	host         string
	port         int
	tls, ca      string
	user, pass   string
	folder       string
	append       func(t testing.TB, raws ...[]byte)
	client       func(t testing.TB) *imapclient.Client // signed in, for inspection
	createFolder func(t testing.TB, name string)
}

func memTarget(t testing.TB) *imapTarget {
	t.Helper()
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser("u@example.com", "pw-123"); err != nil {
		t.Fatal(err)
	}
	tg := &imapTarget{name: "memimap", host: srv.Host(), port: srv.Port(), tls: store.TLSNone,
		user: "u@example.com", pass: "pw-123", folder: "INBOX"}
	tg.append = func(t testing.TB, raws ...[]byte) {
		for _, raw := range raws {
			if _, err := srv.Append(tg.user, tg.folder, raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	tg.client = func(t testing.TB) *imapclient.Client {
		c, err := imapclient.DialInsecure(srv.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Login(tg.user, tg.pass).Wait(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	tg.createFolder = func(t testing.TB, name string) {
		if err := srv.CreateFolder(tg.user, name); err != nil {
			t.Fatal(err)
		}
	}
	return tg
}

func dovecotTarget(t testing.TB) *imapTarget {
	t.Helper()
	d := testenv.Dovecot(t)
	folder := d.NewMailbox(t, "mover")
	tg := &imapTarget{name: "dovecot", host: d.Host, port: d.IMAPSPort, tls: store.TLSImplicit, ca: d.CAFile,
		user: d.User, pass: d.Password, folder: folder}
	tg.append = func(t testing.TB, raws ...[]byte) { d.Append(t, folder, raws...) }
	tg.client = func(t testing.TB) *imapclient.Client { return d.Dial(t) }
	tg.createFolder = func(t testing.TB, name string) {
		c := d.Dial(t)
		if err := c.Create(name, nil).Wait(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Dial(t).Delete(name).Wait() })
	}
	return tg
}

// status returns the number of messages and unseen messages in folder.
func (tg *imapTarget) status(t testing.TB, folder string) (messages, unseen int) {
	t.Helper()
	c := tg.client(t)
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
	return int(*st.NumMessages), int(*st.NumUnseen)
}

// profile points h's profile at the target (or at addr instead, e.g. a proxy).
func (h *harness) useTarget(tg *imapTarget, addr string) Options {
	h.t.Helper()
	p := h.prof
	p.Setup.Host, p.Setup.Port, p.Setup.Username, p.Setup.Folder = tg.host, tg.port, tg.user, tg.folder
	if addr != "" {
		host, port, _ := net.SplitHostPort(addr)
		p.Setup.Host = host
		fmt.Sscan(port, &p.Setup.Port)
	}
	p.Security = store.Security{TLS: tg.tls, Auth: store.AuthPassword, VerifyCertificate: true, CAFile: tg.ca}
	sec := store.NewMemorySecrets()
	sec.Set(p.Name, store.SecretPassword, tg.pass)
	var logw io.Writer = io.Discard
	if os.Getenv("MM_TEST_DEBUG") != "" {
		logw = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := SourceConfig(p, sec, logger)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg.Timeout = 10 * time.Second
	return Options{Profile: p, Home: h.home, Config: cfg, Logger: logger, MaxRetry: 50 * time.Millisecond,
		PauseRetry: 50 * time.Millisecond}
}

// makeMail returns n messages with 1–2 attachments each (sizes from small to
// maxSize bytes, from a fixed seed) and records their payloads as wanted.
func (h *harness) makeMail(n, maxSize int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var raws [][]byte
	for i := range n {
		var atts []attachment
		for j := range 1 + r.IntN(2) {
			size := 100 + r.IntN(maxSize)
			data := make([]byte, size)
			for k := range data {
				data[k] = byte(r.Uint32())
			}
			name := fmt.Sprintf("doc-%d-%d.pdf", i, j)
			atts = append(atts, attachment{name: name, ctype: "application/pdf", data: data})
			h.want[sum(data)] = name
		}
		raws = append(raws, buildMessage(int(seed)*100000+i, fmt.Sprintf("Invoice %d", i), "billing@example.com", "see attached", atts...))
	}
	return raws
}

func runOnceOpts(t testing.TB, o Options) error {
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m.RunOnce(context.Background())
}

func TestMemimapRunOnce(t *testing.T) {
	tg := memTarget(t)
	h := newHarness(t)
	tg.append(t, h.makeMail(20, 30_000, 1)...)
	o := h.useTarget(tg, "")
	ev := make(chan Event, 1000)
	o.Events = ev
	if err := runOnceOpts(t, o); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	if n, unseen := tg.status(t, tg.folder); n != 20 || unseen != 0 {
		t.Errorf("server: %d messages, %d unseen; want 20, 0", n, unseen)
	}
	// No secret in an event or the log.
	close(ev)
	for e := range ev {
		if strings.Contains(fmt.Sprintf("%+v", e), tg.pass) {
			t.Errorf("event carries the password: %+v", e)
		}
	}
	log, err := os.ReadFile(LogPath(h.home, h.prof.Name))
	if err != nil || !strings.Contains(string(log), `"kind":"saved"`) {
		t.Fatalf("log: %v\n%s", err, log)
	}
	if strings.Contains(string(log), tg.pass) {
		t.Error("the log holds the password")
	}
}

func TestDovecotThousandMessagesExactlyOnce(t *testing.T) {
	tg := dovecotTarget(t)
	h := newHarness(t)
	n := 1000
	if testing.Short() {
		n = 100
	}
	tg.append(t, h.makeMail(n, 20_000, 2)...)
	o := h.useTarget(tg, "")
	start := time.Now()
	if err := runOnceOpts(t, o); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages moved in %s", n, time.Since(start).Round(time.Millisecond))
	h.exactlyOnce()
	if got, unseen := tg.status(t, tg.folder); got != n || unseen != 0 {
		t.Errorf("server: %d messages, %d unseen; want %d, 0", got, unseen, n)
	}
	// Marked unread again: not moved twice.
	c := tg.client(t)
	if _, err := c.Select(tg.folder, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsDel, Flags: []imap.Flag{imap.FlagSeen}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := runOnceOpts(t, o); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
}

func TestDovecotPostActions(t *testing.T) {
	for _, after := range []string{store.AfterSeen, store.AfterMove, store.AfterDelete, store.AfterNone} {
		t.Run(after, func(t *testing.T) {
			tg := dovecotTarget(t)
			h := newHarness(t)
			tg.append(t, h.makeMail(5, 5000, 3)...)
			o := h.useTarget(tg, "")
			target := tg.folder + "-done"
			if after == store.AfterMove {
				tg.createFolder(t, target)
				o.Profile.Common.MoveTo = target
			}
			o.Profile.Common.After = after
			if err := runOnceOpts(t, o); err != nil {
				t.Fatal(err)
			}
			h.exactlyOnce()
			n, unseen := tg.status(t, tg.folder)
			switch after {
			case store.AfterSeen:
				if n != 5 || unseen != 0 {
					t.Errorf("%d messages, %d unseen; want 5, 0", n, unseen)
				}
			case store.AfterMove:
				moved, _ := tg.status(t, target)
				if n != 0 || moved != 5 {
					t.Errorf("%d left, %d moved; want 0, 5", n, moved)
				}
			case store.AfterDelete:
				if n != 0 {
					t.Errorf("%d messages left; want 0", n)
				}
			case store.AfterNone:
				if n != 5 || unseen != 5 {
					t.Errorf("%d messages, %d unseen; want 5, 5 (after = none)", n, unseen)
				}
				if err := runOnceOpts(t, o); err != nil {
					t.Fatal(err)
				}
				h.exactlyOnce()
			}
		})
	}
}

func TestDovecotIdlePicksUpAppend(t *testing.T) {
	for name, mk := range map[string]func(testing.TB) *imapTarget{"memimap": memTarget, "dovecot": dovecotTarget} {
		t.Run(name, func(t *testing.T) {
			tg := mk(t)
			h := newHarness(t)
			o := h.useTarget(tg, "")
			ev := make(chan Event, 100)
			o.Events = ev
			m, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			if name == "memimap" {
				// go-imap's server does not send updates queued before IDLE starts, so an
				// APPEND between SEARCH and IDLE would wait for the next one: poll there
				// (faster than a profile may ask for).
				m.prof.Common.Watch = store.WatchPoll
				m.prof.Common.PollInterval.Duration = 100 * time.Millisecond
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			waitKind(t, ev, KindIdle)
			appended := time.Now()
			tg.append(t, h.makeMail(1, 1000, 4)...)
			waitKind(t, ev, KindFileSaved)
			t.Logf("%s: APPEND to file on disk in %s", tg.name, time.Since(appended).Round(time.Millisecond))
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not stop within 10s")
			}
			h.exactlyOnce()
		})
	}
}

// cutProxy forwards TCP to target and cuts each connection after a random number of
// bytes from the server, until it has cut max times.
type cutProxy struct {
	ln     net.Listener
	target string
	cuts   atomic.Int32
	max    int32
	rnd    *rand.Rand
	mu     sync.Mutex
}

func startCutProxy(t testing.TB, target string, maxCuts int32, seed uint64) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, max: maxCuts, rnd: rand.New(rand.NewPCG(seed, 1))}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *cutProxy) handle(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	limit := int64(-1)
	if p.cuts.Load() < p.max {
		p.mu.Lock()
		// Past the greeting, sign-in and first search, into the bodies.
		limit = 2000 + p.rnd.Int64N(60_000)
		p.mu.Unlock()
	}
	go func() { io.Copy(s, c); s.Close() }()
	if limit < 0 {
		io.Copy(c, s)
		return
	}
	n, _ := io.CopyN(c, s, limit)
	if n == limit {
		p.cuts.Add(1)
	}
}

// testProxyCuts runs the mover through a proxy that cuts the connection at random
// points (25 times), then checks exactly once.
//
// Under the race detector the mover runs as a separate process (the real binary, so a
// keyring is needed): go-imap v2.0.0-beta.8 reads a FETCH literal again after the
// connection was cut mid-literal (FetchMessageData.Next discards it) while its own reader
// goroutine already reads the same buffer — a data race inside imapclient on a dead
// connection, reported to the imapsrc owner.
func testProxyCuts(t *testing.T, tg *imapTarget) {
	h := newHarness(t)
	tg.append(t, h.makeMail(60, 20_000, 5)...)
	proxy := startCutProxy(t, net.JoinHostPort(tg.host, fmt.Sprint(tg.port)), 25, 9)
	o := h.useTarget(tg, proxy.ln.Addr().String())
	kinds := make(chan string, 10000)
	done := make(chan error, 1)
	var stop func()
	if raceEnabled {
		if os.Getenv("MM_KEYRING") != "1" {
			t.Skip("under -race this test runs the mailmover binary, which needs a keyring (MM_KEYRING=1, as in make test)")
		}
		mp := newMoverProcess(t, h, tg.pass)
		cmd := mp.command(false)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				kinds <- lineKind(sc.Text())
			}
			done <- cmd.Wait()
		}()
		stop = func() { cmd.Process.Signal(syscall.SIGTERM) }
	} else {
		ev := make(chan Event, 10000)
		o.Events = ev
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { done <- m.Run(ctx) }()
		go func() {
			for e := range ev {
				kinds <- e.Kind.String()
			}
		}()
		stop = cancel
	}
	retries := 0
	timeout := time.After(180 * time.Second) // a hang guard; 25 cuts and their back-offs take about a minute
wait:
	for {
		select {
		case k := <-kinds:
			if k == "retry" {
				retries++
			}
			if k == "idle" && proxy.cuts.Load() >= proxy.max {
				if _, unseen := tg.status(t, tg.folder); unseen == 0 {
					break wait
				}
			}
		case err := <-done:
			t.Fatalf("the mover ended: %v", err)
		case <-timeout:
			t.Fatalf("not done within 180s: %d cuts, %d retries", proxy.cuts.Load(), retries)
		}
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the mover ended with %v after the stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the mover did not stop within 10s")
	}
	t.Logf("%s: %d cuts, %d retry events", tg.name, proxy.cuts.Load(), retries)
	if proxy.cuts.Load() < 20 || retries < 20 {
		t.Errorf("%d cuts and %d retries; want at least 20 each", proxy.cuts.Load(), retries)
	}
	h.exactlyOnce()
}

func TestProxyCutsMemimap(t *testing.T) { testProxyCuts(t, memTarget(t)) }

func TestProxyCutsDovecot(t *testing.T) { testProxyCuts(t, dovecotTarget(t)) }
