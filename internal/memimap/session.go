package memimap

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// session is one connection: before sign-in UserSession is nil (imapserver checks the
// state before calling any method that needs it).
type session struct {
	*imapmemserver.UserSession
	srv *Server
}

var (
	_ imapserver.SessionSASL = (*session)(nil)
	_ imapserver.SessionMove = (*session)(nil)
)

var errAuthFailed = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
	Text: "Authentication failed"}

func (s *session) Close() error {
	if s.UserSession != nil {
		return s.UserSession.Close()
	}
	return nil
}

// Login serves the LOGIN command and the PLAIN mechanism.
func (s *session) Login(username, password string) error {
	u, err := s.srv.user(username)
	if err != nil {
		return errAuthFailed
	}
	if err := u.Login(username, password); err != nil {
		return errAuthFailed
	}
	s.UserSession = imapmemserver.NewUserSession(u)
	return nil
}

func (s *session) loginAs(username string) error {
	u, err := s.srv.user(username)
	if err != nil {
		return errAuthFailed
	}
	s.UserSession = imapmemserver.NewUserSession(u)
	return nil
}

// AuthenticateMechanisms lists the offered SASL mechanisms.
func (s *session) AuthenticateMechanisms() []string {
	if len(s.srv.opts.Mechanisms) > 0 {
		return s.srv.opts.Mechanisms
	}
	if s.srv.opts.TokenValidator != nil {
		return []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}
	}
	return []string{"PLAIN"}
}

// Authenticate returns the SASL server for mech.
func (s *session) Authenticate(mech string) (sasl.Server, error) {
	offered := false
	for _, m := range s.AuthenticateMechanisms() {
		if strings.EqualFold(m, mech) {
			offered = true
		}
	}
	notSupported := &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Unsupported authentication mechanism"}
	if !offered {
		return nil, notSupported
	}
	validate := s.srv.opts.TokenValidator
	switch strings.ToUpper(mech) {
	case "PLAIN":
		return countingServer{sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthorizationFailed,
					Text: "SASL identity not supported"}
			}
			return s.Login(username, password)
		}), s.srv, "PLAIN"}, nil
	case "XOAUTH2":
		if validate == nil {
			return nil, notSupported
		}
		return countingServer{&xoauth2Server{check: func(user, token string) bool {
			owner, ok := validate(token)
			return ok && strings.EqualFold(owner, user) && s.loginAs(user) == nil
		}}, s.srv, "XOAUTH2"}, nil
	case "OAUTHBEARER":
		if validate == nil {
			return nil, notSupported
		}
		return countingServer{&oauthBearerServer{inner: sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			owner, ok := validate(o.Token)
			if ok && o.Username != "" && !strings.EqualFold(owner, o.Username) {
				ok = false
			}
			if ok && s.loginAs(owner) != nil {
				ok = false
			}
			if !ok {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		})}, s.srv, "OAUTHBEARER"}, nil
	}
	return nil, notSupported
}

// Move serves MOVE (imapmemserver's UserSession implements it; make it visible). A set
// whose messages are all gone is OK without a COPYUID, as Dovecot answers (imapmemserver
// would send an empty COPYUID, which clients refuse).
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	crit := &imap.SearchCriteria{}
	kind := imapserver.NumKindSeq
	switch set := numSet.(type) {
	case imap.UIDSet:
		crit.UID, kind = []imap.UIDSet{set}, imapserver.NumKindUID
	case imap.SeqSet:
		crit.SeqNum = []imap.SeqSet{set}
	}
	if found, err := s.UserSession.Search(kind, crit, &imap.SearchOptions{ReturnCount: true}); err == nil && found.Count == 0 {
		return nil
	}
	return s.UserSession.Move(w, numSet, dest)
}

// countingServer counts successful sign-ins per mechanism.
type countingServer struct {
	sasl.Server
	srv  *Server
	mech string
}

func (c countingServer) Next(resp []byte) ([]byte, bool, error) {
	ch, done, err := c.Server.Next(resp)
	if done && err == nil {
		c.srv.countLogin(c.mech)
	}
	return ch, done, err
}
