// Package arrowscan reads flow Parquet files through arrow-go's own reader
// (pqarrow), as an independent check of what flowlens writes and of what
// its own reader (columnar/query) decodes: tests compare the two.
//
// It is for tests only. Non-test code must not import it: pqarrow pulls in
// arrow-go's compute, flight, grpc and protobuf packages, whose init costs
// every flowlens command about 22 ms and 600 page faults
// (TestBinaryDeps in cmd/flowlens keeps it out of the binary). It imports
// no flowlens package, so that columnar's own tests can use it too: list a
// dataset's files with columnar.Files and hand their paths to ScanFiles.
package arrowscan

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ScanFile calls fn with every record batch of the Parquet file name, in
// file order, reading only the named columns, in that order (every column
// when cols is nil). A column the file lacks is an error. The record is
// valid only during the call. It returns the row count of the file's
// footer.
func ScanFile(ctx context.Context, name string, cols []string, fn func(rec arrow.RecordBatch) error) (rows int64, err error) {
	pf, err := file.OpenParquetFile(name, false)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", name, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	var idx []int
	if cols != nil {
		sc := pf.MetaData().Schema
		for _, c := range cols {
			i := sc.ColumnIndexByName(c)
			if i < 0 {
				return 0, fmt.Errorf("%s: no column %q", name, c)
			}
			idx = append(idx, i)
		}
	}
	rr, err := fr.GetRecordReader(ctx, idx, nil)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := fn(rr.RecordBatch()); err != nil {
			return 0, err
		}
	}
	if err := rr.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	return pf.NumRows(), nil
}

// ScanFiles is ScanFile on each file of names in turn.
func ScanFiles(ctx context.Context, names []string, cols []string, fn func(rec arrow.RecordBatch) error) error {
	for _, name := range names {
		if _, err := ScanFile(ctx, name, cols, fn); err != nil {
			return err
		}
	}
	return nil
}

// StringValue returns row i of a string column, plain or dictionary
// encoded, and "" for null.
func StringValue(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch x := a.(type) {
	case *array.String:
		return x.Value(i)
	case *array.Dictionary:
		if d, ok := x.Dictionary().(*array.String); ok {
			return d.Value(x.GetValueIndex(i))
		}
	}
	return ""
}
