package imapsrc

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/internal/memimap"
)

// cmdRecorder is a TCP proxy in front of a server that records the commands the client
// sends (without their tags), so that a test can see exactly which commands a method
// sent.
type cmdRecorder struct {
	mu   sync.Mutex
	cmds []string
}

// recordCommands starts a recording proxy to target and returns its port.
func recordCommands(t *testing.T, target string) (int, *cmdRecorder) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	rec := &cmdRecorder{}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go rec.serve(conn, target)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, rec
}

func (r *cmdRecorder) serve(conn net.Conn, target string) {
	defer conn.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		_, _ = io.Copy(conn, up)
		conn.Close()
	}()
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if _, cmd, ok := strings.Cut(strings.TrimRight(line, "\r\n"), " "); ok {
				r.mu.Lock()
				r.cmds = append(r.cmds, cmd)
				r.mu.Unlock()
			}
			if _, werr := io.WriteString(up, line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// mark returns a position for since.
func (r *cmdRecorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cmds)
}

// since returns the commands recorded after mark.
func (r *cmdRecorder) since(mark int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.cmds[mark:])
}

// msgState is one message as another client sees it on the server.
type msgState struct {
	uid   uint32
	flags []imap.Flag
}

func (m msgState) has(f imap.Flag) bool { return slices.Contains(m.flags, f) }

// serverState reads a folder of the memimap user over a connection of its own (not the
// Client under test) and returns its messages by subject.
func serverState(t *testing.T, srv *memimap.Server, folder string) map[string]msgState {
	t.Helper()
	ic, err := imapclient.DialInsecure(srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(memUser, memPass).Wait(); err != nil {
		t.Fatal(err)
	}
	mb, err := ic.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", folder, err)
	}
	out := map[string]msgState{}
	if mb.NumMessages == 0 {
		return out
	}
	msgs, err := ic.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}},
		&imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("fetch %s: %v", folder, err)
	}
	for _, m := range msgs {
		out[m.Envelope.Subject] = msgState{uid: uint32(m.UID), flags: m.Flags}
	}
	return out
}

// subjects returns the sorted keys of a serverState result.
func subjects(st map[string]msgState) []string {
	var s []string
	for k := range st {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// batchFixture is a memimap server whose INBOX got seven messages m1…m7 (UIDs 1…7).
// Another client then deleted m3 (gone) and flagged m7 \Deleted. The batch under test
// is m1, m2, m3, m5, m6: five UIDs, one already gone; m4 (inside the UID range) and m7
// are bystanders that must stay as they are.
type batchFixture struct {
	srv  *memimap.Server
	c    *Client
	rec  *cmdRecorder
	logs *syncBuffer
	set  []uint32
}

// batchSetText is the fixture's batch as a UID set on the wire.
const batchSetText = "1:3,5:6"

func newBatchFixture(t *testing.T, caps imap.CapSet, createTarget bool) *batchFixture {
	t.Helper()
	srv, err := memimap.Start(memimap.Options{Caps: caps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser(memUser, memPass); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 7; i++ {
		var flags []string
		if i == 7 {
			flags = []string{`\Deleted`}
		}
		uid, err := srv.Append(memUser, "INBOX", mail("a@example.com", fmt.Sprintf("m%d", i), "x", "", nil), flags...)
		if err != nil || uid != uint32(i) {
			t.Fatalf("append m%d: UID %d, %v", i, uid, err)
		}
	}
	// Another client removes m3.
	ic, err := imapclient.DialInsecure(srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.Login(memUser, memPass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := ic.Store(imap.UIDSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := ic.UIDExpunge(imap.UIDSetNum(3)).Close(); err != nil {
		t.Fatal(err)
	}
	ic.Close()
	if got := subjects(serverState(t, srv, "INBOX")); !slices.Equal(got, []string{"m1", "m2", "m4", "m5", "m6", "m7"}) {
		t.Fatalf("INBOX before the test: %v", got)
	}

	port, rec := recordCommands(t, srv.Addr())
	logs := &syncBuffer{}
	cfg := Config{Host: "127.0.0.1", Port: port, TLS: tlsNone, Auth: authPassword, Username: memUser,
		Password: memPass, Timeout: 5 * time.Second, CreateMoveTarget: createTarget,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	c, err := Dial(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// Shuffled, with a duplicate: the methods sort and merge.
	return &batchFixture{srv: srv, c: c, rec: rec, logs: logs, set: []uint32{6, 1, 3, 5, 2, 6}}
}

// wantCommands fails unless exactly want were sent since mark.
func (f *batchFixture) wantCommands(t *testing.T, mark int, want ...string) {
	t.Helper()
	if got := f.rec.since(mark); !slices.Equal(got, want) {
		t.Errorf("commands sent:\n  %q\nwant\n  %q", got, want)
	}
}

var (
	capsAll      = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	capsNoMove   = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}
	capsNoMoveUP = imap.CapSet{imap.CapIMAP4rev1: {}}
)

func TestBatchMarkSeen(t *testing.T) {
	f := newBatchFixture(t, capsAll, false)
	mark := f.rec.mark()
	if err := f.c.MarkSeenUIDs(ctxT(t), f.set); err != nil {
		t.Fatalf("MarkSeenUIDs: %v", err)
	}
	f.wantCommands(t, mark, `UID STORE `+batchSetText+` +FLAGS.SILENT (\Seen)`)

	st := serverState(t, f.srv, "INBOX")
	if got := subjects(st); !slices.Equal(got, []string{"m1", "m2", "m4", "m5", "m6", "m7"}) {
		t.Errorf("INBOX holds %v", got)
	}
	for subj, m := range st {
		want := subj != "m4" && subj != "m7"
		if m.has(imap.FlagSeen) != want {
			t.Errorf("%s (UID %d): \\Seen = %v, want %v (flags %v)", subj, m.uid, !want, want, m.flags)
		}
	}
	if !st["m7"].has(imap.FlagDeleted) {
		t.Errorf("the bystander m7 lost its \\Deleted: %v", st["m7"].flags)
	}

	// Idempotent: again, and for a set that is all gone.
	if err := f.c.MarkSeenUIDs(ctxT(t), f.set); err != nil {
		t.Errorf("MarkSeenUIDs again: %v", err)
	}
	if err := f.c.MarkSeenUIDs(ctxT(t), []uint32{3, 99, 100}); err != nil {
		t.Errorf("MarkSeenUIDs of gone UIDs: %v", err)
	}
}

func TestBatchMove(t *testing.T) {
	for _, tc := range []struct {
		name  string
		caps  imap.CapSet
		cmds  []string
		inbox []string // what stays in INBOX
		warn  bool
	}{
		{"MOVE", capsAll, []string{`UID MOVE ` + batchSetText + ` "Done"`}, []string{"m4", "m7"}, false},
		{"no MOVE, UIDPLUS", capsNoMove, []string{
			`UID COPY ` + batchSetText + ` "Done"`,
			`UID STORE ` + batchSetText + ` +FLAGS.SILENT (\Deleted)`,
			`UID EXPUNGE ` + batchSetText,
		}, []string{"m4", "m7"}, false},
		// Without UIDPLUS the bare EXPUNGE also removes the other client's m7.
		{"no MOVE, no UIDPLUS", capsNoMoveUP, []string{
			`UID COPY ` + batchSetText + ` "Done"`,
			`UID STORE ` + batchSetText + ` +FLAGS.SILENT (\Deleted)`,
			`EXPUNGE`,
		}, []string{"m4"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newBatchFixture(t, tc.caps, false)
			if err := f.srv.CreateFolder(memUser, "Done"); err != nil {
				t.Fatal(err)
			}
			mark := f.rec.mark()
			if err := f.c.MoveUIDs(ctxT(t), f.set, "Done"); err != nil {
				t.Fatalf("MoveUIDs: %v", err)
			}
			f.wantCommands(t, mark, tc.cmds...)

			done := serverState(t, f.srv, "Done")
			if got := subjects(done); !slices.Equal(got, []string{"m1", "m2", "m5", "m6"}) {
				t.Errorf("Done holds %v, want m1 m2 m5 m6", got)
			}
			for subj, m := range done {
				if m.has(imap.FlagDeleted) {
					t.Errorf("moved %s carries \\Deleted: %v", subj, m.flags)
				}
			}
			inbox := serverState(t, f.srv, "INBOX")
			if got := subjects(inbox); !slices.Equal(got, tc.inbox) {
				t.Errorf("INBOX holds %v, want %v", got, tc.inbox)
			}
			if m4 := inbox["m4"]; m4.has(imap.FlagDeleted) || m4.has(imap.FlagSeen) {
				t.Errorf("the bystander m4 was touched: %v", m4.flags)
			}
			if got := strings.Contains(f.logs.String(), "UIDPLUS"); got != tc.warn {
				t.Errorf("UIDPLUS warning logged = %v, want %v: %s", got, tc.warn, f.logs.String())
			}

			// Idempotent: the same set again, plus m4, moves m4 only. (Not the same set
			// alone: for a set with no message left, go-imap's server writes an empty
			// COPYUID that its client cannot parse; Dovecot answers "OK No messages found".)
			if err := f.c.MoveUIDs(ctxT(t), append(slices.Clone(f.set), 4), "Done"); err != nil {
				t.Errorf("MoveUIDs again: %v", err)
			}
			if got := subjects(serverState(t, f.srv, "Done")); !slices.Equal(got, []string{"m1", "m2", "m4", "m5", "m6"}) {
				t.Errorf("after a second MoveUIDs Done holds %v, want m1 m2 m4 m5 m6", got)
			}
		})
	}
}

func TestBatchMoveMissingTarget(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		f := newBatchFixture(t, capsAll, false)
		err := f.c.MoveUIDs(ctxT(t), f.set, "Nowhere")
		if KindOf(err) != KindFolder {
			t.Fatalf("MoveUIDs to a missing folder: %v (kind %v), want kind folder", err, KindOf(err))
		}
		if !strings.Contains(err.Error(), "UIDs "+batchSetText) || !strings.Contains(err.Error(), `"Nowhere"`) {
			t.Errorf("error does not name the UIDs and the folder: %v", err)
		}
		if got := subjects(serverState(t, f.srv, "INBOX")); len(got) != 6 {
			t.Errorf("INBOX holds %v after a refused move, want all 6", got)
		}
	})
	t.Run("created", func(t *testing.T) {
		f := newBatchFixture(t, capsNoMove, true)
		if err := f.c.MoveUIDs(ctxT(t), f.set, "Archiv/2026"); err != nil {
			t.Fatalf("MoveUIDs with CreateMoveTarget: %v", err)
		}
		if got := subjects(serverState(t, f.srv, "Archiv/2026")); !slices.Equal(got, []string{"m1", "m2", "m5", "m6"}) {
			t.Errorf("target holds %v", got)
		}
	})
}

func TestBatchDelete(t *testing.T) {
	for _, tc := range []struct {
		name    string
		caps    imap.CapSet
		expunge string
		inbox   []string
		warn    bool
	}{
		{"UIDPLUS", capsAll, `UID EXPUNGE ` + batchSetText, []string{"m4", "m7"}, false},
		{"MOVE absent, UIDPLUS", capsNoMove, `UID EXPUNGE ` + batchSetText, []string{"m4", "m7"}, false},
		{"no UIDPLUS", capsNoMoveUP, `EXPUNGE`, []string{"m4"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newBatchFixture(t, tc.caps, false)
			mark := f.rec.mark()
			if err := f.c.DeleteUIDs(ctxT(t), f.set); err != nil {
				t.Fatalf("DeleteUIDs: %v", err)
			}
			f.wantCommands(t, mark, `UID STORE `+batchSetText+` +FLAGS.SILENT (\Deleted)`, tc.expunge)
			inbox := serverState(t, f.srv, "INBOX")
			if got := subjects(inbox); !slices.Equal(got, tc.inbox) {
				t.Errorf("INBOX holds %v, want %v", got, tc.inbox)
			}
			if m4 := inbox["m4"]; m4.has(imap.FlagDeleted) {
				t.Errorf("the bystander m4 got \\Deleted: %v", m4.flags)
			}
			if got := strings.Contains(f.logs.String(), "UIDPLUS"); got != tc.warn {
				t.Errorf("UIDPLUS warning logged = %v, want %v: %s", got, tc.warn, f.logs.String())
			}
			if err := f.c.DeleteUIDs(ctxT(t), f.set); err != nil {
				t.Errorf("DeleteUIDs again: %v", err)
			}
		})
	}
}

// The single-message methods are the set methods with one UID; empty sets and UID 0
// (which go-imap would send as "*", the last message) send nothing.
func TestBatchSingleAndEmpty(t *testing.T) {
	f := newBatchFixture(t, capsAll, false)
	if err := f.srv.CreateFolder(memUser, "Done"); err != nil {
		t.Fatal(err)
	}
	mark := f.rec.mark()
	for name, call := range map[string]func() error{
		"MarkSeenUIDs(nil)": func() error { return f.c.MarkSeenUIDs(ctxT(t), nil) },
		"MoveUIDs([])":      func() error { return f.c.MoveUIDs(ctxT(t), []uint32{}, "Done") },
		"DeleteUIDs([0])":   func() error { return f.c.DeleteUIDs(ctxT(t), []uint32{0}) },
		"MarkSeen(0)":       func() error { return f.c.MarkSeen(ctxT(t), 0) },
	} {
		if err := call(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	f.wantCommands(t, mark)
	if got := serverState(t, f.srv, "INBOX"); len(got) != 6 || got["m7"].has(imap.FlagSeen) {
		t.Errorf("UID 0 touched a message: %v", got)
	}

	mark = f.rec.mark()
	if err := f.c.MarkSeen(ctxT(t), 4); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Move(ctxT(t), 4, "Done"); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Delete(ctxT(t), 5); err != nil {
		t.Fatal(err)
	}
	f.wantCommands(t, mark, `UID STORE 4 +FLAGS.SILENT (\Seen)`, `UID MOVE 4 "Done"`,
		`UID STORE 5 +FLAGS.SILENT (\Deleted)`, `UID EXPUNGE 5`)
	if done := serverState(t, f.srv, "Done"); !done["m4"].has(imap.FlagSeen) || len(done) != 1 {
		t.Errorf("Done holds %v, want m4 seen", done)
	}
}

func TestUIDSets(t *testing.T) {
	many := make([]uint32, 0, 1200)
	for i := range 1200 {
		many = append(many, uint32(2*i+1)) // odd UIDs: no ranges to merge
	}
	for _, tc := range []struct {
		name string
		in   []uint32
		want []string
	}{
		{"empty", nil, nil},
		{"only zero", []uint32{0, 0}, nil},
		{"one", []uint32{7}, []string{"7"}},
		{"sorted and merged", []uint32{9, 3, 4, 0, 5, 3, 11, 10}, []string{"3:5,9:11"}},
		{"max UID", []uint32{4294967295, 1}, []string{"1,4294967295"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range uidSets(tc.in) {
				got = append(got, s.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("uidSets(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("chunked", func(t *testing.T) {
		in := slices.Clone(many)
		sets := uidSets(in)
		if len(sets) != 3 {
			t.Fatalf("%d sets for 1200 UIDs, want 3", len(sets))
		}
		var n int
		for _, s := range sets {
			nums, _ := s.Nums()
			if len(nums) > maxUIDsPerCommand {
				t.Errorf("a set holds %d UIDs, more than %d", len(nums), maxUIDsPerCommand)
			}
			n += len(nums)
		}
		if n != 1200 {
			t.Errorf("the sets hold %d UIDs, want 1200", n)
		}
		if !slices.Equal(in, many) {
			t.Error("uidSets changed the caller's slice")
		}
	})
	for _, tc := range []struct {
		in   []uint32
		want string
	}{{[]uint32{7}, "UID 7"}, {[]uint32{7, 8}, "UIDs 7:8"}, {[]uint32{1, 5}, "UIDs 1,5"}} {
		if got := describeUIDs(uidSets(tc.in)[0]); got != tc.want {
			t.Errorf("describeUIDs(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
