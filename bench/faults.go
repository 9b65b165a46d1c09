package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailmover/internal/oidcdev"
	"mailmover/store"
)

// FaultOptions configure the end-to-end fault suite.
type FaultOptions struct {
	Server    Server
	Mailmover string   // the mailmover binary
	Dir       string   // working folder (its contents are replaced)
	Env       []string // environment of mailmover (a keyring holding Profile's password)
	Profile   string   // profile name, e.g. "benchsoak"
	Spec      Spec     // the mailbox (DefaultSpec(seed, 1000, "s"))
	Folder    string   // source folder; Folder+"Done" receives the moved mail
	Cuts      int      // connection cuts by the proxy (at random byte offsets)
	Kills     int      // kill -9 of the mover, restarted at once
	// RestartServer restarts the IMAP server (nil: no server restart).
	RestartServer  func() error
	ServerRestarts int
	// DiskFull fills the destination (a tmpfs mounted for the run; needs root) until the
	// mover reports it, then frees it. When the mount fails the fault is skipped.
	DiskFull bool
	// RateLimit caps the proxy's server → client bytes per second (0: none), so that the
	// faults land while work remains.
	RateLimit int64
	Timeout   time.Duration // for the whole run
	Seed      uint64        // of the fault schedule
	Logf      func(string, ...any)
	// OAuth, when set, makes the profile sign in with XOAUTH2 at a test provider instead
	// of with Server's password, and adds the token faults (see OAuthFaults). The suite
	// itself still reads and seeds the server with the password.
	OAuth *OAuthFaults
}

// FaultReport is the outcome of the fault suite.
type FaultReport struct {
	Messages, Attachments       int
	Files, Lost, Duplicated     int
	Extra, TempsLeft            int
	MovedWithoutFiles, LeftOver int // moved mail whose files are missing; mail not moved
	Cuts, Kills, ServerRestarts int
	DiskFulls                   int
	DiskFullNote                string
	TokenExpiries               int // access tokens ended mid-run (then the connections cut)
	RefreshRevokes              int // refresh token revoked, pause seen, signed in again
	TokenNote                   string
	SignIns                     int // new sign-ins by the suite (after a pause for one)
	UnexpectedSignIns           int // pauses for a sign-in the suite did not cause
	Exits                       int // mover exits not caused by the suite
	LogRetries, LogDiskFull     int // log lines that name the faults
	LogRecovered                int
	LogTokenRefused             int // "the server refused the access token; refreshing it"
	LogSignInPauses             int // paused events asking for a new sign-in
	Elapsed                     time.Duration
}

// Unnamed says which token faults the mover's log does not name ("" when it names all):
// each access-token expiry should show as a refused token that was refreshed, each
// revoked refresh token as a pause for a new sign-in.
func (r *FaultReport) Unnamed() string {
	var miss []string
	if r.TokenExpiries > 0 && r.LogTokenRefused == 0 {
		miss = append(miss, fmt.Sprintf("%d token expiries but no refused-token line", r.TokenExpiries))
	}
	if r.LogSignInPauses < r.RefreshRevokes {
		miss = append(miss, fmt.Sprintf("%d refresh tokens revoked but %d pauses for a sign-in", r.RefreshRevokes, r.LogSignInPauses))
	}
	return strings.Join(miss, "; ")
}

// OK reports whether nothing was lost, doubled, or moved without its files.
func (r *FaultReport) OK() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.Extra == 0 && r.TempsLeft == 0 && r.MovedWithoutFiles == 0 && r.LeftOver == 0
}

// Summary is the one-line result.
func (r *FaultReport) Summary() string {
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	return fmt.Sprintf("fault suite: %s — %d messages, %d attachments: %d files, lost %d, duplicated %d, extra %d, temp files left %d, moved without files %d, not moved %d | faults: %d cuts, %d kill -9, %d server restarts, %d disk full%s, %d token expiries, %d refresh revoked%s | log: %d retries, %d disk-full errors, %d recoveries, %d refused tokens refreshed, %d pauses for sign-in | %d sign-ins again, %d unexpected sign-in pauses, %d unexpected exits | %.0f s",
		verdict, r.Messages, r.Attachments, r.Files, r.Lost, r.Duplicated, r.Extra, r.TempsLeft, r.MovedWithoutFiles, r.LeftOver,
		r.Cuts, r.Kills, r.ServerRestarts, r.DiskFulls, r.DiskFullNote, r.TokenExpiries, r.RefreshRevokes, r.TokenNote,
		r.LogRetries, r.LogDiskFull, r.LogRecovered, r.LogTokenRefused, r.LogSignInPauses,
		r.SignIns, r.UnexpectedSignIns, r.Exits, r.Elapsed.Seconds())
}

// prepareSoakMailbox puts every message of spec back into folder (unseen) and empties
// done, re-seeding when the server does not hold exactly that mailbox.
func prepareSoakMailbox(o *FaultOptions, done string) (*Manifest, error) {
	manifestPath := filepath.Join(filepath.Dir(o.Dir), "manifest-"+o.Folder+".json")
	if m, err := ReadManifest(manifestPath); err == nil && m.Spec == o.Spec {
		a, _ := o.Server.Count(o.Folder)
		b, _ := o.Server.Count(done)
		if a+b == o.Spec.N {
			c, err := o.Server.Dial()
			if err != nil {
				return nil, err
			}
			defer c.Close()
			if b > 0 {
				if _, err := c.Select(done, nil).Wait(); err != nil {
					return nil, err
				}
				var all imap.SeqSet
				all.AddRange(1, 0)
				if _, err := c.Move(all, o.Folder).Wait(); err != nil {
					return nil, fmt.Errorf("moving the mail back to %s: %w", o.Folder, err)
				}
			}
			if _, err := c.Select(o.Folder, nil).Wait(); err != nil {
				return nil, err
			}
			var all imap.SeqSet
			all.AddRange(1, 0)
			if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
				return nil, err
			}
			o.Logf("soak: %d messages put back into %s", o.Spec.N, o.Folder)
			return m, nil
		}
	}
	if err := o.Server.Recreate(done); err != nil {
		return nil, err
	}
	return o.Server.Seed(o.Spec, o.Folder, manifestPath, o.Logf)
}

// moverProc is the running `mailmover run`.
type moverProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// RunFaults runs the fault suite: `mailmover run` (after = move, watching) moves the
// folder through a connection-cutting proxy while it is killed, the server restarts and
// the destination fills up, and (with o.OAuth) while its access token is ended before its
// announced expiry and its refresh token is revoked (it must pause for a new sign-in,
// which the suite then does, as `mailmover login` would, before starting it again); then
// it checks every attachment is on disk exactly once and every moved message's files are
// there, and counts the log lines that name the faults.
func RunFaults(ctx context.Context, o FaultOptions) (*FaultReport, error) {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Minute
	}
	done := o.Folder + "Done"
	rep := &FaultReport{}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	os.RemoveAll(o.Dir)
	home, dest := filepath.Join(o.Dir, "home"), filepath.Join(o.Dir, "dest")
	for _, d := range []string{home, dest} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	m, err := prepareSoakMailbox(&o, done)
	if err != nil {
		return nil, err
	}
	rep.Messages, rep.Attachments = m.Spec.N, m.TotalAtt

	// The destination: a tmpfs of bounded size, so that it can be filled.
	mounted := false
	if o.DiskFull {
		size := m.AttBytes + m.AttBytes/2 + 64<<20
		out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0755", size), "tmpfs", dest).CombinedOutput()
		if err != nil {
			rep.DiskFullNote = fmt.Sprintf(" (skipped: mount tmpfs: %v %s)", err, strings.TrimSpace(string(out)))
			o.DiskFull = false
		} else {
			mounted = true
			defer exec.Command("umount", "-l", dest).Run()
		}
	}

	proxy, err := NewProxy(o.Server.Addr())
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	proxy.SetRate(o.RateLimit)

	// The profile: through the proxy, every message moved to done, polling failed ones often.
	env := &Env{Server: o.Server}
	p := env.Profile(o.Profile, o.Folder, dest)
	p.Setup.Port = proxy.Port()
	p.Common.Search, p.Common.After, p.Common.MoveTo = store.SearchAll, store.AfterMove, done
	p.Common.Watch, p.Common.PollInterval = store.WatchIdle, store.Duration{Duration: 5 * time.Second}
	runArgs := []string{"run", "-profile", o.Profile}
	if o.OAuth != nil {
		o.OAuth.defaults()
		o.OAuth.apply(p)
		runArgs = append(runArgs, "-v") // the sign-in diagnostics name the token faults
		if err := o.OAuth.SignIn(ctx, o.Profile); err != nil {
			return nil, err
		}
		defer o.OAuth.Forget(o.Profile)
	}
	if err := WriteProfile(home, p); err != nil {
		return nil, err
	}
	logPath := filepath.Join(o.Dir, "mover.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	tail := &moverLog{path: logPath}

	var mp *moverProc
	startMover := func() error {
		cmd := exec.Command(o.Mailmover, runArgs...)
		// English texts, so that the log lines that name the faults can be recognised.
		cmd.Env = append(append([]string{}, o.Env...), store.HomeEnv+"="+home, "LANGUAGE=en_US", "LC_ALL=C.UTF-8")
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting mailmover: %w", err)
		}
		np := &moverProc{cmd: cmd, exited: make(chan struct{})}
		go func() { np.err = cmd.Wait(); close(np.exited) }()
		mp = np
		return nil
	}
	// ensureRunning restarts a mover that exited on its own (counted).
	ensureRunning := func() error {
		select {
		case <-mp.exited:
			rep.Exits++
			fmt.Fprintf(logFile, "=== soak: mailmover exited by itself (%v); starting it again\n", mp.err)
			return startMover()
		default:
			return nil
		}
	}
	stopMover := func() {
		mp.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-mp.exited:
		case <-time.After(30 * time.Second):
			mp.cmd.Process.Kill()
			<-mp.exited
		}
	}
	// signInAgain stops the mover (paused for a sign-in), signs in as `mailmover login`
	// would, and starts it again.
	signInAgain := func() error {
		stopMover()
		if err := o.OAuth.SignIn(ctx, o.Profile); err != nil {
			return err
		}
		rep.SignIns++
		return startMover()
	}
	note := func(format string, args ...any) {
		fmt.Fprintf(logFile, "=== soak %s: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
	// checkMover restarts a mover that exited by itself and, with OAuth, signs in again
	// when the mover paused for a sign-in the suite did not cause (counted).
	pausesSeen := 0
	checkMover := func() error {
		if err := ensureRunning(); err != nil {
			return err
		}
		if o.OAuth == nil {
			return nil
		}
		if tail.update(); tail.signInPauses > pausesSeen {
			pausesSeen = tail.signInPauses
			rep.UnexpectedSignIns++
			note("the mover paused for a sign-in the suite did not cause; signing in again")
			return signInAgain()
		}
		return nil
	}
	if err := startMover(); err != nil {
		return nil, err
	}
	defer func() {
		if mp != nil {
			mp.cmd.Process.Kill()
			<-mp.exited
		}
	}()

	remaining := func() (int, int) {
		a, _ := o.Server.Count(o.Folder)
		b, _ := o.Server.Count(done)
		return a, b
	}

	// The schedule: every fault once per count, in a random order.
	var faults []string
	for range o.Cuts {
		faults = append(faults, "cut")
	}
	for range o.Kills {
		faults = append(faults, "kill")
	}
	if o.RestartServer != nil {
		for range o.ServerRestarts {
			faults = append(faults, "restart")
		}
	}
	if o.DiskFull {
		faults = append(faults, "full")
	}
	if o.OAuth != nil {
		for range o.OAuth.Expiries {
			faults = append(faults, "expire")
		}
		for range o.OAuth.Revokes {
			faults = append(faults, "revoke")
		}
	}
	r := rand.New(rand.NewPCG(o.Seed, 4242))
	r.Shuffle(len(faults), func(i, j int) { faults[i], faults[j] = faults[j], faults[i] })
	// Token faults are kept apart: the mover takes the token it refreshed within the last
	// few seconds for good even when the server refuses it (several connections may
	// refuse the same old token at once), so a second expiry right after a refresh would
	// pause it for a sign-in.
	var lastToken time.Time
	tokenGap := func() {
		if d := 6*time.Second - time.Since(lastToken); d > 0 {
			sleepFor(ctx, d)
		}
	}
	// Faults are spread over the progress of the run: fault i fires once i/(len+1) of
	// the messages are in the done folder or i/(len+1) of the mailbox's bytes have come
	// through the proxy (the mover moves mail in batches, so the done folder grows in
	// jumps), or at once if the mover got there first, so that each lands while work
	// remains.
	for i, f := range faults {
		threshold := (i + 1) * m.Spec.N / (len(faults) + 1)
		byteThreshold := int64(i+1) * m.TotalBytes / int64(len(faults)+1)
		for {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("the fault suite timed out after %d of %d faults: %w", i, len(faults), ctx.Err())
			}
			if err := checkMover(); err != nil {
				return nil, err
			}
			if _, b := remaining(); b >= threshold || proxy.BytesDown() >= byteThreshold {
				break
			}
			sleepFor(ctx, 100*time.Millisecond)
		}
		switch f {
		case "cut":
			extra := int64(1 + r.IntN(4<<20)) // within the next 4 MB from the server
			note("cut the connection after %d more bytes", extra)
			if proxy.CutAfter(extra, 10*time.Second) || proxy.CutNow() {
				rep.Cuts++
			}
		case "kill":
			sleepFor(ctx, time.Duration(r.IntN(1000))*time.Millisecond)
			note("kill -9 mailmover (pid %d)", mp.cmd.Process.Pid)
			mp.cmd.Process.Signal(syscall.SIGKILL)
			<-mp.exited
			rep.Kills++
			if err := startMover(); err != nil {
				return nil, err
			}
		case "restart":
			// Dovecot may let running sessions live through a restart of its master; a
			// restarting server drops its clients, so the proxy drops them too.
			note("restarting the server (dropping %d connection(s))", proxy.CutAll())
			if err := o.RestartServer(); err != nil {
				return nil, fmt.Errorf("restarting the server: %w", err)
			}
			rep.ServerRestarts++
		case "full":
			note("filling the destination")
			if err := fillUntilReported(ctx, dest, logPath, 30*time.Second); err != nil {
				rep.DiskFullNote = " (" + err.Error() + ")"
			} else {
				rep.DiskFulls++
			}
			note("destination freed")
		case "expire":
			tokenGap()
			tail.update()
			before := tail.refused
			n, err := oidcdev.ExpireAccessTokensAt(ctx, o.OAuth.Issuer, o.OAuth.ClientID)
			if err != nil {
				return nil, err
			}
			note("expired %d access token(s) of client %s at the provider; dropped %d connection(s) so that the mover signs in again",
				n, o.OAuth.ClientID, proxy.CutAll())
			if n == 0 {
				rep.TokenNote += " (an expiry found no live access token)"
				break
			}
			rep.TokenExpiries++
			// The server refuses the old token; the mover refreshes it once and goes on.
			deadline := time.Now().Add(45 * time.Second)
			for tail.refused == before && time.Now().Before(deadline) && ctx.Err() == nil {
				if err := checkMover(); err != nil {
					return nil, err
				}
				sleepFor(ctx, 200*time.Millisecond)
				tail.update()
			}
			if tail.refused == before {
				note("the mover did not log a refused token within 45 s")
			}
			lastToken = time.Now()
		case "revoke":
			tokenGap()
			tail.update()
			before := tail.signInPauses
			nr, err := oidcdev.RevokeRefreshTokensAt(ctx, o.OAuth.Issuer, o.OAuth.ClientID)
			if err != nil {
				return nil, err
			}
			ne, err := oidcdev.ExpireAccessTokensAt(ctx, o.OAuth.Issuer, o.OAuth.ClientID)
			if err != nil {
				return nil, err
			}
			note("revoked %d refresh token(s) and expired %d access token(s) of client %s at the provider; dropped %d connection(s): the mover must pause for a new sign-in",
				nr, ne, o.OAuth.ClientID, proxy.CutAll())
			deadline := time.Now().Add(90 * time.Second)
			for tail.signInPauses == before && time.Now().Before(deadline) && ctx.Err() == nil {
				if err := ensureRunning(); err != nil {
					return nil, err
				}
				sleepFor(ctx, 200*time.Millisecond)
				tail.update()
			}
			pausesSeen = tail.signInPauses
			if tail.signInPauses == before {
				rep.TokenNote += " (a revoked refresh token did not pause the mover within 90 s)"
			} else if nr > 0 {
				rep.RefreshRevokes++
			}
			note("signing in again (as mailmover login) and restarting the mover")
			if err := signInAgain(); err != nil {
				return nil, err
			}
			lastToken = time.Now()
		}
		a, b := remaining()
		o.Logf("soak: fault %d/%d %-7s — %d left in %s, %d in %s", i+1, len(faults), f, a, o.Folder, b, done)
	}
	// Wait for the mover to finish the folder.
	o.Logf("soak: faults done (%.0f s); waiting for the mover to finish", time.Since(start).Seconds())
	for {
		if err := checkMover(); err != nil {
			return nil, err
		}
		a, b := remaining()
		if a == 0 && b == m.Spec.N {
			break
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the mover did not finish in %s: %d left in %s, %d in %s (log: %s)", o.Timeout, a, o.Folder, b, done, logPath)
		}
		sleepFor(ctx, time.Second)
	}
	// Let it checkpoint, then stop it gracefully.
	sleepFor(ctx, 2*time.Second)
	stopMover()
	mp = nil

	// Verify: files against the manifest, moved mail against the files.
	dc, err := CheckDest(dest, m)
	if err != nil {
		return nil, err
	}
	rep.Files, rep.Lost, rep.Duplicated, rep.Extra, rep.TempsLeft = dc.Files, dc.Lost, dc.Duplicated, dc.Extra, dc.Temps
	ids, err := o.Server.MessageIDs(done)
	if err != nil {
		return nil, err
	}
	byID := map[string]MessageInfo{}
	for _, mi := range m.Messages {
		byID[mi.MessageID] = mi
	}
	for _, id := range ids {
		mi, ok := byID[id]
		if !ok {
			continue
		}
		for _, a := range mi.Attachments {
			if dc.Count[a.SHA256] == 0 {
				rep.MovedWithoutFiles++
				break
			}
		}
	}
	rep.LeftOver, _ = o.Server.Count(o.Folder)
	rep.LogRetries, rep.LogDiskFull, rep.LogRecovered = scanLog(logPath)
	tail.update()
	rep.LogTokenRefused, rep.LogSignInPauses = tail.refused, tail.signInPauses
	rep.Elapsed = time.Since(start)
	if mounted {
		exec.Command("umount", dest).Run()
	}
	return rep, nil
}

// fillUntilReported fills the file system of dir, waits until the mover's log reports a
// full disk, then frees the space.
func fillUntilReported(ctx context.Context, dir, logPath string, timeout time.Duration) error {
	before := countMatches(logPath, isDiskFullLine)
	ballast := filepath.Join(dir, ".soak-ballast")
	f, err := os.Create(ballast)
	if err != nil {
		return err
	}
	defer os.Remove(ballast)
	defer f.Close()
	// Allocate in shrinking chunks until nothing is left (the mover writes meanwhile).
	var off int64
	for chunk := int64(4 << 20); chunk >= 4<<10; chunk /= 4 {
		for {
			if err := syscall.Fallocate(int(f.Fd()), 0, off, chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					return fmt.Errorf("fallocate: %w", err)
				}
				break
			}
			off += chunk
		}
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if countMatches(logPath, isDiskFullLine) > before {
			return nil
		}
		sleepFor(ctx, 100*time.Millisecond)
	}
	return errors.New("the mover did not report the full disk in time")
}

func isDiskFullLine(l string) bool {
	l = strings.ToLower(l)
	return strings.Contains(l, "no space left") || strings.Contains(l, "disk is full")
}

func countMatches(path string, match func(string) bool) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if match(sc.Text()) {
			n++
		}
	}
	return n
}

// scanLog counts the mover's log lines that name the faults.
func scanLog(path string) (retries, diskFull, recovered int) {
	retries = countMatches(path, func(l string) bool {
		f := strings.Fields(l)
		return len(f) > 2 && f[2] == "retry"
	})
	diskFull = countMatches(path, isDiskFullLine)
	recovered = countMatches(path, func(l string) bool {
		return strings.Contains(l, "after an interruption") || strings.Contains(l, "unfinished temporary file")
	})
	return
}

// moverLog follows the mover's log as it grows and counts the lines that name the token
// faults.
type moverLog struct {
	path         string
	off          int64
	partial      string
	refused      int // isTokenRefusedLine
	signInPauses int // paused events asking for a sign-in (see countSignInPauses)
	pending      int // lines left in which a paused line's advice may come
}

func (l *moverLog) update() {
	f, err := os.Open(l.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(l.off, io.SeekStart); err != nil {
		return
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return
	}
	l.off += int64(len(b))
	text := l.partial + string(b)
	lines := strings.Split(text, "\n")
	l.partial = lines[len(lines)-1]
	for _, line := range lines[:len(lines)-1] {
		if isTokenRefusedLine(line) {
			l.refused++
		}
		l.pending = signInPause(line, l.pending, &l.signInPauses)
	}
}

func sleepFor(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
