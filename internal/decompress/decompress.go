// Package decompress opens input files whatever their compression: gzip
// and zstd are recognised by their magic numbers, not their names, and
// anything else is read as it is. Flow logs and packet captures both come
// plain or compressed.
package decompress

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// File is an open input: Read returns the decompressed bytes.
type File struct {
	io.Reader
	f     *os.File
	close func()
	raw   int64
	total *atomic.Int64
}

// Open opens path for reading its decompressed content. File bytes read
// are added to total (when not nil) as they are read, for progress.
func Open(path string, total *atomic.Int64) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	d := &File{f: f, total: total, close: func() {}}
	br := bufio.NewReaderSize(countingReader{d}, 256<<10)
	magic, _ := br.Peek(4)
	d.Reader = plainReader{br, countingReader{d}}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		d.Reader, d.close = zr, func() { zr.Close() }
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: zstd: %w", path, err)
		}
		d.Reader, d.close = zr, zr.Close
	}
	return d, nil
}

// RawBytes is the number of file bytes read so far.
func (d *File) RawBytes() int64 { return d.raw }

// Close closes the decompressor and the file.
func (d *File) Close() error {
	d.close()
	return d.f.Close()
}

// directRead is the smallest read that plainReader passes straight to the
// file once the peeked bytes are used up. bufio.Reader would copy any read
// smaller than its buffer through it; a capture reader that reads 128 KiB
// at a time (which keeps the kernel's copy in the core's cache) would pay
// a second copy.
const directRead = 64 << 10

// plainReader reads a file that is not compressed: through the
// bufio.Reader that peeked at its magic, except large reads when that
// holds nothing, which go to the file.
type plainReader struct {
	br   *bufio.Reader
	file countingReader
}

func (p plainReader) Read(b []byte) (int, error) {
	if len(b) >= directRead && p.br.Buffered() == 0 {
		return p.file.Read(b)
	}
	return p.br.Read(b)
}

// countingReader counts the file bytes read through it.
type countingReader struct{ d *File }

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.d.f.Read(p)
	c.d.raw += int64(n)
	if c.d.total != nil {
		c.d.total.Add(int64(n))
	}
	return n, err
}

// HasExt reports whether a file name, less a .gz or .zst suffix, ends
// with one of exts (lower case, with the dot), ignoring case.
func HasExt(name string, exts ...string) bool {
	n := strings.ToLower(name)
	n = strings.TrimSuffix(strings.TrimSuffix(n, ".gz"), ".zst")
	for _, ext := range exts {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}
