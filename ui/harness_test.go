package ui

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mailmover/mover"
	"mailmover/store"
)

// fakeBackend is the real backend on a temp home with memory secrets, with the network
// parts (sign-in, check, folders, mover) replaced by test hooks.
type fakeBackend struct {
	Backend
	home string
	sec  *store.MemorySecrets

	mu        sync.Mutex
	login     func(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error)
	check     func(ctx context.Context, p *store.Profile) (*CheckReport, error)
	folders   []string
	start     func(ctx context.Context, p *store.Profile) (<-chan mover.Event, error)
	saved     int
	lastStart *store.Profile
}

func newFakeBackend(t *testing.T) *fakeBackend {
	home := t.TempDir()
	sec := store.NewMemorySecrets()
	return &fakeBackend{Backend: NewBackendWith(home, sec, nil), home: home, sec: sec}
}

func (f *fakeBackend) SaveProfile(p *store.Profile) error {
	f.mu.Lock()
	f.saved++
	f.mu.Unlock()
	return f.Backend.SaveProfile(p)
}

func (f *fakeBackend) Login(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error) {
	if f.login == nil {
		return nil, errors.New("no login hook")
	}
	return f.login(ctx, p, sec, opts)
}

func (f *fakeBackend) TokenState(ctx context.Context, profile string) (TokenState, error) {
	return TokenState{}, nil
}

func (f *fakeBackend) Check(ctx context.Context, p *store.Profile, sec Secrets) (*CheckReport, error) {
	if f.check == nil {
		return nil, errors.New("no check hook")
	}
	return f.check(ctx, p)
}

func (f *fakeBackend) ListFolders(ctx context.Context, p *store.Profile, sec Secrets) ([]string, error) {
	return f.folders, nil
}

func (f *fakeBackend) StartMover(ctx context.Context, p *store.Profile) (<-chan mover.Event, error) {
	f.mu.Lock()
	f.lastStart = p
	f.mu.Unlock()
	if f.start == nil {
		return nil, errors.New("no start hook")
	}
	return f.start(ctx, p)
}

// harness is a window on the test driver whose bridge queues UI work for the test
// goroutine, so goroutines never touch widgets concurrently with the test.
type harness struct {
	t   *testing.T
	app fyne.App
	win fyne.Window
	v   *view
	be  *fakeBackend
	q   chan func()
	// timeout bounds each waitFor (default 30s: only a failing test waits that long,
	// and a loaded 2-core CI machine under -race needs the room).
	timeout time.Duration
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	be := newFakeBackend(t)
	h := &harness{t: t, app: a, be: be, q: make(chan func(), 4096)}
	br := &bridge{do: func(f func()) { h.q <- f }}
	h.win = test.NewWindow(nil)
	h.v = newView(a, h.win, be, br)
	h.win.SetContent(h.v.content())
	h.win.Resize(fyne.NewSize(1000, 760))
	t.Cleanup(func() {
		h.v.cancel()
		h.win.Close()
	})
	return h
}

// waitFor runs queued UI work until cond holds, failing after a timeout.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	d := h.timeout
	if d == 0 {
		d = 30 * time.Second
	}
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for !cond() {
		select {
		case f := <-h.q:
			f()
		case <-deadline.C:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// send delivers v on ch while running queued UI work (the sender may be waiting for it).
func send[T any](h *harness, ch chan<- T, v T) {
	h.t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case ch <- v:
			return
		case f := <-h.q:
			f()
		case <-deadline.C:
			h.t.Fatal("timed out sending")
		}
	}
}

// newProfile starts a new profile named name with the required fields filled.
func (h *harness) newProfile(name string) {
	h.t.Helper()
	h.v.profiles.startNew(h.be.NewProfile(name))
	test.Type(h.v.setup.host, "outlook.office365.com")
	test.Type(h.v.setup.username, "invoices@contoso.example")
	test.Type(h.v.oauth.clientID, "11111111-2222-3333-4444-555555555555")
	test.Type(h.v.dest.folder, h.t.TempDir())
	if f, err := h.v.firstInvalid(); f != nil {
		h.t.Fatalf("new profile still invalid: %s: %v", f.label, err)
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
