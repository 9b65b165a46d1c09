package imapsrc

import (
	"bytes"
	"time"

	"mailmover/i18n"
)

// Bounds on what a server can make us read. go-imap v2 (beta.8) keeps no limit of its
// own: it builds every atom, text and quoted string in a strings.Builder and reads every
// literal that is not a body section into memory, and imapclient's deadlines are reset by
// each byte. So the bytes are bounded below it, in wireConn.Read, by respScanner, which
// follows the response structure on the wire (see respScanner). Memory then stays within
// a few times maxResponseText whatever the server sends, and a response that trickles in
// ends after the configured timeout.
const (
	// maxResponseText is the most one response may hold outside body literals: its text,
	// and the literals go-imap reads into memory (envelope fields, folder names). A
	// SEARCH answer with a million UIDs is about 8 MB.
	maxResponseText = 8 << 20

	// maxIdleData is the most a server may send during one IDLE (EXISTS ends the IDLE,
	// so this is flag updates, expunges and "still here" notes).
	maxIdleData = 1 << 20

	// maxSearchData is the most a server may send in answer to one SEARCH (go-imap adds
	// the UIDs of every untagged SEARCH line to one set): about a million UIDs listed one
	// by one. Dovecot answers with ranges (ESEARCH), which are short.
	maxSearchData = 8 << 20

	// bodySlack is what a body FETCH may carry besides its literals, per message.
	bodySlack = 64 << 10
)

// bodyAllowance is the largest body literal accepted for a message whose RFC822.SIZE is
// size: twice the size plus 1 MiB. Servers compute RFC822.SIZE in their own way
// (Exchange's can be off by a few percent), so the margin is wide; it still means a
// broken or hostile server cannot fill the disk with a message it calls small.
func bodyAllowance(size int64) int64 {
	if size < 0 {
		size = 0
	}
	const most = 1 << 62
	if size > most/4 {
		return most
	}
	return 2*size + 1<<20
}

// limitError is why wireConn gave up on a connection: the server sent more, or more
// slowly, than respScanner accepts. The connection is closed; the error is kept so that
// the operation in hand can say what happened.
type limitError struct{ reason string }

func (e *limitError) Error() string { return e.reason }

// asError wraps a limitError for op as an *Error: the connection is gone, like a broken
// one (KindNetwork), so that the caller connects again.
func (e *limitError) asError(host, op string) *Error {
	return &Error{Kind: KindNetwork, Host: host, Op: op, Reason: e.reason,
		Advice: i18n.T("The server sent what no IMAP server should; MailMover closed the connection and connects again on its own. If it keeps happening, tell the server's administrator."),
		Err:    e}
}

// respScanner follows the responses in the bytes read from the server, without parsing
// them: a response is text up to a line end, except that a line ending in "{N}" is
// followed by a literal of N bytes, after which the response goes on. It bounds
//
//   - the bytes of each response outside body literals (maxResponseText): a literal that
//     is not a body section counts too, and one announced larger than what is left fails
//     at once, before go-imap reads it;
//   - a body section's literal ("BODY[] {N}" in a FETCH response) to bodyCap, which only
//     a body FETCH sets (0 otherwise: such a literal then counts as text);
//   - the time one response may take to arrive, body literals left out (textTime): a
//     server that trickles a line, a byte now and then, cannot keep the connection busy
//     for ever.
//
// Text that merely looks like a literal announcement ("* OK see {5}") can only make the
// scanner count more, never less: a literal that is not a body section counts as text,
// and a body section is only recognised in a response that starts "* N FETCH".
type respScanner struct {
	textLeft int64     // what the current response may still hold outside body literals
	litLeft  int64     // bytes of the current literal still to come
	litBody  bool      // the current literal is a body section's (not counted)
	segStart time.Time // when the current stretch of text began (zero: none)
	head     [24]byte  // the response's first bytes (to tell a FETCH response)
	headN    int
	tail     [64]byte // the last bytes of the current line
	tailN    int
}

func newRespScanner() respScanner { return respScanner{textLeft: maxResponseText} }

// scan goes over p, bytes just read. It returns how many of them may be handed on and,
// when a bound is broken, why; bodyCap is the largest body literal accepted now.
func (s *respScanner) scan(p []byte, now time.Time, bodyCap int64, textTime time.Duration) (int, *limitError) {
	i := 0
	for i < len(p) {
		if s.litLeft > 0 && s.litBody {
			k := min(int64(len(p)-i), s.litLeft)
			s.litLeft -= k
			i += int(k)
			continue
		}
		// Text, or a literal that counts as text: it must arrive within textTime.
		if s.segStart.IsZero() {
			s.segStart = now
		} else if textTime > 0 && now.Sub(s.segStart) > textTime {
			return i, errTooSlow(textTime)
		}
		if s.litLeft > 0 { // counted when it was announced
			k := min(int64(len(p)-i), s.litLeft)
			s.litLeft -= k
			i += int(k)
			continue
		}
		j := bytes.IndexByte(p[i:], '\n')
		end := len(p)
		if j >= 0 {
			end = i + j + 1
		}
		seg := p[i:end]
		if int64(len(seg)) > s.textLeft {
			return i, errResponseTooLong()
		}
		s.textLeft -= int64(len(seg))
		s.note(seg)
		i = end
		if j < 0 {
			break
		}
		// A line end: either a literal follows, or the response is complete.
		n, ok, body := s.literal()
		s.tailN = 0
		switch {
		case !ok:
			s.textLeft, s.headN, s.segStart = maxResponseText, 0, time.Time{}
		case body && n <= bodyCap:
			s.litLeft, s.litBody = n, true
			s.segStart = time.Time{} // the text after it starts a stretch of its own
		default:
			if n > s.textLeft {
				return i, errResponseTooLong()
			}
			s.textLeft -= n
			s.litLeft, s.litBody = n, false
		}
	}
	return len(p), nil
}

// note keeps the first bytes of the response and the last bytes of the line.
func (s *respScanner) note(seg []byte) {
	if s.headN < len(s.head) {
		s.headN += copy(s.head[s.headN:], seg)
	}
	if len(seg) >= len(s.tail) {
		s.tailN = copy(s.tail[:], seg[len(seg)-len(s.tail):])
		return
	}
	if keep := len(s.tail) - len(seg); s.tailN > keep {
		copy(s.tail[:], s.tail[s.tailN-keep:s.tailN])
		s.tailN = keep
	}
	s.tailN += copy(s.tail[s.tailN:], seg)
}

// literal reports whether the line just ended announces a literal ("{N}" or "~{N}"
// before the line end), its size, and whether it is a body section's ("] {N}" or
// "]<0> {N}" in a "* N FETCH" response). A size too large for int64 is reported as the
// largest one.
func (s *respScanner) literal() (n int64, ok, body bool) {
	t := s.tail[:s.tailN]
	t = bytes.TrimSuffix(t, []byte("\n"))
	t = bytes.TrimSuffix(t, []byte("\r"))
	if len(t) == 0 || t[len(t)-1] != '}' {
		return 0, false, false
	}
	t = t[:len(t)-1]
	k := len(t)
	for k > 0 && t[k-1] >= '0' && t[k-1] <= '9' {
		k--
	}
	digits := t[k:]
	if len(digits) == 0 || k == 0 || t[k-1] != '{' {
		return 0, false, false
	}
	for _, d := range digits {
		if n > (1<<62)/10 {
			n = 1 << 62
			break
		}
		n = n*10 + int64(d-'0')
	}
	before := bytes.TrimSuffix(t[:k-1], []byte("~"))
	before = bytes.TrimSuffix(before, []byte(" "))
	body = len(before) > 0 && (before[len(before)-1] == ']' || before[len(before)-1] == '>') && s.isFetch()
	return n, true, body
}

// isFetch reports whether the response starts "* N FETCH ".
func (s *respScanner) isFetch() bool {
	h := s.head[:s.headN]
	rest, ok := bytes.CutPrefix(h, []byte("* "))
	if !ok {
		return false
	}
	k := 0
	for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
		k++
	}
	rest = rest[k:]
	return k > 0 && len(rest) >= 7 && rest[0] == ' ' && bytes.EqualFold(rest[1:6], []byte("FETCH")) && rest[6] == ' '
}

// inText reports whether a stretch of text (or of a literal counted as text) is under
// way, and since when.
func (s *respScanner) inText() (time.Time, bool) {
	return s.segStart, !s.segStart.IsZero() && !(s.litLeft > 0 && s.litBody)
}

func errResponseTooLong() *limitError {
	return &limitError{i18n.Sprintf("the server sent a response longer than %d MiB", maxResponseText>>20)}
}

func errTooSlow(d time.Duration) *limitError {
	return &limitError{i18n.Sprintf("the server took longer than %s to send one response", d)}
}
