package imapsrc

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// step is one exchange of a scripted server: read a line that contains expect
// (case-insensitive; exact, when exact is set), then send send with %TAG replaced by the
// tag of the last tagged command. A step with expect "" and !exact sends at once.
type step struct {
	expect string
	exact  bool
	send   string
}

// transcript records what a scripted server received.
type transcript struct {
	mu    sync.Mutex
	lines []string
}

func (tr *transcript) add(s string) {
	tr.mu.Lock()
	tr.lines = append(tr.lines, s)
	tr.mu.Unlock()
}

func (tr *transcript) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return strings.Join(tr.lines, "\n")
}

func (tr *transcript) all() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.lines...)
}

// o365Caps is what outlook.office365.com announces before sign-in.
const o365Caps = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+\r\n"

// scriptServer plays steps on conn. CAPABILITY commands the script does not expect are
// answered with o365Caps; LOGOUT after the script ends with BYE.
func scriptServer(conn net.Conn, saw interface{ WriteString(string) (int, error) }, steps []step) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	tag := ""
	send := func(s string) { _, _ = conn.Write([]byte(strings.ReplaceAll(s, "%TAG", tag))) }
	readLine := func() (string, bool) {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		l = strings.TrimRight(l, "\r\n")
		_, _ = saw.WriteString(l + "\n")
		return l, true
	}
	for _, st := range steps {
		if st.expect == "" && !st.exact {
			send(st.send)
			continue
		}
		for {
			line, ok := readLine()
			if !ok {
				return
			}
			fields := strings.Fields(line)
			if len(fields) >= 2 && !st.exact {
				tag = fields[0]
			}
			if len(fields) == 2 && strings.EqualFold(fields[1], "CAPABILITY") && !strings.EqualFold(st.expect, "CAPABILITY") {
				send(o365Caps + "%TAG OK CAPABILITY completed.\r\n")
				continue
			}
			if (st.exact && line == st.expect) || (!st.exact && strings.Contains(strings.ToUpper(line), strings.ToUpper(st.expect))) {
				send(st.send)
				break
			}
			if st.exact {
				// What Dovecot says to "=" as an answer to the XOAUTH2 error challenge.
				send("%TAG BAD Invalid base64 data in continued response\r\n")
				break
			}
			if st.send != "" { // a step with nothing to send plays a server that went silent
				send("%TAG BAD unexpected command in script\r\n")
			}
		}
	}
	for {
		line, ok := readLine()
		if !ok {
			return
		}
		if f := strings.Fields(line); len(f) >= 2 {
			tag = f[0]
			if strings.EqualFold(f[1], "LOGOUT") {
				send("* BYE\r\n%TAG OK LOGOUT completed.\r\n")
				return
			}
			send("%TAG BAD script ended\r\n")
		}
	}
}

// fakeServer serves one script per connection on 127.0.0.1 and records all input.
func fakeServer(t *testing.T, scripts ...[]step) (int, *transcript) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	tr := &transcript{}
	go func() {
		for _, s := range scripts {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go scriptServer(conn, trWriter{tr}, s)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, tr
}

type trWriter struct{ tr *transcript }

func (w trWriter) WriteString(s string) (int, error) {
	w.tr.add(strings.TrimSuffix(s, "\n"))
	return len(s), nil
}

const o365Greeting = "* OK The Microsoft Exchange IMAP4 service is ready. [TQBXADIAUABSADAAMQBDAEEAMAAwADEAMQAuAGUAdQByAHAAcgBkADAAMQAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]\r\n"

// The XOAUTH2 error challenge as Gmail sends it:
// {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}
const errorChallenge = "+ eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"

func TestMicrosoft365Quirks(t *testing.T) {
	notConnected := []step{{send: o365Greeting},
		{expect: "AUTHENTICATE XOAUTH2", send: "%TAG OK AUTHENTICATE completed.\r\n"},
		{expect: "SELECT", send: "%TAG BAD User is authenticated but not connected.\r\n"}}
	challenge := []step{{send: o365Greeting},
		{expect: "AUTHENTICATE XOAUTH2", send: errorChallenge},
		{expect: "", exact: true, send: "%TAG NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n"}}
	authFailed := []step{{send: o365Greeting},
		{expect: "AUTHENTICATE XOAUTH2", send: "%TAG NO AUTHENTICATE failed.\r\n"}}
	unavailable := []step{{send: o365Greeting},
		{expect: "AUTHENTICATE", send: "%TAG NO [UNAVAILABLE] Temporary authentication failure. [host:2026-11-28 23:50:00]\r\n"}}
	refreshedOK := []step{{send: o365Greeting},
		{expect: "AUTHENTICATE XOAUTH2", send: "%TAG OK AUTHENTICATE completed.\r\n"},
		{expect: "SELECT", send: "* 0 EXISTS\r\n* OK [UIDVALIDITY 14] UIDs valid\r\n* OK [UIDNEXT 1] next\r\n%TAG OK [READ-WRITE] SELECT completed.\r\n"}}
	plainOnly := []step{{send: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN] ready\r\n"}}

	for _, tc := range []struct {
		name       string
		auth       string
		appOnly    string
		scripts    [][]step
		wantKind   Kind
		wantCalls  int32
		wantText   []string // in error + advice
		wantLines  []string // exact lines the server must have received
		forbidLine string
	}{
		{name: "authenticated but not connected", auth: authXOAuth2, scripts: [][]step{notConnected},
			wantKind: KindNotConnected, wantCalls: 1,
			wantText: []string{"authenticated but not connected", "another account", "FullAccess"}},
		{name: "error challenge answered with an empty line", auth: authXOAuth2, scripts: [][]step{challenge, challenge},
			wantKind: KindAuth, wantCalls: 2,
			wantText:  []string{"status 400", "https://mail.google.com/", "AUTHENTICATIONFAILED", "scope"},
			wantLines: []string{""}, forbidLine: "="},
		{name: "NO AUTHENTICATE failed", auth: authXOAuth2, scripts: [][]step{authFailed, authFailed},
			wantKind: KindAuth, wantCalls: 2,
			wantText: []string{"AUTHENTICATE failed", "IMAP.AccessAsUser.All", "tenant", "Set-CASMailbox"}},
		// App-only (client credentials): the cause is Exchange's service principal and the
		// mailbox permission, not the delegated scope.
		{name: "app-only NO AUTHENTICATE failed", auth: authXOAuth2, appOnly: AppOnlyMicrosoft, scripts: [][]step{authFailed, authFailed},
			wantKind: KindAuth, wantCalls: 2,
			wantText: []string{"AUTHENTICATE failed", "New-ServicePrincipal -AppId", "Enterprise application", "Add-MailboxPermission -Identity invoices@contoso.example", "IMAP.AccessAsApp"}},
		{name: "app-only authenticated but not connected", auth: authXOAuth2, appOnly: AppOnlyMicrosoft, scripts: [][]step{notConnected},
			wantKind: KindNotConnected, wantCalls: 1,
			wantText: []string{"authenticated but not connected", "New-ServicePrincipal", "FullAccess"}},
		{name: "service account refused by Gmail", auth: authXOAuth2, appOnly: AppOnlyGoogle, scripts: [][]step{challenge, challenge},
			wantKind: KindAuth, wantCalls: 2,
			wantText: []string{"AUTHENTICATIONFAILED", "domain-wide delegation", "https://mail.google.com/"}},
		{name: "UNAVAILABLE counts as a rejected token", auth: authXOAuth2, scripts: [][]step{unavailable, refreshedOK},
			wantKind: -1, wantCalls: 2},
		{name: "mechanism not offered", auth: authOAuthBearer, scripts: [][]step{plainOnly},
			wantKind: KindMechanism, wantCalls: 0, wantText: []string{"OAUTHBEARER", "LOGIN, PLAIN", `auth to a method the server offers: "password"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port, tr := fakeServer(t, tc.scripts...)
			var calls atomic.Int32
			cfg := Config{Host: "127.0.0.1", Port: port, TLS: tlsNone, Auth: tc.auth, Username: "invoices@contoso.example",
				Folder: "INBOX", Timeout: 5 * time.Second, Logger: testLogger(t), AppOnly: tc.appOnly,
				Token: func(ctx context.Context, force bool) (string, error) {
					calls.Add(1)
					return "token-" + string(rune('A'+calls.Load())), nil
				}}
			c, err := Dial(ctxT(t), cfg)
			if tc.wantKind == -1 {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if c.Selected().UIDValidity != 14 {
					t.Errorf("selected %+v", c.Selected())
				}
				c.Close()
			} else if KindOf(err) != tc.wantKind {
				t.Fatalf("got %v (kind %v), want %v\nserver saw:\n%s", err, KindOf(err), tc.wantKind, tr)
			}
			if calls.Load() != tc.wantCalls {
				t.Errorf("token func called %d times, want %d", calls.Load(), tc.wantCalls)
			}
			if err != nil {
				text := err.Error() + " / " + Advice(err)
				for _, w := range tc.wantText {
					if !strings.Contains(text, w) {
						t.Errorf("%q lacks %q", text, w)
					}
				}
				if strings.Contains(text, "token-") {
					t.Errorf("a token leaked: %s", text)
				}
			}
			lines := tr.all()
			for _, w := range tc.wantLines {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("server never received %q; saw:\n%s", w, tr)
				}
			}
			if tc.forbidLine != "" {
				for _, l := range lines {
					if l == tc.forbidLine {
						t.Errorf("server received %q; saw:\n%s", l, tr)
					}
				}
			}
		})
	}
}

// A server that never answers does not hang Dial: the configured timeout ends it.
func TestSilentServerTimesOut(t *testing.T) {
	port, _ := fakeServer(t, []step{{send: o365Greeting}, {expect: "NEVER-MATCHES", send: ""}})
	cfg := Config{Host: "127.0.0.1", Port: port, TLS: tlsNone, Auth: authPassword, Username: "u", Password: "p",
		Timeout: 500 * time.Millisecond, Logger: testLogger(t)}
	start := time.Now()
	_, err := Dial(ctxT(t), cfg)
	if err == nil || time.Since(start) > 8*time.Second {
		t.Fatalf("Dial: %v after %s", err, time.Since(start))
	}
	if KindOf(err) != KindNetwork || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("kind %v: %v", KindOf(err), err)
	}
}

// Cancelling the context ends a hanging Dial at once.
func TestDialCancel(t *testing.T) {
	port, _ := fakeServer(t, []step{{send: o365Greeting}, {expect: "NEVER-MATCHES", send: ""}})
	cfg := Config{Host: "127.0.0.1", Port: port, TLS: tlsNone, Auth: authPassword, Username: "u", Password: "p",
		Timeout: time.Minute, Logger: testLogger(t)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := Dial(ctx, cfg)
	if err != context.Canceled || time.Since(start) > 10*time.Second {
		t.Fatalf("Dial: %v after %s", err, time.Since(start))
	}
}
