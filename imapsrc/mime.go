package imapsrc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // non-UTF-8 charsets for text parts and headers
	"github.com/emersion/go-message/textproto"

	"mailmover/i18n"
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
	// Recovered is true when the part was still handed out in full, only not decoded
	// (an unknown charset or transfer encoding): its bytes are as sent, nothing is lost.
	Recovered bool
	// DataLost is true when the part was handed out as far as it could be decoded, but
	// content was dropped: base64 text after the "=" padding (blocks run together, or a
	// pad in the middle). What was handed out may be cut short; the mail must not be
	// treated as safely saved. (Content that breaks off, a truncated last quantum, is a
	// read error of the part's Body instead.) Recovered is then false.
	DataLost bool
}

// Error describes the part and the failure.
func (e *PartError) Error() string {
	what := i18n.T("MIME structure")
	if e.Index > 0 {
		what = i18n.Sprintf("MIME part %d (%s", e.Index, e.ContentType)
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
		return nil, i18n.Errorf("the message is unreadable: %w", herr)
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

// recovered records a problem with a part that is still handed out in full.
func (w *walker) recovered(index int, p *Part, err error) {
	w.problem(index, p, err)
	w.problems[len(w.problems)-1].(*PartError).Recovered = true
}

// entity walks one entity whose header has been read; body is the rest of it.
func (w *walker) entity(h message.Header, body io.Reader, level, msgDepth int) error {
	if w.stopped {
		return nil
	}
	mt, params := contentType(h)
	if level >= maxNesting && (strings.HasPrefix(mt, "multipart/") || isMessage(mt)) {
		w.problem(0, nil, i18n.Errorf("nested more than %d levels deep; the rest is skipped", maxNesting))
		return nil
	}
	switch {
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
		return w.multipart(params["boundary"], body, level, msgDepth)
	case isMessage(mt):
		return w.message(h, body, level, msgDepth)
	default:
		if strings.HasPrefix(mt, "multipart/") {
			w.problem(0, nil, i18n.Errorf("%s without a boundary; handed out as one part", mt))
		}
		return w.leaf(h, mt, params, body, msgDepth)
	}
}

// skipPreamble reads body up to its first boundary line ("--" + boundary) and returns a
// reader that starts with that line; without one, a reader at its end (NextPart then
// reports the missing boundary).
func skipPreamble(body io.Reader, boundary string) (io.Reader, error) {
	// A boundary is at most 70 characters (RFC 2046); one too long for this buffer is
	// never found, and NextPart then reports the missing boundary.
	br := bufio.NewReaderSize(body, 4096)
	delim := []byte("--" + boundary)
	atLineStart := true
	for {
		line, err := br.ReadSlice('\n')
		if atLineStart && err != bufio.ErrBufferFull && isDelimiterLine(line, delim) {
			return io.MultiReader(bytes.NewReader(bytes.Clone(line)), br), nil
		}
		atLineStart = err != bufio.ErrBufferFull
		switch err {
		case nil, bufio.ErrBufferFull:
		case io.EOF:
			return bytes.NewReader(nil), nil
		default:
			return nil, err
		}
	}
}

// isDelimiterLine reports whether line is a boundary line of delim ("--B", "--B--", with
// optional trailing white space), as the multipart reader will take it.
func isDelimiterLine(line, delim []byte) bool {
	rest, ok := bytes.CutPrefix(line, delim)
	if !ok {
		return false
	}
	return bytes.HasPrefix(rest, []byte("--")) || len(bytes.TrimRight(rest, " \t\r\n")) == 0
}

func isMessage(mt string) bool { return mt == "message/rfc822" || mt == "message/global" }

func (w *walker) multipart(boundary string, body io.Reader, level, msgDepth int) error {
	// The preamble streams past here, without being kept, so that the header limit
	// below applies to the first part's header alone.
	body, err := skipPreamble(body, boundary)
	if err != nil {
		w.problem(0, nil, i18n.Errorf("broken multipart body: %w", err))
		return nil
	}
	lim := &headerLimiter{r: body}
	mr := textproto.NewMultipartReader(lim, boundary)
	var prev io.Reader
	for {
		if prev != nil {
			// Drain the previous part here, so that the header limit below only counts
			// the next part's header.
			if _, err := io.Copy(io.Discard, prev); err != nil {
				if !w.lastFailed { // else the part's own problem says it already
					w.problem(0, nil, i18n.Errorf("broken multipart body: %w", err))
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
			w.problem(0, nil, i18n.Errorf("broken multipart structure: %w", err))
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
	body = transferDecoder(&hh, body)
	ent, err := message.New(hh, body)
	if err != nil && !message.IsUnknownEncoding(err) {
		w.problem(0, nil, i18n.Errorf("attached message: %w", err))
		return nil
	}
	lim := &headerLimiter{r: &partBodyReader{r: ent.Body}}
	br := bufio.NewReader(lim)
	lim.start()
	th, herr := textproto.ReadHeader(br)
	lim.stop()
	if herr != nil {
		w.problem(0, nil, i18n.Errorf("attached message has a broken header: %w", herr))
		return nil
	}
	err = w.entity(message.Header{Header: th}, br, level+1, msgDepth+1)
	w.noteLoss(body, 0, nil)
	return err
}

// noteLoss records a problem of DataLost when body, a part's decoder, dropped content
// (see b64Decoder).
func (w *walker) noteLoss(body io.Reader, index int, p *Part) {
	d, ok := body.(*b64Decoder)
	if !ok || d.afterPad == 0 {
		return
	}
	w.problem(index, p, i18n.Errorf("%d base64 characters after the end padding (\"=\") were not decoded: the content may be incomplete", d.afterPad))
	w.problems[len(w.problems)-1].(*PartError).DataLost = true
}

func (w *walker) leaf(h message.Header, mt string, params map[string]string, body io.Reader, msgDepth int) error {
	if w.index >= maxParts {
		w.stopped = true
		w.problem(0, nil, i18n.Errorf("more than %d parts; the rest is skipped", maxParts))
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
	body = transferDecoder(&hh, body)
	ent, err := message.New(hh, body)
	switch {
	case err == nil:
	case message.IsUnknownCharset(err):
		w.recovered(p.Index, p, i18n.Errorf("unknown charset %q; the text is handed out as sent", p.Charset))
	case message.IsUnknownEncoding(err):
		w.recovered(p.Index, p, i18n.Errorf("%w; the content is handed out as sent", err))
	default:
		w.problem(p.Index, p, err)
	}
	if ent == nil {
		return nil
	}
	pr := &partBodyReader{r: ent.Body, part: p, cte: strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))}
	p.Body = pr
	err = w.fn(p)
	w.lastFailed = pr.failed != nil
	if pr.failed == nil {
		w.noteLoss(body, p.Index, p)
	}
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
	cte    string // the transfer encoding, lower case ("" when none)
	failed *PartError
}

func (r *partBodyReader) Read(p []byte) (int, error) {
	if r.failed != nil {
		return 0, r.failed
	}
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		if r.cte == "base64" || r.cte == "quoted-printable" {
			// "unexpected EOF" alone does not say what broke.
			err = i18n.Errorf("broken %s content (damaged, or cut short): %w", r.cte, err)
		}
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

var errHeaderTooBig = i18n.NewError("a header block exceeds 1 MiB")

func (l *headerLimiter) start()            { l.startWith(maxHeaderBytes) }
func (l *headerLimiter) startWith(n int64) { l.on, l.left = true, n }
func (l *headerLimiter) stop()             { l.on = false }

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

// transferDecoder prepares an entity's body for go-message, given hh, a copy of its header
// that is handed to message.New: base64 and quoted-printable are decoded here, each in one
// pass (b64Decoder with RFC 2045 leniency; qpDecoder exactly as the standard library's
// decoder over a line breaker, see qp.go), and the Content-Transfer-Encoding is removed
// from hh, so that go-message does not decode it again (it still converts the charset of
// a text part).
func transferDecoder(hh *message.Header, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(hh.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		hh.Del("Content-Transfer-Encoding")
		return newQPDecoder(body)
	case "base64":
		hh.Del("Content-Transfer-Encoding")
		return newB64Decoder(body)
	}
	return body
}

// qpMaxLine is where quoted-printable lines are cut (by a soft line break) before they are
// decoded. The standard library's decoder, whose results qpDecoder keeps, fails on lines
// longer than its 4 KiB buffer ("bufio: buffer full"); RFC 2045 allows 76 characters, but
// some mailers send whole HTML documents on one line.
const qpMaxLine = 1000
