package decompress

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// TestOpenReadSizes reads plain, gzip and zstd files with reads of mixed
// sizes, some below and some above directRead, some larger than the
// bufio.Reader's buffer: every byte comes back once, in order, and the
// raw bytes counted are the file's size.
func TestOpenReadSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := make([]byte, 1<<20+12345)
	for i := range want {
		want[i] = byte(rng.IntN(7)) // compressible, not constant
	}
	dir := t.TempDir()
	write := func(name string, compress func(io.Writer) io.WriteCloser) string {
		var buf bytes.Buffer
		if compress == nil {
			buf.Write(want)
		} else {
			w := compress(&buf)
			if _, err := w.Write(want); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	files := []string{
		write("plain", nil),
		write("gz", func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }),
		write("zst", func(w io.Writer) io.WriteCloser {
			zw, err := zstd.NewWriter(w)
			if err != nil {
				t.Fatal(err)
			}
			return zw
		}),
	}
	sizes := []int{4, 100, directRead - 1, directRead, 128 << 10, 300 << 10, 1}
	for _, path := range files {
		var total atomic.Int64
		f, err := Open(path, &total)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for k := 0; ; k++ {
			b := make([]byte, sizes[k%len(sizes)])
			n, err := f.Read(b)
			got = append(got, b[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes, not the %d written (or not the same)", path, len(got), len(want))
		}
		fi, _ := os.Stat(path)
		if f.RawBytes() != fi.Size() || total.Load() != fi.Size() {
			t.Errorf("%s: counted %d and %d raw bytes, file has %d", path, f.RawBytes(), total.Load(), fi.Size())
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenPlainReadsDirect checks that a large read of a plain file, once
// the peeked bytes are used, goes to the file whole rather than through
// the bufio.Reader's buffer.
func TestOpenPlainReadsDirect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(path, make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := make([]byte, 256<<10) // what Peek buffered: the first 256 KiB
	if _, err := io.ReadFull(f, first); err != nil {
		t.Fatal(err)
	}
	before := f.RawBytes()
	n, err := f.Read(make([]byte, 128<<10))
	if err != nil || n != 128<<10 {
		t.Fatalf("read %d, %v", n, err)
	}
	if got := f.RawBytes() - before; got != 128<<10 {
		t.Errorf("a 128 KiB read took %d bytes from the file, want 131072 (no read ahead into a buffer)", got)
	}
}
