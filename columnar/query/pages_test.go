package query

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// TestPageCodecs: pages compressed by arrow-go's codecs decompress to
// their bytes, levels stored uncompressed in front (data pages v2)
// included; a damaged page is an error, never a panic. A codec the
// reader lacks is an error that names it.
func TestPageCodecs(t *testing.T) {
	levels := []byte{1, 2, 3}
	values := bytes.Repeat([]byte("flowlens page "), 300)
	for _, cc := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Gzip, compress.Codecs.Zstd, compress.Codecs.Brotli, compress.Codecs.Lz4Raw} {
		t.Run(cc.String(), func(t *testing.T) {
			c, err := compress.GetCodec(cc)
			if err != nil {
				t.Fatal(err)
			}
			body := append(append([]byte(nil), levels...), c.Encode(nil, values)...)
			var p pageReader
			defer p.close()
			p.codec = codec(cc)
			err = p.setCodec()
			if cc == compress.Codecs.Brotli || cc == compress.Codecs.Lz4Raw {
				if err == nil || !strings.Contains(err.Error(), p.codec.String()) || p.codec.String() != strings.ToUpper(cc.String()) {
					t.Fatalf("codec %s: %v, want an error naming it", cc, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := append(append([]byte(nil), levels...), values...)
			for range 2 { // the second time into the buffer of the first
				got, err := p.decompress(body, len(want), len(levels))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("decompressed %d bytes, %v; want %d", len(got), err, len(want))
				}
			}
			// A header that claims a gigabyte: an error, and no gigabyte
			// allocated (for zstd, the presize stops at maxPresize).
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if _, err := p.decompress(body, 1<<30, len(levels)); err == nil {
				t.Errorf("a page whose header claims 1 GiB decompressed")
			}
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("a page whose header claims 1 GiB allocated %d bytes", grew)
			}
			for _, bad := range [][]byte{body[:len(body)/2], append(append([]byte(nil), levels...), bytes.Repeat([]byte{0xff}, 40)...)} {
				if got, err := p.decompress(bad, len(want), len(levels)); err == nil && bytes.Equal(got, want) {
					t.Fatalf("a damaged page decompressed to the page")
				}
			}
		})
	}
}
