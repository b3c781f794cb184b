package columnar

import (
	"fmt"
	"io"
	"testing"
)

// Run with:
//
//	go test ./columnar -run='^$' -bench=. -benchmem -count 6 | tee new.txt; benchstat new.txt

func sampleFlows(n int) []Flow {
	rows := make([]Flow, n)
	rules := [][]byte{[]byte("DefaultRule_AllowInternetOutBound"), []byte("DefaultRule_DenyAllInBound"), []byte("UserRule_web")}
	for i := range rows {
		rows[i] = Flow{
			Time:       1714568400_000000 + int64(i)*1000,
			Source:     SourceNSGv2,
			ResourceID: []byte("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-1"),
			MAC:        []byte("000D3AF87856"),
			Rule:       rules[i%3],
			SrcIP:      []byte(fmt.Sprintf("10.0.%d.%d", i%7, i%250)),
			DstIP:      []byte(fmt.Sprintf("52.%d.%d.%d", i%13, i%256, i%97)),
			SrcPort:    int32(1024 + i%60000), DstPort: 443, Proto: 6,
			Direction: DirectionOut, Decision: DecisionAllow, State: 'E',
			HasCounters: i%2 == 0, PacketsOut: 10, BytesOut: int64(i % 9000), PacketsIn: 8, BytesIn: 700,
		}
	}
	return rows
}

// BenchmarkBatchAppend measures copying rows into a batch.
func BenchmarkBatchAppend(b *testing.B) {
	rows := sampleFlows(4096)
	batch := NewBatch()
	b.SetBytes(rowBytes(rows)) // bytes of the rows appended per op
	b.ReportAllocs()
	for b.Loop() {
		for i := range rows {
			batch.Append(&rows[i])
		}
		if batch.Len() >= RowGroupRows {
			batch.Reset()
		}
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkParquetWrite measures encoding full row groups to Parquet.
func BenchmarkParquetWrite(b *testing.B) {
	rows := sampleFlows(RowGroupRows)
	batch := NewBatch()
	for i := range rows {
		batch.Append(&rows[i])
	}
	rec := batch.Record()
	defer rec.Release()
	b.SetBytes(rowBytes(rows)) // bytes of the rows encoded per op
	w, err := NewParquetWriter(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}

// rowBytes is the size of rows as a parser hands them over: the byte
// fields plus 8 bytes for each of the 13 numeric and enum fields.
func rowBytes(rows []Flow) int64 {
	var n int64
	for i := range rows {
		f := &rows[i]
		n += int64(len(f.ResourceID)+len(f.MAC)+len(f.Rule)+len(f.SrcIP)+len(f.DstIP)) + 13*8
	}
	return n
}
