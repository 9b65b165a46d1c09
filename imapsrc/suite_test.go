package imapsrc

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailmover/internal/testenv"
)

// backends lists the servers the shared suite runs against: the in-process memimap
// always, the real Dovecot when `make test` started it (skipped otherwise).
var backends = []struct {
	name string
	make func(t *testing.T) backend
}{
	{"memimap", memBackend},
	{"dovecot", dovecotBackend},
}

func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, bk := range backends {
		t.Run(bk.name, func(t *testing.T) { f(t, bk.make(t)) })
	}
}

func TestSignInMethods(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, tc := range []struct{ auth, tls, mech string }{
			{authPassword, tlsImplicit, "PLAIN"},
			{authPassword, tlsStartTLS, "PLAIN"},
			{authXOAuth2, tlsImplicit, "XOAUTH2"},
			{authXOAuth2, tlsStartTLS, "XOAUTH2"},
			{authOAuthBearer, tlsImplicit, "OAUTHBEARER"},
			{authOAuthBearer, tlsStartTLS, "OAUTHBEARER"},
		} {
			t.Run(tc.auth+"/"+tc.tls, func(t *testing.T) {
				c, err := Dial(ctxT(t), b.config(t, tc.auth, tc.tls, "INBOX"))
				if err != nil {
					t.Fatalf("Dial: %v (advice: %s)", err, Advice(err))
				}
				defer c.Close()
				if c.Mechanism() != tc.mech {
					t.Errorf("mechanism %q, want %q", c.Mechanism(), tc.mech)
				}
				if !strings.HasPrefix(c.Security(), "TLS 1.") {
					t.Errorf("security %q, want TLS", c.Security())
				}
				if c.Selected().Name != "INBOX" || c.Selected().UIDValidity == 0 {
					t.Errorf("selected %+v", c.Selected())
				}
			})
		}
	})
}

func TestReadAndAct(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := ctxT(t)
		folder := b.newFolder(t, "mm-src")
		other := b.newFolder(t, "mm-dst")
		pdf := bytes.Repeat([]byte("%PDF-1.4 invoice "), 500)
		b.appendMail(t, folder,
			mail("Billing <billing@example.com>", "Invoice 42", "see attached", "invoice-42.pdf", pdf),
			mail("news@example.org", "Newsletter", "hello", "", nil),
			mail("billing@example.com", "Invoice 43", "again", "invoice-43.pdf", pdf),
		)
		c, err := Dial(ctx, b.config(t, authPassword, tlsImplicit, folder))
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		defer c.Close()

		count := func(cr Criteria) []uint32 {
			t.Helper()
			res, err := c.Search(ctx, cr)
			if err != nil {
				t.Fatalf("Search(%+v): %v", cr, err)
			}
			if res.UIDValidity != c.Selected().UIDValidity || res.UIDValidity == 0 {
				t.Fatalf("UIDVALIDITY %d, selected %d", res.UIDValidity, c.Selected().UIDValidity)
			}
			return res.UIDs
		}
		all := count(Criteria{})
		if len(all) != 3 {
			t.Fatalf("all: %v, want 3 UIDs", all)
		}
		for _, tc := range []struct {
			name string
			cr   Criteria
			want int
		}{
			{"unseen", Criteria{UnseenOnly: true}, 3},
			{"from, other case", Criteria{From: "BILLING@example"}, 2},
			{"subject substring", Criteria{Subject: "voice 4"}, 2},
			{"from and subject", Criteria{From: "billing", Subject: "43"}, 1},
			{"since yesterday", Criteria{Since: time.Now().AddDate(0, 0, -1)}, 3},
			{"since tomorrow", Criteria{Since: time.Now().AddDate(0, 0, 2)}, 0},
			{"min uid", Criteria{MinUID: all[1]}, 2},
			{"min uid above all", Criteria{MinUID: all[2] + 1}, 0},
		} {
			if got := count(tc.cr); len(got) != tc.want {
				t.Errorf("%s: %v, want %d UIDs", tc.name, got, tc.want)
			}
		}

		// Fetch streams the message; it does not set \Seen.
		var got []byte
		var env Envelope
		var size int64
		if err := c.Fetch(ctx, all[0], func(m *Message) error {
			env, size = m.Envelope, m.Size
			got = readAll(t, m.Body)
			return nil
		}); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if env.From != "billing@example.com" || env.FromName != "Billing" || env.Subject != "Invoice 42" {
			t.Errorf("envelope %+v", env)
		}
		if int64(len(got)) != size || size == 0 {
			t.Errorf("body %d bytes, size %d", len(got), size)
		}
		var att []byte
		if _, err := WalkParts(bytes.NewReader(got), func(p *Part) error {
			if p.Filename == "invoice-42.pdf" {
				att = readAll(t, p.Body)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(att, pdf) {
			t.Errorf("attachment: %d bytes, want %d", len(att), len(pdf))
		}
		if n := len(count(Criteria{UnseenOnly: true})); n != 3 {
			t.Errorf("after Fetch %d unseen, want 3 (BODY.PEEK must not set \\Seen)", n)
		}
		// A callback error comes back unchanged.
		boom := errors.New("disk full")
		if err := c.Fetch(ctx, all[1], func(*Message) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("Fetch with failing callback: %v", err)
		}

		if err := c.MarkSeen(ctx, all[0]); err != nil {
			t.Fatal(err)
		}
		if n := len(count(Criteria{UnseenOnly: true})); n != 2 {
			t.Errorf("after MarkSeen %d unseen, want 2", n)
		}
		if err := c.Move(ctx, all[1], other); err != nil {
			t.Fatalf("Move: %v", err)
		}
		err = c.Move(ctx, all[2], "no-such-folder-here")
		if KindOf(err) != KindFolder || !strings.Contains(err.Error(), "no-such-folder-here") {
			t.Errorf("Move to a missing folder: %v (kind %v)", err, KindOf(err))
		}
		if err := c.Delete(ctx, all[2]); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if left := count(Criteria{}); len(left) != 1 || left[0] != all[0] {
			t.Errorf("left %v, want [%d]", left, all[0])
		}
		if err := c.Fetch(ctx, all[2], func(*Message) error { return nil }); KindOf(err) != KindGone {
			t.Errorf("Fetch of a deleted message: %v", err)
		}
		mb, err := c.Select(ctx, other)
		if err != nil || mb.Messages != 1 {
			t.Errorf("Select(%s) = %+v, %v; want 1 message", other, mb, err)
		}
		_, err = c.Select(ctx, "no-such-folder-either")
		if KindOf(err) != KindFolder {
			t.Errorf("Select of a missing folder: %v", err)
		}
	})
}

func TestFoldersUTF8(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		name := b.newFolder(t, "Rechnungen Ü €")
		c, err := Dial(ctxT(t), b.config(t, authPassword, tlsImplicit, name))
		if err != nil {
			t.Fatalf("Dial selecting %q: %v", name, err)
		}
		defer c.Close()
		fs, err := c.ListFolders(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fs {
			found = found || f.Name == name
		}
		if !found || fs[0].Name != "INBOX" {
			t.Errorf("folders %+v: want INBOX first and %q", fs, name)
		}
	})
}

func TestWaitForMail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		folder := b.newFolder(t, "mm-idle")
		c, err := Dial(ctxT(t), b.config(t, authPassword, tlsImplicit, folder))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		done := make(chan error, 1)
		go func() { done <- c.WaitForMail(ctxT(t), true, time.Hour) }()
		// Give IDLE a moment to start, then deliver; a late start is still woken by the
		// EXISTS the next IDLE sees, so this is no race on correctness.
		time.Sleep(300 * time.Millisecond)
		b.appendMail(t, folder, mail("x@example.com", "new", "hi", "", nil))
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("WaitForMail: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("IDLE did not report the new message within 20s")
		}
		// The connection is usable afterwards.
		res, err := c.Search(ctxT(t), Criteria{})
		if err != nil || len(res.UIDs) != 1 {
			t.Fatalf("Search after IDLE: %v %v", res, err)
		}
		// Polling returns after the interval; cancelling returns ctx.Err().
		if err := c.WaitForMail(ctxT(t), false, 50*time.Millisecond); err != nil {
			t.Errorf("poll: %v", err)
		}
		ctx, cancel := context.WithCancel(ctxT(t))
		go func() { time.Sleep(100 * time.Millisecond); cancel() }()
		if err := c.WaitForMail(ctx, true, time.Hour); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled IDLE: %v", err)
		}
		if _, err := c.Search(ctxT(t), Criteria{}); err != nil {
			t.Errorf("Search after a cancelled IDLE: %v", err)
		}
	})
}

func TestCheckReport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		folder := b.newFolder(t, "mm-check")
		b.appendMail(t, folder, mail("a@example.com", "one", "x", "", nil), mail("b@example.com", "two", "y", "", nil))
		rep, err := Check(ctxT(t), b.config(t, authXOAuth2, tlsStartTLS, folder), Criteria{From: "a@"})
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if rep.Mechanism != "XOAUTH2" || rep.Matching != 1 || rep.Mailbox.Messages != 2 || len(rep.Folders) < 2 ||
			len(rep.Capabilities) == 0 || !strings.Contains(rep.Security, "STARTTLS") {
			t.Errorf("report %+v", rep)
		}
	})
}

// Failure tests: Dovecot delays each failed sign-in by seconds, so there are few.
func TestSignInFailures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Run("wrong password", func(t *testing.T) {
			cfg := b.config(t, authPassword, tlsImplicit, "INBOX")
			cfg.Password = "wrong"
			_, err := Dial(ctxT(t), cfg)
			t.Logf("error: %v\nadvice: %s", err, Advice(err))
			if KindOf(err) != KindAuth || !strings.Contains(Advice(err), "password") {
				t.Fatalf("got %v (kind %v, advice %q)", err, KindOf(err), Advice(err))
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("the password leaked into the error: %v", err)
			}
		})
		t.Run("rejected token refreshed once", func(t *testing.T) {
			cfg := b.config(t, authOAuthBearer, tlsImplicit, "INBOX")
			var calls, forced atomic.Int32
			inner := b.badToken(t, true)
			cfg.Token = func(ctx context.Context, force bool) (string, error) {
				calls.Add(1)
				if force {
					forced.Add(1)
				}
				return inner(ctx, force)
			}
			c, err := Dial(ctxT(t), cfg)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			c.Close()
			if calls.Load() != 2 || forced.Load() != 1 {
				t.Errorf("token func called %d times (%d forced), want 2 (1 forced)", calls.Load(), forced.Load())
			}
		})
		t.Run("garbage token XOAUTH2 error challenge", func(t *testing.T) {
			cfg := b.config(t, authXOAuth2, tlsImplicit, "INBOX")
			var calls atomic.Int32
			inner := b.badToken(t, false)
			cfg.Token = func(ctx context.Context, force bool) (string, error) { calls.Add(1); return inner(ctx, force) }
			_, err := Dial(ctxT(t), cfg)
			t.Logf("error: %v\nadvice: %s", err, Advice(err))
			if KindOf(err) != KindAuth || !strings.Contains(Advice(err), "IMAP.AccessAsUser.All") {
				t.Fatalf("got %v (kind %v)", err, KindOf(err))
			}
			// go-imap would answer the challenge with "=", which Dovecot refuses as
			// invalid base64: the answer must have gone out as an empty line.
			if strings.Contains(strings.ToLower(err.Error()), "base64") || !strings.Contains(err.Error(), "NO") {
				t.Errorf("the error challenge was not answered with an empty line: %v", err)
			}
			if strings.Contains(err.Error(), "garbage-token") {
				t.Errorf("the token leaked into the error: %v", err)
			}
			if calls.Load() != 2 {
				t.Errorf("token func called %d times, want 2 (one refresh)", calls.Load())
			}
		})
		t.Run("wrong CA", func(t *testing.T) {
			cfg := b.config(t, authPassword, tlsImplicit, "INBOX")
			cfg.CAFile = otherCA(t)
			_, err := Dial(ctxT(t), cfg)
			if KindOf(err) != KindTLS || !strings.Contains(err.Error(), "unknown authority") ||
				!strings.Contains(Advice(err), "ca_file") || !strings.Contains(err.Error(), cfg.Host) {
				t.Fatalf("got %v (advice %q)", err, Advice(err))
			}
		})
	})
}

// A real access token that the provider has ended (refreshing rotates the tokens and ends
// the old access token): Dovecot refuses it, Dial refreshes once and signs in.
func TestDovecotEndedTokenIsRefreshed(t *testing.T) {
	b := dovecotBackend(t)
	o := testenv.OIDC(t)
	tok := testenv.OIDCToken(t)
	conf := o.NativeConfig("http://127.0.0.1:49151/callback")
	old := tok.AccessToken
	stale := *tok
	stale.AccessToken = ""
	fresh, err := conf.TokenSource(context.Background(), &stale).Token() // ends `old`
	if err != nil {
		t.Fatal(err)
	}
	cfg := b.config(t, authXOAuth2, tlsImplicit, "INBOX")
	var calls atomic.Int32
	cfg.Token = func(ctx context.Context, force bool) (string, error) {
		calls.Add(1)
		if force {
			return fresh.AccessToken, nil
		}
		return old, nil
	}
	c, err := Dial(ctxT(t), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	c.Close()
	if calls.Load() != 2 {
		t.Errorf("token func called %d times, want 2", calls.Load())
	}
}
