package columnar

import (
	"net/netip"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// Run with:
//
//	go test ./columnar -run='^$' -bench=Index -benchmem -count 6 | tee new.txt; benchstat new.txt

// BenchmarkIndexBuild measures building the index of full row groups as
// PartitionWriter does: adding the record batches, then encoding. The
// rows are randomFlows': many distinct addresses and ports, the costly
// case.
func BenchmarkIndexBuild(b *testing.B) {
	rows := randomFlows(4*RowGroupRows, 1)
	var recs []arrow.RecordBatch
	for i := 0; i < len(rows); i += RowGroupRows {
		batch := NewBatch() // a record shares its batch's memory
		for k := i; k < min(i+RowGroupRows, len(rows)); k++ {
			batch.Append(&rows[k])
		}
		recs = append(recs, batch.Record())
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	bl := newIndexBuilder(nil)
	bl.spillDir = b.TempDir()
	id := parquetID{size: int64(len(rows)) * 12} // about what Parquet takes for these rows
	b.SetBytes(rowBytes(rows))                   // bytes of the rows indexed per op
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			if err := bl.addRecord(r); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bl.finish(id, DefaultIndexConfig()); err != nil {
			b.Fatal(err)
		}
		bl.reset()
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkIndexNeedle measures a needle query's look-ups in one file's
// index, as a query does them: open the index, look up a source address,
// a destination port and the deny decision, intersect. B-read/op is what
// the look-ups read of the index.
func BenchmarkIndexNeedle(b *testing.B) {
	rows := randomFlows(1_000_000, 2)
	name := writeIndexed(b, b.TempDir(), rows, RowGroupRows, DefaultIndexConfig())
	fi, err := os.Stat(IndexPath(name))
	if err != nil {
		b.Fatal(err)
	}
	src := netip.MustParseAddr(string(rows[1234].SrcIP))
	var read int64
	b.ReportAllocs()
	for b.Loop() {
		ix, err := OpenIndex(name)
		if err != nil {
			b.Fatal(err)
		}
		bm, err := ix.LookupAddr("src_ip", src)
		if err != nil {
			b.Fatal(err)
		}
		ports, err := ix.LookupPorts("dst_port", 3389, 3389)
		if err != nil {
			b.Fatal(err)
		}
		deny, err := ix.LookupStrings("decision", func(s string) bool { return s == "deny" })
		if err != nil {
			b.Fatal(err)
		}
		bm.And(ports)
		bm.And(deny)
		read += ix.read.Load()
		ix.Close()
	}
	b.SetBytes(read / int64(b.N))
	b.ReportMetric(float64(read)/float64(b.N), "B-read/op")
	b.ReportMetric(float64(fi.Size()), "B-index")
}
