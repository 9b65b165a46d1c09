// Package memimap is an in-memory IMAP server on loopback for tests and the demo: go-imap's
// imapserver + imapmemserver, extended with the XOAUTH2 and OAUTHBEARER SASL mechanisms
// (tokens checked by a func) besides PLAIN and LOGIN, optional implicit TLS or STARTTLS,
// and helpers to create users and folders and to APPEND mail.
//
//	srv, err := memimap.Start(memimap.Options{
//		TokenValidator: func(token string) (string, bool) { return "alice@example.com", token == "good" },
//	})
//	defer srv.Close()
//	srv.AddUser("alice@example.com", "secret")
//	srv.Append("alice@example.com", "INBOX", raw)
package memimap

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Options configure Start. The zero value serves clear-text IMAP on 127.0.0.1 with
// PLAIN/LOGIN only.
type Options struct {
	// TokenValidator checks an OAuth2 access token and returns the user it belongs to.
	// When nil, XOAUTH2 and OAUTHBEARER are not offered.
	TokenValidator func(token string) (user string, ok bool)
	// TLS, when set, makes the server speak TLS: implicit TLS, or STARTTLS when StartTLS
	// is true.
	TLS      *tls.Config
	StartTLS bool
	// Mechanisms, when set, limits the SASL mechanisms offered (e.g. []string{"XOAUTH2"}
	// to look like Microsoft 365). Default: PLAIN, plus XOAUTH2 and OAUTHBEARER when
	// TokenValidator is set.
	Mechanisms []string
	// Caps overrides the capabilities (default: IMAP4rev1 with UIDPLUS, MOVE, NAMESPACE;
	// IDLE is always offered). Use it to test servers without MOVE or UIDPLUS.
	Caps imap.CapSet
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
	// Logger receives the server's error messages; default: discarded.
	Logger *log.Logger
}

// Server is a running in-memory IMAP server.
type Server struct {
	opts   Options
	mem    *imapmemserver.Server
	imap   *imapserver.Server
	ln     net.Listener
	done   chan struct{}
	mu     sync.Mutex
	users  map[string]*imapmemserver.User
	logins map[string]int // successful sign-ins per mechanism
}

// Start listens (on 127.0.0.1:0 unless Options.Addr says otherwise) and serves until Close.
func Start(opts Options) (*Server, error) {
	s := &Server{opts: opts, mem: imapmemserver.New(), done: make(chan struct{}),
		users: map[string]*imapmemserver.User{}, logins: map[string]int{}}
	caps := opts.Caps
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}, imap.CapNamespace: {}}
	}
	logger := opts.Logger
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	srvOpts := &imapserver.Options{
		NewSession: func(conn *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{srv: s}, nil, nil
		},
		Caps:         caps,
		Logger:       logger,
		InsecureAuth: opts.TLS == nil,
	}
	if opts.TLS != nil && opts.StartTLS {
		srvOpts.TLSConfig = opts.TLS
	}
	s.imap = imapserver.New(srvOpts)
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("memimap: listen on %s: %w", addr, err)
	}
	if opts.TLS != nil && !opts.StartTLS {
		ln = tls.NewListener(ln, opts.TLS)
	}
	s.ln = ln
	go func() {
		defer close(s.done)
		_ = s.imap.Serve(ln)
	}()
	return s, nil
}

// Addr returns the listening address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the listening IP as a string.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr()); return h }

// Port returns the listening port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// Close stops the server and drops every connection.
func (s *Server) Close() error {
	err := s.imap.Close()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
	return err
}

// AddUser adds a user with a password (used by PLAIN and LOGIN) and an INBOX. Adding an
// existing user changes nothing and is not an error.
func (s *Server) AddUser(name, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[name]; ok {
		return nil
	}
	u := imapmemserver.NewUser(name, password)
	if err := u.Create("INBOX", nil); err != nil {
		return fmt.Errorf("memimap: create INBOX for %s: %w", name, err)
	}
	s.users[name] = u
	s.mem.AddUser(u)
	return nil
}

func (s *Server) user(name string) (*imapmemserver.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return nil, fmt.Errorf("memimap: no user %q", name)
	}
	return u, nil
}

// CreateFolder creates a folder (any UTF-8 name; "/" is the hierarchy delimiter) for a
// user. An existing folder is not an error.
func (s *Server) CreateFolder(user, folder string) error {
	u, err := s.user(user)
	if err != nil {
		return err
	}
	err = u.Create(folder, nil)
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
		return nil
	}
	return err
}

// Append stores a raw RFC 5322 message in a user's folder with the given flags (e.g.
// `\Seen`) and returns its UID. A missing folder is created.
func (s *Server) Append(user, folder string, raw []byte, flags ...string) (uint32, error) {
	u, err := s.user(user)
	if err != nil {
		return 0, err
	}
	if err := s.CreateFolder(user, folder); err != nil {
		return 0, err
	}
	opts := &imap.AppendOptions{Time: time.Now()}
	for _, f := range flags {
		opts.Flags = append(opts.Flags, imap.Flag(f))
	}
	data, err := u.Append(folder, literal{bytes.NewReader(raw)}, opts)
	if err != nil {
		return 0, fmt.Errorf("memimap: append to %s/%s: %w", user, folder, err)
	}
	return uint32(data.UID), nil
}

// Count returns the number of messages and of unseen messages in a user's folder.
func (s *Server) Count(user, folder string) (messages, unseen int, err error) {
	u, err := s.user(user)
	if err != nil {
		return 0, 0, err
	}
	st, err := u.Status(folder, &imap.StatusOptions{NumMessages: true, NumUnseen: true})
	if err != nil {
		return 0, 0, err
	}
	return int(*st.NumMessages), int(*st.NumUnseen), nil
}

// Logins returns how many sign-ins succeeded with a mechanism ("PLAIN", "LOGIN",
// "XOAUTH2", "OAUTHBEARER").
func (s *Server) Logins(mech string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins[mech]
}

func (s *Server) countLogin(mech string) {
	s.mu.Lock()
	s.logins[mech]++
	s.mu.Unlock()
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }
