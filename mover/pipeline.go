package mover

import (
	"context"
	"errors"

	"mailmover/i18n"
	"mailmover/imapsrc"
)

// BatchFetcher is a Source that can also fetch many messages in one go (see
// imapsrc.Client.FetchBatch, which it has): the envelopes of a set of UIDs in one
// command, then the bodies of the wanted ones streamed by one command. When the Source
// Dial returns has this method, the mover fetches the messages of a search's list
// batchFetchMessages at a time; else one by one with Fetch.
//
// The contract is FetchBatch's: want is asked for each message the server still has
// (Body nil); fn gets each wanted one with its body streaming, in the order the server
// sends them, and must not use the Source; an error from fn ends the batch and the
// connection; FetchBatch returns nil when every wanted message the server still had went
// through fn, else the error that ended the batch.
type BatchFetcher interface {
	FetchBatch(ctx context.Context, uids []uint32, want func(*imapsrc.Message) bool, fn func(*imapsrc.Message) error) error
}

// A FetchBatch asks for the messages of one commit batch (batch.go): batchMessages
// messages, and bodies of batchBytes at most by their RFC822.SIZE (at least one message).
// Between two batch fetches the mover commits, places and applies post-actions (no
// command may be sent while a body command streams); so the messages of a batch fetch
// are committed together and no temporary file of another message waits meanwhile.
const (
	batchFetchMessages = batchMessages
	batchFetchBytes    = batchBytes
)

// spareTempsAhead is how many empty temporary files a batch fetch keeps created ahead.
const spareTempsAhead = 8

// prefetched is what a batch fetch produced for one UID: the saved message (its
// temporary files, not yet synced or committed) or its error.
type prefetched struct {
	got *fetched
	err error
}

// fetchOne returns message uid's fetch: the batch fetch's result when there is one
// (taken: it is used once), else a Fetch of its own.
func (m *Mover) fetchOne(ctx context.Context, s *session, uid uint32) (*fetched, error) {
	if p, ok := s.pre[uid]; ok {
		delete(s.pre, uid)
		return p.got, p.err
	}
	return m.fetchMessage(ctx, s, uid)
}

// prefetch fetches, when the source can fetch in batches and rest[0] was not fetched
// yet, the next messages of rest (the rest of a search's list, in order; at most
// batchFetchMessages and batchFetchBytes) with one FetchBatch, saving each to temporary
// files. Their results wait in s.pre for prepare (fetchOne), which runs the identity
// check, the commit and the post-actions afterwards: no command is sent while the bodies
// stream. The filters are checked on the envelopes: a message they refuse is not
// fetched. UIDs the batch did not get to get its error (a connection error: they are
// retried); UIDs the server no longer has are gone.
func (m *Mover) prefetch(ctx context.Context, s *session, rest []uint32) {
	bf, ok := s.src.(BatchFetcher)
	if !ok || len(rest) == 0 {
		return
	}
	if _, done := s.pre[rest[0]]; done || s.pending[rest[0]] != nil {
		return
	}
	limit := m.fetchLimit
	if limit <= 0 || limit > batchFetchMessages {
		limit = batchFetchMessages
	}
	var uids []uint32
	for _, uid := range rest {
		if len(uids) == limit {
			break
		}
		if _, done := s.pre[uid]; done || s.pending[uid] != nil {
			continue // committed before: prepare finishes it without fetching
		}
		uids = append(uids, uid)
	}
	if len(uids) == 0 {
		return
	}
	if s.pre == nil {
		s.pre = map[uint32]prefetched{}
	}
	if s.dest.spares == nil {
		s.dest.spares = startSpares(s.dest, spareTempsAhead)
	}
	deferred := map[uint32]bool{} // over the byte budget: the next batch fetch takes them
	var n int
	var size int64
	want := func(msg *imapsrc.Message) bool {
		if why := m.filterOut(msg.Envelope); why != "" {
			s.pre[msg.UID] = prefetched{got: &fetched{env: msg.Envelope, filtered: why}}
			return false
		}
		if n > 0 && size+msg.Size > batchFetchBytes {
			deferred[msg.UID] = true
			return false
		}
		n++
		size += msg.Size
		return true
	}
	complete := 0
	err := bf.FetchBatch(ctx, uids, want, func(msg *imapsrc.Message) error {
		got, err := m.saveMessage(ctx, s, msg.UID, func(fn func(*imapsrc.Message) error) error { return fn(msg) })
		s.pre[msg.UID] = prefetched{got: got, err: err}
		if err == nil {
			complete++
		}
		if got != nil {
			for _, f := range got.files {
				s.dest.spares.syncSoon(f.Temp)
			}
		}
		var me *messageError
		if err != nil && !errors.As(err, &me) {
			return err // the connection broke, a stop: the batch is over
		}
		return nil
	})
	switch {
	case err == nil:
		m.fetchLimit = min(2*limit, batchFetchMessages)
	case complete == 0 && isConnErr(err) && ctx.Err() == nil:
		m.fetchLimit = max(limit/2, 1)
	}
	for _, uid := range uids {
		if _, ok := s.pre[uid]; ok || deferred[uid] {
			continue
		}
		if err == nil {
			err := &imapsrc.Error{Kind: imapsrc.KindGone, Host: m.serverName(), Op: i18n.Sprintf("fetch UID %d", uid),
				Reason: i18n.T("the message is no longer in the folder (moved or deleted by another client)")}
			s.pre[uid] = prefetched{err: err}
			continue
		}
		s.pre[uid] = prefetched{err: err}
	}
}

// endPipeline deletes what a session's batch fetches left unused: the temporary files of
// messages fetched but not prepared (the session ended first: they are fetched again
// next time), and it stops the spares. After a simulated crash no file is deleted, as
// after kill -9 (the next start deletes them).
func (m *Mover) endPipeline(s *session, err error) {
	if s.dest.spares != nil {
		s.dest.spares.stop()
		s.dest.spares = nil
	}
	if errors.Is(err, errSimulatedCrash) {
		return
	}
	for uid, p := range s.pre {
		if p.got != nil {
			for _, f := range p.got.files {
				s.dest.removeTemp(f.Temp)
			}
		}
		delete(s.pre, uid)
	}
}
