package columnar

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// RowGroupRows is the number of rows a Parquet row group holds: DuckDB's
// own row group size, large enough for scans and small enough to keep a
// writer's memory in the low megabytes.
const RowGroupRows = 122880

// AtomicFile is a file that appears under its final name only when Commit
// succeeds: it is written to a temporary name beside it, synced, renamed
// and the directory synced. Abort (or a crash) leaves no file at the final
// name.
type AtomicFile struct {
	*os.File
	final string
	done  bool
}

// CreateAtomic creates the directories of name and a temporary file beside it.
func CreateAtomic(name string) (*AtomicFile, error) {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{File: f, final: name}, nil
}

// Commit syncs, closes and renames the file to its final name.
func (f *AtomicFile) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already closed", f.final)
	}
	f.done = true
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.File.Name())
		return err
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	if err := os.Rename(f.File.Name(), f.final); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	return SyncDir(filepath.Dir(f.final))
}

// Abort closes and removes the temporary file. It is a no-op after Commit.
func (f *AtomicFile) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// SyncDir fsyncs a directory so that renames in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ParquetProperties are the writer settings of every Parquet file flowlens
// writes: zstd, row groups of RowGroupRows, dictionary encoding for the
// string columns (built by Batch, so the writer hashes nothing), delta
// encoding for the integer columns, min/max statistics on times, ports and
// counters (what scans prune on). Numeric columns skip the dictionary:
// hashing every value cost more than zstd saves; delta encoding before zstd
// was 10% faster than plain values on realistic flows, for 10% larger files.
// Data pages hold 32 KiB of encoded values: a query the index narrows to a
// few rows decodes a few small pages, not whole column chunks. On the 1 GiB
// bench tree, 16 KiB pages made files 2.7% larger than 1 MiB pages and a
// needle query took 176 ms instead of 255; 32 KiB pages (with rows
// clustered by source) took `report top` 8% less time than 16 KiB (fewer
// zstd frames), the needle the same, files 1% smaller. The page index
// (Parquet's OffsetIndex and ColumnIndex, 0.1% of the file) tells a
// reader where each page starts and with which row, so a query of a few
// rows reads those rows' pages and not the whole column chunks.
func ParquetProperties() *parquet.WriterProperties {
	props := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryDefault(false),
		parquet.WithStats(false),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithDataPageSize(32 << 10),
		parquet.WithCreatedBy("flowlens"),
		parquet.WithAllocator(pagePool),
		parquet.WithDictionaryPageSizeLimit(8 << 20),
		parquet.WithPageIndexEnabled(true),
	}
	for _, f := range Schema.Fields() {
		switch f.Type.ID() {
		case arrow.DICTIONARY:
			props = append(props, parquet.WithDictionaryFor(f.Name, true))
		case arrow.STRING:
			// Addresses: plain, zstd compresses their repeats.
		default: // integers and timestamps
			enc := parquet.Encodings.DeltaBinaryPacked
			if f.Nullable {
				// arrow-go's delta encoder (v18.8.0) keeps its bit writer
				// across pages: a page of nulls after one with values
				// fails ("slice bounds out of range"), which small pages
				// make common (TestWriteNullPages).
				enc = parquet.Encodings.Plain
			}
			props = append(props, parquet.WithEncodingFor(f.Name, enc), parquet.WithStatsFor(f.Name, true))
		}
	}
	return parquet.NewWriterProperties(props...)
}

// RecordWriter writes Arrow record batches of Schema to a file format.
type RecordWriter interface {
	Write(rec arrow.RecordBatch) error
	Close() error
}

// NewParquetWriter writes Parquet to w; every Write becomes a row group.
// Close writes the footer; it does not close w.
func NewParquetWriter(w io.Writer) (RecordWriter, error) {
	fw, err := pqarrow.NewFileWriter(Schema, w, ParquetProperties(),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	return fw, nil
}

// NewArrowWriter writes an Arrow IPC stream to w. Close ends the stream; it
// does not close w.
func NewArrowWriter(w io.Writer) RecordWriter {
	return ipc.NewWriter(w, ipc.WithSchema(Schema), ipc.WithAllocator(memory.DefaultAllocator),
		ipc.WithZstd(), ipc.WithDictionaryDeltas(false))
}
