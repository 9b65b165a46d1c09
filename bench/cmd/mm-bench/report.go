package main

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"mailmover/bench"
)

// report is everything one `mm-bench all` measured.
type report struct {
	Started, Finished  time.Time
	N, Reps, Batch     int
	Seed               uint64
	LoadStart, LoadEnd string
	Sets               []setResult // the side-by-side comparison, one per mailbox
	BigManifest        *bench.Manifest
	Mem                []sample
	Idle               *idleResult
	Before             string // what the runner mailmover-before is (-before-label)
}

// agg summarises one runner's samples.
type agg struct {
	Name            string
	Runs, Failed    int
	Wall            time.Duration // median
	Best, Worst     time.Duration
	MsgsPS, MBPS    float64 // at the median wall time
	RSSKB           int64   // max over runs
	CPU             time.Duration
	Verdict, Errors string
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianF(fs []float64) float64 {
	if len(fs) == 0 {
		return 0
	}
	s := slices.Clone(fs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// aggregate groups samples by runner, in first-seen order (failed runs are counted, not timed).
func aggregate(ss []sample, m *bench.Manifest) []agg {
	var names []string
	by := map[string][]sample{}
	for _, s := range ss {
		if _, ok := by[s.Runner]; !ok {
			names = append(names, s.Runner)
		}
		by[s.Runner] = append(by[s.Runner], s)
	}
	// Fixed order: mailmover first, the upper bound last.
	order := []string{"mailmover", "mailmover-before", "mbsync", "offlineimap", "fetchmail", "upper-bound"}
	slices.SortStableFunc(names, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	var out []agg
	for _, name := range names {
		a := agg{Name: name}
		var walls, cpus []time.Duration
		for _, s := range by[name] {
			a.Runs++
			a.RSSKB = max(a.RSSKB, s.Res.MaxRSSKB)
			if s.Err != nil {
				a.Failed++
				a.Errors = s.Err.Error()
				continue
			}
			walls = append(walls, s.Res.Wall)
			cpus = append(cpus, s.Res.User+s.Res.Sys)
			a.Verdict = s.Verdict
		}
		if len(walls) > 0 {
			a.Wall, a.CPU = median(walls), median(cpus)
			a.Best, a.Worst = slices.Min(walls), slices.Max(walls)
			a.MsgsPS = float64(m.Spec.N) / a.Wall.Seconds()
			a.MBPS = float64(m.TotalBytes) / 1e6 / a.Wall.Seconds()
		}
		out = append(out, a)
	}
	return out
}

// repRatios returns, for each other runner, mailmover's throughput divided by that
// runner's in each repetition both completed (same run), in repetition order.
func repRatios(ss []sample) map[string][]float64 {
	wall := map[string]map[int]time.Duration{}
	for _, s := range ss {
		if s.Err == nil {
			if wall[s.Runner] == nil {
				wall[s.Runner] = map[int]time.Duration{}
			}
			wall[s.Runner][s.Rep] = s.Res.Wall
		}
	}
	out := map[string][]float64{}
	for name, byRep := range wall {
		if name == "mailmover" {
			continue
		}
		reps := slices.Sorted(maps.Keys(byRep))
		for _, rep := range reps {
			if mw, ok := wall["mailmover"][rep]; ok {
				out[name] = append(out[name], byRep[rep].Seconds()/mw.Seconds())
			}
		}
	}
	return out
}

// ratioText is "1.05× (1.02, 1.05, 1.10)": the median and each repetition's ratio.
func ratioText(rs []float64) string {
	if len(rs) == 0 {
		return "—"
	}
	if len(rs) == 1 {
		return fmt.Sprintf("%.2f×", rs[0])
	}
	each := make([]string, len(rs))
	for i, r := range rs {
		each[i] = fmt.Sprintf("%.2f", r)
	}
	return fmt.Sprintf("%.2f× (%s)", medianF(rs), strings.Join(each, ", "))
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// setTitle is a mailbox's heading.
func setTitle(name string) string {
	switch name {
	case "real":
		return "Realistic mail (real)"
	case "base64":
		return "Random attachments in base64 (base64)"
	}
	return name
}

// table is the side-by-side table printed on the terminal.
func (r *report) table() string {
	var b strings.Builder
	for _, sr := range r.Sets {
		fmt.Fprintf(&b, "\n%s: %d messages, %d files to save, %.1f MB (seed %d); %d repetitions, load %s → %s\n",
			setTitle(sr.Set.Name), sr.Manifest.Spec.N, sr.Manifest.TotalAtt, float64(sr.Manifest.TotalBytes)/1e6, r.Seed, r.Reps, r.LoadStart, r.LoadEnd)
		b.WriteString(r.compareTable(sr.Samples, sr.Manifest, true))
	}
	if len(r.Mem) > 0 {
		fmt.Fprintf(&b, "\none message with a %.0f MB attachment (%.0f MB on the wire):\n",
			float64(r.BigManifest.AttBytes)/1e6, float64(r.BigManifest.TotalBytes)/1e6)
		b.WriteString(r.compareTable(r.Mem, r.BigManifest, false))
	}
	if r.Idle != nil {
		fmt.Fprintf(&b, "\nIDLE pickup (APPEND OK → file under its final name), %d appends: p50 %s, p95 %s, max %s, missed %d, mailmover rss %d MB; server alone (APPEND OK → EXISTS) p50 %s, p95 %s\n",
			len(r.Idle.Latencies)+r.Idle.Missed, ms(pct(r.Idle.Latencies, 50)), ms(pct(r.Idle.Latencies, 95)), ms(pct(r.Idle.Latencies, 100)), r.Idle.Missed, r.Idle.RSSKB/1024,
			ms(pct(r.Idle.Server, 50)), ms(pct(r.Idle.Server, 95)))
	}
	b.WriteString(r.targets())
	return b.String()
}

// ownPart says how much of the IDLE latency is mailmover's: the median over the appends
// of (APPEND OK → file) − (APPEND OK → EXISTS at the watcher), when both were measured
// for every append. It is an upper bound: mailmover's own IDLE connection may hear of the
// mail later than the watcher's.
func ownPart(r *idleResult) string {
	if len(r.Latencies) == 0 || len(r.Latencies) != len(r.Server) {
		return "not measured for every append"
	}
	d := make([]time.Duration, len(r.Latencies))
	for i := range d {
		d[i] = r.Latencies[i] - r.Server[i]
	}
	s := fmt.Sprintf("at most %s at the median, %s at p95 (per append, the file's time less the watcher's EXISTS; mailmover's own IDLE connection may hear of the mail later than the watcher's)", ms(pct(d, 50)), ms(pct(d, 95)))
	if len(r.Own) > 0 {
		s += fmt.Sprintf(". Measured inside mailmover instead — from its log's \"found\" event (IDLE woke it and its search saw the message) to the file in place (fetch, write, fsync, link): p50 %s, p95 %s, max %s over %d pickups; the rest of the latency is the server's notification, IDLE's DONE and the search", ms(pct(r.Own, 50)), ms(pct(r.Own, 95)), ms(pct(r.Own, 100)), len(r.Own))
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func (r *report) compareTable(ss []sample, m *bench.Manifest, withRatio bool) string {
	var b strings.Builder
	rat := repRatios(ss)
	fmt.Fprintf(&b, "| client | runs | wall (median) | best–worst | MB/s | CPU s (user+sys) | CPU s per GB | peak RSS | mailmover ÷ it: median (each rep) | check |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|\n")
	for _, a := range aggregate(ss, m) {
		ratio := "—"
		if v, ok := rat[a.Name]; ok && withRatio {
			ratio = ratioText(v)
		}
		check := a.Verdict
		if a.Failed > 0 {
			check = fmt.Sprintf("%d FAILED: %s", a.Failed, a.Errors)
		}
		perGB := "—"
		if a.CPU > 0 {
			perGB = fmt.Sprintf("%.2f", a.CPU.Seconds()/(float64(m.TotalBytes)/1e9))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s–%s | %.1f | %s | %s | %d MB | %s | %s |\n",
			a.Name, a.Runs, fmtDur(a.Wall), fmtDur(a.Best), fmtDur(a.Worst), a.MBPS, cpuSec(a.CPU), perGB, a.RSSKB/1024, ratio, check)
	}
	return b.String()
}

func cpuSec(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}

// targets says which of issue 18's targets were met.
func (r *report) targets() string {
	var b strings.Builder
	b.WriteString("\nTargets:\n")
	want := map[string]float64{"real": 1.0, "base64": 1.2}
	for _, sr := range r.Sets {
		rat := repRatios(sr.Samples)
		if v, ok := rat["mbsync"]; ok {
			fmt.Fprintf(&b, "- %s: mailmover ≥ %.1f× mbsync: %s — %s\n", sr.Set.Name, want[sr.Set.Name], ratioText(v), verdict(medianF(v) >= want[sr.Set.Name]))
		}
		if v, ok := rat["upper-bound"]; ok {
			fmt.Fprintf(&b, "- %s: mailmover ≥ 0.85× the upper bound: %s — %s\n", sr.Set.Name, ratioText(v), verdict(medianF(v) >= 0.85))
		}
	}
	for _, s := range r.Mem {
		if s.Runner == "mailmover" {
			fmt.Fprintf(&b, "- peak RSS ≤ 64 MB moving a %.0f MB attachment: %d MB — %s\n", float64(r.BigManifest.AttBytes)/1e6, s.Res.MaxRSSKB/1024, verdict(s.Err == nil && s.Res.MaxRSSKB <= 64*1024))
		}
	}
	if r.Idle != nil {
		p95 := pct(r.Idle.Latencies, 95)
		fmt.Fprintf(&b, "- IDLE pickup p95 ≤ 1 s over %d appends: %s — %s\n", len(r.Idle.Latencies)+r.Idle.Missed, ms(p95), verdict(r.Idle.Missed == 0 && p95 <= time.Second))
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// markdown is docs/benchmarks.md.
func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by `make bench` (`scripts/bench.sh` → `bench/cmd/mm-bench all`); do not edit by hand.\n")
	fmt.Fprintf(&b, "Run %s – %s UTC on %s.\n\n", r.Started.UTC().Format("2006-01-02 15:04"), r.Finished.UTC().Format("15:04"), machine())
	b.WriteString("## Side by side\n\n")
	if len(r.Sets) > 0 {
		fmt.Fprintf(&b, "Each client ran %d times per mailbox from a cold state (fresh state and destination), in rotating order, over implicit TLS to a private Dovecot on loopback; the mailboxes are generated from seed %d. Load average (1/5/15 min) at the start %s, at the end %s; the load before each run is in \"Every run\" (other engineers' builds and tests share the 2 cores: compare within one run).\n",
			r.Reps, r.Seed, r.LoadStart, r.LoadEnd)
	}
	for _, sr := range r.Sets {
		fmt.Fprintf(&b, "\n### %s\n\n%d messages with %d files to save, %.1f MB on the server: %s\n\n",
			setTitle(sr.Set.Name), sr.Manifest.Spec.N, sr.Manifest.TotalAtt, float64(sr.Manifest.TotalBytes)/1e6, sr.Set.About)
		b.WriteString(r.compareTable(sr.Samples, sr.Manifest, true))
	}
	if len(r.Sets) > 0 {
		b.WriteString("\n\"mailmover ÷ it\" is mailmover's throughput divided by that client's in the same repetition (the clients alternate), then the median over repetitions; each repetition's ratio is in brackets. MB/s counts the mailbox's bytes on the server (the same figure for every client). CPU is user + system seconds of the client and its children (median over repetitions); per GB divides by the mailbox's size. Peak RSS is GNU time's %M (the largest resident set of the client or any of its children), each client launched by /usr/bin/time so that the harness's own size does not count. The server's own CPU (Dovecot's TLS) is not counted for anybody; it shares the same 2 cores.\n")
	}
	if len(r.Mem) > 0 {
		fmt.Fprintf(&b, "\n## Memory: one message with a %.0f MB attachment\n\n", float64(r.BigManifest.AttBytes)/1e6)
		fmt.Fprintf(&b, "%.0f MB on the wire (base64). One run each.\n\n", float64(r.BigManifest.TotalBytes)/1e6)
		b.WriteString(r.compareTable(r.Mem, r.BigManifest, false))
	}
	if r.Idle != nil {
		b.WriteString("\n## IDLE pickup latency\n\n")
		fmt.Fprintf(&b, "`mailmover run` (watch = idle, after = seen) running; %d messages with one 20 KB attachment APPENDed one at a time, 150–300 ms apart; latency from the APPEND's tagged OK to the attachment under its final name in the destination (written, fsynced, linked into place), polled every 0.5 ms. Load at the start: %s.\n\n",
			len(r.Idle.Latencies)+r.Idle.Missed, r.Idle.Load)
		fmt.Fprintf(&b, "| | p50 | p95 | max |\n|---|---|---|---|\n| mailmover: APPEND OK → file | %s | %s | %s |\n| server: APPEND OK → EXISTS at an idling client | %s | %s | %s |\n\nMissed (no file within 10 s): %d. mailmover's peak RSS while watching (VmHWM): %d MB. The server's part is Dovecot's own delay in notifying idling clients of new mail; the rest is mailmover's (wake up, search, fetch, write, fsync, link): %s.\n",
			ms(pct(r.Idle.Latencies, 50)), ms(pct(r.Idle.Latencies, 95)), ms(pct(r.Idle.Latencies, 100)),
			ms(pct(r.Idle.Server, 50)), ms(pct(r.Idle.Server, 95)), ms(pct(r.Idle.Server, 100)), r.Idle.Missed, r.Idle.RSSKB/1024,
			ownPart(r.Idle))
	}
	b.WriteString("\n## Targets (issue 18)\n")
	b.WriteString(strings.TrimPrefix(r.targets(), "\nTargets:"))
	if len(r.Sets) > 0 {
		b.WriteString(limits)
		b.WriteString("\n## Every run\n\n| mailbox | rep | client | wall | MB/s | CPU s | peak RSS | load before | mailmover ÷ it | check |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, sr := range r.Sets {
			ss := slices.Clone(sr.Samples)
			slices.SortStableFunc(ss, func(a, b sample) int { return a.Rep - b.Rep })
			mm := map[int]time.Duration{}
			for _, s := range ss {
				if s.Runner == "mailmover" && s.Err == nil {
					mm[s.Rep] = s.Res.Wall
				}
			}
			for _, s := range ss {
				check := s.Verdict
				if s.Err != nil {
					check = "FAILED: " + s.Err.Error()
				}
				ratio := "—"
				if w, ok := mm[s.Rep]; ok && s.Runner != "mailmover" && s.Err == nil {
					ratio = fmt.Sprintf("%.2f×", s.Res.Wall.Seconds()/w.Seconds())
				}
				fmt.Fprintf(&b, "| %s | %d | %s | %s | %.1f | %s | %d MB | %s | %s | %s |\n", sr.Set.Name, s.Rep, s.Runner, fmtDur(s.Res.Wall),
					s.mbPerSec(sr.Manifest.TotalBytes), cpuSec(s.Res.User+s.Res.Sys), s.Res.MaxRSSKB/1024, s.Load, ratio, check)
			}
		}
	}
	b.WriteString("\n## How each client ran\n\n")
	b.WriteString("- **mailmover**: `mailmover run -profile bench -once`; auth = password, tls = implicit, ca_file = the Dovecot certificate, search = all, after = none, save = attachments; a fresh `MAILMOVER_HOME` (state) and destination each run. It decodes every attachment and writes each durably (temporary file, fsync, link into place, fsync of the folder, then the checkpoint).\n")
	if r.Before != "" {
		fmt.Fprintf(&b, "- **mailmover-before**: the same command and profile with %s, for a before/after within one run.\n", r.Before)
	}
	b.WriteString("- **mbsync** (" + bench.Version("mbsync", "--version") + "): a Pull channel from the folder into a fresh Maildir (whole messages, fsynced by default), `Host localhost` (mbsync rejects IP addresses in certificate SANs).\n")
	b.WriteString("- **offlineimap** (" + bench.Version("offlineimap", "--version") + "): a read-only IMAP repository synced into a fresh Maildir.\n")
	b.WriteString("- **fetchmail** (" + bench.Version("fetchmail", "--version") + "): `fetchall keep` with an MDA writing each message to its own file (`cat > dir/msg.$$`), as a procmail/maildrop delivery would; `localhost` for its certificate check.\n")
	fmt.Fprintf(&b, "- **upper-bound**: `mm-bench upper`, a go-imap client that FETCHes BODY.PEEK[] of %d messages per command over one connection and discards it — what the server can serve to one connection.\n", r.Batch)
	b.WriteString("\nThe server's files are in the page cache for every client (one uncounted warm-up pass); `sync` runs before each client so one run's writeback does not land on the next. The machine is shared (other builds may run at the same time): compare figures within one run, and read the load average beside them.\n")
	b.WriteString("\nTo see where mailmover's time goes: `mm-bench profile` runs the mover in-process over the seeded folder and writes a CPU profile and an execution trace (`go tool trace -pprof=syscall|net|sync trace.out` gives the off-CPU profiles).\n")
	b.WriteString("\nReproduce: `make bench` (or `bash scripts/bench.sh -n 500 -reps 2` for a shorter run).\n")
	return b.String()
}

// machine describes the host for the report.
func machine() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if _, v, ok := strings.Cut(l, ":"); ok {
					model = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	kernel := bench.Version("uname", "-r")
	return fmt.Sprintf("%d CPU(s) (%s), Linux %s, %s, %s", runtime.NumCPU(), model, kernel, runtime.Version(), "Dovecot "+bench.Version("dovecot", "--version"))
}

// limits is what the profiles showed about mailmover's throughput; update it with each
// profile (` + "`mm-bench profile`" + `, perf) that changes the picture.
const limits = `
### What limits mailmover's throughput (profiles of 2026-12-02)

` + "`mm-bench profile`" + ` (pprof), ` + "`perf record -g`" + ` over it and ` + "`perf record -a`" + ` over the whole
machine during a run (this VM has no hardware counters; the software clock works),
` + "`strace -c`" + `, callgrind; the clients' CPU from GNU time. Issue 7's fixes (one-pass base64,
batched fetch, spare files) stand; issue 18's, in the order they were found:

1. **Quoted-printable in one pass.** Each quoted-printable part went through two
   byte-at-a-time filters: 124 instructions per decoded byte on umlaut-dense CSV
   (callgrind, ` + "`go test -bench QPDecode ./imapsrc/`" + `). imapsrc/qp.go decodes 64 KiB blocks in
   one pass in 32 instructions per byte and gives the same bytes and errors as the old
   pair (a differential test over hard random input in every ` + "`go test`" + `, FuzzQPDecoder).
2. **One fsync per file**, through the still-open descriptor after its last write, not
   one early and one at the commit (each flushes the device on this ext4 without a
   journal); **a 128 KiB read buffer under TLS** instead of a read call per record.
3. **The page cache — the largest item.** Half of mailmover's CPU was the kernel's, most
   of it in writing files: on this VM a page the guest has not used lately costs far more
   to fill than one it just freed (a 1 GB ` + "`dd`" + ` takes 1.6–3.2 s of system time into fresh
   pages, 0.2–0.5 s right after a file of that size was deleted; 4,000 files of 256 KB,
   each fsynced: 4.3–5.6 CPU s, or 1.0 s when each file's pages are dropped after its
   fsync). mailmover never reads a file it has written, so once a temporary file is
   fsynced it now tells the kernel so (` + "`posix_fadvise(DONTNEED)`" + `, mover/dropcache_linux.go):
   its clean pages leave the cache at once — which also keeps a server's page cache for
   what its other programs read — and the next file is written into them. mailmover's
   system time fell from about 4 s to about 2 s per run (mailmover-before in the tables).
4. **Hashing where a core is free.** The exactly-once journal needs two SHA-256 sums,
   both kept: the raw message's (its identity) and each file's (its commit record, the
   skip comparison, recovery). Both were computed on the goroutine that splits and
   decodes the MIME parts, which was the chain every byte waits on (dropping the raw hash
   altogether, as a test only, made the base64 run 10 % faster). Now the raw message is
   hashed by the goroutine that reads the wire, chunk by chunk as it reads ahead
   (` + "`imapsrc.RawHasher`" + `), and each file by the background writer after its write; the
   commit takes the file's hash once it is written. Tests check that the journal holds
   the SHA-256 of the server's bytes and of each file on disk.
5. **Batches of 128 messages** (64 MB at most, as before) instead of 32: a batch costs two
   round trips to fetch, one for the post-actions and two fsyncs; the commits took 4 % of
   the wall time of a base64 run (16 commits, 0.34 s) instead of 7 % (63, 0.69 s) — and
   on a link to Microsoft 365 or Gmail tens of milliseconds away the round trips count
   for more than here.
6. **What is left: two busy cores.** During a run ` + "`perf record -a`" + ` sees mailmover on
   about one core, Dovecot's login process (which does the TLS of the connection) on most
   of the other, and the rest idle under 20 %. The upper bound is one such login process
   at a full core: per GB, Dovecot needs about 5.5 CPU s and mailmover 4.6–5.3 (mbsync
   5.1–5.9), so two cores carry at most about 190–210 MB/s — what mailmover reaches. Of
   mailmover's own CPU, the kernel's copy out of the socket, AES-GCM and reading the
   wire are the bare client's too; SHA-256 is about 14 %; creating inodes is about 7 %
   of all samples when files were deleted shortly before (ext4 without a journal skips
   inode numbers freed in the last 12 hours, ` + "`vm.dirtytime_expire_seconds`" + `, one by one —
   ` + "`recently_deleted`" + `, ` + "`find_get_block_common`" + `; mailmover creates 4,356 files where mbsync
   creates 2,000). The first run of a series pays more system time than the others (the
   pages it touches first), hence the slower first repetition in "Every run". mbsync
   pays the same for its pages, more or less by the machine's state: its best base64
   repetition (6.08 s, 3.0 s of system time) came close to mailmover's, so the base64
   margin over mbsync is the thinnest of the targets (1.06–1.39× per repetition over the
   runs of this day). The ratio to the bare client on the realistic mix moves with the
   machine too: a later run of the same code on the same day (09:05, after some 100,000
   files of earlier runs had been deleted — the inode scan above grows with them — and
   with the other clients slower as well) gave 0.81× (repetitions 0.91, 0.81, 0.68),
   while mailmover stayed 1.13× mbsync there and the base64 ratios held (0.88×, 1.37×).
7. **Two connections per mailbox: not built — here they gain nothing.** Two bare clients
   at once on a quiet machine moved twice the realistic mailbox (2.1 GB) in 9.7–10.6 s,
   199–217 MB/s in all, where one alone took 5.2–6.4 s (165–200 MB/s, with its start and
   login); twice the base64 mailbox took 10.7–12.7 s (188–222 MB/s in all). Both cores are
   busy with one connection already (point 6), and mailmover reaches 0.9× what one bare
   connection does; a second stream would add a second Dovecot login process's TLS on
   the same two cores, and a second writer of the journal to keep exactly-once. Where a
   provider limits each connection (a far or throttled link) that changes, and batches of
   128 are the first step for such links; a second connection is the next if measurements
   there ask for it.
`
