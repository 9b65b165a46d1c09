package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailmover/internal/testenv"
)

// mailWith makes a message with one base64 attachment.
func mailWith(id, name, ctype string, data []byte) []byte {
	return []byte(fmt.Sprintf("From: sender%s@example.com\r\nTo: in@example.com\r\nSubject: trust %s\r\n"+
		"Message-ID: <trust-%s@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"+
		"--b\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
		id, id, id, ctype, name, base64.StdEncoding.EncodeToString(data)))
}

// subjects lists the subjects of the messages in mailbox.
func subjects(t *testing.T, d testenv.DovecotEnv, mailbox string) []string {
	t.Helper()
	c := d.Dial(t)
	sel, err := c.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var all imap.SeqSet
	all.AddRange(1, 0) // 1:*
	msgs, err := c.Fetch(all, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Envelope.Subject)
	}
	c.Logout().Wait()
	return out
}

// Issue 13, points 1 and 2, on the real binary and Dovecot: with after = "delete" and
// on_conflict = "skip", mail whose content is not in the destination is never deleted —
// not when nothing matched the mask, not when its file's name holds other content, and
// not when the folder's UIDVALIDITY changes and the mover meets it as "saved before".
func TestNoMailDeletedUnlessItsContentIsSafe(t *testing.T) {
	d := testenv.Dovecot(t)
	testenv.Keyring(t)
	mailbox := d.NewMailbox(t, "trust")
	home, dest := t.TempDir(), filepath.Join(t.TempDir(), "in")
	profile := fmt.Sprintf("trust%d", time.Now().UnixNano()%1_000_000)
	os.MkdirAll(filepath.Join(home, "profiles"), 0o700)
	toml := fmt.Sprintf(`[setup]
host = %q
port = %d
username = %q
folder = %q
[security]
tls = "implicit"
auth = "password"
ca_file = %q
[common]
attachment_mask = "*.pdf"
after = "delete"
[destination]
folder = %q
on_conflict = "skip"
`, d.Host, d.IMAPSPort, d.User, mailbox, d.CAFile, dest)
	if err := os.WriteFile(filepath.Join(home, "profiles", profile+".toml"), []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"MAILMOVER_HOME=" + home, "LANG=C.UTF-8", "LANGUAGE=en_US"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	set := exec.CommandContext(ctx, mailmover(t), "secret", "set", "-profile", profile, "password")
	set.Env = append(os.Environ(), env...)
	set.Stdin = strings.NewReader(d.Password + "\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("secret set: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		del := exec.Command(mailmover(t), "secret", "delete", "-profile", profile, "password")
		del.Env = append(os.Environ(), env...)
		del.Run()
	})
	runOnce := func(step string) string {
		t.Helper()
		out, code := run(t, 2*time.Minute, env, "run", "-profile", profile, "-once")
		if code != 0 {
			t.Fatalf("%s: run -once exit %d\n%s", step, code, out)
		}
		return out
	}

	d.Append(t, mailbox, mailWith("logo", "logo.png", "image/png", []byte("not a pdf")),
		mailWith("real", "invoice.pdf", "application/pdf", []byte("%PDF real invoice")))
	runOnce("first")
	d.Append(t, mailbox, mailWith("fake", "invoice.pdf", "application/pdf", []byte("%PDF forged invoice")),
		mailWith("copy", "invoice.pdf", "application/pdf", []byte("%PDF real invoice")))
	out := runOnce("second")
	if !strings.Contains(out, "other content") {
		t.Errorf("the log does not say why the forged invoice's mail stays:\n%s", out)
	}
	d.SetUIDValidity(t, mailbox, uint32(time.Now().Unix()))
	out = runOnce("after the new UIDVALIDITY")

	got := subjects(t, d, mailbox)
	want := []string{"trust logo", "trust fake"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("mailbox holds %v, want %v (mail whose content is not in the destination must stay)\n%s", got, want, out)
	}
	entries, _ := os.ReadDir(dest)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "invoice.pdf" {
		t.Errorf("destination holds %v, want [invoice.pdf]", names)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "invoice.pdf")); !bytes.Equal(b, []byte("%PDF real invoice")) {
		t.Errorf("invoice.pdf = %q", b)
	}
}
