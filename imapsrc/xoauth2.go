package imapsrc

import (
	"encoding/json"
	"strings"

	"github.com/emersion/go-sasl"

	"mailmover/i18n"
)

// XOAuth2 is the name of Google's and Microsoft's OAuth2 SASL mechanism.
const XOAuth2 = "XOAUTH2"

// SASLFailure is the error challenge a server sends before it refuses an OAuth2 token
// (XOAUTH2 and OAUTHBEARER): a JSON object such as
// {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}.
type SASLFailure struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
	// Raw is the challenge text when it was not JSON (clipped).
	Raw string `json:"-"`
}

// String renders the failure for an error message ("status 401, scope …").
func (f *SASLFailure) String() string {
	if f == nil {
		return ""
	}
	if f.Raw != "" {
		return "challenge " + f.Raw
	}
	parts := []string{}
	if f.Status != "" {
		parts = append(parts, "status "+f.Status)
	}
	if f.Scope != "" {
		parts = append(parts, i18n.Sprintf("scope the server wants: %s", f.Scope))
	}
	return strings.Join(parts, ", ")
}

func parseSASLFailure(challenge []byte) *SASLFailure {
	f := &SASLFailure{}
	if err := json.Unmarshal(challenge, f); err != nil {
		return &SASLFailure{Raw: clip(sanitize(string(challenge)), 200)}
	}
	// The fields end up in messages: the server's text is cleaned like any other.
	f.Status, f.Schemes, f.Scope = clip(f.Status, 40), clip(f.Schemes, 80), clip(f.Scope, 200)
	return f
}

// sanitize drops control characters from server text before it goes into a message.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// XOAuth2Client is a sasl.Client for XOAUTH2 (go-sasl dropped it). Its initial response
// is "user=" + user + "\x01auth=Bearer " + token + "\x01\x01". When the server answers
// with an error challenge, Next records it in Failure and answers with an empty response,
// after which the server sends its final NO. (Over a plain imapclient an empty response
// goes out as "="; Dial's connection sends it as the empty line the providers document.)
type XOAuth2Client struct {
	Username string
	Token    string
	// Failure is the server's error challenge, if one came.
	Failure *SASLFailure
}

var _ sasl.Client = (*XOAuth2Client)(nil)

// NewXOAuth2Client returns an XOAUTH2 client for username with an access token.
func NewXOAuth2Client(username, token string) *XOAuth2Client {
	return &XOAuth2Client{Username: username, Token: token}
}

// Start returns the mechanism name and the initial response.
func (a *XOAuth2Client) Start() (string, []byte, error) {
	return XOAuth2, []byte("user=" + a.Username + "\x01auth=Bearer " + a.Token + "\x01\x01"), nil
}

// Next handles the error challenge: it records it and returns an empty response.
func (a *XOAuth2Client) Next(challenge []byte) ([]byte, error) {
	if a.Failure != nil {
		return nil, i18n.New("xoauth2: unexpected second challenge")
	}
	a.Failure = parseSASLFailure(challenge)
	return []byte{}, nil
}

// oauthBearerClient wraps go-sasl's OAUTHBEARER client: go-sasl's Next returns an error on
// the error challenge, which leaves the server waiting; RFC 7628 §3.2.3 wants the client
// to answer with a single %x01, after which the server sends its final NO.
type oauthBearerClient struct {
	inner   sasl.Client
	Failure *SASLFailure
}

func newOAuthBearerClient(user, token, host string, port int) *oauthBearerClient {
	return &oauthBearerClient{inner: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{
		Username: user, Token: token, Host: host, Port: port,
	})}
}

func (a *oauthBearerClient) Start() (string, []byte, error) { return a.inner.Start() }

func (a *oauthBearerClient) Next(challenge []byte) ([]byte, error) {
	if a.Failure != nil {
		return nil, i18n.New("oauthbearer: unexpected second challenge")
	}
	a.Failure = parseSASLFailure(challenge)
	return []byte{0x01}, nil
}
