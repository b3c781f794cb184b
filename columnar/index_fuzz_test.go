package columnar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// FuzzOpenIndex opens arbitrary bytes as an index and runs every read on
// it (TestIndexMutations runs the same checks on mutated indexes in every
// "go test"). Nothing may panic; a read either fails with an *IndexError or
// returns rows of the file; an index that verifies has keys whose counts
// add up and whose look-ups agree with the counts, and totals that count
// every row once. Each input is opened
// twice: as OpenIndex does, and with checksums ignored, so that the
// fuzzer reaches the decoders behind them.
//
//	go test ./columnar -run='^$' -fuzz=FuzzOpenIndex -fuzztime=1m
func FuzzOpenIndex(f *testing.F) {
	// Seeds: real indexes (exact and coarse; with IPv6, ports in
	// buckets, bitset, varint and roaring postings; totals with every
	// class of key), and broken ones.
	dir := f.TempDir()
	for i, cfg := range []IndexConfig{exactConfig, middleConfig, coarseConfig} {
		rows := randomFlows(100+i*50, uint64(i))
		name := writeIndexed(f, dir, rows, 64, cfg)
		b, err := os.ReadFile(IndexPath(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])                      // truncated
		f.Add(append(bytes.Clone(b[:64]), 0xff)) // header and garbage
	}
	f.Add([]byte(indexMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		for _, noCRC := range []bool{false, true} {
			ix, err := openIndex(bytes.NewReader(data), int64(len(data)), "fuzz.idx", noCRC)
			if err != nil {
				checkIndexError(t, err)
				continue
			}
			exercise(t, ix)
		}
	})
}

func checkIndexError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ie *IndexError
	if !errors.As(err, &ie) || ie.File != "fuzz.idx" {
		t.Fatalf("error %v (%T) is not an IndexError naming the file", err, err)
	}
}

// exercise runs every read of an index; results must be rows of the file.
func exercise(t *testing.T, ix *Index) {
	rows := uint64(ix.Rows())
	inFile := func(what string, bm *roaring.Bitmap, err error) {
		t.Helper()
		if err != nil {
			if !strings.Contains(err.Error(), "index look-up") {
				checkIndexError(t, err)
			}
			return
		}
		if !bm.IsEmpty() && uint64(bm.Maximum()) >= rows {
			t.Fatalf("%s: row %d of %d", what, bm.Maximum(), rows)
		}
	}
	verified := ix.Verify() == nil
	for _, c := range ix.Columns() {
		var sum int64
		var keys []Key
		err := ix.Keys(c.Name, func(k Key) bool {
			sum += k.Rows
			if len(keys) < 4 {
				keys = append(keys, k)
			}
			return true
		})
		checkIndexError(t, err)
		if err == nil && verified {
			var want int64
			for _, cc := range ix.Columns() {
				if cc.Name == c.Name {
					want += cc.Rows
				}
			}
			if sum != want {
				t.Fatalf("%s: keys count %d rows, directory %d", c.Name, sum, want)
			}
		}
		for _, k := range keys {
			bm, err := ix.Lookup(c.Name, k.Value)
			if k.Lo != k.Hi { // a bucket of ports
				bm, err = ix.LookupPorts(c.Name, k.Lo, k.Hi)
			}
			inFile(c.Name+" "+k.Value, bm, err)
			if err == nil && verified && ix.Exact(c.Name) && k.Value != "" && int64(bm.GetCardinality()) != k.Rows {
				t.Fatalf("%s %q: %d rows, key says %d", c.Name, k.Value, bm.GetCardinality(), k.Rows)
			}
		}
		bm, err := ix.LookupStrings(c.Name, func(s string) bool { return len(s)%2 == 0 })
		inFile(c.Name+" strings", bm, err)
		bm, err = ix.LookupPorts(c.Name, 0, 1023)
		inFile(c.Name+" ports", bm, err)
		for _, p := range []string{"10.0.0.0/8", "::/0"} {
			bm, err = ix.LookupPrefix(c.Name, netip.MustParsePrefix(p))
			inFile(c.Name+" "+p, bm, err)
		}
		bm, err = ix.Lookup(c.Name, "443")
		inFile(c.Name+" 443", bm, err)
	}
	for _, col := range TotalsColumns() {
		var flows int64
		var keys uint64
		err := ix.Totals(col, func(k TotalsKey, tot Totals) bool {
			keys++
			flows += tot.Flows
			if tot.Flows <= 0 || tot.Allowed < 0 || tot.Denied < 0 || tot.Allowed+tot.Denied > tot.Flows {
				t.Fatalf("totals of %s: %+v", col, tot)
			}
			isInt := col == "dst_port" || col == "proto"
			isAddr := col == "src_ip" || col == "dst_ip"
			switch {
			case k.Null || k.Text != nil:
				if isInt || k.Addr.IsValid() {
					t.Fatalf("totals of %s: key %+v", col, k)
				}
			case k.Addr.IsValid() != isAddr:
				t.Fatalf("totals of %s: key %+v", col, k)
			}
			return true
		})
		checkIndexError(t, err)
		if err == nil && ix.HasTotals(col) && (flows != int64(rows) || keys != ix.totalsOf(col).nkeys) {
			t.Fatalf("totals of %s: %d keys count %d rows of %d", col, keys, flows, rows)
		}
		if err == nil && !ix.HasTotals(col) {
			t.Fatalf("totals of %s without an error", col)
		}
	}
}

// TestIndexHeaderFields: a header that passes its checksum but lies is
// still refused.
func TestIndexHeaderFields(t *testing.T) {
	name := writeIndexed(t, t.TempDir(), randomFlows(1000, 9), 100, middleConfig)
	good, err := os.ReadFile(IndexPath(name))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(h []byte)
	}{
		{"rows over 2^32", func(h []byte) { binary.LittleEndian.PutUint64(h[16:], 1<<33) }},
		{"fewer rows", func(h []byte) { binary.LittleEndian.PutUint64(h[16:], 10) }},
		{"directory too long", func(h []byte) { binary.LittleEndian.PutUint32(h[12:], 1<<30) }},
		{"footer longer than file", func(h []byte) { binary.LittleEndian.PutUint32(h[36:], 1<<31) }},
		{"more columns", func(h []byte) { binary.LittleEndian.PutUint16(h[10:], 99) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(good)
			tc.edit(b)
			binary.LittleEndian.PutUint32(b[52:], crc32c(b[:52]))
			ix, err := openIndex(bytes.NewReader(b), int64(len(b)), "fuzz.idx", false)
			if err == nil {
				err = ix.Verify()
			}
			if err == nil {
				t.Fatal("no error")
			}
			checkIndexError(t, err)
		})
	}
}

// TestIndexMutations is FuzzOpenIndex's property on a few thousand
// mutations of real indexes (bytes changed, cut, repeated, large numbers
// written): "go test -fuzz" instruments every package linked, Arrow's
// included, which makes it slow here; this runs in every "go test". No
// input may hang: each must be done within seconds.
func TestIndexMutations(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	var seeds [][]byte
	for i, cfg := range []IndexConfig{exactConfig, middleConfig, coarseConfig} {
		name := writeIndexed(t, t.TempDir(), randomFlows(100+i*50, uint64(i)), 64, cfg)
		b, err := os.ReadFile(IndexPath(name))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		b := bytes.Clone(seeds[r.IntN(len(seeds))])
		for k := 0; k < 1+r.IntN(6); k++ {
			at := r.IntN(len(b))
			switch r.IntN(5) {
			case 0, 1:
				b[at] = byte(r.IntN(256))
			case 2:
				b = append(b[:at], b[min(len(b), at+1+r.IntN(8)):]...)
			case 3:
				b = append(b[:at], append(bytes.Repeat([]byte{byte(r.IntN(256))}, 1+r.IntN(8)), b[at:]...)...)
			case 4:
				copy(b[at:], []byte{0xff, 0xff, 0xff, 0x7f})
			}
			if len(b) == 0 {
				b = []byte{0}
			}
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, noCRC := range []bool{false, true} {
				ix, err := openIndex(bytes.NewReader(b), int64(len(b)), "fuzz.idx", noCRC)
				if err != nil {
					checkIndexError(t, err)
					continue
				}
				exercise(t, ix)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("mutation %d hangs: %q", i, b)
		}
	}
}
