package mover

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"mailmover/imapsrc"
)

// fakeServer is an in-memory mailbox for the mover's unit tests, with fault injection.
type fakeServer struct {
	mu          sync.Mutex
	uidValidity uint32
	nextUID     uint32
	folders     map[string][]*fakeMsg
	newMail     chan struct{}

	// Faults.
	cutAfter     map[uint32]int64 // fetch of UID breaks after N bytes (once)
	failPost     map[uint32]int   // post-action on UID fails N times with a server error
	failDial     int              // next N dials fail
	fetches      map[uint32]int
	postActions  map[uint32]int
	dials        int
	searchHook   func()           // called at every search (e.g. to append mail during a pass)
	postHook     func(uid uint32) // called before a post-action is applied
	batch        bool             // sources offer the post-actions for UID sets (BatchSource)
	batchCalls   int              // post-action commands for UID sets
	fetchBatch   bool             // sources also fetch in batches (BatchFetcher, pipeline_test.go)
	batchFetches [][]uint32       // the UIDs of each FetchBatch
	beforeBodies func()           // called in FetchBatch between envelopes and bodies
}

type fakeMsg struct {
	uid  uint32
	raw  []byte
	seen bool
}

func newFakeServer() *fakeServer {
	return &fakeServer{uidValidity: 7, nextUID: 1, folders: map[string][]*fakeMsg{"INBOX": nil},
		newMail: make(chan struct{}, 1), cutAfter: map[uint32]int64{}, failPost: map[uint32]int{},
		fetches: map[uint32]int{}, postActions: map[uint32]int{}}
}

func (f *fakeServer) add(folder string, raw []byte) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	uid := f.nextUID
	f.nextUID++
	f.folders[folder] = append(f.folders[folder], &fakeMsg{uid: uid, raw: raw})
	select {
	case f.newMail <- struct{}{}:
	default:
	}
	return uid
}

// renumber gives every message a new UID and the folder a new UIDVALIDITY.
func (f *fakeServer) renumber() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uidValidity++
	for _, msgs := range f.folders {
		for _, m := range msgs {
			m.uid += 1000
		}
	}
	f.nextUID += 1000
}

func (f *fakeServer) find(folder string, uid uint32) *fakeMsg {
	for _, m := range f.folders[folder] {
		if m.uid == uid {
			return m
		}
	}
	return nil
}

func (f *fakeServer) count(folder string) (all, unseen int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.folders[folder] {
		all++
		if !m.seen {
			unseen++
		}
	}
	return
}

func (f *fakeServer) dial(ctx context.Context) (Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials++
	if f.failDial > 0 {
		f.failDial--
		return nil, &imapsrc.Error{Kind: imapsrc.KindConnect, Op: "connect", Reason: "connection refused (fake)"}
	}
	if f.batch {
		return f.withFetchBatch(&fakeBatchSource{fakeSource{srv: f}}), nil
	}
	return f.withFetchBatch(&fakeSource{srv: f}), nil
}

type fakeSource struct {
	srv    *fakeServer
	folder string
	broken bool
}

var errBroken = &imapsrc.Error{Kind: imapsrc.KindNetwork, Op: "read", Reason: "connection reset (fake)"}

func (s *fakeSource) Select(ctx context.Context, name string) (imapsrc.Mailbox, error) {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if _, ok := s.srv.folders[name]; !ok {
		return imapsrc.Mailbox{}, &imapsrc.Error{Kind: imapsrc.KindFolder, Reason: "no such folder"}
	}
	s.folder = name
	return imapsrc.Mailbox{Name: name, UIDValidity: s.srv.uidValidity, Messages: uint32(len(s.srv.folders[name]))}, nil
}

func header(raw []byte) imapsrc.Envelope {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return imapsrc.Envelope{}
	}
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	env := imapsrc.Envelope{Subject: subj, MessageID: msg.Header.Get("Message-Id")}
	if a, err := mail.ParseAddress(msg.Header.Get("From")); err == nil {
		env.From, env.FromName = a.Address, a.Name
	}
	env.Date, _ = msg.Header.Date()
	return env
}

func (s *fakeSource) Search(ctx context.Context, cr imapsrc.Criteria) (imapsrc.SearchResult, error) {
	if s.srv.searchHook != nil {
		s.srv.searchHook()
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.broken {
		return imapsrc.SearchResult{}, errBroken
	}
	res := imapsrc.SearchResult{UIDValidity: s.srv.uidValidity}
	for _, m := range s.srv.folders[s.folder] {
		env := header(m.raw)
		if cr.UnseenOnly && m.seen || m.uid < cr.MinUID {
			continue
		}
		if cr.From != "" && !strings.Contains(strings.ToLower(env.From), strings.ToLower(cr.From)) {
			continue
		}
		res.UIDs = append(res.UIDs, m.uid)
	}
	slices.Sort(res.UIDs)
	return res, nil
}

// cutReader fails after n bytes, like a connection that breaks.
type cutReader struct {
	r io.Reader
	n int64
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errBroken
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
}

func (s *fakeSource) Fetch(ctx context.Context, uid uint32, fn func(*imapsrc.Message) error) error {
	s.srv.mu.Lock()
	if s.broken {
		s.srv.mu.Unlock()
		return errBroken
	}
	m := s.srv.find(s.folder, uid)
	if m == nil {
		s.srv.mu.Unlock()
		return &imapsrc.Error{Kind: imapsrc.KindGone, Reason: "gone"}
	}
	s.srv.fetches[uid]++
	raw := m.raw
	var body io.Reader = bytes.NewReader(raw)
	cut, isCut := s.srv.cutAfter[uid]
	if isCut {
		delete(s.srv.cutAfter, uid)
		body = &cutReader{r: body, n: cut}
	}
	s.srv.mu.Unlock()
	err := fn(&imapsrc.Message{UID: uid, Size: int64(len(raw)), Envelope: header(raw), Body: body})
	if isCut {
		s.broken = true
		return errBroken
	}
	return err
}

func (s *fakeSource) post(uid uint32, f func(m *fakeMsg)) error {
	if s.srv.postHook != nil {
		s.srv.postHook(uid)
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.broken {
		return errBroken
	}
	if s.srv.failPost[uid] > 0 {
		s.srv.failPost[uid]--
		return &imapsrc.Error{Kind: imapsrc.KindServer, Reason: "NO [SERVERBUG] post-action refused (fake)"}
	}
	s.srv.postActions[uid]++
	if m := s.srv.find(s.folder, uid); m != nil {
		f(m)
	}
	return nil
}

func (s *fakeSource) MarkSeen(ctx context.Context, uid uint32) error {
	return s.post(uid, func(m *fakeMsg) { m.seen = true })
}

func (s *fakeSource) Move(ctx context.Context, uid uint32, folder string) error {
	return s.post(uid, func(m *fakeMsg) {
		msgs := s.srv.folders[s.folder]
		i := slices.Index(msgs, m)
		s.srv.folders[s.folder] = slices.Delete(msgs, i, i+1)
		cp := *m
		cp.uid = s.srv.nextUID
		s.srv.nextUID++
		s.srv.folders[folder] = append(s.srv.folders[folder], &cp)
	})
}

func (s *fakeSource) Delete(ctx context.Context, uid uint32) error {
	return s.post(uid, func(m *fakeMsg) {
		msgs := s.srv.folders[s.folder]
		i := slices.Index(msgs, m)
		s.srv.folders[s.folder] = slices.Delete(msgs, i, i+1)
	})
}

func (s *fakeSource) WaitForMail(ctx context.Context, idle bool, poll time.Duration) error {
	var t <-chan time.Time
	if !idle {
		tm := time.NewTimer(poll)
		defer tm.Stop()
		t = tm.C
	}
	select {
	case <-s.srv.newMail:
		return nil
	case <-t:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *fakeSource) Close() error { return nil }

// attachment is one file of a test message.
type attachment struct {
	name, ctype string
	data        []byte
}

// buildMessage makes a multipart message with a text body and attachments.
func buildMessage(id int, subject, from, text string, atts ...attachment) []byte {
	var b bytes.Buffer
	boundary := fmt.Sprintf("b-%d-boundary", id)
	fmt.Fprintf(&b, "From: %s\r\nTo: inbox@example.com\r\nSubject: %s\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\nMessage-ID: <m%d@example.com>\r\nMIME-Version: 1.0\r\n",
		from, mime.QEncoding.Encode("utf-8", subject), id)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", boundary, text)
	for _, a := range atts {
		ct := a.ctype
		if ct == "" {
			ct = "application/octet-stream"
		}
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n", boundary, ct)
		if a.name != "" {
			fmt.Fprintf(&b, "Content-Disposition: attachment; filename=%q\r\n", a.name)
		} else {
			fmt.Fprintf(&b, "Content-Disposition: attachment\r\n")
		}
		b.WriteString("\r\n")
		enc := base64.StdEncoding.EncodeToString(a.data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

var _ = errors.New
