package mover

import "os"

// streamChunk is how much of a large file is written before its writeback is started;
// the chunk before it is then waited for and dropped from the page cache (see
// streamedWrite).
const streamChunk = 8 << 20

// streamedWrite keeps a large file from filling the page cache while it is written: after
// every streamChunk bytes the writeback of what was just written is started, and the
// chunk before it — whose writeback had a chunk's time to finish — is waited for and its
// clean pages dropped (dropCache does the same for the whole file after its fsync). A
// 200 MB attachment then holds about two chunks of page cache, not 200 MB, and its later
// pages reuse the memory of its first. Best effort where the system has these calls
// (Linux): the fsync before the commit is what makes the file durable, as for any file.
type streamedWrite struct {
	off     int64 // bytes written
	started int64 // writeback started up to here
	dropped int64 // written back and dropped up to here
}

// wrote records n more bytes written to f.
func (s *streamedWrite) wrote(f *os.File, n int64) {
	s.off += n
	if s.off-s.started < streamChunk {
		return
	}
	if s.started > s.dropped {
		writebackWait(f, s.dropped, s.started-s.dropped)
		s.dropped = s.started
	}
	writebackStart(f, s.started, s.off-s.started)
	s.started = s.off
}
