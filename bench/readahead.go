package bench

import (
	"io"
	"sync"
)

// ReadAhead reads r in a goroutine of its own, up to depth chunks of size bytes ahead of
// the consumer, so that reading the wire (socket, TLS) overlaps with what the consumer
// does with the bytes (MIME decoding, hashing, writing). Memory stays bounded by
// depth×size. It is the experiment behind the proposal in docs/benchmarks.md for
// imapsrc.Fetch; `mm-bench profile -readahead` measures it.
type ReadAhead struct {
	full  chan []byte // filled chunks, in order
	free  chan []byte // empty chunks to fill
	cur   []byte      // the chunk being consumed
	done  chan struct{}
	stop  chan struct{}
	once  sync.Once
	err   error // the reader's final error (io.EOF at the end); read after done
	owned []byte
}

// NewReadAhead starts reading r ahead.
func NewReadAhead(r io.Reader, depth, size int) *ReadAhead {
	ra := &ReadAhead{full: make(chan []byte, depth), free: make(chan []byte, depth),
		done: make(chan struct{}), stop: make(chan struct{})}
	for range depth {
		ra.free <- make([]byte, size)
	}
	go ra.fill(r)
	return ra
}

func (ra *ReadAhead) fill(r io.Reader) {
	defer close(ra.done)
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			ra.err = io.ErrClosedPipe
			return
		}
		n, err := io.ReadFull(r, buf[:cap(buf)])
		if n > 0 {
			ra.full <- buf[:n]
		}
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

// Read returns bytes in order; at the end, the underlying reader's error (io.EOF).
func (ra *ReadAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.owned != nil {
			ra.free <- ra.owned[:cap(ra.owned)]
			ra.owned = nil
		}
		buf, ok := <-ra.full
		if !ok {
			<-ra.done
			return 0, ra.err
		}
		ra.cur, ra.owned = buf, buf
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops reading ahead and waits until the goroutine has let go of the reader (it
// finishes the read in flight). The consumer should read to the end first when the
// rest of the stream must be consumed (an IMAP literal).
func (ra *ReadAhead) Close() error {
	ra.once.Do(func() { close(ra.stop) })
	for range ra.full { // unblock a pending send
	}
	<-ra.done
	return nil
}
