package bench

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadAheadReturnsTheStreamInOrder(t *testing.T) {
	for _, size := range []int{0, 1, 1000, 256 << 10, 1<<20 + 17} {
		src := make([]byte, size)
		DefaultSpec(5, 1, "r").content(0, 0, src)
		ra := NewReadAhead(iotest.HalfReader(bytes.NewReader(src)), 3, 64<<10)
		got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(ra, int64(size)+1)))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("size %d: got %d bytes, different from the source", size, len(got))
		}
		ra.Close()
	}
}

func TestReadAheadPassesTheError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(make([]byte, 100_000)), iotest.ErrReader(boom))
	ra := NewReadAhead(r, 2, 32<<10)
	defer ra.Close()
	n, err := io.Copy(io.Discard, ra)
	if !errors.Is(err, boom) || n != 100_000 {
		t.Fatalf("copied %d bytes, err %v; want 100000 and %v", n, err, boom)
	}
}

func TestReadAheadCloseEarly(t *testing.T) {
	src := bytes.NewReader(make([]byte, 10<<20))
	ra := NewReadAhead(src, 2, 64<<10)
	buf := make([]byte, 10)
	if _, err := ra.Read(buf); err != nil {
		t.Fatal(err)
	}
	ra.Close() // must return: the reader goroutine stops
	// It stops within the chunks in flight: at most depth+1 chunks were read.
	if read := 10<<20 - src.Len(); read > 3*64<<10 {
		t.Fatalf("read %d bytes ahead after Close", read)
	}
}
