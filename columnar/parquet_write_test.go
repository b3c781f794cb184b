package columnar

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// roundTripBatches are batches that stress the writer: runs and no runs,
// nulls everywhere, nowhere, and in stretches longer than a page,
// integers at the ends of their range (delta wraps), one-row and
// one-value-dictionary batches.
func roundTripBatches() []*Batch {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []*Batch
	for _, n := range []int{1, 7, 1000, 3000, RowGroupRows} {
		b := NewBatch()
		for i := range n {
			var f Flow
			mode := (i / 4000) % 4 // stretches of 4,000 rows
			f.Time = 1714521600_000000 + int64(i)*rng.Int64N(5000)
			f.Source = SourceNSGv2
			f.SrcIP = fmt.Appendf(nil, "10.0.%d.%d", rng.IntN(3), rng.IntN(256))
			f.DstIP = fmt.Appendf(nil, "192.168.%d.%d", i/500, rng.IntN(4))
			f.SrcPort = rng.Int32()
			if i%3 == 0 {
				f.SrcPort = -rng.Int32()
			}
			if i%97 == 0 {
				f.SrcPort = math.MinInt32
			}
			f.DstPort = []int32{443, 80, 22, math.MaxInt32}[i%4]
			f.Proto = 6
			switch mode {
			case 0: // every column set
				f.HasCounters, f.HasEndTime, f.HasTCPFlags = true, true, true
				f.Rule = []byte("UserRule_web")
				f.Direction, f.Decision = DirectionIn, DecisionAllow
			case 1: // nulls only
			case 2: // random nulls
				f.HasCounters, f.HasEndTime = rng.IntN(2) == 0, rng.IntN(3) == 0
				if rng.IntN(2) == 0 {
					f.Rule = fmt.Appendf(nil, "rule-%d", rng.IntN(50))
				}
			case 3: // extremes
				f.HasCounters = true
				f.Direction = DirectionOut
			}
			f.PacketsOut, f.BytesOut = rng.Int64N(1000), rng.Int64()
			f.PacketsIn, f.BytesIn = rng.Int64N(3), -rng.Int64()
			if mode == 3 {
				f.BytesOut, f.BytesIn = math.MaxInt64, math.MinInt64
				if i%2 == 0 {
					f.BytesOut, f.BytesIn = math.MinInt64, math.MaxInt64
				}
			}
			f.EndTime = f.Time + rng.Int64N(1e6)
			f.TCPFlags = rng.Int32N(64)
			b.Append(&f)
		}
		out = append(out, b)
	}
	return out
}

// cell renders row i of a column for comparison: "null", a dictionary
// value or an integer.
func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "null"
	}
	switch x := a.(type) {
	case *array.Dictionary:
		return x.Dictionary().(*array.String).Value(x.GetValueIndex(i))
	case *array.String:
		return x.Value(i)
	case *array.Int32:
		return fmt.Sprint(x.Value(i))
	case *array.Int64:
		return fmt.Sprint(x.Value(i))
	case *array.Timestamp:
		return fmt.Sprint(int64(x.Value(i)))
	}
	return fmt.Sprintf("%T", a)
}

// TestParquetWriterRoundTrip writes batches with our writer and reads
// them back with arrow-go's reader, value by value, with the Arrow
// schema restored from the footer, the statistics and the page index.
func TestParquetWriterRoundTrip(t *testing.T) {
	batches := roundTripBatches()
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var want []arrow.RecordBatch
	for _, b := range batches {
		rec := b.Record()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 20}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range Schema.Fields() { // arrow-go adds PARQUET:field_id metadata
		g := sc.Field(i)
		if sc.NumFields() != Schema.NumFields() || g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) || g.Nullable != f.Nullable {
			t.Fatalf("schema read back:\n%s\nwant\n%s", sc, Schema)
		}
	}
	if pf.NumRowGroups() != len(batches) {
		t.Fatalf("%d row groups, want %d", pf.NumRowGroups(), len(batches))
	}
	pir := pf.GetPageIndexReader()
	all := make([]int, Schema.NumFields())
	for i := range all {
		all[i] = i
	}
	for g, rec := range want {
		got, err := fr.ReadRowGroups(context.Background(), all, []int{g})
		if err != nil {
			t.Fatalf("row group %d: %v", g, err)
		}
		if got.NumRows() != rec.NumRows() {
			t.Fatalf("row group %d: %d rows, want %d", g, got.NumRows(), rec.NumRows())
		}
		rgm := pf.MetaData().RowGroup(g)
		rgi, err := pir.RowGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		for c := range Schema.NumFields() {
			name := Schema.Field(c).Name
			chunks := got.Column(c).Data().Chunks()
			if len(chunks) != 1 {
				t.Fatalf("row group %d, column %s: %d chunks read", g, name, len(chunks))
			}
			col := chunks[0]
			var nulls int64
			var lo, hi int64 = math.MaxInt64, math.MinInt64
			for i := range int(rec.NumRows()) {
				if have, want := cell(col, i), cell(rec.Column(c), i); have != want {
					t.Fatalf("row group %d, column %s, row %d: %s, want %s", g, name, i, have, want)
				}
				if rec.Column(c).IsNull(i) {
					nulls++
				} else if v, ok := intValue(rec.Column(c), i); ok {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			ccm, err := rgm.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			oi, err := rgi.GetOffsetIndex(c)
			if err != nil || oi == nil {
				t.Fatalf("row group %d, column %s: offset index %v, %v", g, name, oi, err)
			}
			locs := oi.GetPageLocations()
			if len(locs) == 0 || locs[0].FirstRowIndex != 0 || locs[0].Offset != ccm.DataPageOffset() {
				t.Fatalf("row group %d, column %s: pages %v, data page at %d", g, name, locs, ccm.DataPageOffset())
			}
			if _, isDict := rec.Column(c).(*array.Dictionary); isDict {
				continue
			}
			st, err := ccm.Statistics()
			if err != nil || st == nil {
				t.Fatalf("row group %d, column %s: statistics %v, %v", g, name, st, err)
			}
			if st.NullCount() != nulls {
				t.Errorf("row group %d, column %s: null count %d, want %d", g, name, st.NullCount(), nulls)
			}
			if nulls < rec.NumRows() {
				var smin, smax int64
				switch s := st.(type) {
				case *metadata.Int32Statistics:
					smin, smax = int64(s.Min()), int64(s.Max())
				case *metadata.Int64Statistics:
					smin, smax = s.Min(), s.Max()
				}
				if smin != lo || smax != hi {
					t.Errorf("row group %d, column %s: min %d max %d, want %d %d", g, name, smin, smax, lo, hi)
				}
			}
			ci, err := rgi.GetColumnIndex(c)
			if err != nil || ci == nil {
				t.Fatalf("row group %d, column %s: column index %v, %v", g, name, ci, err)
			}
			if len(ci.GetNullPages()) != len(locs) {
				t.Fatalf("row group %d, column %s: %d null_pages for %d pages", g, name, len(ci.GetNullPages()), len(locs))
			}
		}
		got.Release()
	}
}

func intValue(a arrow.Array, i int) (int64, bool) {
	switch x := a.(type) {
	case *array.Int32:
		return int64(x.Value(i)), true
	case *array.Int64:
		return x.Value(i), true
	case *array.Timestamp:
		return int64(x.Value(i)), true
	}
	return 0, false
}
