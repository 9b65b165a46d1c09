// Package bench is MailMover's benchmark and soak harness: a reproducible mailbox
// (generated from a fixed seed, with a manifest of every attachment's SHA-256), runners
// that time mailmover and its peers as child processes, a minimal upper-bound IMAP client,
// a connection-cutting TCP proxy and the end-to-end fault suite. The command
// bench/cmd/mm-bench drives it; scripts/bench.sh and scripts/soak.sh start it.
package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"
)

// Spec says which mailbox to generate. The same Spec always gives the same bytes.
type Spec struct {
	Seed    uint64 `json:"seed"`
	N       int    `json:"n"`        // messages
	MinAtt  int    `json:"min_att"`  // attachments per message, at least
	MaxAtt  int    `json:"max_att"`  // attachments per message, at most
	MinSize int    `json:"min_size"` // attachment size in bytes, at least
	MaxSize int    `json:"max_size"` // attachment size in bytes, at most (log-uniform between)
	Prefix  string `json:"prefix"`   // file-name and Message-ID prefix, e.g. "m"
	// Mix is the kind of mail: "" random bytes in base64 attachments (DefaultSpec),
	// MixReal mail as it comes from offices (RealSpec).
	Mix string `json:"mix,omitempty"`
}

// DefaultSpec is the benchmark mailbox: n messages with 1–3 attachments of 10 KB–1 MB,
// sizes log-uniform (many small, few large; mean ≈ 215 KB).
func DefaultSpec(seed uint64, n int, prefix string) Spec {
	return Spec{Seed: seed, N: n, MinAtt: 1, MaxAtt: 3, MinSize: 10_000, MaxSize: 1_000_000, Prefix: prefix}
}

// Attachment is one attachment of a generated message.
type Attachment struct {
	Name   string `json:"name"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// MessageInfo describes one generated message.
type MessageInfo struct {
	Index       int          `json:"index"`
	MessageID   string       `json:"message_id"` // without angle brackets
	Size        int          `json:"size"`       // raw RFC 5322 bytes (CRLF)
	Attachments []Attachment `json:"attachments"`
}

// Manifest is what a generated mailbox holds: every attachment's name, size and hash.
type Manifest struct {
	Spec       Spec          `json:"spec"`
	Messages   []MessageInfo `json:"messages"`
	TotalBytes int64         `json:"total_bytes"` // sum of raw message sizes
	TotalAtt   int           `json:"total_attachments"`
	AttBytes   int64         `json:"attachment_bytes"`
}

// WriteFile saves the manifest as JSON.
func (m *Manifest) WriteFile(path string) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing the manifest %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// ReadManifest loads a manifest written by WriteFile.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading the manifest %s: %w", path, err)
	}
	return &m, nil
}

// ByHash maps each attachment hash to its message index.
func (m *Manifest) ByHash() map[string]int {
	out := make(map[string]int, m.TotalAtt)
	for _, msg := range m.Messages {
		for _, a := range msg.Attachments {
			out[a.SHA256] = msg.Index
		}
	}
	return out
}

// baseDate is the Date of message 0; message i is i minutes later.
var baseDate = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// plan returns the attachment sizes of message i.
func (s Spec) plan(i int) []int {
	r := rand.New(rand.NewPCG(s.Seed, uint64(i)*2+1))
	n := s.MinAtt
	if s.MaxAtt > s.MinAtt {
		n += r.IntN(s.MaxAtt - s.MinAtt + 1)
	}
	sizes := make([]int, n)
	lo, hi := math.Log(float64(s.MinSize)), math.Log(float64(s.MaxSize))
	for j := range sizes {
		sizes[j] = int(math.Exp(lo + r.Float64()*(hi-lo)))
		if sizes[j] < s.MinSize {
			sizes[j] = s.MinSize
		}
	}
	return sizes
}

// content fills b with the pseudo-random bytes of attachment j of message i.
func (s Spec) content(i, j int, b []byte) {
	r := rand.New(rand.NewPCG(s.Seed^0x9e3779b97f4a7c15, uint64(i)<<8|uint64(j)))
	k := 0
	for ; k+8 <= len(b); k += 8 {
		v := r.Uint64()
		b[k], b[k+1], b[k+2], b[k+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		b[k+4], b[k+5], b[k+6], b[k+7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	if k < len(b) {
		v := r.Uint64()
		for ; k < len(b); k++ {
			b[k] = byte(v)
			v >>= 8
		}
	}
}

// Generator builds messages of a Spec, reusing its buffers (not safe for concurrent use).
type Generator struct {
	Spec Spec
	raw  []byte
	buf  bytes.Buffer
}

// Message returns the raw message i (CRLF line ends; valid until the next call) and its
// description.
func (g *Generator) Message(i int) ([]byte, MessageInfo) {
	s := g.Spec
	info := MessageInfo{Index: i, MessageID: fmt.Sprintf("%s-%d-%05d@bench.mailmover.invalid", s.Prefix, s.Seed, i)}
	w := &g.buf
	w.Reset()
	if s.Mix == MixReal {
		g.realMessage(i, &info)
		info.Size = w.Len()
		return w.Bytes(), info
	}
	boundary := fmt.Sprintf("=_bench_%d_%05d", s.Seed, i)
	fmt.Fprintf(w, "From: Sender %d <sender-%d@bench.example>\r\n", i%17, i%17)
	fmt.Fprintf(w, "To: mmbench@bench.example\r\n")
	fmt.Fprintf(w, "Subject: Benchmark message %d\r\n", i)
	fmt.Fprintf(w, "Date: %s\r\n", baseDate.Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z))
	fmt.Fprintf(w, "Message-ID: <%s>\r\n", info.MessageID)
	fmt.Fprintf(w, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(w, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(w, "This is a multi-part message in MIME format.\r\n")
	fmt.Fprintf(w, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", boundary)
	fmt.Fprintf(w, "Message %d of MailMover's benchmark mailbox (seed %d).\r\n", i, s.Seed)
	line := make([]byte, base64.StdEncoding.EncodedLen(57))
	for j, size := range s.plan(i) {
		if cap(g.raw) < size {
			g.raw = make([]byte, size)
		}
		b := g.raw[:size]
		s.content(i, j, b)
		sum := sha256.Sum256(b)
		name := fmt.Sprintf("%s%05d-%d.bin", s.Prefix, i, j+1)
		info.Attachments = append(info.Attachments, Attachment{Name: name, Size: size, SHA256: hex.EncodeToString(sum[:])})
		fmt.Fprintf(w, "--%s\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n", boundary, name)
		fmt.Fprintf(w, "Content-Disposition: attachment; filename=\"%s\"\r\n", name)
		fmt.Fprintf(w, "Content-Transfer-Encoding: base64\r\n\r\n")
		w.Grow(size*4/3 + size/57*2 + 8)
		for k := 0; k < len(b); k += 57 {
			chunk := b[k:min(k+57, len(b))]
			n := base64.StdEncoding.EncodedLen(len(chunk))
			base64.StdEncoding.Encode(line[:n], chunk)
			w.Write(line[:n])
			w.WriteString("\r\n")
		}
	}
	fmt.Fprintf(w, "--%s--\r\n", boundary)
	info.Size = w.Len()
	return w.Bytes(), info
}

// BuildManifest generates every message of s (without keeping them) and describes them.
func BuildManifest(s Spec) *Manifest {
	g := &Generator{Spec: s}
	m := &Manifest{Spec: s}
	for i := range s.N {
		_, info := g.Message(i)
		m.add(info)
	}
	return m
}

func (m *Manifest) add(info MessageInfo) {
	m.Messages = append(m.Messages, info)
	m.TotalBytes += int64(info.Size)
	m.TotalAtt += len(info.Attachments)
	for _, a := range info.Attachments {
		m.AttBytes += int64(a.Size)
	}
}
