package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"mailmover/i18n"
	"mailmover/internal/memimap"
)

// mailServer is the demo's IMAP server as the rest of the package uses it.
type mailServer interface {
	// Addr is the host:port it listens on.
	Addr() string
	// Deliver appends a raw message to INBOX (unseen), waking IDLE sessions.
	Deliver(raw []byte) error
	// Close stops listening and ends every session.
	Close() error
}

// tokenValidator checks an OAuth2 access token and returns the login it belongs to
// (signin.Server.Validate: a lookup in memory, so it needs no deadline).
type tokenValidator func(token string) (login string, ok bool)

// memServer adapts internal/memimap to mailServer for one user.
type memServer struct {
	srv      *memimap.Server
	user     string
	once     sync.Once
	closeErr error
}

// startIMAP serves an in-memory mailbox for login on a free 127.0.0.1 port, with the
// folders INBOX and Archive. Sign-in is XOAUTH2 or OAUTHBEARER only, with a token that
// validate maps to login; clear text is fine because the listener is loopback only (the
// LOGIN command gets a random password nobody knows). The server stops when ctx ends.
func startIMAP(ctx context.Context, login string, validate tokenValidator, logger *slog.Logger) (mailServer, error) {
	srv, err := memimap.Start(memimap.Options{
		Addr:           "127.0.0.1:0",
		Mechanisms:     []string{"XOAUTH2", "OAUTHBEARER"},
		TokenValidator: validate,
		Logger:         log.New(slogWriter{logger}, "", 0),
	})
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = srv.Close()
		}
	}()
	if err := srv.AddUser(login, randomPassword()); err != nil {
		return nil, err
	}
	if err := srv.CreateFolder(login, "Archive"); err != nil {
		return nil, err
	}
	s := &memServer{srv: srv, user: login}
	context.AfterFunc(ctx, func() { _ = s.Close() })
	ok = true
	return s, nil
}

func (s *memServer) Addr() string { return s.srv.Addr() }

func (s *memServer) Deliver(raw []byte) error {
	_, err := s.srv.Append(s.user, "INBOX", raw)
	return err
}

// Close closes the server once; later calls return the first result.
func (s *memServer) Close() error {
	s.once.Do(func() { s.closeErr = s.srv.Close() })
	return s.closeErr
}

// randomPassword is an unguessable password for the LOGIN command, which the demo does
// not offer to anyone.
func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// slogWriter passes the IMAP server's log lines to slog at debug level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug("imap server: " + string(p)) // i18n:keep (a log message)
	return len(p), nil
}

// splitAddr splits host:port.
func splitAddr(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, i18n.Errorf("bad server address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return "", 0, i18n.Errorf("bad port in %q: %w", addr, err)
	}
	return host, port, nil
}
