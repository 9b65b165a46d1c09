package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/bench"
	"mailmover/mover"
)

// common is the configuration every subcommand shares.
type common struct {
	dir       string // working folder (runs, manifests)
	mailmover string // the mailmover binary
	seed      uint64
	keep      bool     // keep each run's files
	later     []string // run folders to delete at the end (runSet)
}

// cleanUp deletes the run folders kept for the end.
func (c *common) cleanUp() {
	for _, d := range c.later {
		os.RemoveAll(d)
	}
	c.later = nil
}

func (c *common) flags(fs interface {
	StringVar(*string, string, string, string)
	Uint64Var(*uint64, string, uint64, string)
	BoolVar(*bool, string, bool, string)
}) {
	def := os.Getenv("MM_BENCH_DIR")
	if def == "" {
		def = filepath.Join(os.TempDir(), "mailmover-bench")
	}
	fs.StringVar(&c.dir, "dir", def, "working folder for runs and manifests (MM_BENCH_DIR)")
	fs.StringVar(&c.mailmover, "mailmover", filepath.Join(def, "bin", "mailmover"), "the mailmover binary")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated mailbox")
	fs.BoolVar(&c.keep, "keep", false, "keep each run's files (default: delete after verifying)")
}

func cmdSeed(ctx context.Context, args []string) error {
	fs := newFlags("seed")
	var c common
	c.flags(fs)
	n := fs.Int("n", 2000, "messages")
	mix := fs.String("mix", "base64", "which mailbox: base64 (folder Bench) or real (folder Real)")
	folder := fs.String("folder", "", "folder to seed (default: the mix's)")
	fs.Parse(args)
	srv, err := bench.ServerFromEnv()
	if err != nil {
		return err
	}
	set, ok := benchSets(c.seed, *n)[*mix]
	if !ok {
		return fmt.Errorf("-mix %q: want base64 or real", *mix)
	}
	if *folder != "" {
		set.Folder = *folder
	}
	_, err = srv.Seed(set.Spec, set.Folder, filepath.Join(c.dir, "manifest-"+set.Folder+".json"), logf)
	return err
}

// benchSet is one mailbox of the side-by-side comparison (a row group of the report).
type benchSet struct {
	Name   string // base64 | real
	Folder string
	Spec   bench.Spec
	About  string // what the mailbox holds, for the report
}

// benchSets are the mailboxes of the comparison, by name.
func benchSets(seed uint64, n int) map[string]benchSet {
	return map[string]benchSet{
		"real": {Name: "real", Folder: "Real", Spec: bench.RealSpec(seed, n, "r"),
			About: "mail as offices get it (bench.RealSpec): every message has a body (plain text and HTML in quoted-printable, 30 % with an inline image in multipart/related) and long folded headers (Received, DKIM, up to 40 recipients, RFC 2047 subjects); 70 % have 1–3 attachments — PDFs, JPEGs, ZIPs, XLSX in base64; CSV, TXT and XML in quoted-printable (76-character lines with soft breaks, and XML with lines up to 998 characters); logs in 8bit; data in binary — with names plain, RFC 2231 (with continuations) and RFC 2047; 8 % carry a forwarded message/rfc822 with attachments of its own. Sizes: most attachments 0.5–120 KB, 16 % of messages 50 KB–2 MB each, 2 % one of 5–20 MB."},
		"base64": {Name: "base64", Folder: "Bench", Spec: bench.DefaultSpec(seed, n, "m"),
			About: "1–3 attachments per message, 10 KB–1 MB, log-uniform sizes, random bytes, base64; a one-line text body (the mailbox of issue 7)."},
	}
}

// setResult is one mailbox's comparison.
type setResult struct {
	Set      benchSet
	Manifest *bench.Manifest
	Samples  []sample
}

func cmdUpper(ctx context.Context, args []string) error {
	fs := newFlags("upper")
	folder := fs.String("folder", "Bench", "folder to fetch")
	batch := fs.Int("batch", 500, "messages per FETCH command")
	out := fs.String("o", "", "write the result here (else stdout)")
	fs.Parse(args)
	srv, err := bench.ServerFromEnv()
	if err != nil {
		return err
	}
	res, err := srv.UpperBound(ctx, *folder, *batch)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%d msgs, %.0f MB\n", res.Messages, float64(res.Bytes)/1e6)
	if *out == "" {
		_, err = os.Stdout.WriteString(line)
		return err
	}
	return os.WriteFile(*out, []byte(line), 0o644)
}

// sample is one timed run.
type sample struct {
	Set     string // the mailbox (benchSet.Name; "mem" for the memory run)
	Runner  string
	Rep     int
	Res     bench.ProcResult
	Verdict string
	Load    string // load average before the run
	Err     error
}

func (s sample) mbPerSec(b int64) float64 { return float64(b) / 1e6 / s.Res.Wall.Seconds() }

// runSet runs each runner reps times from a cold state, rotating the order each round.
// A runner in limit runs only in the first limit[name] rounds (offlineimap is ~10×
// slower than the others).
func runSet(ctx context.Context, c *common, env *bench.Env, runners []bench.Runner, reps int, tag string, limit map[string]int) ([]sample, error) {
	var out []sample
	// Deleting a run's files just before the next client writes its own makes that client
	// pay for the deletion (on ext4 without a journal, allocating an inode skips those
	// freed in the last one to six minutes: recently_deleted). So the files of verified
	// runs are deleted when the whole benchmark is over (c.later), when the disk has room
	// for them, else right away.
	deferDelete := freeBytes(c.dir) > 3*int64(reps*len(runners))*env.Manifest.TotalBytes/2
	for rep := range reps {
		order := slices.Clone(runners)
		k := rep % len(order)
		order = append(order[k:], order[:k]...)
		for _, r := range order {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			if l, ok := limit[r.Name]; ok && rep >= l {
				continue
			}
			dir := filepath.Join(c.dir, "runs", fmt.Sprintf("%s-%s-%d", tag, r.Name, rep+1))
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return out, err
			}
			job, err := r.Prepare(dir)
			if err != nil {
				return out, fmt.Errorf("%s: %w", r.Name, err)
			}
			dropCaches()
			s := sample{Set: tag, Runner: r.Name, Rep: rep + 1, Load: bench.LoadAvg()}
			s.Res = bench.RunTimed(ctx, filepath.Join(dir, "run.log"), job.Env, dir, job.Argv[0], job.Argv[1:]...)
			s.Err = s.Res.Err
			if s.Err == nil {
				s.Verdict, s.Err = job.Verify()
			}
			status := "ok"
			if s.Err != nil {
				status = "FAILED: " + s.Err.Error()
			}
			logf("%-6s rep %d %-12s %7.2f s  %6.1f MB/s  cpu %6.2f s (sys %5.2f)  faults %dk  switches %dk  rss %4d MB  load %s  %s  %s",
				tag, rep+1, r.Name, s.Res.Wall.Seconds(), s.mbPerSec(env.Manifest.TotalBytes), (s.Res.User + s.Res.Sys).Seconds(), s.Res.Sys.Seconds(),
				s.Res.MinFlt/1000, s.Res.CtxSw/1000,
				s.Res.MaxRSSKB/1024, s.Load, s.Verdict, status)
			out = append(out, s)
			if !c.keep && s.Err == nil {
				if deferDelete {
					c.later = append(c.later, dir)
				} else {
					os.RemoveAll(dir)
				}
			}
		}
	}
	return out, nil
}

// freeBytes is the space free for us in dir's file system (0 when unknown).
func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// dropCaches flushes dirty pages of the previous run so that its writeback does not land
// on the next one (the server's files stay cached: every client reads them warm).
func dropCaches() { syscall.Sync() }

// setSecret stores the bench password for profile in the keyring through mailmover
// itself (so the keyring it reads is the one it writes).
func setSecret(c *common, profile, password string) error {
	cmd := exec.Command(c.mailmover, "secret", "set", "-profile", profile, "password")
	cmd.Env = append(os.Environ(), "MAILMOVER_HOME="+filepath.Join(c.dir, "secret-home"))
	cmd.Stdin = strings.NewReader(password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("mailmover secret set -profile %s: %w: %s (is a Secret Service running? scripts/bench.sh starts one)", profile, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func cmdBench(ctx context.Context, which string, args []string) error {
	fs := newFlags(which)
	var c common
	c.flags(fs)
	n := fs.Int("n", 2000, "messages in the benchmark mailbox")
	reps := fs.Int("reps", 3, "repetitions of each client (alternating)")
	slowReps := fs.Int("offlineimap-reps", 1, "repetitions of offlineimap (about 10× slower than the others)")
	batch := fs.Int("batch", 500, "upper bound: messages per FETCH")
	only := fs.String("runners", "mailmover,mbsync,offlineimap,fetchmail,upper-bound", "clients to run, comma-separated")
	before := fs.String("before", "", "another mailmover binary (an earlier build) to run as the runner mailmover-before; add it to -runners")
	beforeLabel := fs.String("before-label", "an earlier build", "what -before is, for the report")
	setList := fs.String("sets", "real,base64", "compare: mailboxes to compare on, comma-separated (real, base64)")
	bigSize := fs.Int("size", 200_000_000, "mem: size of the one attachment in bytes")
	appends := fs.Int("appends", 100, "idle: number of APPENDs")
	reportPath := fs.String("report", "", "write the Markdown report here (all: docs/benchmarks.md)")
	fs.Parse(args)
	if which == "all" && *reportPath == "" {
		*reportPath = "docs/benchmarks.md"
	}
	srv, err := bench.ServerFromEnv()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	defer c.cleanUp()
	rep := &report{Started: time.Now(), N: *n, Reps: *reps, Batch: *batch, Seed: c.seed, LoadStart: bench.LoadAvg()}
	if *before != "" && slices.Contains(strings.Split(*only, ","), "mailmover-before") {
		rep.Before = *beforeLabel
	}
	baseEnv := os.Environ()
	var selected []string
	for _, r := range strings.Split(*only, ",") {
		selected = append(selected, strings.TrimSpace(r))
	}
	if slices.Contains(selected, "mailmover") || which == "idle" || which == "all" {
		if _, err := os.Stat(c.mailmover); err != nil {
			return fmt.Errorf("mailmover binary: %w (build it: go build -o %s .)", err, c.mailmover)
		}
		for _, p := range []string{"bench", "benchbig", "benchidle"} {
			if err := setSecret(&c, p, srv.Password); err != nil {
				return err
			}
		}
	}
	pick := func(env *bench.Env) []bench.Runner {
		var out []bench.Runner
		for _, r := range env.Runners() {
			if slices.Contains(selected, r.Name) {
				out = append(out, r)
			}
		}
		return out
	}

	if which == "compare" || which == "all" {
		all := benchSets(c.seed, *n)
		for _, name := range strings.Split(*setList, ",") {
			set, ok := all[strings.TrimSpace(name)]
			if !ok {
				return fmt.Errorf("-sets: unknown mailbox %q (want real, base64)", name)
			}
			m, err := srv.Seed(set.Spec, set.Folder, filepath.Join(c.dir, "manifest-"+set.Folder+".json"), logf)
			if err != nil {
				return err
			}
			debug.FreeOSMemory() // the seeding's buffers: keep the launcher small
			env := &bench.Env{Server: srv, Folder: set.Folder, Manifest: m, Mailmover: c.mailmover, Before: *before, Self: self, Batch: *batch, BaseEnv: baseEnv}
			// Warm the server (indexes, page cache) once for everybody; not counted.
			logf("warm-up: one upper-bound pass over %s (not counted)", set.Folder)
			if _, err := srv.UpperBound(ctx, set.Folder, *batch); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
			ss, err := runSet(ctx, &c, env, pick(env), *reps, set.Name, map[string]int{"offlineimap": *slowReps})
			rep.Sets = append(rep.Sets, setResult{Set: set, Manifest: m, Samples: ss})
			if err != nil {
				return err
			}
		}
	}
	if which == "mem" || which == "all" {
		spec := bench.Spec{Seed: c.seed, N: 1, MinAtt: 1, MaxAtt: 1, MinSize: *bigSize, MaxSize: *bigSize, Prefix: "big"}
		m, err := srv.Seed(spec, "Big", filepath.Join(c.dir, "manifest-Big.json"), logf)
		if err != nil {
			return err
		}
		rep.BigManifest = m
		debug.FreeOSMemory() // the seeding's buffers: keep the launcher small
		env := &bench.Env{Server: srv, Folder: "Big", Manifest: m, Mailmover: c.mailmover, Before: *before, Self: self, Batch: *batch, BaseEnv: baseEnv}
		rep.Mem, err = runSet(ctx, &c, env, pick(env), 1, "mem", nil)
		if err != nil {
			return err
		}
	}
	if which == "idle" || which == "all" {
		rep.Idle, err = idleBench(ctx, &c, srv, *appends)
		if err != nil {
			return err
		}
	}
	rep.Finished = time.Now()
	rep.LoadEnd = bench.LoadAvg()
	text := rep.markdown()
	fmt.Println(rep.table())
	if *reportPath != "" {
		if err := os.WriteFile(*reportPath, []byte(text), 0o644); err != nil {
			return err
		}
		logf("wrote %s", *reportPath)
	}
	var failed []string
	sets := [][]sample{rep.Mem}
	for _, sr := range rep.Sets {
		sets = append(sets, sr.Samples)
	}
	for _, set := range sets {
		for _, s := range set {
			if s.Err != nil {
				failed = append(failed, fmt.Sprintf("%s rep %d: %v", s.Runner, s.Rep, s.Err))
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d run(s) failed:\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	return nil
}

// idleResult is the IDLE pickup benchmark's outcome.
type idleResult struct {
	Latencies []time.Duration // APPEND OK → file under its final name, one per pickup
	Missed    int             // appends whose file did not appear within the timeout
	Server    []time.Duration // APPEND OK → EXISTS at a second, idling client: the server's part
	Own       []time.Duration // mailmover's "found" log event (its search saw the mail) → file: its own part
	RSSKB     int64
	Load      string
}

// idleBench runs `mailmover run` (watching with IDLE) and times APPEND OK → file.
func idleBench(ctx context.Context, c *common, srv bench.Server, appends int) (*idleResult, error) {
	res := &idleResult{Load: bench.LoadAvg()}
	dir := filepath.Join(c.dir, "runs", "idle")
	os.RemoveAll(dir)
	home, dest := filepath.Join(dir, "home"), filepath.Join(dir, "dest")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	if err := srv.Recreate("Idle"); err != nil {
		return nil, err
	}
	env := &bench.Env{Server: srv}
	p := env.Profile("benchidle", "Idle", dest)
	p.Common.Search, p.Common.After, p.Common.Watch = "unseen", "seen", "idle"
	if err := bench.WriteProfile(home, p); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "run.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(c.mailmover, "run", "-profile", "benchidle")
	cmd.Env = append(os.Environ(), "MAILMOVER_HOME="+home, "LANGUAGE=en_US", "LC_ALL=C.UTF-8") // English: waitForLine looks for "waiting for new mail"
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopMover := func() {
		// VmHWM is the process's own peak (a child's wait4 maxrss starts at ours).
		hwm := vmHWM(cmd.Process.Pid)
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		res.RSSKB = hwm
	}
	defer func() {
		if cmd.ProcessState == nil {
			stopMover()
		}
	}()
	// Wait until the mover reports that it waits for new mail.
	if err := waitForLine(ctx, logPath, "waiting for new mail", 30*time.Second, exited); err != nil {
		return nil, fmt.Errorf("mailmover run did not start watching: %w (log: %s)", err, logPath)
	}
	conn, err := srv.Dial()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// A second client idles on the folder: when it hears EXISTS is the server's part of
	// the latency (Dovecot batches mailbox change notifications).
	exists := make(chan time.Time, appends+8)
	watcher, err := srv.DialWith(&imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case exists <- time.Now():
				default:
				}
			}
		},
	}})
	if err != nil {
		return nil, err
	}
	defer watcher.Close()
	if _, err := watcher.Select("Idle", nil).Wait(); err != nil {
		return nil, err
	}
	idleCmd, err := watcher.Idle()
	if err != nil {
		return nil, err
	}
	defer idleCmd.Close()
	g := &bench.Generator{Spec: bench.Spec{Seed: c.seed, N: appends, MinAtt: 1, MaxAtt: 1, MinSize: 20_000, MaxSize: 20_000, Prefix: "idle"}}
	r := rand.New(rand.NewPCG(c.seed, 77))
	var spans [][2]time.Time // per pickup: APPEND OK, file seen
	for i := range appends {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		raw, info := g.Message(i)
		target := filepath.Join(dest, info.Attachments[0].Name)
		if err := bench.AppendOne(conn, "Idle", raw); err != nil {
			return nil, err
		}
		t0 := time.Now()
		deadline := t0.Add(10 * time.Second)
		for drained := false; !drained; { // EXISTS heard before the OK (unlikely) count as 0
			select {
			case <-exists:
			default:
				drained = true
			}
		}
		for {
			if _, err := os.Stat(target); err == nil {
				res.Latencies = append(res.Latencies, time.Since(t0))
				spans = append(spans, [2]time.Time{t0, time.Now()})
				break
			}
			if time.Now().After(deadline) {
				res.Missed++
				break
			}
			time.Sleep(500 * time.Microsecond)
		}
		select {
		case at := <-exists:
			res.Server = append(res.Server, max(0, at.Sub(t0)))
		case <-time.After(5 * time.Second):
		}
		// Let the mover go back to IDLE (its post-action and checkpoint) before the next.
		time.Sleep(time.Duration(150+r.IntN(150)) * time.Millisecond)
	}
	stopMover()
	res.Own = ownSpans(mover.LogPath(home, "benchidle"), spans)
	logf("idle: %d pickups, p50 %v, p95 %v, max %v, missed %d, rss %d MB; server EXISTS p50 %v p95 %v", len(res.Latencies),
		pct(res.Latencies, 50), pct(res.Latencies, 95), pct(res.Latencies, 100), res.Missed, res.RSSKB/1024, pct(res.Server, 50), pct(res.Server, 95))
	if !c.keep {
		os.RemoveAll(dir)
	}
	return res, nil
}

// ownSpans reads mailmover's log (JSON lines) for its "found" events — a search that
// found mail to do, after IDLE woke it — and returns, for each pickup span (APPEND OK,
// file seen), the time from the first such event inside the span to the file: mailmover's
// own part of the latency (fetch, write, fsync, link; plus the 0.5 ms polling here).
func ownSpans(logPath string, spans [][2]time.Time) []time.Duration {
	f, err := os.Open(logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var found []time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct {
			Time time.Time `json:"time"`
			Kind string    `json:"kind"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Kind == "found" {
			found = append(found, l.Time)
		}
	}
	var own []time.Duration
	for _, sp := range spans {
		for _, t := range found {
			if !t.Before(sp[0]) && !t.After(sp[1]) {
				own = append(own, sp[1].Sub(t))
				break
			}
		}
	}
	return own
}

// waitForLine waits until file contains text.
func waitForLine(ctx context.Context, path, text string, timeout time.Duration, exited <-chan error) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), text) {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("it exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("timed out")
}

// pct returns the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := (p*len(s) + 99) / 100
	k = max(1, min(k, len(s)))
	return s[k-1]
}

// vmHWM returns the peak resident set (KB) of a running process from /proc.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}
