package query

import (
	"context"
	"os"
	"testing"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// Run with:
//
//	go test ./columnar/query -run='^$' -bench=. -benchmem -count 6 | tee new.txt; benchstat new.txt
//
// They read the synthetic dataset of the tests (250,000 rows over two
// hours); FLOWLENS_BENCH_DATASET=DIR reads a converted dataset instead,
// e.g. the one of bench/cmd/flowgen's 256 MiB tree.

func benchDataset(b *testing.B) string {
	if d := os.Getenv("FLOWLENS_BENCH_DATASET"); d != "" {
		return d
	}
	return synthDataset(b)
}

func datasetRows(b *testing.B, root string) int64 {
	files, err := columnar.Files(root)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, f := range files {
		n += f.Rows
	}
	return n
}

func benchScan(b *testing.B, q Query) {
	rows := datasetRows(b, q.Root)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.Scan(context.Background(), func(*columnar.Flow) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkScanNeedle: one source, one destination port, denied; one
// worker.
func BenchmarkScanNeedle(b *testing.B) {
	benchScan(b, Query{Root: benchDataset(b), Workers: 1, Columns: []string{"time", "src_ip", "dst_ip", "dst_port"},
		Where: filter.MustParse("src ip 10.0.1.5 and dst port 3389 and deny")})
}

// BenchmarkScanAll hands on every row with every column; one worker.
func BenchmarkScanAll(b *testing.B) {
	benchScan(b, Query{Root: benchDataset(b), Workers: 1, Columns: allColumns()})
}

// BenchmarkScanFilter evaluates a filter of every kind of leaf.
func BenchmarkScanFilter(b *testing.B) {
	benchScan(b, Query{Root: benchDataset(b), Workers: 1, Columns: []string{"time"},
		Where: filter.MustParse("(tcp or udp) and not (port 80 or port 443) and src net 10.0.0.0/8 and bytes > 1K and not state B")})
}

func benchReport(b *testing.B, r Report) {
	root := benchDataset(b)
	rows := datasetRows(b, root)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (&Query{Root: root, Workers: 1}).Report(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReportTop: report top --by src_ip --metric bytes, one worker.
func BenchmarkReportTop(b *testing.B) {
	benchReport(b, Report{Kind: KindTop, By: "src_ip", Metric: "bytes", Top: 10})
}

// BenchmarkReportAll: every table of the HTML dashboard, one worker.
func BenchmarkReportAll(b *testing.B) { benchReport(b, Report{Kind: KindAll}) }
