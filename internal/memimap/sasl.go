package memimap

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
)

// xoauth2Server is the server side of XOAUTH2 as Google and Microsoft run it: a bad token
// gets the base64 JSON error challenge, the client answers with an empty response, then
// the server says NO [AUTHENTICATIONFAILED].
type xoauth2Server struct {
	check  func(user, token string) bool
	failed bool
	done   bool
}

var xoauth2Challenge, _ = json.Marshal(map[string]string{
	"status": "401", "schemes": "bearer", "scope": "https://mail.example/imap",
})

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	switch {
	case x.done:
		return nil, true, sasl.ErrUnexpectedClientResponse
	case x.failed:
		x.done = true
		if len(resp) != 0 {
			return nil, true, &imap.Error{Type: imap.StatusResponseTypeBad,
				Text: "Expected an empty response to the error challenge"}
		}
		return nil, true, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
			Text: "XOAUTH2 authentication failed"}
	case resp == nil:
		return []byte{}, false, nil // ask for the initial response
	}
	user, token, ok := parseXOAuth2(resp)
	if ok && x.check(user, token) {
		x.done = true
		return nil, true, nil
	}
	x.failed = true
	return xoauth2Challenge, false, nil
}

// parseXOAuth2 splits "user=U\x01auth=Bearer T\x01\x01".
func parseXOAuth2(resp []byte) (user, token string, ok bool) {
	for _, f := range bytes.Split(resp, []byte{1}) {
		k, v, found := strings.Cut(string(f), "=")
		if !found {
			continue
		}
		switch k {
		case "user":
			user = v
		case "auth":
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				token = v[7:]
			}
		}
	}
	return user, token, user != "" && token != ""
}

// oauthBearerServer wraps go-sasl's OAUTHBEARER server: it turns its final error into
// NO [AUTHENTICATIONFAILED] and guards against an empty answer to the error challenge
// (go-sasl indexes the response without checking its length).
type oauthBearerServer struct {
	inner  sasl.Server
	failed bool
}

func (o *oauthBearerServer) Next(resp []byte) ([]byte, bool, error) {
	authFailed := &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
		Text: "OAUTHBEARER authentication failed"}
	if o.failed && len(resp) == 0 {
		return nil, true, authFailed
	}
	ch, done, err := o.inner.Next(resp)
	if err != nil {
		return nil, true, authFailed
	}
	if !done && ch != nil && len(ch) > 0 {
		o.failed = true
	}
	return ch, done, nil
}
