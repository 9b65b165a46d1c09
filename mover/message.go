package mover

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"mailmover/i18n"
	"mailmover/imapsrc"
	"mailmover/mover/journal"
	"mailmover/store"
)

// messageError is a failure of one message (its content, the disk, a refused command for
// it), as opposed to a failure of the connection. The message is left unmarked and
// retried on the next pass; the others go on.
type messageError struct {
	err    error
	advice string
}

func (e *messageError) Error() string { return e.err.Error() }
func (e *messageError) Unwrap() error { return e.err }

func msgErr(err error, advice string) error {
	if advice == "" {
		advice = adviceFor(err)
	}
	return &messageError{err: err, advice: advice}
}

// hooks are test seams: step is called after each step of a message's protocol and may
// return errSimulatedCrash to stop the mover on the spot, as kill -9 would (no clean-up);
// wrap wraps every file writer (fault injection).
type hooks struct {
	step func(step string, uid uint32) error
	wrap func(io.Writer) io.Writer
}

var errSimulatedCrash = i18n.NewError("simulated crash")

// Steps of a message, in order (names for hooks.step and for doc.go).
const (
	stepFetched    = "fetched"     // temporary files written and synced
	stepCommitted  = "committed"   // commit record durable
	stepPlaced     = "placed"      // files renamed into place, folders synced
	stepPostAction = "post-action" // post-action applied
	stepDone       = "done"        // done record written
)

func (m *Mover) step(name string, uid uint32) error {
	if m.hooks.step == nil {
		return nil
	}
	return m.hooks.step(name, uid)
}

// netReader remembers a read error of the wire, so that a broken connection is told
// apart from a broken message or a full disk. After the first error or EOF it never
// reads the wire again: the IMAP client's own reader owns the connection's buffer from
// then on (a cut connection can also end a literal early with a plain EOF; Fetch then
// reports the cut).
type netReader struct {
	r   io.Reader
	err error // a read error other than EOF
	eof bool
}

func (n *netReader) Read(p []byte) (int, error) {
	if n.err != nil {
		return 0, n.err
	}
	if n.eof {
		return 0, io.EOF
	}
	k, err := n.r.Read(p)
	switch {
	case err == io.EOF:
		n.eof = true
	case err != nil:
		n.err = err
	}
	return k, err
}

// fetched is what the streaming pass over one message produced.
type fetched struct {
	env      imapsrc.Envelope
	identity string
	files    []journal.FileRecord
	filtered string // why the message does not match the filters after all
	// incomplete says why a part was saved with data lost (see journal.MessageRecord).
	incomplete string
}

// fetchMessage streams message uid: it checks the filters on the envelope, saves the
// wanted parts (and the whole message) to temporary files while the message is read from
// the wire, and hashes the raw message for its content identity.
func (m *Mover) fetchMessage(ctx context.Context, s *session, uid uint32) (*fetched, error) {
	return m.saveMessage(ctx, s, uid, func(fn func(*imapsrc.Message) error) error { return s.src.Fetch(ctx, uid, fn) })
}

// saveMessage is fetchMessage over any way of fetching: fetch calls fn once with the
// message (Source.Fetch, or a message FetchBatch hands out; see pipeline.go).
func (m *Mover) saveMessage(ctx context.Context, s *session, uid uint32, fetch func(fn func(*imapsrc.Message) error) error) (*fetched, error) {
	sv := &messageSaver{m: m, ctx: ctx, s: s, uid: uid, got: &fetched{}}
	sv.saveAtt, sv.saveMsg, sv.saveBody = saves(m.prof.Common.Save)
	ok := false
	defer func() {
		if !ok {
			for _, t := range sv.temps {
				s.dest.removeTemp(t)
			}
		}
	}()
	if err := fetch(sv.message); err != nil {
		return nil, err
	}
	sv.keepOneBody()
	ok = true
	return sv.got, nil
}

// messageSaver saves one message as it streams in (saveMessage): the raw bytes go to the
// identity hash (and the .eml), each wanted part to a temporary file of its own.
type messageSaver struct {
	m   *Mover
	ctx context.Context
	s   *session
	uid uint32
	got *fetched

	saveAtt, saveMsg, saveBody bool
	temps                      []string // temporary files made so far (deleted on failure)
	textTemp, htmlTemp         string   // the body's text and HTML parts' temporary files

	env  imapsrc.Envelope
	nr   *netReader // the message from the wire: its error is the connection's
	tw   *errWriter // the raw bytes' side: hash and .eml (its error is a write error)
	hash interface {
		io.Writer
		Sum(b []byte) []byte
	} // the identity: SHA-256 of the raw message, unless the body hashes itself (raw)
	raw    imapsrc.RawHasher // the body, when it computes the identity's hash itself
	eml    *tempFile
	emlBuf *bufio.Writer
}

// message is fetch's callback for the message: filters, then the stream through the
// MIME walker, then the verdict on its parts and the .eml.
func (sv *messageSaver) message(msg *imapsrc.Message) error {
	m, uid := sv.m, sv.uid
	sv.env, sv.got.env = msg.Envelope, msg.Envelope
	if why := m.filterOut(msg.Envelope); why != "" {
		sv.got.filtered = why
		return nil
	}
	m.emit(sv.ctx, Event{Kind: KindMessage, UID: uid, Subject: msg.Envelope.Subject, From: msg.Envelope.From,
		Bytes: msg.Size, Text: i18n.Sprintf("message UID %d from %s: %s", uid, msg.Envelope.From, msg.Envelope.Subject)})
	tee, err := sv.openStream(msg)
	if err != nil {
		return err
	}
	problems, err := imapsrc.WalkParts(tee, sv.part)
	if err != nil {
		var me *messageError
		if errors.As(err, &me) && sv.nr.err == nil {
			return err
		}
		return sv.fail(i18n.Errorf("the message could not be parsed: %w", err))
	}
	if sv.nr.err != nil {
		return sv.nr.err // the connection broke inside a part WalkParts skipped
	}
	// Read the rest (epilogue) so that the hash and the .eml cover the whole message.
	buf := copyBufs.Get().(*[]byte)
	_, err = io.CopyBuffer(io.Discard, onlyReader{tee}, *buf)
	copyBufs.Put(buf)
	if err != nil {
		return sv.fail(err)
	}
	if sv.tw.err != nil {
		return msgErr(sv.tw.err, "")
	}
	if err := sv.judge(problems); err != nil {
		return err
	}
	sum, err := sv.identity()
	if err != nil {
		return err
	}
	sv.got.identity = hex.EncodeToString(sum)
	return sv.finishEML(msg)
}

// openStream sets up the raw side of the message — the identity hash, and the .eml when
// it is wanted — and returns the reader the MIME walker reads through.
func (sv *messageSaver) openStream(msg *imapsrc.Message) (io.Reader, error) {
	sv.nr = &netReader{r: msg.Body}
	var raw io.Writer = io.Discard
	if rh, ok := msg.Body.(imapsrc.RawHasher); ok {
		sv.raw = rh // hashed on the wire reader's goroutine (FetchBatch)
	} else {
		sv.hash = sha256.New()
		raw = sv.hash
	}
	if sv.saveMsg {
		t, err := sv.s.dest.createTemp()
		if err != nil {
			return nil, msgErr(err, "")
		}
		sv.temps = append(sv.temps, t.name)
		sv.eml = t
		var w io.Writer = t.f
		if sv.s.dest.wrap != nil {
			w = sv.s.dest.wrap(w)
		}
		sv.emlBuf = bufio.NewWriterSize(w, copyBufSize)
		if sv.hash != nil {
			raw = io.MultiWriter(sv.hash, sv.emlBuf)
		} else {
			raw = sv.emlBuf
		}
	}
	// A write error of the .eml must not look like a broken message: remember it.
	sv.tw = &errWriter{w: raw}
	if sv.hash == nil && sv.eml == nil {
		return sv.nr, nil // nothing to do with the raw bytes here
	}
	return io.TeeReader(sv.nr, sv.tw), nil
}

// identity returns the SHA-256 of the raw message, read to its end: the body's own
// (RawHasher) or the one computed here.
func (sv *messageSaver) identity() ([]byte, error) {
	if sv.raw == nil {
		return sv.hash.Sum(nil), nil
	}
	sum, ok := sv.raw.RawSHA256()
	if !ok {
		// Read to its end without an error, the body must know its hash; if not, the
		// message is tried again rather than saved under a wrong identity.
		return nil, sv.fail(i18n.Errorf("the message's content hash is missing after reading it to its end"))
	}
	return sum, nil
}

// fail is the message's error for err, unless the connection broke (then that), the
// .eml could not be written (then that) or the run was stopped.
func (sv *messageSaver) fail(err error) error {
	if sv.nr.err != nil {
		return sv.nr.err // the connection broke
	}
	if sv.tw.err != nil {
		return msgErr(sv.tw.err, "")
	}
	if sv.ctx.Err() != nil {
		return sv.ctx.Err()
	}
	return msgErr(err, "")
}

// part saves one MIME part to a temporary file when the profile wants it (an attachment
// matching attachment_mask, or the body's text or HTML part).
func (sv *messageSaver) part(p *imapsrc.Part) error {
	m, uid, c := sv.m, sv.uid, &sv.m.prof.Common
	if sv.ctx.Err() != nil {
		return sv.ctx.Err()
	}
	var name string
	var bodyTemp *string
	switch {
	case sv.saveAtt && p.IsAttachment:
		name = nameForPart(p.Filename, p.ContentType, p.Index)
		if !maskMatches(c.AttachmentMask, name) {
			m.emit(sv.ctx, Event{Kind: KindSkipped, UID: uid, Subject: sv.env.Subject,
				Text: i18n.Sprintf("attachment %q does not match attachment_mask %q", name, c.AttachmentMask)})
			return nil
		}
	case sv.saveBody && p.Depth == 0 && p.IsText && sv.textTemp == "":
		name, bodyTemp = bodyName(sv.env.Subject, uid, ".txt"), &sv.textTemp
	case sv.saveBody && p.Depth == 0 && p.IsHTML && sv.htmlTemp == "":
		name, bodyTemp = bodyName(sv.env.Subject, uid, ".html"), &sv.htmlTemp
	default:
		return nil
	}
	t, err := sv.s.dest.writeTemp(p.Body)
	if err != nil {
		if sv.nr.err != nil {
			return sv.nr.err
		}
		if sv.tw.err != nil {
			return msgErr(sv.tw.err, "")
		}
		return msgErr(i18n.Errorf("saving %q: %w", name, err), "")
	}
	sv.temps = append(sv.temps, t.name)
	sv.got.files = append(sv.got.files, journal.FileRecord{Temp: t.name, Path: m.finalName(name, sv.env, uid),
		SHA256: t.sum(), Bytes: t.bytes})
	if bodyTemp != nil {
		*bodyTemp = t.name
	}
	return nil
}

// judge decides on the problems the MIME walker reported. A part that came out whole but
// undecoded (unknown charset or transfer encoding) is saved as sent: a warning, not a
// failure — retrying could never do better, and the message would never move. A part
// decoded as far as it goes with data lost after its end is saved too, and the mail stays
// in the mailbox (fetched.incomplete, leaveInMailbox). Anything else fails the message.
func (sv *messageSaver) judge(problems []error) error {
	m, uid := sv.m, sv.uid
	var broken []error
	for _, pr := range problems {
		var pe *imapsrc.PartError
		if errors.As(pr, &pe) && pe.Recovered {
			m.emit(sv.ctx, Event{Kind: KindWarning, UID: uid, Subject: sv.env.Subject,
				Text:   i18n.Sprintf("message %d: %v", uid, pe),
				Advice: i18n.T("The part is saved as it was sent; check the file if it matters.")})
			continue
		}
		if errors.As(pr, &pe) && pe.DataLost {
			sv.got.incomplete = pe.Error()
			m.emit(sv.ctx, Event{Kind: KindWarning, UID: uid, Subject: sv.env.Subject,
				Text:   i18n.Sprintf("message %d: %v", uid, pe),
				Advice: i18n.T("The part is saved as far as it could be decoded, and the mail stays in the mailbox (not moved or deleted): compare the file with the mail.")})
			continue
		}
		broken = append(broken, pr)
	}
	if len(broken) > 0 {
		return msgErr(i18n.Errorf("the message's MIME structure is broken (%d problem(s), first: %w)", len(broken), broken[0]),
			i18n.T("The message is left unmarked and tried again on the next pass; save it as .eml from a mail client to look at it."))
	}
	return nil
}

// finishEML closes the .eml (when wanted) and puts it first among the message's files.
func (sv *messageSaver) finishEML(msg *imapsrc.Message) error {
	if sv.eml == nil {
		return nil
	}
	err := sv.emlBuf.Flush()
	if cerr := sv.eml.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return msgErr(i18n.Errorf("saving the message as .eml: %w", err), "")
	}
	sv.eml.bytes = msg.Size
	sv.got.files = append([]journal.FileRecord{{Temp: sv.eml.name,
		Path:   sv.m.finalName(bodyName(msg.Envelope.Subject, sv.uid, ".eml"), msg.Envelope, sv.uid),
		SHA256: sv.got.identity, Bytes: sv.tw.n}}, sv.got.files...)
	return nil
}

// keepOneBody keeps one body file: the text part, else the HTML part.
func (sv *messageSaver) keepOneBody() {
	if sv.textTemp == "" || sv.htmlTemp == "" {
		return
	}
	sv.s.dest.removeTemp(sv.htmlTemp)
	kept := sv.got.files[:0]
	for _, f := range sv.got.files {
		if f.Temp != sv.htmlTemp {
			kept = append(kept, f)
		}
	}
	sv.got.files = kept
}

// errWriter remembers the first write error and then swallows writes, so that reading
// goes on and the error is reported as the disk's, not the message's.
type errWriter struct {
	w   io.Writer
	err error
	n   int64
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err == nil {
		n, err := e.w.Write(p)
		e.n += int64(n)
		if err != nil {
			e.err = err
		}
	}
	return len(p), nil
}

// saves reads the profile's save list.
func saves(list []string) (att, msg, body bool) {
	if len(list) == 0 {
		return true, false, false
	}
	for _, s := range list {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case store.SaveAttachments:
			att = true
		case store.SaveMessage:
			msg = true
		case store.SaveBody:
			body = true
		}
	}
	return
}

// bodyName is the file name of a message's body or .eml: its subject, else "message-UID".
func bodyName(subject string, uid uint32, ext string) string {
	base := SafeName(subject)
	if base == "" {
		base = "message-" + strconv.FormatUint(uint64(uid), 10)
	}
	return cutName(base, maxNameBytes-len(ext)) + ext
}

// finalName expands the profile's file-name template for one file.
func (m *Mover) finalName(name string, env imapsrc.Envelope, uid uint32) string {
	return expandTemplate(m.prof.Destination.Filename, nameVars{Filename: name, Date: env.Date,
		From: env.From, Subject: env.Subject, UID: uid, MessageID: env.MessageID})
}

// filterOut re-checks the profile's filters on the envelope (servers' SEARCH can be
// loose); it returns why the message does not match, or "".
func (m *Mover) filterOut(env imapsrc.Envelope) string {
	c := &m.prof.Common
	if f := strings.TrimSpace(c.From); f != "" {
		who := strings.ToLower(env.From + " " + env.FromName)
		if !strings.Contains(who, strings.ToLower(f)) {
			return i18n.Sprintf("sender %q does not contain %q (from filter)", env.From, f)
		}
	}
	if sub := strings.TrimSpace(c.Subject); sub != "" {
		if !strings.Contains(strings.ToLower(env.Subject), strings.ToLower(sub)) {
			return i18n.Sprintf("subject does not contain %q (subject filter)", sub)
		}
	}
	if since, err := time.Parse("2006-01-02", strings.TrimSpace(c.Since)); err == nil && !env.Date.IsZero() {
		// A day of slack: SEARCH SINCE uses the server's received date and time zone.
		if env.Date.Before(since.Add(-24 * time.Hour)) {
			return i18n.Sprintf("sent %s, before since = %s", env.Date.Format("2006-01-02"), c.Since)
		}
	}
	return ""
}

// postActionTimeout bounds a post-action that runs after a stop was asked for: once the
// files are in place, the message is finished if the server answers in time.
const postActionTimeout = 20 * time.Second

// postAction applies the profile's after = … to uid. It runs even when ctx has ended
// (with its own timeout), so a stop finishes the message in hand.
func (m *Mover) postAction(ctx context.Context, s *session, uid uint32) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postActionTimeout)
	defer cancel()
	var err error
	switch m.prof.Common.After {
	case store.AfterNone:
		return nil
	case store.AfterMove:
		err = s.src.Move(pctx, uid, m.prof.Common.MoveTo)
	case store.AfterDelete:
		err = s.src.Delete(pctx, uid)
	default:
		err = s.src.MarkSeen(pctx, uid)
	}
	gone := false
	if err != nil {
		if imapsrc.KindOf(err) == imapsrc.KindGone {
			gone = true
		} else {
			if isConnErr(err) {
				return err
			}
			return msgErr(i18n.Errorf("post-action (%s) on UID %d: %w", m.prof.Common.After, uid, err), "")
		}
	}
	m.emit(ctx, Event{Kind: KindPostAction, UID: uid, Text: m.postActionText(uid, gone)})
	return nil
}
