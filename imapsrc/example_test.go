package imapsrc_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"mailmover/imapsrc"
	"mailmover/internal/memimap"
)

// Sign in with XOAUTH2, find unseen mail and list its attachments.
func Example() {
	srv, _ := memimap.Start(memimap.Options{
		TokenValidator: func(token string) (string, bool) { return "box@example.com", token == "access-token" },
	})
	defer srv.Close()
	srv.AddUser("box@example.com", "unused")
	srv.Append("box@example.com", "INBOX", []byte("From: Billing <billing@example.com>\r\nSubject: Invoice\r\n"+
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"+
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--B--\r\n"))

	ctx := context.Background()
	c, err := imapsrc.Dial(ctx, imapsrc.Config{
		Host: srv.Host(), Port: srv.Port(), TLS: "none", // loopback only; use "implicit" for real servers
		Auth: "xoauth2", Username: "box@example.com",
		Token:  func(ctx context.Context, forceRefresh bool) (string, error) { return "access-token", nil },
		Folder: "INBOX", Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err, imapsrc.Advice(err))
		return
	}
	defer c.Close()
	res, _ := c.Search(ctx, imapsrc.Criteria{UnseenOnly: true})
	for _, uid := range res.UIDs {
		c.Fetch(ctx, uid, func(m *imapsrc.Message) error {
			fmt.Printf("%d from %s: %s\n", m.UID, m.Envelope.From, m.Envelope.Subject)
			_, err := imapsrc.WalkParts(m.Body, func(p *imapsrc.Part) error {
				n, err := io.Copy(io.Discard, p.Body) // a real caller streams this to a file
				if p.IsAttachment {
					fmt.Printf("  %s (%s, %d bytes)\n", p.Filename, p.ContentType, n)
				}
				return err
			})
			return err
		})
	}
	// Output:
	// 1 from billing@example.com: Invoice
	//   invoice.pdf (application/pdf, 9 bytes)
}

// Failures carry advice for the user.
func ExampleAdvice() {
	_, err := imapsrc.Dial(context.Background(), imapsrc.Config{Host: "imap.example.com", Auth: "password", Username: "u"})
	fmt.Println(err)
	fmt.Println(imapsrc.Advice(err))
	// Output:
	// imap imap.example.com:993: config: no password
	// Store it with 'mailmover secret set -profile P password'.
}

// WalkParts works on any raw message, e.g. an .eml file.
func ExampleWalkParts() {
	raw := "Subject: hi\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n"
	imapsrc.WalkParts(strings.NewReader(raw), func(p *imapsrc.Part) error {
		b, _ := io.ReadAll(p.Body)
		fmt.Printf("%s text=%v %q\n", p.ContentType, p.IsText, b)
		return nil
	})
	// Output:
	// text/plain text=true "Grüße\r\n"
}
