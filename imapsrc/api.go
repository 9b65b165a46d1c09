// Package imapsrc is MailMover's IMAP source: it dials (implicit TLS, STARTTLS, none),
// signs in (XOAUTH2, OAUTHBEARER, PLAIN/LOGIN), lists and selects folders, searches,
// streams messages with BODY.PEEK[], splits MIME parts, and applies post-actions.
//
// The types of the API live in this file; the work is split by concern: dial.go, tls.go
// and conn.go (connecting, timeouts, the wire quirks), guard.go (contexts and timeouts for
// go-imap, which has none), auth.go and xoauth2.go (signing in), errors.go (typed errors
// with advice), folders.go, search.go, fetch.go, mime.go and mimeparams.go, actions.go,
// watch.go and check.go.
package imapsrc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

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
	// Profile is the profile's name, put into the commands that advice names
	// ('mailmover secret set -profile NAME password'); empty: "P".
	Profile string
	// AppOnly says whose token Token gives: "" a signed-in user's; AppOnlyMicrosoft an
	// Entra app's own (client credentials); AppOnlyGoogle a Google service account's
	// acting for the mailbox; AppOnlyOther another provider's app token. A refused token
	// then gets the advice that names the real cause (Exchange's service principal and
	// mailbox permission; Google's domain-wide delegation), not the delegated scope.
	AppOnly string

	// CreateMoveTarget makes Move create a missing target folder instead of failing.
	CreateMoveTarget bool
	// IdleRestart is how long one IDLE runs before WaitForMail returns to search again
	// (servers drop IDLE after 30 minutes); 0 means 25 minutes.
	IdleRestart time.Duration
	// DialContext, when set, opens the TCP connection instead of a net.Dialer (a proxy,
	// or a test's in-memory pipe).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is one signed-in IMAP connection with a selected folder. Not safe for concurrent
// use; Close from another goroutine aborts what is in flight.
type Client struct {
	cfg     Config
	ic      *imapclient.Client
	wire    *wireConn
	log     *slog.Logger
	mech    string        // SASL mechanism (or "LOGIN") used to sign in
	tlsInfo string        // e.g. "TLS 1.3 (implicit)"; "none" without TLS
	newMail chan struct{} // signalled on EXISTS/EXPUNGE, buffered 1
	mailbox Mailbox       // the selected folder
	caps    imap.CapSet   // capabilities after sign-in
}

// Folder is one mailbox on the server; Name is decoded UTF-8 (not modified UTF-7).
type Folder struct {
	Name     string
	Delim    rune
	NoSelect bool
}

// Mailbox is the state of a selected folder.
type Mailbox struct {
	Name        string
	UIDValidity uint32
	UIDNext     uint32
	Messages    uint32
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
	UID          uint32
	Size         int64
	Envelope     Envelope
	Flags        []string  // e.g. "\\Seen"
	InternalDate time.Time // when the server received the message
	Body         io.Reader
}

// RawHasher is what a Message's Body from FetchBatch also is: RawSHA256 returns the
// SHA-256 of the whole raw message and true once Body has returned io.EOF (every byte was
// read; the hash is of exactly those bytes), computed by the goroutine that read the wire
// while the reader of Body did other work. Before that, or after a failed read, it
// returns nil, false.
type RawHasher interface {
	RawSHA256() ([]byte, bool)
}

// Part is one MIME leaf part. Filename is decoded (RFC 2047/2231) but NOT made safe:
// it is a hint from the mail. Body yields the decoded content: the transfer encoding is
// undone; text body parts (IsText/IsHTML) are also converted to UTF-8, attachments keep
// their bytes as sent.
type Part struct {
	Index        int    // 1-based order of the leaf in the message
	ContentType  string // media type, lower case, e.g. "application/pdf"
	Charset      string // the charset parameter, lower case, or ""
	Filename     string
	Disposition  string // "attachment", "inline" or ""
	IsAttachment bool   // Content-Disposition: attachment, a file name, or a non-text leaf
	IsText       bool   // a text/plain body part (not an attachment)
	IsHTML       bool   // a text/html body part (not an attachment)
	Depth        int    // 0 in the message itself, 1 inside an attached message/rfc822, …
	Body         io.Reader
}

// profileName is the profile's name for the commands advice names.
func (c *Config) profileName() string {
	if c.Profile == "" {
		return "P"
	}
	return c.Profile
}
