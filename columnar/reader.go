package columnar

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ScanFile calls fn with every record batch of one Parquet file, reading
// only the named columns (all when cols is nil). The record is valid only
// during the call.
func ScanFile(ctx context.Context, name string, cols []string, fn func(rec arrow.RecordBatch) error) error {
	_, err := scanParquet(ctx, name, cols, false, fn)
	return err
}

// scanParquet is ScanFile; with optional, columns the file lacks are left
// out instead of being an error. It returns the file's row count.
func scanParquet(ctx context.Context, name string, cols []string, optional bool, fn func(rec arrow.RecordBatch) error) (int64, error) {
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
				if optional {
					continue
				}
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

// ScanDataset calls fn with every record batch of every committed file of
// the dataset at root.
func ScanDataset(ctx context.Context, root string, cols []string, fn func(rec arrow.RecordBatch) error) error {
	files, err := Files(root)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := ScanFile(ctx, filepath.Join(root, filepath.FromSlash(f.Path)), cols, fn); err != nil {
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
