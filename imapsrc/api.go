// Package imapsrc is MailMover's IMAP source: it dials (implicit TLS, STARTTLS, none),
// signs in (XOAUTH2, OAUTHBEARER, PLAIN/LOGIN), lists and selects folders, searches,
// streams messages with BODY.PEEK[], splits MIME parts, and applies post-actions.
//
// CONTRACT STUB: the signatures below are the API the mover, the window and the command
// line code against. The implementation replaces the bodies; keep the names.
package imapsrc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"
)

var errNotImplemented = errors.New("imapsrc: not implemented yet")

// TokenFunc returns an OAuth2 access token. forceRefresh is true after the server refused
// the previous token: the func must then get a new one from the provider.
type TokenFunc func(ctx context.Context, forceRefresh bool) (string, error)

// Config is everything Dial needs to reach and sign in to a mailbox.
type Config struct {
	Host              string
	Port              int
	TLS               string // store.TLSImplicit | store.TLSStartTLS | store.TLSNone
	Auth              string // store.AuthXOAuth2 | store.AuthOAuthBearer | store.AuthPassword
	Username          string
	Password          string    // for store.AuthPassword
	Token             TokenFunc // for XOAUTH2 / OAUTHBEARER
	VerifyCertificate bool
	CAFile            string
	Folder            string        // selected after sign-in (the post-auth check)
	Timeout           time.Duration // dial and per-command timeout; 0 means 30s
	Logger            *slog.Logger  // nil means slog.Default()
}

// Client is one signed-in IMAP connection with a selected folder. Not safe for concurrent
// use; Close from another goroutine aborts what is in flight.
type Client struct{}

// Dial connects, signs in and selects cfg.Folder. Failures are typed errors with advice.
func Dial(ctx context.Context, cfg Config) (*Client, error) { return nil, errNotImplemented }

// Close logs out (best effort) and closes the connection.
func (c *Client) Close() error { return nil }

// Folder is one mailbox on the server; Name is decoded UTF-8 (not modified UTF-7).
type Folder struct {
	Name     string
	Delim    rune
	NoSelect bool
}

// ListFolders lists every folder.
func (c *Client) ListFolders(ctx context.Context) ([]Folder, error) { return nil, errNotImplemented }

// Mailbox is the state of a selected folder.
type Mailbox struct {
	Name        string
	UIDValidity uint32
	UIDNext     uint32
	Messages    uint32
}

// Select selects a folder (read-write).
func (c *Client) Select(ctx context.Context, name string) (Mailbox, error) {
	return Mailbox{}, errNotImplemented
}

// Criteria is what Search looks for.
type Criteria struct {
	UnseenOnly bool
	Since      time.Time // zero: no limit
	From       string    // substring, case-insensitive
	Subject    string    // substring, case-insensitive
	MinUID     uint32    // only UIDs >= MinUID (0: all)
}

// SearchResult is the UIDs found, ascending, with the folder's UIDVALIDITY.
type SearchResult struct {
	UIDValidity uint32
	UIDs        []uint32
}

// Search runs UID SEARCH in the selected folder.
func (c *Client) Search(ctx context.Context, cr Criteria) (SearchResult, error) {
	return SearchResult{}, errNotImplemented
}

// Envelope is the header summary of a message.
type Envelope struct {
	Date      time.Time
	From      string // address, e.g. "billing@example.com"
	FromName  string
	Subject   string // decoded
	MessageID string
}

// Message is one fetched message. Body streams the raw RFC 5322 message (BODY.PEEK[]);
// it is valid only inside the Fetch callback.
type Message struct {
	UID      uint32
	Size     int64
	Envelope Envelope
	Body     io.Reader
}

// Fetch streams one message by UID with BODY.PEEK[] (it never sets \Seen) and calls fn
// while the body is being read from the wire.
func (c *Client) Fetch(ctx context.Context, uid uint32, fn func(*Message) error) error {
	return errNotImplemented
}

// MarkSeen sets \Seen on uid.
func (c *Client) MarkSeen(ctx context.Context, uid uint32) error { return errNotImplemented }

// Move moves uid to folder (MOVE, else COPY + \Deleted + UID EXPUNGE).
func (c *Client) Move(ctx context.Context, uid uint32, folder string) error {
	return errNotImplemented
}

// Delete sets \Deleted on uid and removes it with UID EXPUNGE.
func (c *Client) Delete(ctx context.Context, uid uint32) error { return errNotImplemented }

// WaitForMail blocks until new mail may have arrived: with idle true it uses IDLE
// (re-issued before 29 minutes) when the server offers it, else it waits poll. It returns
// nil when it is time to search again, ctx.Err() when cancelled.
func (c *Client) WaitForMail(ctx context.Context, idle bool, poll time.Duration) error {
	return errNotImplemented
}

// Part is one MIME leaf part. Filename is decoded (RFC 2047/2231) but NOT made safe:
// it is a hint from the mail. Body yields the decoded content (transfer encoding undone).
type Part struct {
	Index        int    // 1-based order of the leaf in the message
	ContentType  string // media type, lower case, e.g. "application/pdf"
	Filename     string
	Disposition  string // "attachment", "inline" or ""
	IsAttachment bool   // has a file name or Content-Disposition: attachment
	IsText       bool   // a text/plain body part (not an attachment)
	IsHTML       bool   // a text/html body part (not an attachment)
	Body         io.Reader
}

// WalkParts parses a raw message from r and calls fn for each leaf part, in order,
// walking nested message/rfc822. A broken part is reported in problems and skipped; the
// others are still handed out. err is non-nil when fn fails or the message is unreadable.
func WalkParts(r io.Reader, fn func(*Part) error) (problems []error, err error) {
	return nil, errNotImplemented
}
