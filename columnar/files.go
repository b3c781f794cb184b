package columnar

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
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

// RecordWriter writes Arrow record batches of Schema to a file format.
type RecordWriter interface {
	Write(rec arrow.RecordBatch) error
	Close() error
}

// NewArrowWriter writes an Arrow IPC stream to w. Close ends the stream; it
// does not close w.
func NewArrowWriter(w io.Writer) RecordWriter {
	return ipc.NewWriter(w, ipc.WithSchema(Schema), ipc.WithAllocator(memory.DefaultAllocator),
		ipc.WithZstd(), ipc.WithDictionaryDeltas(false))
}
