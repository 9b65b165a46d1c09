package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Dial opens an implicit-TLS connection to Dovecot, signs in with the password user, and
// closes it when the test ends. Use it to seed or inspect mail, not to test sign-in.
func (d DovecotEnv) Dial(t testing.TB) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(d.IMAPSAddr(), &imapclient.Options{TLSConfig: d.TLSConfig(t)})
	if err != nil {
		t.Fatalf("testenv: connect to Dovecot at %s: %v", d.IMAPSAddr(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		t.Fatalf("testenv: password login to Dovecot: %v\n%s", err, d.LogTail(10))
	}
	return c
}

// NewMailbox creates a mailbox with a unique name starting with prefix (tests of
// several packages share one mail user and may run at once) and deletes it, with its
// mail, when the test ends.
func (d DovecotEnv) NewMailbox(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
	c := d.Dial(t)
	if err := c.Create(name, nil).Wait(); err != nil {
		t.Fatalf("testenv: create mailbox %s: %v", name, err)
	}
	t.Cleanup(func() {
		c, err := imapclient.DialTLS(d.IMAPSAddr(), &imapclient.Options{TLSConfig: d.TLSConfig(t)})
		if err != nil {
			return
		}
		defer c.Close()
		if c.Login(d.User, d.Password).Wait() == nil {
			_ = c.Delete(name).Wait()
			_ = c.Logout().Wait()
		}
	})
	return name
}

// SetUIDValidity gives mailbox a new UIDVALIDITY with doveadm, as a server does when it
// rebuilds a folder: every UID a client remembers becomes meaningless.
func (d DovecotEnv) SetUIDValidity(t testing.TB, mailbox string, uidValidity uint32) {
	t.Helper()
	if d.Conf == "" {
		t.Fatal("testenv: MM_DOVECOT_CONF is not set (run scripts/testenv-up.sh again)")
	}
	out, err := exec.Command("doveadm", "-c", d.Conf, "mailbox", "update", "-u", d.User,
		"--uid-validity", strconv.FormatUint(uint64(uidValidity), 10), mailbox).CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: doveadm mailbox update --uid-validity: %v\n%s", err, out)
	}
}

// Append stores raw RFC 5322 messages in mailbox (unseen, dated now) with the
// password user.
func (d DovecotEnv) Append(t testing.TB, mailbox string, messages ...[]byte) {
	t.Helper()
	c := d.Dial(t)
	for _, msg := range messages {
		cmd := c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Time: time.Now()})
		if _, err := cmd.Write(msg); err != nil {
			t.Fatalf("testenv: append to %s: %v", mailbox, err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("testenv: append to %s: %v", mailbox, err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("testenv: append to %s: %v", mailbox, err)
		}
	}
}
