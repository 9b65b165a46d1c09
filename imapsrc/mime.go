package imapsrc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // non-UTF-8 charsets for text parts and headers
	"github.com/emersion/go-message/textproto"
)

// Limits that keep hostile MIME from using unbounded memory or time.
const (
	maxHeaderBytes = 1 << 20 // per header block
	maxNesting     = 32      // multipart / message nesting levels
	maxParts       = 10_000  // leaf parts per message
)

// PartError reports a part that could not be decoded (broken base64, a broken multipart
// structure, an unknown charset or transfer encoding). WalkParts returns these in
// problems; the other parts are still handed out.
type PartError struct {
	Index       int    // the part's Index (0: the structure, not one part)
	Filename    string // the part's file name, if any
	ContentType string
	Err         error
}

// Error describes the part and the failure.
func (e *PartError) Error() string {
	what := "MIME structure"
	if e.Index > 0 {
		what = fmt.Sprintf("MIME part %d (%s", e.Index, e.ContentType)
		if e.Filename != "" {
			what += fmt.Sprintf(", %q", e.Filename)
		}
		what += ")"
	}
	return what + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *PartError) Unwrap() error { return e.Err }

// WalkParts parses a raw message from r and calls fn for each leaf part, in order,
// walking nested message/rfc822. A broken part is reported in problems and skipped; the
// others are still handed out. err is non-nil when fn fails or the message is unreadable.
//
// Reading a broken part's Body fails with a *PartError; when fn returns that error (or one
// wrapping it) WalkParts records it in problems and goes on with the next part. Any other
// error from fn stops the walk and is returned. A part with an unknown charset or transfer
// encoding is handed out undecoded and noted in problems. An attached message
// (message/rfc822) is walked into: its leaves come with Depth one higher; the attached
// message itself is not handed out as a part. Nothing is held in memory beyond one header
// block: the parts stream from r.
func WalkParts(r io.Reader, fn func(*Part) error) (problems []error, err error) {
	w := &walker{fn: fn}
	lim := &headerLimiter{r: r}
	br := bufio.NewReader(lim)
	lim.start()
	th, herr := textproto.ReadHeader(br)
	lim.stop()
	if herr != nil {
		return nil, fmt.Errorf("the message is unreadable: %w", herr)
	}
	err = w.entity(message.Header{Header: th}, br, 0, 0)
	return w.problems, err
}

type walker struct {
	fn         func(*Part) error
	index      int
	problems   []error
	stopped    bool // maxParts reached
	lastFailed bool // the last leaf's body failed to read
}

func (w *walker) problem(index int, p *Part, err error) {
	pe := &PartError{Index: index, Err: err}
	if p != nil {
		pe.Filename, pe.ContentType = p.Filename, p.ContentType
	}
	w.problems = append(w.problems, pe)
}

// entity walks one entity whose header has been read; body is the rest of it.
func (w *walker) entity(h message.Header, body io.Reader, level, msgDepth int) error {
	if w.stopped {
		return nil
	}
	mt, params := contentType(h)
	if level >= maxNesting && (strings.HasPrefix(mt, "multipart/") || isMessage(mt)) {
		w.problem(0, nil, fmt.Errorf("nested more than %d levels deep; the rest is skipped", maxNesting))
		return nil
	}
	switch {
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
		return w.multipart(params["boundary"], body, level, msgDepth)
	case isMessage(mt):
		return w.message(h, body, level, msgDepth)
	default:
		if strings.HasPrefix(mt, "multipart/") {
			w.problem(0, nil, fmt.Errorf("%s without a boundary; handed out as one part", mt))
		}
		return w.leaf(h, mt, params, body, msgDepth)
	}
}

func isMessage(mt string) bool { return mt == "message/rfc822" || mt == "message/global" }

func (w *walker) multipart(boundary string, body io.Reader, level, msgDepth int) error {
	lim := &headerLimiter{r: body}
	mr := textproto.NewMultipartReader(lim, boundary)
	var prev io.Reader
	for {
		if prev != nil {
			// Drain the previous part here, so that the header limit below only counts
			// the next part's header.
			if _, err := io.Copy(io.Discard, prev); err != nil {
				if !w.lastFailed { // else the part's own problem says it already
					w.problem(0, nil, fmt.Errorf("broken multipart body: %w", err))
				}
				return nil
			}
		}
		lim.start()
		p, err := mr.NextPart()
		lim.stop()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			w.problem(0, nil, fmt.Errorf("broken multipart structure: %w", err))
			return nil
		}
		prev = p
		if err := w.entity(message.Header{Header: p.Header}, p, level+1, msgDepth); err != nil {
			return err
		}
		if w.stopped {
			return nil
		}
	}
}

func (w *walker) message(h message.Header, body io.Reader, level, msgDepth int) error {
	hh := h.Copy()
	hh.Set("Content-Type", "application/octet-stream")
	ent, err := message.New(hh, body)
	if err != nil && !message.IsUnknownEncoding(err) {
		w.problem(0, nil, fmt.Errorf("attached message: %w", err))
		return nil
	}
	lim := &headerLimiter{r: &partBodyReader{r: ent.Body}}
	br := bufio.NewReader(lim)
	lim.start()
	th, herr := textproto.ReadHeader(br)
	lim.stop()
	if herr != nil {
		w.problem(0, nil, fmt.Errorf("attached message has a broken header: %w", herr))
		return nil
	}
	return w.entity(message.Header{Header: th}, br, level+1, msgDepth+1)
}

func (w *walker) leaf(h message.Header, mt string, params map[string]string, body io.Reader, msgDepth int) error {
	if w.index >= maxParts {
		w.stopped = true
		w.problem(0, nil, fmt.Errorf("more than %d parts; the rest is skipped", maxParts))
		return nil
	}
	w.index++
	p := &Part{Index: w.index, ContentType: mt, Charset: strings.ToLower(params["charset"]), Depth: msgDepth}
	disp, dparams := contentDisposition(h)
	p.Disposition = disp
	p.Filename = filename(h, dparams, params)
	isText, isHTML := mt == "text/plain", mt == "text/html"
	p.IsAttachment = disp == "attachment" || p.Filename != "" || !(isText || isHTML)
	p.IsText = isText && !p.IsAttachment
	p.IsHTML = isHTML && !p.IsAttachment

	hh := h.Copy()
	if p.IsAttachment || mt == "" {
		// Attachments keep their bytes: only the transfer encoding is undone.
		hh.Set("Content-Type", "application/octet-stream")
	}
	ent, err := message.New(hh, body)
	switch {
	case err == nil:
	case message.IsUnknownCharset(err):
		w.problem(p.Index, p, fmt.Errorf("unknown charset %q; the text is handed out as sent", p.Charset))
	case message.IsUnknownEncoding(err):
		w.problem(p.Index, p, fmt.Errorf("%w; the content is handed out as sent", err))
	default:
		w.problem(p.Index, p, err)
	}
	if ent == nil {
		return nil
	}
	pr := &partBodyReader{r: ent.Body, part: p}
	p.Body = pr
	err = w.fn(p)
	w.lastFailed = pr.failed != nil
	if pr.failed != nil {
		w.problems = append(w.problems, pr.failed)
		var pe *PartError
		if errors.As(err, &pe) && pe == pr.failed {
			return nil
		}
	}
	return err
}

// partBodyReader turns decoding errors of one part into a *PartError for that part.
type partBodyReader struct {
	r      io.Reader
	part   *Part
	failed *PartError
}

func (r *partBodyReader) Read(p []byte) (int, error) {
	if r.failed != nil {
		return 0, r.failed
	}
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.failed = &PartError{Err: err}
		if r.part != nil {
			r.failed.Index, r.failed.Filename, r.failed.ContentType = r.part.Index, r.part.Filename, r.part.ContentType
		}
		return n, r.failed
	}
	return n, err
}

// headerLimiter fails reads with an error once more than maxHeaderBytes were read
// between start and stop (a header block), so a hostile header cannot use unbounded memory.
type headerLimiter struct {
	r    io.Reader
	on   bool
	left int64
}

var errHeaderTooBig = errors.New("a header block exceeds 1 MiB")

func (l *headerLimiter) start() { l.on, l.left = true, maxHeaderBytes }
func (l *headerLimiter) stop()  { l.on = false }

func (l *headerLimiter) Read(p []byte) (int, error) {
	if !l.on {
		return l.r.Read(p)
	}
	if l.left <= 0 {
		return 0, errHeaderTooBig
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// contentType returns the media type (lower case) and parameters, leniently: a missing
// Content-Type is text/plain (RFC 2045 §5.2); a malformed one keeps what can be read.
func contentType(h message.Header) (string, map[string]string) {
	raw := h.Get("Content-Type")
	if strings.TrimSpace(raw) == "" {
		return "text/plain", map[string]string{}
	}
	mt, params, err := h.ContentType()
	if err != nil || mt == "" {
		mt, params = lenientParams(raw)
	}
	mt = strings.ToLower(mt)
	if !strings.Contains(mt, "/") {
		mt = "application/octet-stream"
	}
	return mt, params
}

func contentDisposition(h message.Header) (string, map[string]string) {
	raw := h.Get("Content-Disposition")
	if strings.TrimSpace(raw) == "" {
		return "", map[string]string{}
	}
	d, params, err := h.ContentDisposition()
	if err != nil || d == "" {
		d, params = lenientParams(raw)
	}
	return strings.ToLower(d), params
}

// filename picks the file name: Content-Disposition filename (RFC 2231 decoded by
// mime.ParseMediaType, RFC 2047 by go-message), else Content-Type name.
func filename(h message.Header, dparams, params map[string]string) string {
	name := dparams["filename"]
	if strings.TrimSpace(name) == "" {
		name = params["name"]
	}
	if strings.TrimSpace(name) == "" {
		// mime.ParseMediaType drops RFC 2231 values in charsets other than UTF-8.
		if raw := h.Get("Content-Disposition"); strings.Contains(strings.ToLower(raw), "filename*") {
			_, p := lenientParams(raw)
			name = p["filename"]
		}
		if raw := h.Get("Content-Type"); name == "" && strings.Contains(strings.ToLower(raw), "name*") {
			_, p := lenientParams(raw)
			name = p["name"]
		}
	}
	name = strings.TrimSpace(name)
	if strings.Contains(name, "=?") {
		if dec, err := (&mime.WordDecoder{CharsetReader: message.CharsetReader}).DecodeHeader(name); err == nil {
			name = dec
		}
	}
	return name
}

// lenientParams parses "type; a=b; c="d"" when mime.ParseMediaType refuses it (duplicate
// parameters, unquoted spaces, stray semicolons): the value is kept as it stands,
// RFC 2047 words decoded, RFC 2231 "*" forms decoded where possible.
func lenientParams(s string) (string, map[string]string) {
	params := map[string]string{}
	fields := splitParams(s)
	if len(fields) == 0 {
		return "", params
	}
	typ := strings.TrimSpace(fields[0])
	cont := map[string][]string{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
		}
		if base, _, isCont := strings.Cut(k, "*"); isCont {
			cont[base] = append(cont[base], k+"="+v)
			continue
		}
		if _, dup := params[k]; !dup {
			params[k] = v
		}
	}
	for base, pieces := range cont {
		if _, ok := params[base]; ok {
			continue
		}
		if v, ok := decode2231(base, pieces); ok {
			params[base] = v
		}
	}
	dec := &mime.WordDecoder{CharsetReader: message.CharsetReader}
	for k, v := range params {
		if strings.Contains(v, "=?") {
			if d, err := dec.DecodeHeader(v); err == nil {
				params[k] = d
			}
		}
	}
	return typ, params
}

// splitParams splits at ';' outside double quotes.
func splitParams(s string) []string {
	var out []string
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && inQuote && i+1 < len(s):
			b.WriteByte(ch)
			i++
			b.WriteByte(s[i])
			continue
		case ch == '"':
			inQuote = !inQuote
		case ch == ';' && !inQuote:
			out = append(out, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(ch)
	}
	out = append(out, b.String())
	return out
}

// decode2231 joins RFC 2231 pieces ("name*0*=utf-8”a%20", "name*1=b", or "name*=…")
// and decodes them, in any charset go-message knows (mime.ParseMediaType only takes
// UTF-8 and US-ASCII).
func decode2231(base string, pieces []string) (string, bool) {
	type piece struct {
		n   int
		ext bool
		v   string
	}
	var ps []piece
	for _, p := range pieces {
		k, v, _ := strings.Cut(p, "=")
		rest := strings.TrimPrefix(k, base+"*")
		ext := strings.HasSuffix(rest, "*") || rest == ""
		rest = strings.TrimSuffix(rest, "*")
		n := 0
		if rest != "" {
			if _, err := fmt.Sscanf(rest, "%d", &n); err != nil || n < 0 || n > 999 {
				continue
			}
		}
		ps = append(ps, piece{n, ext, v})
	}
	if len(ps) == 0 {
		return "", false
	}
	sortPieces := func(i, j int) bool { return ps[i].n < ps[j].n }
	for i := 1; i < len(ps); i++ { // insertion sort: few pieces
		for j := i; j > 0 && sortPieces(j, j-1); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	charset := "utf-8"
	var raw []byte
	for i, p := range ps {
		v := p.v
		if p.ext {
			if i == 0 {
				parts := strings.SplitN(v, "'", 3)
				if len(parts) == 3 {
					if parts[0] != "" {
						charset = strings.ToLower(parts[0])
					}
					v = parts[2]
				}
			}
			raw = append(raw, percentDecode(v)...)
		} else {
			raw = append(raw, v...)
		}
	}
	if charset == "utf-8" || charset == "us-ascii" || message.CharsetReader == nil {
		return string(raw), true
	}
	r, err := message.CharsetReader(charset, strings.NewReader(string(raw)))
	if err != nil {
		return string(raw), true
	}
	out, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return string(raw), true
	}
	return string(out), true
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
