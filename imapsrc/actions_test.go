package imapsrc

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailmover/internal/memimap"
)

// Servers without MOVE: COPY + \Deleted + UID EXPUNGE leaves other messages flagged
// \Deleted alone; without UIDPLUS a bare EXPUNGE is used, with a warning.
func TestMoveFallbacks(t *testing.T) {
	for _, tc := range []struct {
		name          string
		caps          imap.CapSet
		bystanderLeft bool
		warn          bool
	}{
		{"MOVE", imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}, true, false},
		{"no MOVE, UIDPLUS", imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}, true, false},
		{"no MOVE, no UIDPLUS", imap.CapSet{imap.CapIMAP4rev1: {}}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := memimap.Start(memimap.Options{Caps: tc.caps})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			srv.AddUser(memUser, memPass)
			srv.CreateFolder(memUser, "Done")
			uid, _ := srv.Append(memUser, "INBOX", mail("a@example.com", "move me", "x", "", nil))
			srv.Append(memUser, "INBOX", mail("b@example.com", "another client deleted me", "x", "", nil), `\Deleted`)
			var logs syncBuffer
			cfg := Config{Host: "127.0.0.1", Port: srv.Port(), TLS: tlsNone, Auth: authPassword, Username: memUser,
				Password: memPass, Timeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			c, err := Dial(ctxT(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Move(ctxT(t), uid, "Done"); err != nil {
				t.Fatalf("Move: %v", err)
			}
			inbox, _, _ := srv.Count(memUser, "INBOX")
			done, _, _ := srv.Count(memUser, "Done")
			if done != 1 {
				t.Errorf("Done holds %d messages, want 1", done)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.bystanderLeft]; inbox != want {
				t.Errorf("INBOX holds %d, want %d (the other client's \\Deleted message)", inbox, want)
			}
			if got := strings.Contains(logs.String(), "UIDPLUS"); got != tc.warn {
				t.Errorf("UIDPLUS warning logged = %v, want %v: %s", got, tc.warn, logs.String())
			}
		})
	}
}

func TestMoveCreatesTarget(t *testing.T) {
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser(memUser, memPass)
	uid, _ := srv.Append(memUser, "INBOX", mail("a@example.com", "move me", "x", "", nil))
	cfg := Config{Host: "127.0.0.1", Port: srv.Port(), TLS: tlsNone, Auth: authPassword, Username: memUser,
		Password: memPass, Timeout: 5 * time.Second, Logger: testLogger(t), CreateMoveTarget: true}
	c, err := Dial(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Move(ctxT(t), uid, "Erledigt/2026"); err != nil {
		t.Fatalf("Move: %v", err)
	}
	if n, _, err := srv.Count(memUser, "Erledigt/2026"); n != 1 || err != nil {
		t.Errorf("target holds %d, %v", n, err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
