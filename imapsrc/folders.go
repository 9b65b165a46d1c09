package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"

	"mailmover/i18n"
)

// Bounds of a LIST answer.
const (
	maxFolders  = 100_000
	maxListData = 32 << 20
)

// ListFolders lists every folder, INBOX first, the others by name. Names are decoded
// UTF-8 (go-imap decodes modified UTF-7).
//
// The answer is bounded: at most maxListData bytes and maxFolders folders.
func (c *Client) ListFolders(ctx context.Context) ([]Folder, error) {
	var out []Folder
	tooMany := false
	c.wire.setBudget(maxListData, i18n.Sprintf("the server sent more than %d MiB of folder names", maxListData>>20))
	err := c.run(ctx, func() error {
		cmd := c.ic.List("", "*", nil)
		for d := cmd.Next(); d != nil; d = cmd.Next() {
			if len(out) >= maxFolders {
				tooMany = true
				continue // the rest is read past (within the budget)
			}
			f := Folder{Name: d.Mailbox, Delim: d.Delim}
			for _, a := range d.Attrs {
				if strings.EqualFold(string(a), string(imap.MailboxAttrNoSelect)) ||
					strings.EqualFold(string(a), string(imap.MailboxAttrNonExistent)) {
					f.NoSelect = true
				}
			}
			out = append(out, f)
		}
		return cmd.Close()
	})
	c.wire.clearBudget()
	if err != nil {
		return nil, classifyNet(ctx, c.cfg.addr(), i18n.T("list folders"), err)
	}
	if tooMany {
		return nil, &Error{Kind: KindServer, Host: c.cfg.addr(), Op: i18n.T("list folders"),
			Reason: i18n.Sprintf("the server listed more than %d folders", maxFolders),
			Advice: i18n.T("The server is broken, or the account has far too many folders; tell the server's administrator.")}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ii, jj := strings.EqualFold(out[i].Name, "INBOX"), strings.EqualFold(out[j].Name, "INBOX")
		if ii != jj {
			return ii
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Select selects a folder (read-write).
func (c *Client) Select(ctx context.Context, name string) (Mailbox, error) {
	var sd *imap.SelectData
	err := c.run(ctx, func() (err error) {
		sd, err = c.ic.Select(name, nil).Wait()
		return err
	})
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ctx.Err() == nil {
			if isNotConnected(ie) {
				return Mailbox{}, &Error{Kind: KindNotConnected, Host: c.cfg.addr(), Op: "select " + quote(name),
					Reason: i18n.Sprintf("signed in, but the server says: %s", serverText(ie)), Advice: c.cfg.notConnectedAdvice(), Err: err}
			}
			return Mailbox{}, &Error{Kind: KindFolder, Host: c.cfg.addr(), Op: "select " + quote(name),
				Reason: i18n.Sprintf("cannot open folder %s: %s", quote(name), serverText(ie)),
				Advice: i18n.T("Check [setup] folder (names are case-sensitive except INBOX; use the server's delimiter, e.g. \"INBOX/Invoices\" or \"INBOX.Invoices\")."),
				Err:    err}
		}
		return Mailbox{}, classifyNet(ctx, c.cfg.addr(), "select "+quote(name), err)
	}
	c.mailbox = Mailbox{Name: name, UIDValidity: sd.UIDValidity, UIDNext: uint32(sd.UIDNext), Messages: sd.NumMessages}
	return c.mailbox, nil
}

// CreateFolder creates a folder; an existing folder is not an error.
func (c *Client) CreateFolder(ctx context.Context, name string) error {
	err := c.run(ctx, func() error { return c.ic.Create(name, nil).Wait() })
	var ie *imap.Error
	if errors.As(err, &ie) && (ie.Code == imap.ResponseCodeAlreadyExists ||
		strings.Contains(strings.ToLower(ie.Text), "already exists")) { // i18n:keep (the server's words)
		return nil
	}
	if err != nil {
		if errors.As(err, &ie) && ctx.Err() == nil {
			return &Error{Kind: KindFolder, Host: c.cfg.addr(), Op: "create " + quote(name),
				Reason: i18n.Sprintf("cannot create folder %s: %s", quote(name), serverText(ie)),
				Advice: i18n.T("Create the folder in your mail program, or pick another one."), Err: err}
		}
		return classifyNet(ctx, c.cfg.addr(), "create "+quote(name), err)
	}
	return nil
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// folderNames joins up to max folder names for an advice text.
func folderNames(fs []Folder, max int) string {
	names := make([]string, 0, len(fs))
	for i, f := range fs {
		if i == max {
			names = append(names, i18n.Sprintf("… (%d more)", len(fs)-max))
			break
		}
		names = append(names, quote(f.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func sortStrings(s []string) { sort.Strings(s) }
