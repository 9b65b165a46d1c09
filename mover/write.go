package mover

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"mailmover/i18n"
	"mailmover/mover/journal"
	"mailmover/store"
)

// dest is one destination folder, opened as an os.Root so that no operation can leave
// it: not through "..", not through a symbolic link planted inside it.
type dest struct {
	dir    string // absolute
	root   *os.Root
	prefix string // temporary-file prefix of this profile
	// wrap, when set (tests), wraps every temporary file's writer (fault injection).
	wrap func(io.Writer) io.Writer
	// spares, while a batch fetch runs, holds temporary files created ahead (pipeline.go).
	spares *spareTemps
}

// tempPrefixFor returns the temporary-file prefix of a profile: tempPrefix plus a short
// hash of the profile name, so that two profiles sharing a destination never touch each
// other's temporary files.
func tempPrefixFor(profile string) string {
	h := sha256.Sum256([]byte(profile))
	return tempPrefix + hex.EncodeToString(h[:4]) + "-"
}

func openDest(dir, profile string) (*dest, error) {
	abs, err := store.ExpandPath(dir)
	if err != nil {
		abs, err = filepath.Abs(dir)
	}
	if err != nil {
		return nil, i18n.Errorf("destination %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, i18n.Errorf("creating the destination folder: %w; check destination.folder and its permissions", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, i18n.Errorf("opening the destination folder: %w", err)
	}
	return &dest{dir: abs, root: root, prefix: tempPrefixFor(profile)}, nil
}

func (d *dest) Close() error { return d.root.Close() }

// abs returns the absolute path of a "/"-separated name in the destination.
func (d *dest) abs(rel string) string { return filepath.Join(d.dir, filepath.FromSlash(rel)) }

// tempFile is a temporary file being written.
type tempFile struct {
	name  string // in the destination's top folder
	f     *os.File
	h     hash
	bytes int64
}

type hash interface {
	io.Writer
	Sum([]byte) []byte
}

// sum is the file's SHA-256 in hex, or "" when the file is hashed by the background
// writer (spareTemps.writeAsync): the commit takes it from there (syncFile).
func (t *tempFile) sum() string {
	if t.h == nil {
		return ""
	}
	return hex.EncodeToString(t.h.Sum(nil))
}

// createTemp makes a new, empty temporary file in the destination's top folder.
func (d *dest) createTemp() (*tempFile, error) {
	if t := d.spares.take(); t != nil {
		return t, nil
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	name := d.prefix + hex.EncodeToString(rnd[:])
	f, err := d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, i18n.Errorf("creating a file in %s: %w", d.dir, err)
	}
	return &tempFile{name: name, f: f, h: sha256.New()}, nil
}

// copyBufSize is the buffer of every streaming copy to disk.
const copyBufSize = 256 << 10

// copyBufs recycles the copy buffers, so that each file does not allocate (and clear) a
// new one.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// writeTemp streams r into a new temporary file, hashing it. It does not sync it: the
// batch's commit syncs all its files at once (syncTemps).
func (d *dest) writeTemp(r io.Reader) (*tempFile, error) {
	t, err := d.createTemp()
	if err != nil {
		return nil, err
	}
	var w io.Writer = t.f
	if d.wrap != nil {
		w = d.wrap(w)
	}
	if d.spares.writesAsync() {
		// Written and closed in the background (pipeline.go); the commit waits for it.
		n, err := d.spares.writeAsync(t, w, r)
		t.bytes = n
		if err != nil {
			d.remove(t.name)
			return nil, err
		}
		return t, nil
	}
	n, err := copyPipelined(w, t.h, r) // pipeline.go
	t.bytes = n
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.remove(t.name)
		return nil, err
	}
	return t, nil
}

// syncTemps fsyncs the named temporary files, several at once (file systems such as
// ext4 then share one journal commit among them), and returns each file's error.
func (d *dest) syncTemps(names []string) []error {
	errs := make([]error, len(names))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(8, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				errs[i] = d.syncFile(names[i])
			}
		}()
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	return errs
}

// syncFile makes the temporary file name durable for the commit: it waits for its
// writing in the background (pipeline.go) and fsyncs it, unless it was fsynced there after
// its last write already.
func (d *dest) syncFile(name string) error {
	if err := d.spares.waitWritten(name); err != nil { // written in the background (pipeline.go)
		return i18n.Errorf("writing a file in %s: %w", d.dir, err)
	}
	if done, err := d.spares.takeSynced(name); done {
		return err
	}
	return d.fsyncTemp(name)
}

// fsyncTemp opens the temporary file name and fsyncs it.
func (d *dest) fsyncTemp(name string) error {
	f, err := d.root.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if err == nil {
		dropCache(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return i18n.Errorf("writing a file in %s: %w", d.dir, err)
	}
	return nil
}

// onlyReader hides WriteTo, so that CopyBuffer uses our buffer.
type onlyReader struct{ io.Reader }

// removeTemp deletes a temporary file (best effort).
func (d *dest) removeTemp(name string) { d.remove(name) }

// exists reports whether rel exists (as anything) in the destination.
func (d *dest) exists(rel string) bool {
	_, err := d.root.Lstat(filepath.FromSlash(rel))
	return err == nil
}

// ensureDir creates the folder of rel and makes new folders durable.
func (d *dest) ensureDir(rel string) error {
	dir := path.Dir(rel)
	if dir == "." {
		return nil
	}
	if fi, err := d.root.Stat(filepath.FromSlash(dir)); err == nil && fi.IsDir() {
		return nil
	}
	if err := d.root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
		return i18n.Errorf("creating folder %s: %w", d.abs(dir), err)
	}
	// Sync every folder from the new one up to the top, so the new entries survive a crash.
	for p := dir; ; p = path.Dir(p) {
		if err := d.syncDir(path.Dir(p)); err != nil {
			return err
		}
		if path.Dir(p) == "." {
			break
		}
	}
	return nil
}

// syncDir fsyncs a folder of the destination ("." is the top); how is per system
// (flushFolder: place_other.go, place_windows.go).
func (d *dest) syncDir(rel string) error {
	if err := d.flushFolder(rel); err != nil {
		return i18n.Errorf("syncing folder %s: %w", d.abs(rel), err)
	}
	return nil
}

// errTempGone says a committed file is neither in its temporary file nor in place:
// someone removed it. The message is then fetched again.
var errTempGone = i18n.NewError("its temporary file is gone and the file is not in place (removed by someone else?)")

// errExists says a final name is taken.
var errExists = i18n.NewError("name taken")

// linkNoReplace puts the temporary file tmp at rel unless rel exists (errExists). It uses
// a hard link (atomic, never replaces), falling back to a check and a rename on file
// systems without hard links. On Windows it is a rename that never replaces
// (place_windows.go).
func (d *dest) linkNoReplace(tmp, rel string) error {
	if renameInsteadOfLink {
		return d.renameNoReplace(tmp, rel)
	}
	err := d.root.Link(tmp, filepath.FromSlash(rel))
	switch {
	case err == nil:
		return d.remove(tmp)
	case errors.Is(err, fs.ErrExist):
		return errExists
	}
	// No hard links here (FAT, some network shares: EPERM, ENOTSUP, EMLINK, …): check,
	// then rename. Only another program creating the same name in between could be
	// replaced.
	if d.exists(rel) {
		return errExists
	}
	if rerr := d.root.Rename(tmp, filepath.FromSlash(rel)); rerr != nil {
		return i18n.Errorf("%w (hard link: %v)", rerr, err)
	}
	return nil
}

// sameFile reports whether the two names are the same file (a hard link not yet
// followed by the removal of the temporary name).
func (d *dest) sameFile(a, b string) bool {
	fa, err1 := d.root.Lstat(filepath.FromSlash(a))
	fb, err2 := d.root.Lstat(filepath.FromSlash(b))
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// place puts the temporary file f.Temp at its final name f.Path according to policy,
// updating f (the name may change for "rename", or f.Skipped may be set). It is also the
// recovery step: it copes with the temporary file already linked or renamed.
func (d *dest) place(f *journal.FileRecord, policy string) error {
	if f.Skipped != "" {
		d.removeTemp(f.Temp)
		return nil
	}
	if _, err := d.root.Lstat(f.Temp); errors.Is(err, fs.ErrNotExist) {
		// Renamed (or linked and unlinked) before a crash — if what is there now is this
		// file's content. Another file under the name (the temporary file removed by
		// someone, the name taken by another program) does not count as saved.
		if d.hasContent(f.Path, f.SHA256) {
			return nil
		}
		return i18n.Errorf("file %s: %w", d.abs(f.Path), errTempGone)
	}
	if d.exists(f.Path) && d.sameFile(f.Temp, f.Path) {
		return d.remove(f.Temp) // linked before a crash
	}
	if err := d.ensureDir(f.Path); err != nil {
		return err
	}
	switch policy {
	case store.ConflictOverwrite:
		return d.root.Rename(f.Temp, filepath.FromSlash(f.Path))
	case store.ConflictSkip:
		err := d.linkNoReplace(f.Temp, f.Path)
		if errors.Is(err, errExists) {
			// Taken since the plan (by another program, or before a crash).
			skipFor(f, d.hasContent(f.Path, f.SHA256))
			d.removeTemp(f.Temp)
			return nil
		}
		return err
	default:
		base := f.Path
		for n := 2; ; n++ {
			if d.sameFile(f.Temp, f.Path) {
				return d.remove(f.Temp) // linked under this name before a crash
			}
			err := d.linkNoReplace(f.Temp, f.Path)
			if !errors.Is(err, errExists) {
				return err
			}
			if n > 10000 {
				return i18n.Errorf("no free name for %s", d.abs(base))
			}
			f.Path = withSuffix(base, n)
		}
	}
}

// planned is a final name planned for a file of a batch whose file is not in place yet.
type planned struct {
	idx int    // index in the files of the message that planned it
	sha string // the content's SHA-256
}

// planNames resolves the final names of a message's files against the destination and
// against each other, according to policy. Files with the same name in one message are
// handled by the same policy: "rename" numbers them, "overwrite" keeps the last,
// "skip" keeps the first. A file not written is marked Same when the content that keeps
// the name is the same as its own (then its content is safe; see leaveInMailbox).
//
// taken (lower-case name → planned) carries the names planned for earlier messages of
// a batch; their files are not in place yet.
func (d *dest) planNames(files []journal.FileRecord, policy string, taken map[string]planned) {
	mine := map[string]bool{}
	for i := range files {
		f := &files[i]
		base := f.Path
		key := strings.ToLower(f.Path)
		switch policy {
		case store.ConflictOverwrite:
			if p, ok := taken[key]; ok && mine[key] {
				files[p.idx].Skipped = i18n.Key("replaced by a later part of the same message with the same name (on_conflict = overwrite)")
				files[p.idx].Same = p.sha == f.SHA256
			}
		case store.ConflictSkip:
			if p, ok := taken[key]; ok {
				skipFor(f, p.sha == f.SHA256)
				continue
			}
			if d.exists(f.Path) {
				skipFor(f, d.hasContent(f.Path, f.SHA256))
				continue
			}
		default:
			for n := 2; ; n++ {
				if _, ok := taken[key]; !ok && !d.exists(f.Path) {
					break
				}
				f.Path = withSuffix(base, n)
				key = strings.ToLower(f.Path)
			}
		}
		taken[key] = planned{idx: i, sha: f.SHA256}
		mine[key] = true
	}
}

// skipFor marks f as not written by on_conflict = "skip" because its name is taken:
// by the same content (safe) or by other content (then its mail must stay).
func skipFor(f *journal.FileRecord, same bool) {
	f.Same = same
	if same {
		f.Skipped = i18n.Key("a file with this name and the same content is already there (on_conflict = skip)")
		return
	}
	f.Skipped = i18n.Key("a file with this name but other content is already there (on_conflict = skip)")
}

// hasContent reports whether the destination's file rel has the SHA-256 sum (hex).
// Anything it cannot read counts as other content.
func (d *dest) hasContent(rel, sum string) bool {
	f, err := d.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == sum
}

// cleanTemps removes this profile's temporary files from the destination's top folder,
// except those in keep. They are leftovers of a run that stopped before its commit.
func (d *dest) cleanTemps(keep map[string]bool) (int, error) {
	f, err := d.root.Open(".")
	if err != nil {
		return 0, err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if strings.HasPrefix(name, d.prefix) && !keep[name] {
			if err := d.remove(name); err == nil {
				n++
			}
		}
	}
	if n > 0 {
		return n, d.syncDir(".")
	}
	return 0, nil
}
