package columnar

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestClusterBySource: a clustered batch holds the same rows as a batch
// appended in the clustered order (by source address, in order of first
// appearance, each address's rows in their order), every column and
// null alike; and a batch already in that order is left as it is.
func TestClusterBySource(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 2, 17, 5000} {
		rows := randomFlows(n, uint64(n))
		for i := range rows {
			f := &rows[i]
			f.HasCounters = r.IntN(3) > 0
			f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn = int64(i), int64(2*i), int64(3*i), int64(4*i)
			f.HasEndTime, f.EndTime = r.IntN(2) == 0, f.Time+int64(r.IntN(1000))
			f.HasTCPFlags, f.TCPFlags = r.IntN(4) == 0, int32(r.IntN(64))
			f.HasVLAN, f.VLAN = i > n/2, int32(i%4096) // nulls first, then values
			f.State = "BCE"[r.IntN(3)]
			if r.IntN(5) == 0 {
				f.Context = 0 // no run of context: every text column appended
			}
		}
		first := map[string]int{}
		for i := range rows {
			if _, ok := first[string(rows[i].SrcIP)]; !ok {
				first[string(rows[i].SrcIP)] = i
			}
		}
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b Flow) int { return first[string(a.SrcIP)] - first[string(b.SrcIP)] })

		got, ref := NewBatch(), NewBatch()
		for i := range rows {
			got.Append(&rows[i])
			ref.Append(&want[i])
		}
		got.ClusterBySource()
		a, b := recordText(got.Record()), recordText(ref.Record())
		if !slices.Equal(a, b) {
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("%d rows: row %d clustered\n%s\nwant\n%s", n, i, a[i], b[i])
				}
			}
			t.Fatalf("%d rows: %d rows clustered, want %d", n, len(a), len(b))
		}
		// Clustering the clustered order again changes nothing.
		ref.ClusterBySource()
		if c := recordText(ref.Record()); !slices.Equal(c, b) {
			t.Fatalf("%d rows: clustering clustered rows moved them", n)
		}
	}
}

// recordText renders each row of rec as text, column by column, nulls
// as "∅", and releases rec.
func recordText(rec arrow.RecordBatch) []string {
	defer rec.Release()
	out := make([]string, rec.NumRows())
	for c, col := range rec.Columns() {
		for i := range out {
			v := "∅"
			if col.IsValid(i) {
				v = col.ValueStr(i)
			}
			out[i] += fmt.Sprintf("%s=%s ", rec.ColumnName(c), v)
		}
	}
	return out
}

// BenchmarkClusterBySource: clustering a full row group of realistic
// rows (bytes are the rows' Flow size, for a rate per row).
func BenchmarkClusterBySource(b *testing.B) {
	rows := randomFlows(RowGroupRows, 5)
	batch := NewBatch()
	b.SetBytes(int64(RowGroupRows) * int64(unsafe.Sizeof(Flow{})))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		batch.Reset()
		for i := range rows {
			batch.Append(&rows[i])
		}
		b.StartTimer()
		batch.ClusterBySource()
	}
}
