package imapsrc

import (
	"context"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// A server refusing more connections to the mailbox (Dovecot's NO [LIMIT], Gmail's "Too
// many simultaneous connections") is not a wrong password: the error is one the mover
// retries, not one that pauses the profile for the user.
func TestConnectionLimitIsNotARefusedPassword(t *testing.T) {
	c := &Client{cfg: Config{Host: "mail.example.com", Port: 993, Username: "a@example.com", Profile: "invoices"}}
	for _, ie := range []*imap.Error{
		{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit, Text: "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)"},
		{Type: imap.StatusResponseTypeNo, Text: "[ALERT] Too many simultaneous connections. (Failure)"},
	} {
		var e *Error
		err := c.authError(context.Background(), "PLAIN", ie, nil)
		if !asError(err, &e) || e.Kind != KindServer {
			t.Errorf("%q: %v (kind %v), want KindServer", ie.Text, err, e.Kind)
			continue
		}
		if e.Advice == "" || e.Reason == "" {
			t.Errorf("%q: no reason or advice: %+v", ie.Text, e)
		}
	}
	// A refused password stays one.
	var e *Error
	err := c.authError(context.Background(), "PLAIN", &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Authentication failed."}, nil)
	if !asError(err, &e) || e.Kind != KindAuth {
		t.Errorf("a refused password: %v", err)
	}
}
