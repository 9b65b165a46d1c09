package mover

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"

	"mailmover/auth"
	"mailmover/i18n"
	"mailmover/imapsrc"
	"mailmover/mover/journal"
	"mailmover/store"
)

// onceAttempts is how often RunOnce tries to connect before it gives up.
const onceAttempts = 4

// session is one connection's work on the selected folder.
type session struct {
	src         Source
	state       *journal.StateFile
	dest        *dest
	folder      string
	uidValidity uint32
	pending     map[uint32]*journal.MessageRecord // committed, not done, in this folder
	filtered    map[uint32]bool                   // found by SEARCH, refused by the client-side filters
	pre         map[uint32]prefetched             // fetched by a batch fetch, not prepared yet (pipeline.go)
}

// runState survives reconnects within one Run.
type runState struct {
	uidValidity uint32
	filtered    map[uint32]bool
	failed      int  // messages that failed in the last pass, or wait to be tried again
	aside       int  // of those, the ones set aside
	progressed  bool // a message was finished since the last connection error
}

// errLocal marks a failure of the mover's own files (state, destination) that retrying
// the connection does not cure.
type errLocal struct{ err error }

func (e *errLocal) Error() string { return e.err.Error() }
func (e *errLocal) Unwrap() error { return e.err }

func (m *Mover) run(ctx context.Context, once bool) error {
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return i18n.New("mover: this mover is already running")
	}
	m.running, m.cnt = true, Counters{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.running = false
		m.mu.Unlock()
	}()

	sf, err := journal.Open(m.opts.Home, m.prof.Name)
	if err != nil {
		advice := i18n.Sprintf("Check that the folder %s is writable.", store.StateDir(m.opts.Home))
		if errors.Is(err, store.ErrStateLocked) {
			advice = i18n.T("Stop the other mailmover working on this profile first (another 'mailmover run', the window or the demo).")
		}
		m.emit(ctx, Event{Kind: KindError, Text: err.Error(), Advice: advice})
		m.emit(ctx, Event{Kind: KindStopped, Text: i18n.T("stopped")})
		return err
	}
	if m.opts.FromHome && !store.ProfileExists(m.opts.Home, m.prof.Name) {
		sf.Close()
		err := i18n.Errorf("profile %s was renamed or deleted while it was starting (%s is gone)", m.prof.Name, store.ProfilePath(m.opts.Home, m.prof.Name))
		m.emit(ctx, Event{Kind: KindError, Text: err.Error(), Advice: i18n.T("Start the profile again under its current name.")})
		m.emit(ctx, Event{Kind: KindStopped, Text: i18n.T("stopped")})
		return err
	}
	crashed := false
	defer func() {
		if crashed {
			sf.Abandon()
			return
		}
		if err := sf.Close(); err != nil {
			m.logger.Error("closing the state", "err", err)
		}
	}()
	if !m.opts.NoLogFile {
		l, c, err := OpenLog(m.opts.Home, m.prof.Name)
		if err != nil {
			m.emit(ctx, Event{Kind: KindWarning, Text: i18n.Sprintf("no log file: %v", err)})
		} else {
			m.eventLog = l
			defer func() { m.eventLog = nil; c.Close() }()
		}
	}
	d, err := openDest(m.prof.Destination.Folder, m.prof.Name)
	if err != nil {
		m.emit(ctx, Event{Kind: KindError, Text: err.Error(), Advice: adviceFor(err)})
		m.emit(ctx, Event{Kind: KindStopped, Text: i18n.T("stopped")})
		return err
	}
	defer d.Close()
	d.wrap = m.hooks.wrap
	if err := m.recoverLocal(ctx, sf, d); err != nil {
		if errors.Is(err, errSimulatedCrash) {
			crashed = true
			return err
		}
		m.emit(ctx, Event{Kind: KindError, Text: i18n.Sprintf("recovering after an interruption: %v", err), Advice: adviceFor(err)})
		m.emit(ctx, Event{Kind: KindStopped, Text: i18n.T("stopped")})
		return err
	}

	m.warnLapse(ctx)

	rs := &runState{filtered: map[uint32]bool{}}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = min(500*time.Millisecond, m.opts.MaxRetry)
	bo.MaxInterval = m.opts.MaxRetry
	bo.Multiplier = 2
	bo.RandomizationFactor = 0.5
	bo.Reset()
	attempts := 0
	for {
		m.emit(ctx, Event{Kind: KindConnecting, Text: i18n.Sprintf("connecting to %s", m.serverName())})
		src, err := m.opts.Dial(ctx)
		if err == nil {
			err = m.session(ctx, src, sf, d, rs, once)
			src.Close()
			if errors.Is(err, errSimulatedCrash) {
				crashed = true
				return err
			}
			if ctx.Err() != nil {
				return m.stopped(ctx, nil)
			}
			if err == nil { // RunOnce: the pass is over
				var ferr error
				if rs.failed > 0 {
					ferr = &FailedError{Failed: rs.failed, SetAside: rs.aside}
				}
				return m.stopped(ctx, ferr)
			}
			if rs.progressed {
				bo.Reset()
				attempts, rs.progressed = 0, false
			}
		}
		if ctx.Err() != nil {
			return m.stopped(ctx, nil)
		}
		attempts++
		if advice, ok := needsUser(err); ok {
			m.cnt.Errors++
			m.emit(ctx, Event{Kind: KindPaused, Text: i18n.Sprintf("paused: %v", err), Advice: advice})
			if once {
				return m.stopped(ctx, err)
			}
			if !sleepCtx(ctx, m.opts.PauseRetry) {
				return m.stopped(ctx, nil)
			}
			continue
		}
		if once && attempts >= onceAttempts {
			m.cnt.Errors++
			m.emit(ctx, Event{Kind: KindError, Text: err.Error(), Advice: adviceFor(err)})
			return m.stopped(ctx, err)
		}
		wait := bo.NextBackOff()
		m.emit(ctx, Event{Kind: KindRetry, Text: i18n.Sprintf("connection lost or refused (%v); trying again in %s (attempt %d)", err, wait.Round(100*time.Millisecond), attempts),
			Advice: adviceFor(err)})
		if !sleepCtx(ctx, wait) {
			return m.stopped(ctx, nil)
		}
	}
}

func (m *Mover) stopped(ctx context.Context, err error) error {
	c := m.cnt
	text := i18n.Sprintf("stopped: %d message(s), %d file(s), %d bytes, %d error(s)", c.Messages, c.Files, c.Bytes, c.Errors)
	m.emit(ctx, Event{Kind: KindStopped, Text: text})
	return err
}

func (m *Mover) serverName() string {
	if m.opts.Config.Host != "" {
		return fmt.Sprintf("%s:%d", m.opts.Config.Host, m.opts.Config.Port)
	}
	return fmt.Sprintf("%s:%d", m.prof.Setup.Host, m.prof.Setup.Port)
}

func (m *Mover) folder() string {
	if f := m.prof.Setup.Folder; f != "" {
		return f
	}
	return "INBOX"
}

// filterFingerprint identifies the search settings a mark was reached under.
func (m *Mover) filterFingerprint() string {
	c := &m.prof.Common
	h := sha256.Sum256([]byte(strings.Join([]string{c.Search, c.Since, c.From, c.Subject}, "\x00")))
	return hex.EncodeToString(h[:8])
}

func (m *Mover) criteria(minUID uint32) imapsrc.Criteria {
	cr := Criteria(m.prof)
	cr.MinUID = minUID
	return cr
}

func (m *Mover) pollInterval() time.Duration {
	if d := m.prof.Common.PollInterval.Duration; d > 0 {
		return d
	}
	return time.Minute
}

// session works on one connection: passes over the matching mail, then waiting for new
// mail. It returns nil after one pass when once is set; otherwise only with an error
// (connection lost, stop).
func (m *Mover) session(ctx context.Context, src Source, sf *journal.StateFile, d *dest, rs *runState, once bool) (serr error) {
	folder := m.folder()
	mb, err := src.Select(ctx, folder)
	if err != nil {
		return err
	}
	uv := mb.UIDValidity
	box, err := sf.UseMailbox(folder, uv, m.filterFingerprint())
	if err != nil {
		return &errLocal{err}
	}
	s := &session{src: src, state: sf, dest: d, folder: folder, uidValidity: uv,
		pending: map[uint32]*journal.MessageRecord{}}
	defer func() { m.endPipeline(s, serr) }()
	for _, rec := range sf.State().Pending() {
		if rec.Folder == folder && rec.UIDValidity == uv {
			s.pending[rec.UID] = rec
		}
	}
	if rs.uidValidity != uv {
		rs.uidValidity, rs.filtered = uv, map[uint32]bool{}
	}
	s.filtered = rs.filtered
	m.emit(ctx, Event{Kind: KindConnected, Text: i18n.Sprintf("connected; folder %s selected (%d messages)", folder, mb.Messages)})
	for cycle := 0; ; cycle++ {
		failed := map[uint32]bool{}
		skipped := map[uint32]bool{} // gone meanwhile
		held := map[uint32]bool{}    // failed before and not due (true: set aside)
		now := m.now()
		var cycleMax uint32
		for first := true; ; first = false {
			res, err := src.Search(ctx, m.criteria(box.Mark+1))
			if err != nil {
				return err
			}
			if res.UIDValidity != 0 && res.UIDValidity != uv {
				return i18n.Errorf("the folder's UIDVALIDITY changed from %d to %d (the server renumbered its messages); reconnecting", uv, res.UIDValidity)
			}
			var todo []uint32
			for _, uid := range res.UIDs {
				cycleMax = max(cycleMax, uid)
				if box.IsDone(uid) || failed[uid] || skipped[uid] || s.filtered[uid] {
					continue
				}
				if f := box.Failure(uid); f != nil && s.pending[uid] == nil && (f.Aside || now.Before(f.Next)) {
					held[uid] = f.Aside
					continue
				}
				todo = append(todo, uid)
			}
			if first {
				// Failed messages made due again (RetryFailed) below the mark.
				for _, f := range box.Failed {
					if !f.Aside && !now.Before(f.Next) && f.UID <= box.Mark && !slices.Contains(todo, f.UID) {
						todo = append(todo, f.UID)
					}
				}
				// Committed messages whose post-action or done record is missing, even when
				// the search no longer finds them (the post-action was applied).
				for uid := range s.pending {
					if !slices.Contains(todo, uid) {
						todo = append(todo, uid)
					}
				}
				slices.Sort(todo)
			}
			if len(todo) == 0 {
				break
			}
			m.emit(ctx, Event{Kind: KindFound, Total: len(todo), Text: i18n.Sprintf("%d message(s) to do", len(todo))})
			passBytes := m.cnt.Bytes // KindProgress carries the bytes saved in this pass
			var b batch
			// settle applies an outcome; it returns the error that ends the session.
			settle := func(o outcome) error {
				for uid, err := range o.errs {
					gone, ferr := m.messageFailed(ctx, uid, err)
					if ferr != nil {
						return ferr
					}
					if gone {
						skipped[uid] = true
						if err := sf.Unfail(folder, uv, uid); err != nil {
							return &errLocal{err}
						}
					} else {
						failed[uid] = true
						if err := m.noteFailure(ctx, s, uid, err); err != nil {
							return err
						}
					}
				}
				return o.fatal
			}
			for i, uid := range todo {
				if ctx.Err() != nil {
					// Stop: finish what is fetched (local work, and post-actions with their
					// own short timeout), fetch nothing more.
					m.commit(ctx, s, &b)
					return ctx.Err()
				}
				before, beforeFiles := m.cnt.Messages, m.cnt.Files
				m.prefetch(ctx, s, todo[i:])
				rec, o := m.prepare(ctx, s, &b, uid)
				if err := settle(o); err != nil {
					if !errors.Is(err, errSimulatedCrash) {
						// The messages fetched so far are complete: commit them rather than
						// fetch them again (a connection that keeps breaking must not undo
						// all progress). Their post-actions wait for the next connection if
						// this one is gone.
						o := m.commit(ctx, s, &b)
						if errors.Is(o.fatal, errSimulatedCrash) {
							return o.fatal
						}
						settle(outcome{errs: o.errs})
						if m.cnt.Messages > before || m.cnt.Files > beforeFiles {
							rs.progressed = true // so the next connection starts without a long back-off
						}
					}
					return err
				}
				if rec != nil {
					b.add(rec)
				}
				if b.full() || i == len(todo)-1 {
					if err := settle(m.commit(ctx, s, &b)); err != nil {
						return err
					}
				}
				if m.cnt.Messages > before || m.cnt.Files > beforeFiles {
					rs.progressed = true
				}
				m.emit(ctx, Event{Kind: KindProgress, Done: i + 1, Total: len(todo), Bytes: m.cnt.Bytes - passBytes,
					Text: i18n.Sprintf("%d of %d", i+1, len(todo))})
			}
		}
		// Raise the mark: every UID up to the highest one seen is done or not wanted,
		// except the failed ones.
		mark := cycleMax
		for uid := range failed {
			mark = min(mark, uid-1)
		}
		aside := 0
		for uid, isAside := range held {
			if isAside {
				aside++ // a set-aside message does not hold the mark back
			} else {
				mark = min(mark, uid-1)
			}
		}
		if len(held) > 0 && cycle == 0 {
			m.emit(ctx, Event{Kind: KindWarning, Text: i18n.Sprintf("%d message(s) that failed before wait to be tried again, %d of them set aside", len(held), aside),
				Advice: i18n.Sprintf("The log names each message and why it failed; 'mailmover forget -profile %s -failed' tries them all again now.", m.prof.Name)})
		}
		for uid := range s.pending {
			mark = min(mark, uid-1)
		}
		if err := sf.SetMark(folder, uv, mark); err != nil {
			return &errLocal{err}
		}
		if err := sf.Sync(); err != nil {
			return &errLocal{err}
		}
		rs.failed, rs.aside = len(failed)+len(held), aside
		for uid := range failed {
			if f := box.Failure(uid); f != nil && f.Aside {
				rs.aside++
			}
		}
		if once {
			return nil
		}
		if len(failed) > 0 {
			m.emit(ctx, Event{Kind: KindIdle, Text: i18n.Sprintf("%d message(s) failed; trying them again in %s", len(failed), m.pollInterval())})
			err = src.WaitForMail(ctx, false, m.pollInterval())
		} else {
			idle := m.prof.Common.Watch != store.WatchPoll
			how := "IDLE"
			if !idle {
				how = i18n.Sprintf("polling every %s", m.pollInterval())
			}
			m.emit(ctx, Event{Kind: KindIdle, Text: i18n.Sprintf("waiting for new mail (%s)", how)})
			err = src.WaitForMail(ctx, idle, m.pollInterval())
		}
		if err != nil {
			return err
		}
	}
}

// messageFailed reports a message that failed (or is gone: gone is true) and returns a
// nil error, or returns err when it is not the message's failure but the connection's
// (or a stop, or a simulated crash).
func (m *Mover) messageFailed(ctx context.Context, uid uint32, err error) (gone bool, _ error) {
	var me *messageError
	switch {
	case errors.Is(err, errSimulatedCrash) || ctx.Err() != nil:
		return false, err
	case errors.As(err, &me):
		m.cnt.Errors++
		m.emit(ctx, Event{Kind: KindError, UID: uid, Text: i18n.Sprintf("message UID %d failed and stays unmarked: %v", uid, err), Advice: me.advice})
		return false, nil
	case imapsrc.KindOf(err) == imapsrc.KindGone:
		m.emit(ctx, Event{Kind: KindSkipped, UID: uid, Text: i18n.Sprintf("message UID %d is gone from the folder (moved or deleted by another client)", uid)})
		return true, nil
	case imapsrc.KindOf(err) == imapsrc.KindServer:
		m.cnt.Errors++
		m.emit(ctx, Event{Kind: KindError, UID: uid, Text: i18n.Sprintf("message UID %d failed and stays unmarked: %v", uid, err), Advice: adviceFor(err)})
		return false, nil
	}
	return false, err
}

// noteFailure records that message uid failed, so that it waits longer before each try
// and is set aside after journal.MaxFailures (it says so in the log). Not counted: a
// committed message waiting for its post-action (retrying costs one command), and
// failures of the destination as a whole (disk full, no permission), which are no fault
// of the message.
func (m *Mover) noteFailure(ctx context.Context, s *session, uid uint32, err error) error {
	if s.pending[uid] != nil || destinationWide(err) {
		return nil
	}
	f, serr := s.state.Fail(s.folder, s.uidValidity, uid, err.Error(), m.now())
	if serr != nil {
		return &errLocal{serr}
	}
	if f.Aside {
		m.emit(ctx, Event{Kind: KindError, UID: uid, Text: i18n.Sprintf("message UID %d failed %d times and is set aside: it is not tried again until you ask for it", uid, f.Count),
			Advice: i18n.Sprintf("See the log for why it fails; after fixing the cause run 'mailmover forget -profile %s -failed' (or Forget progress in the window) to try it again.", m.prof.Name)})
	}
	return nil
}

// destinationWide reports errors of the destination as a whole rather than of one
// message.
func destinationWide(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS) ||
		errors.Is(err, syscall.EIO) || errors.Is(err, fs.ErrPermission)
}

func (m *Mover) now() time.Time {
	if m.opts.Now != nil {
		return m.opts.Now()
	}
	return time.Now()
}

// recoverLocal finishes what a crash interrupted, before connecting: committed messages'
// files are put into place (files already there are recognised), and temporary files
// that no commit refers to are removed.
func (m *Mover) recoverLocal(ctx context.Context, sf *journal.StateFile, d *dest) error {
	keep := map[string]bool{}
	for _, rec := range sf.State().Pending() {
		if !slices.ContainsFunc(rec.Files, func(f journal.FileRecord) bool { return f.Temp != "" }) {
			continue
		}
		rd := d
		if rec.Dest != d.dir {
			od, err := openDest(rec.Dest, m.prof.Name)
			if err != nil {
				m.emit(ctx, Event{Kind: KindWarning, UID: rec.UID, Text: i18n.Sprintf("cannot finish message UID %d in its earlier destination %s: %v", rec.UID, rec.Dest, err)})
				continue
			}
			defer od.Close()
			rd = od
		}
		r := *rec
		r.Files = slices.Clone(rec.Files)
		err := m.placeFiles(ctx, rd, &r)
		switch {
		case err == nil:
			// Record the final names; the temporary files are gone.
			if err := sf.Commit(&r); err != nil {
				return err
			}
			m.emit(ctx, Event{Kind: KindWarning, UID: rec.UID, Text: i18n.Sprintf("finished saving message UID %d after an interruption", rec.UID)})
		case errors.Is(err, errTempGone):
			if err := sf.Drop(rec.Identity); err != nil {
				return err
			}
			m.emit(ctx, Event{Kind: KindWarning, UID: rec.UID, Text: i18n.Sprintf("message UID %d: %v; it is fetched again", rec.UID, err)})
		default:
			for _, f := range rec.Files {
				keep[f.Temp] = true
			}
			m.emit(ctx, Event{Kind: KindWarning, UID: rec.UID, Text: i18n.Sprintf("message UID %d: %v; trying again later", rec.UID, err), Advice: adviceFor(err)})
		}
		if err := m.step("recovered", rec.UID); err != nil {
			return err
		}
	}
	if n, err := d.cleanTemps(keep); err != nil {
		m.emit(ctx, Event{Kind: KindWarning, Text: i18n.Sprintf("cleaning up temporary files: %v", err)})
	} else if n > 0 {
		m.emit(ctx, Event{Kind: KindWarning, Text: i18n.Sprintf("removed %d unfinished temporary file(s) of an interrupted run", n)})
	}
	return nil
}

// needsUser tells errors that only the user can fix (sign in again, a setting) and what
// to do about them.
func needsUser(err error) (string, bool) {
	var le *errLocal
	if errors.As(err, &le) {
		advice := adviceFor(err)
		if advice == "" {
			advice = i18n.T("MailMover cannot write its state or files: check the free space and permissions of its folders.")
		}
		return advice, true
	}
	var re *auth.ReauthError
	if errors.As(err, &re) {
		_, advice := auth.DescribeError(err)
		if advice == "" {
			advice = i18n.Sprintf("Sign in again: press GET in the window or run 'mailmover login -profile %s'.", re.Profile)
		}
		return advice, true
	}
	switch imapsrc.KindOf(err) {
	case imapsrc.KindAuth, imapsrc.KindConfig, imapsrc.KindTLS, imapsrc.KindInsecure,
		imapsrc.KindMechanism, imapsrc.KindFolder, imapsrc.KindNotConnected:
		return adviceFor(err), true
	}
	return "", false
}

// isConnErr reports whether err is the connection's (not the message's).
func isConnErr(err error) bool {
	var me *messageError
	if errors.As(err, &me) {
		return false
	}
	switch imapsrc.KindOf(err) {
	case imapsrc.KindServer, imapsrc.KindGone, imapsrc.KindFolder:
		return false
	}
	return true
}

// adviceFor says what the user should check about err (Explain's Fix; emit fills in the
// profile's name).
func adviceFor(err error) string { return Explain(err, "").Fix }

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// warnLapse sends a KindWarning when the profile's refresh token nears the provider's
// known lapse (Microsoft: 90 days unused; Google apps in "Testing": 7 days after the
// sign-in), and when an app-only profile's client certificate ends within 30 days
// (auth.CredentialWarning), so that the user acts before the mover stops.
func (m *Mover) warnLapse(ctx context.Context) {
	if m.opts.Secrets == nil || m.prof.Security.Auth == store.AuthPassword {
		return
	}
	now := time.Now
	if m.opts.Now != nil {
		now = m.opts.Now
	}
	if w := auth.LapseWarningForProfile(m.prof.Name, m.prof.OAuth2, m.opts.Secrets, now()); w != "" {
		m.emit(ctx, Event{Kind: KindWarning, Text: i18n.Sprintf("sign-in: %s", w),
			Advice: i18n.Sprintf("Sign in again before then: press GET on the OAuth2 tab or run 'mailmover login -profile %s'.", m.prof.Name)})
	}
	// An app credential's known end (a client certificate's NotAfter).
	if w, advice := auth.CredentialWarning(m.prof, m.opts.Secrets, now()); w != "" {
		m.emit(ctx, Event{Kind: KindWarning, Text: i18n.Sprintf("sign-in: %s", w), Advice: advice})
	}
}
