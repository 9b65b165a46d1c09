package mover

// The pool of spare temporary files and the background writes of a batch fetch: empty
// temporary files made ahead, parts written while the next are decoded, early fsyncs.
// The batch fetch itself is in pipeline.go; the protocol both follow is in doc.go.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// spareTemps prepares the files of a batch fetch in goroutines of their own:
//
//   - it creates files ahead, so that creating a file (an openat that costs as much as
//     writing a small attachment on some file systems: the new inode) is off the path
//     that reads the wire. On Linux a spare is an unnamed file (O_TMPFILE) that gets its
//     temporary name only when it is taken (a cheap link), so spares never show in the
//     destination and a crash leaves none behind; elsewhere there are no spares;
//   - it writes and closes the temporary files (writeAsync; where an open file can be
//     deleted), so that the next part is decoded while one is written; the commit waits
//     for a file's writing (syncFile, waitWritten) before its record names it, and a
//     write error fails the message as before;
//   - it syncs written temporary files early, in the background while the next messages
//     stream in: a file written in the background is fsynced through its own descriptor
//     once its last byte is written, then closed; another (the .eml) by name (syncSoon).
//     The commit fsyncs, before its record names them (doc.go, step 3), only the files
//     whose early fsync did not happen (a failed one fails its message, as a write error
//     does): a file is not written again after its fsync, so a second one would only
//     cost a device flush. Syncing early changes no step's order.
type spareTemps struct {
	d       *dest
	dir     *os.File // the destination's top folder (for the unnamed files)
	ready   chan *os.File
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	toSync  chan string
	syncers sync.WaitGroup
	off     atomic.Bool       // naming a spare failed: create files the ordinary way
	synced  map[string]error  // temporary files fsynced after their last write: nil, or the fsync's error (under mu)
	sums    map[string]string // SHA-256 (hex) of files written in the background, by temporary name (under mu)

	// Writing files in the background (writeAsync; only where an open file can be
	// deleted, see asyncWrites): the writer goroutine takes the chunks in order.
	work    chan writeChunk
	written chan struct{}      // closed when the writer has ended
	syncq   chan *pendingWrite // written files to fsync and close (fileSyncer)
	mu      sync.Mutex
	pending map[string]*pendingWrite // by temporary name, until it is waited for
}

// earlySyncers is how many files are synced early at once (by name, and, where files
// are written in the background, as many through their descriptors).
const earlySyncers = 4

// writeAheadChunks is how many chunks of copyBufSize the background writer may be behind
// the decoder (bounds the memory; absorbs the file system's stalls).
const writeAheadChunks = 16

func startSpares(d *dest, ahead int) *spareTemps {
	sp := &spareTemps{d: d, ready: make(chan *os.File, ahead), quit: make(chan struct{}), done: make(chan struct{}),
		toSync: make(chan string, 256), synced: map[string]error{}, sums: map[string]string{}}
	if asyncWrites {
		sp.work = make(chan writeChunk, writeAheadChunks)
		sp.written = make(chan struct{})
		sp.syncq = make(chan *pendingWrite, 256)
		sp.pending = map[string]*pendingWrite{}
		go sp.writer()
		for range earlySyncers {
			sp.syncers.Add(1)
			go func() {
				defer sp.syncers.Done()
				for pw := range sp.syncq {
					sp.fileSync(pw)
				}
			}()
		}
	}
	if dir, err := d.root.Open("."); err == nil && canUnnamed {
		sp.dir = dir
		go sp.run()
	} else {
		if err == nil {
			dir.Close()
		}
		close(sp.done)
	}
	for range earlySyncers {
		sp.syncers.Add(1)
		go func() {
			defer sp.syncers.Done()
			for name := range sp.toSync {
				// A write error counts at the commit's sync; an fsync error is kept for it
				// (fsync may report an error once only).
				if sp.waitWritten(name) == nil && !sp.isSynced(name) {
					sp.markSynced(name, sp.d.fsyncTemp(name))
				}
			}
		}()
	}
	return sp
}

func (sp *spareTemps) run() {
	defer close(sp.done)
	for {
		f, err := openUnnamed(sp.dir)
		if err != nil {
			return // not supported here: createTemp creates its files itself
		}
		select {
		case sp.ready <- f:
		case <-sp.quit:
			f.Close()
			return
		}
	}
}

// take returns a spare as a new temporary file, or nil when none is ready (or sp is nil).
func (sp *spareTemps) take() *tempFile {
	if sp == nil || sp.off.Load() {
		return nil
	}
	var f *os.File
	select {
	case f = <-sp.ready:
	default:
		return nil
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	name := sp.d.prefix + hex.EncodeToString(rnd[:])
	if err := nameUnnamed(f, sp.dir, name); err != nil {
		f.Close()
		sp.off.Store(true) // e.g. no /proc: stop using spares
		return nil
	}
	return &tempFile{name: name, f: f, h: sha256.New()}
}

// syncSoon asks for the temporary file name to be synced in the background (best effort:
// nothing happens when the queue is full; the commit syncs it then).
func (sp *spareTemps) syncSoon(name string) {
	if sp == nil {
		return
	}
	if sp.writesAsync() {
		sp.mu.Lock()
		_, async := sp.pending[name]
		_, synced := sp.synced[name]
		sp.mu.Unlock()
		if async || synced {
			return // written in the background: fsynced there after its last write
		}
	}
	select {
	case sp.toSync <- name:
	default:
	}
}

// stop ends the goroutines (the files being written are written and closed first) and
// closes the spares not taken (unnamed: they vanish).
func (sp *spareTemps) stop() {
	sp.once.Do(func() {
		close(sp.quit)
		if sp.work != nil {
			close(sp.work)
			<-sp.written
			close(sp.syncq)
		}
		close(sp.toSync)
	})
	<-sp.done
	sp.syncers.Wait()
	for {
		select {
		case f := <-sp.ready:
			f.Close()
		default:
			if sp.dir != nil {
				sp.dir.Close()
			}
			return
		}
	}
}

// asyncWrites says whether temporary files are written in the background: only where a
// file may be deleted while it is open (a message that fails deletes its files at once).
const asyncWrites = canUnnamed

// pendingWrite is a temporary file being written in the background.
type pendingWrite struct {
	name   string
	f      *os.File
	w      io.Writer
	h      hash          // the content's SHA-256, written by the writer after each write
	err    error         // the first write or close error; read after done, or after failed
	failed atomic.Bool   // err is set
	noSync bool          // not worth an fsync (its reading failed); set before its last chunk
	done   chan struct{} // closed when the file is written and closed
}

// writeChunk is the writer's work: bytes for a file, or (last) the file's end.
type writeChunk struct {
	pw   *pendingWrite
	b    *[]byte
	n    int
	last bool
}

// writesAsync reports whether writeTemp hands its writes to the background writer.
func (sp *spareTemps) writesAsync() bool { return sp != nil && sp.work != nil }

// writeAsync streams r into the temporary file t like copyPipelined, but leaves writing,
// hashing and closing the file to the writer goroutine: the next file (and message) is
// decoded while this one is written and hashed. The hash is not in t then: the commit
// takes it with takeSum once the file is written (syncFile). A write error seen in time is returned
// (and stops reading); a later one is returned by waitWritten, which the commit calls
// (through syncFile) before it names the file. It returns the bytes read from r.
func (sp *spareTemps) writeAsync(t *tempFile, w io.Writer, r io.Reader) (int64, error) {
	pw := &pendingWrite{name: t.name, f: t.f, w: w, h: t.h, done: make(chan struct{})}
	t.h = nil // hashed by the writer
	sp.mu.Lock()
	sp.pending[t.name] = pw
	sp.mu.Unlock()
	var n int64
	var rerr error
	sentLast := false
	for rerr == nil && !pw.failed.Load() {
		b := copyBufs.Get().(*[]byte)
		buf := (*b)[:cap(*b)]
		var k int
		k, rerr = fill(r, buf)
		if k == 0 {
			copyBufs.Put(b)
			continue
		}
		n += int64(k)
		// The last bytes carry the file's end: one hand-over fewer per file.
		last := rerr != nil
		if last {
			pw.noSync = rerr != io.EOF // a broken part: the file is removed, not kept
		}
		sp.work <- writeChunk{pw: pw, b: b, n: k, last: last}
		sentLast = last
	}
	if !sentLast {
		pw.noSync = rerr != io.EOF
		sp.work <- writeChunk{pw: pw, last: true}
	}
	if pw.failed.Load() {
		return n, pw.err
	}
	if rerr == io.EOF {
		rerr = nil
	}
	return n, rerr
}

// writer writes the chunks in order and closes each file at its end.
func (sp *spareTemps) writer() {
	defer close(sp.written)
	for c := range sp.work {
		pw := c.pw
		if c.b != nil {
			if !pw.failed.Load() {
				p := (*c.b)[:c.n]
				k, err := pw.w.Write(p)
				if err == nil && k < len(p) {
					err = io.ErrShortWrite
				}
				if err != nil {
					pw.err = err
					pw.failed.Store(true)
				} else {
					pw.h.Write(p)
				}
			}
			copyBufs.Put(c.b)
		}
		if c.last {
			if !pw.failed.Load() && !pw.noSync {
				sp.mu.Lock()
				sp.sums[pw.name] = hex.EncodeToString(pw.h.Sum(nil))
				sp.mu.Unlock()
			}
			if !pw.failed.Load() && !pw.noSync {
				select {
				case sp.syncq <- pw: // fsynced, closed and done there
					continue
				default: // the syncers are behind: the commit fsyncs it
				}
			}
			if err := pw.f.Close(); err != nil && !pw.failed.Load() {
				pw.err = err
				pw.failed.Store(true)
			}
			close(pw.done)
		}
	}
}

// fileSync fsyncs and closes a file the writer has written to its end, and records it as
// synced; an error is the file's, as a write error is.
func (sp *spareTemps) fileSync(pw *pendingWrite) {
	err := pw.f.Sync()
	if err == nil {
		dropCache(pw.f)
	}
	if cerr := pw.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		pw.err = err
		pw.failed.Store(true)
	} else {
		sp.markSynced(pw.name, nil)
	}
	close(pw.done)
}

// takeSum returns the SHA-256 (hex) of the temporary file name as the writer goroutine
// hashed it while writing it, and forgets it; "" when name was not written in the
// background to its end. Ask after waitWritten.
func (sp *spareTemps) takeSum(name string) string {
	if sp == nil {
		return ""
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sum := sp.sums[name]
	delete(sp.sums, name)
	return sum
}

// markSynced records that the temporary file name was fsynced after its last write, with
// err the fsync's result.
func (sp *spareTemps) markSynced(name string, err error) {
	sp.mu.Lock()
	sp.synced[name] = err
	sp.mu.Unlock()
}

// isSynced reports whether the temporary file name was fsynced (well or not) already.
func (sp *spareTemps) isSynced(name string) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	_, ok := sp.synced[name]
	return ok
}

// takeSynced reports whether the temporary file name was fsynced after its last write,
// and that fsync's error, and forgets it (the commit asks once per file). It is false
// when sp is nil.
func (sp *spareTemps) takeSynced(name string) (bool, error) {
	if sp == nil {
		return false, nil
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	err, ok := sp.synced[name]
	delete(sp.synced, name)
	return ok, err
}

// waitWritten waits until the temporary file name, if it is being written in the
// background, is written, closed (and fsynced when fileSync took it), and returns the
// error of that. A file that was
// written well is forgotten then; a failed one keeps failing.
func (sp *spareTemps) waitWritten(name string) error {
	if !sp.writesAsync() {
		return nil
	}
	sp.mu.Lock()
	pw := sp.pending[name]
	sp.mu.Unlock()
	if pw == nil {
		return nil
	}
	<-pw.done
	if pw.err != nil {
		return pw.err
	}
	sp.mu.Lock()
	delete(sp.pending, name)
	sp.mu.Unlock()
	return nil
}

// copyDepth is how many copy buffers one file's pipelined copy has in flight.
const copyDepth = 8

// copyPipelined is io.Copy(io.MultiWriter(w, h), r), except that w and h are written in
// a goroutine of its own while the next bytes are read (and decoded) from r: writing a
// file and hashing it overlap with decoding the next part of it. It returns the bytes
// written to w and the first error (a read error of r, or w's error); after w fails,
// reading stops.
func copyPipelined(w, h io.Writer, r io.Reader) (int64, error) {
	type chunk struct {
		b *[]byte
		n int
	}
	work := make(chan chunk, copyDepth)
	free := make(chan *[]byte, copyDepth)
	for range copyDepth {
		free <- copyBufs.Get().(*[]byte)
	}
	done := make(chan struct{})
	var written int64
	var werr error
	var failed atomic.Bool
	go func() {
		defer close(done)
		for c := range work {
			if werr == nil {
				p := (*c.b)[:c.n]
				k, err := w.Write(p)
				written += int64(k)
				if err == nil && k < len(p) {
					err = io.ErrShortWrite
				}
				if err == nil {
					_, err = h.Write(p)
				}
				if err != nil {
					werr = err
					failed.Store(true)
				}
			}
			free <- c.b
		}
	}()
	var rerr error
	for rerr == nil && !failed.Load() {
		b := <-free
		buf := (*b)[:cap(*b)]
		var k int
		k, rerr = fill(r, buf)
		if k == 0 {
			free <- b
			continue
		}
		work <- chunk{b, k}
	}
	close(work)
	<-done
	for range copyDepth {
		copyBufs.Put(<-free)
	}
	if werr != nil {
		return written, werr
	}
	if rerr == io.EOF {
		rerr = nil
	}
	return written, rerr
}

// fill reads r into buf until buf is full or r returns an error (io.EOF included), and
// returns the bytes read and that error: unlike io.ReadFull, a short last chunk comes with
// the reader's own error.
func fill(r io.Reader, buf []byte) (int, error) {
	k := 0
	for k < len(buf) {
		m, err := r.Read(buf[k:])
		k += m
		if err != nil {
			return k, err
		}
	}
	return k, nil
}
