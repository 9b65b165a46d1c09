package imapsrc

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailmover/internal/memimap"
)

// otherCA writes a PEM of a certificate no server here uses.
func otherCA(t *testing.T) string {
	cert, err := memimap.NewCert(memimap.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(p, cert.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLSErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cert       memimap.CertOptions
		host       string
		startTLS   bool
		clientMode string
		verify     bool
		wantKind   Kind
		want       []string // in the error text and advice
	}{
		{name: "name mismatch", cert: memimap.CertOptions{Hosts: []string{"mail.example.com"}},
			host: "localhost", clientMode: tlsImplicit, verify: true, wantKind: KindTLS,
			want: []string{"not valid for the name", "mail.example.com", "[setup] host"}},
		{name: "expired", cert: memimap.CertOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)},
			host: "localhost", clientMode: tlsImplicit, verify: true, wantKind: KindTLS,
			want: []string{"expired", "date and time"}},
		{name: "implicit TLS against a STARTTLS port", host: "localhost", startTLS: true,
			clientMode: tlsImplicit, verify: true, wantKind: KindTLS, want: []string{"did not answer with TLS", "starttls"}},
		{name: "verification off accepts a wrong name", cert: memimap.CertOptions{Hosts: []string{"mail.example.com"}},
			host: "localhost", clientMode: tlsImplicit, verify: false, wantKind: -1},
		{name: "STARTTLS with a name mismatch", cert: memimap.CertOptions{Hosts: []string{"mail.example.com"}},
			host: "localhost", startTLS: true, clientMode: tlsStartTLS, verify: true, wantKind: KindTLS,
			want: []string{"mail.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := memimap.NewCert(tc.cert)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := memimap.Start(memimap.Options{TLS: cert.Server, StartTLS: tc.startTLS})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			srv.AddUser(memUser, memPass)
			ca := filepath.Join(t.TempDir(), "ca.pem")
			os.WriteFile(ca, cert.PEM, 0o600)
			cfg := Config{Host: tc.host, Port: srv.Port(), TLS: tc.clientMode, Auth: authPassword, Username: memUser,
				Password: memPass, VerifyCertificate: tc.verify, CAFile: ca, Timeout: 5 * time.Second, Logger: testLogger(t)}
			c, err := Dial(ctxT(t), cfg)
			if tc.wantKind == -1 {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				c.Close()
				return
			}
			if KindOf(err) != tc.wantKind {
				t.Fatalf("got %v (kind %v), want kind %v", err, KindOf(err), tc.wantKind)
			}
			text := err.Error() + " / " + Advice(err)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q lacks %q", text, w)
				}
			}
			if !strings.Contains(err.Error(), "localhost") {
				t.Errorf("error does not name the host: %v", err)
			}
		})
	}
}

// A secret never goes over clear text to a host that is not loopback: the pipe's peer
// address is not a loopback address.
func TestRefuseCleartextToRemote(t *testing.T) {
	var serverSaw strings.Builder
	cfg := Config{Host: "mail.example.com", Port: 143, TLS: tlsNone, Auth: authPassword, Username: "u",
		Password: "secret-pw", Timeout: 5 * time.Second, Logger: testLogger(t),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			client, server := net.Pipe()
			go scriptServer(server, &serverSaw, []step{{send: "* OK hi\r\n"},
				{expect: "CAPABILITY", send: "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%TAG OK done\r\n"}})
			return client, nil
		}}
	_, err := Dial(ctxT(t), cfg)
	if KindOf(err) != KindInsecure || !strings.Contains(Advice(err), "implicit") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(serverSaw.String(), "AUTHENTICATE") || strings.Contains(serverSaw.String(), "LOGIN") {
		t.Errorf("credentials were sent: %q", serverSaw.String())
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Auth: authPassword, Username: "u", Password: "p"}, "no host"},
		{Config{Host: "h", Auth: authPassword, Password: "p"}, "no username"},
		{Config{Host: "h", Auth: authPassword, Username: "u"}, "no password"},
		{Config{Host: "h", Auth: authXOAuth2, Username: "u"}, "no token source"},
		{Config{Host: "h", Auth: "kerberos", Username: "u"}, "unknown auth"},
		{Config{Host: "h", TLS: "ssl", Auth: authPassword, Username: "u", Password: "p"}, "unknown tls"},
		{Config{Host: "h", Port: 70000, Auth: authPassword, Username: "u", Password: "p"}, "out of range"},
	} {
		_, err := Dial(context.Background(), tc.cfg)
		if KindOf(err) != KindConfig || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
	cfg := Config{Host: "127.0.0.1", Port: 1, Auth: authPassword, Username: "u", Password: "p", CAFile: "/nonexistent.pem"}
	if _, err := Dial(context.Background(), cfg); KindOf(err) != KindConnect && KindOf(err) != KindConfig {
		t.Errorf("bad port/ca: %v", err)
	}
}

// A server that closes the connection in the middle of the TLS handshake (restarting,
// shedding load) is a network failure the mover retries, not a TLS setting to change.
func TestTLSHandshakeClosedIsNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 512)
			_, _ = c.Read(buf) // the ClientHello
			c.Close()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Dial(ctx, Config{Host: host, Port: p, TLS: tlsImplicit, Auth: "password", Username: "u",
		Password: "p", VerifyCertificate: true, Folder: "INBOX", Timeout: 5 * time.Second})
	if KindOf(err) != KindNetwork {
		t.Fatalf("Dial = %v (kind %v), want a network error", err, KindOf(err))
	}
	if !strings.Contains(err.Error(), "closed the connection during the TLS handshake") {
		t.Errorf("error text %q", err)
	}
}
