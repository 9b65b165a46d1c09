package imapsrc

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"mailmover/i18n"
)

// maxCAFile bounds ca_file: a bundle of every public CA is about 250 KB.
const maxCAFile = 16 << 20

// readCAFile reads a CA bundle. It must be a regular file (a FIFO would block forever,
// /dev/zero would fill memory) of at most maxCAFile bytes.
func readCAFile(name string) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, i18n.Errorf("%s is not a regular file", name)
	}
	if st.Size() > maxCAFile {
		return nil, i18n.Errorf("%s is %d bytes; a CA bundle is at most %d", name, st.Size(), maxCAFile)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxCAFile))
}

// tlsConfig builds the client TLS configuration: system roots plus cfg.CAFile, full
// verification unless cfg.VerifyCertificate is false (then a warning is logged).
func tlsConfig(cfg *Config) (*tls.Config, error) {
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := readCAFile(cfg.CAFile)
		if err != nil {
			return nil, &Error{Kind: KindConfig, Host: cfg.addr(), Op: "tls",
				Reason: i18n.Sprintf("cannot read ca_file %q", cfg.CAFile),
				Advice: i18n.T("Set [security] ca_file to a readable PEM file with the server's CA certificate, or leave it empty."),
				Err:    err}
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &Error{Kind: KindConfig, Host: cfg.addr(), Op: "tls",
				Reason: i18n.Sprintf("ca_file %q holds no PEM certificate", cfg.CAFile),
				Advice: i18n.T("ca_file must be a PEM bundle (-----BEGIN CERTIFICATE-----).")}
		}
		tc.RootCAs = pool
	}
	if !cfg.VerifyCertificate {
		cfg.logger().Warn("TLS certificate verification is OFF: anyone on the network path can read the password or token",
			"host", cfg.Host)
		tc.InsecureSkipVerify = true
	}
	return tc, nil
}

// handshake runs the TLS handshake on raw within the timeout and classifies failures.
func handshake(ctx context.Context, cfg *Config, raw net.Conn, tc *tls.Config) (*tls.Conn, error) {
	conn := tls.Client(&bufferedConn{Conn: raw, br: bufio.NewReaderSize(raw, tlsReadBuffer)}, tc)
	hctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	if err := conn.HandshakeContext(hctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, tlsError(cfg, err)
	}
	return conn, nil
}

// tlsReadBuffer is how much is read from the socket at once under TLS.
const tlsReadBuffer = 128 << 10

// bufferedConn reads the connection under TLS through a buffer: crypto/tls asks for one
// record (at most about 16 KiB) at a time, which without it is one read system call per
// record — while a large message streams, many times more calls than needed.
type bufferedConn struct {
	net.Conn
	br *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.br.Read(p) }

// tlsError names the host, the reason and what to do.
func tlsError(cfg *Config, err error) error {
	e := &Error{Kind: KindTLS, Host: cfg.addr(), Op: "tls", Err: err}
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var ne net.Error
	switch {
	case errors.As(err, &unknown):
		e.Reason = i18n.Sprintf("the certificate of %s is signed by an unknown authority", cfg.Host)
		e.Advice = i18n.T("If the server uses a private or self-signed certificate, set [security] ca_file to its CA's PEM file. If it should have a public certificate, something on the way (a proxy, an antivirus) may be intercepting TLS.")
	case errors.As(err, &hostErr):
		names := hostErr.Certificate.DNSNames
		for _, ip := range hostErr.Certificate.IPAddresses {
			names = append(names, ip.String())
		}
		e.Reason = i18n.Sprintf("the certificate is not valid for the name %q (it names: %s)", cfg.Host, strings.Join(names, ", "))
		e.Advice = i18n.T("Set [setup] host to a name the certificate names; an IP address only works when the certificate lists it.")
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		e.Reason = i18n.Sprintf("the certificate of %s has expired or is not yet valid", cfg.Host)
		e.Advice = i18n.T("Check this computer's date and time; if they are right, the server's certificate must be renewed by its admin.")
	case errors.As(err, &invalid):
		e.Reason = i18n.Sprintf("the certificate of %s is not valid: %v", cfg.Host, invalid)
		e.Advice = i18n.T("Ask the server's admin; or set ca_file to the CA that issued it.")
	case errors.As(err, &recErr):
		e.Reason = i18n.Sprintf("port %d did not answer with TLS", cfg.Port)
		e.Advice = i18n.T("For port 143 use tls = \"starttls\"; for port 993 use tls = \"implicit\".")
	case errors.As(err, &ne) && ne.Timeout():
		e.Reason = i18n.T("the TLS handshake timed out")
		e.Advice = i18n.T("Check host and port; for port 143 use tls = \"starttls\", for 993 tls = \"implicit\".")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		// A server that restarts or sheds load closes the connection mid-handshake:
		// a network failure to retry, not a setting to change.
		e.Kind = KindNetwork
		e.Reason = i18n.T("the server closed the connection during the TLS handshake (restarting or overloaded?)")
		e.Advice = i18n.T("MailMover tries again by itself; if this persists, check host, port and the [security] tls mode.")
	default:
		e.Reason = i18n.T("the TLS handshake failed")
		e.Advice = i18n.T("Check host, port and the [security] tls mode (implicit for 993, starttls for 143).")
	}
	return e
}

// startTLS does the STARTTLS exchange itself on the clear-text connection (so that our
// wireConn can sit above TLS), then hands back the TLS connection and a synthetic greeting
// for imapclient. Capabilities seen before TLS are discarded (RFC 9051 §6.2.1), and data
// the server sent after its OK but before the handshake is refused (response injection).
func startTLS(ctx context.Context, cfg *Config, raw net.Conn, tc *tls.Config) (*tls.Conn, string, error) {
	// A server greets at once: wait for the greeting no longer than ten seconds (a
	// STARTTLS client on an implicit-TLS port would otherwise wait for the full timeout).
	_ = raw.SetDeadline(time.Now().Add(min(cfg.timeout(), 10*time.Second)))
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	br := bufio.NewReaderSize(raw, 4096)
	fail := func(reason, advice string, err error) (*tls.Conn, string, error) {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, "", &Error{Kind: KindTLS, Host: cfg.addr(), Op: "starttls", Reason: reason, Advice: advice, Err: err}
	}
	greet, err := readLine(br)
	if err != nil {
		return fail(i18n.T("no IMAP greeting"), i18n.T("A port for implicit TLS (usually 993) waits for TLS before it greets: use tls = \"implicit\" there, or the STARTTLS port (usually 143) with tls = \"starttls\"."), err)
	}
	up := strings.ToUpper(greet)
	switch {
	case strings.HasPrefix(up, "* PREAUTH"):
		return fail(i18n.T("the server sent PREAUTH on a clear-text connection; refusing"), i18n.T("Use tls = \"implicit\"."), nil)
	case !strings.HasPrefix(up, "* OK"):
		return fail(i18n.Sprintf("unexpected greeting: %s", clip(greet, 120)), i18n.T("Check host and port."), nil)
	}
	_ = raw.SetDeadline(time.Now().Add(cfg.timeout()))
	if _, err := raw.Write([]byte("MM0 STARTTLS\r\n")); err != nil {
		return fail(i18n.T("cannot send STARTTLS"), "", err)
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return fail(i18n.T("no answer to STARTTLS"), i18n.T("Check host and port."), err)
		}
		if strings.HasPrefix(line, "* ") {
			continue
		}
		if !strings.HasPrefix(strings.ToUpper(line), "MM0 OK") {
			return fail(i18n.Sprintf("the server refused STARTTLS: %s", clip(line, 120)),
				i18n.T("The server does not offer STARTTLS here: use tls = \"implicit\" (port 993)."), nil)
		}
		break
	}
	if br.Buffered() > 0 {
		return fail(i18n.T("the server sent data after its STARTTLS answer (response injection); refusing"), "", nil)
	}
	_ = raw.SetDeadline(time.Time{})
	conn, err := handshake(ctx, cfg, raw, tc)
	if err != nil {
		return nil, "", err
	}
	return conn, "* OK MailMover: TLS is up\r\n", nil // i18n:keep (an IMAP greeting for imapclient)
}

// readLine reads one CRLF line (at most 64 KiB) without the line end.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > 64<<10 {
			return "", i18n.New("line too long")
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// isLoopback reports whether the connection's peer is on this machine.
func isLoopback(c net.Conn) bool {
	if c == nil {
		return false
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.IsLoopback()
	}
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clip shortens s to n bytes for messages.
// clip makes server text safe to show (see cleanServerText) and cuts it to about n bytes.
func clip(s string, n int) string {
	s = cleanServerText(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
