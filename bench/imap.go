package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Server is the Dovecot the harness talks to (implicit TLS, password sign-in).
type Server struct {
	Host     string // 127.0.0.1
	Port     int    // implicit-TLS port
	CAFile   string // PEM of its certificate
	User     string
	Password string
}

// ServerFromEnv reads MM_BENCH_HOST, MM_BENCH_IMAPS_PORT, MM_BENCH_CA, MM_BENCH_USER and
// MM_BENCH_PASSWORD (written by scripts/bench-dovecot.sh).
func ServerFromEnv() (Server, error) {
	s := Server{Host: os.Getenv("MM_BENCH_HOST"), CAFile: os.Getenv("MM_BENCH_CA"),
		User: os.Getenv("MM_BENCH_USER"), Password: os.Getenv("MM_BENCH_PASSWORD")}
	p, err := strconv.Atoi(os.Getenv("MM_BENCH_IMAPS_PORT"))
	if err != nil || s.Host == "" || s.CAFile == "" || s.User == "" || s.Password == "" {
		return s, errors.New("MM_BENCH_HOST, MM_BENCH_IMAPS_PORT, MM_BENCH_CA, MM_BENCH_USER and MM_BENCH_PASSWORD must be set: source the env.sh written by scripts/bench-dovecot.sh")
	}
	s.Port = p
	return s, nil
}

// Addr is host:port.
func (s Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// TLSConfig trusts the server's certificate (and only it).
func (s Server) TLSConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the server certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", s.CAFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: s.Host}, nil
}

// Dial connects with implicit TLS and signs in.
func (s Server) Dial() (*imapclient.Client, error) { return s.DialWith(nil) }

// DialWith is Dial with client options (their TLSConfig is set here).
func (s Server) DialWith(opts *imapclient.Options) (*imapclient.Client, error) {
	tc, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &imapclient.Options{}
	}
	opts.TLSConfig = tc
	c, err := imapclient.DialTLS(s.Addr(), opts)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", s.Addr(), err)
	}
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("signing in to %s as %s: %w", s.Addr(), s.User, err)
	}
	return c, nil
}

// Count returns the number of messages in folder (0 when it does not exist).
func (s Server) Count(folder string) (int, error) {
	c, err := s.Dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0, nil //nolint:nilerr // a missing folder holds nothing
	}
	return int(*st.NumMessages), nil
}

// Recreate deletes folder (if present) and creates it empty.
func (s Server) Recreate(folders ...string) error {
	c, err := s.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	for _, f := range folders {
		_ = c.Delete(f).Wait()
		if err := c.Create(f, nil).Wait(); err != nil {
			return fmt.Errorf("creating folder %s: %w", f, err)
		}
	}
	return nil
}

// AppendOne appends one raw message to folder on an open connection.
func AppendOne(c *imapclient.Client, folder string, raw []byte) error {
	cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{Time: time.Now()})
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return fmt.Errorf("append to %s: %w", folder, err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("append to %s: %w", folder, err)
	}
	if _, err := cmd.Wait(); err != nil {
		return fmt.Errorf("append to %s: %w", folder, err)
	}
	return nil
}

// Seed makes folder hold exactly the mailbox of spec and returns its manifest, saved as
// manifestPath. When the manifest there has the same spec and the folder holds N
// messages, nothing is appended again.
func (s Server) Seed(spec Spec, folder, manifestPath string, logf func(string, ...any)) (*Manifest, error) {
	if old, err := ReadManifest(manifestPath); err == nil && old.Spec == spec {
		if n, err := s.Count(folder); err == nil && n == spec.N {
			logf("seed: %s already holds the %d messages of seed %d (%s)", folder, n, spec.Seed, manifestPath)
			return old, nil
		}
	}
	if err := s.Recreate(folder); err != nil {
		return nil, err
	}
	c, err := s.Dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	g := &Generator{Spec: spec}
	m := &Manifest{Spec: spec}
	start := time.Now()
	for i := range spec.N {
		raw, info := g.Message(i)
		if err := AppendOne(c, folder, raw); err != nil {
			return nil, err
		}
		m.add(info)
		if (i+1)%500 == 0 {
			logf("seed: %d/%d messages appended to %s (%.0f s)", i+1, spec.N, folder, time.Since(start).Seconds())
		}
	}
	if err := os.MkdirAll(filepath.Dir(manifestPath), 0o755); err != nil {
		return nil, err
	}
	if err := m.WriteFile(manifestPath); err != nil {
		return nil, err
	}
	logf("seed: %s: %d messages, %d attachments, %.1f MB in %.1f s", folder, spec.N, m.TotalAtt, float64(m.TotalBytes)/1e6, time.Since(start).Seconds())
	return m, nil
}

// UpperResult is what the upper-bound client fetched.
type UpperResult struct {
	Messages int   `json:"messages"`
	Bytes    int64 `json:"bytes"`
}

// UpperBound fetches every message's BODY.PEEK[] of folder in batches of batch messages
// and discards it: the most a single connection can get out of the server. batch <= 0
// fetches one message per command pair instead (envelope, then body), for comparison.
func (s Server) UpperBound(ctx context.Context, folder string, batch int) (UpperResult, error) {
	var res UpperResult
	c, err := s.Dial()
	if err != nil {
		return res, err
	}
	defer c.Close()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return res, fmt.Errorf("select %s: %w", folder, err)
	}
	total := sel.NumMessages
	buf := make([]byte, 256<<10)
	if batch <= 0 {
		// One message at a time, as a per-message client does: its envelope and size
		// first, then its body (two round trips per message).
		for seq := uint32(1); seq <= total; seq++ {
			set := imap.SeqSetNum(seq)
			if _, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, Envelope: true, Flags: true, InternalDate: true}).Collect(); err != nil {
				return res, err
			}
			if err := drainBodies(c, set, buf, &res); err != nil {
				return res, err
			}
		}
		return res, c.Logout().Wait()
	}
	for first := uint32(1); first <= total; first += uint32(batch) {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		last := min(first+uint32(batch)-1, total)
		var set imap.SeqSet
		set.AddRange(first, last)
		if err := drainBodies(c, set, buf, &res); err != nil {
			return res, fmt.Errorf("fetch %d:%d: %w", first, last, err)
		}
	}
	return res, c.Logout().Wait()
}

// onlyReader hides a reader's WriterTo so that CopyBuffer uses the given buffer.
type onlyReader struct{ io.Reader }

// MessageIDs returns the Message-IDs (without brackets) of the messages in folder.
func (s Server) MessageIDs(folder string) ([]string, error) {
	c, err := s.Dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", folder, err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(set, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch envelopes of %s: %w", folder, err)
	}
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if m.Envelope != nil {
			ids = append(ids, m.Envelope.MessageID)
		}
	}
	return ids, nil
}

// drainBodies fetches the bodies of set and reads them into nothing, counting messages and
// bytes into res.
func drainBodies(c *imapclient.Client, set imap.SeqSet, buf []byte, res *UpperResult) error {
	cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	for m := cmd.Next(); m != nil; m = cmd.Next() {
		for item := m.Next(); item != nil; item = m.Next() {
			if bs, ok := item.(imapclient.FetchItemDataBodySection); ok && bs.Literal != nil {
				n, err := io.CopyBuffer(io.Discard, onlyReader{bs.Literal}, buf)
				res.Bytes += n
				if err != nil {
					cmd.Close()
					return err
				}
				res.Messages++
			}
		}
	}
	return cmd.Close()
}
