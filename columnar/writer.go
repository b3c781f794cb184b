package columnar

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"sync"
)

// Sink takes flow rows. Checkpoint makes everything appended so far durable
// (or handed on) and returns the files it staged for the caller to commit.
type Sink interface {
	Append(f *Flow) error
	Checkpoint() ([]StagedFile, error)
	Abort()
}

// Target is where a conversion writes: a Dataset, with its manifest, or a
// StreamWriter.
type Target interface {
	// Sink returns the row sink of one worker.
	Sink(worker int) Sink
	// Blob returns what earlier runs consumed of an input.
	Blob(key string) (BlobState, bool)
	// Commit makes files and the input states they came from durable.
	Commit(files []StagedFile, blobs map[string]BlobState) error
}

// PartitionWriter writes flows into Hive partitions (one per UTC hour) of
// Parquet files in a dataset's staging directory. Memory and file
// descriptors stay bounded whatever the time span of the input: at most
// MaxOpen files are open (the least recently used is closed when another
// is needed), and at most MaxBatches partitions gather rows in memory at
// once, each in a batch of up to RowGroupRows rows that becomes one row
// group. When rows arrive for another hour, the least recently used batch
// is written out early and reused. Feeding inputs in time order keeps that
// rare. A PartitionWriter is not safe for concurrent use: give each worker
// its own.
//
// Beside each Parquet file it writes the file's index (IndexPath), built
// from the same record batches as they are written, and stages both: a
// file and its index are committed together.
type PartitionWriter struct {
	ds         *Dataset
	name       string // file name prefix
	MaxOpen    int
	MaxBatches int
	Index      IndexConfig

	open    map[int64]*partition
	batches int      // partitions holding a batch
	spare   []*Batch // batches not in use
	tick    int64
	seq     int
	staged  []StagedFile
	spareIx []*indexBuilder // builders of closed files, for reuse
	ixMem   indexScratch    // shared by the builders
}

type partition struct {
	hour  int64
	batch *Batch // nil while the partition gathers no rows
	file  *AtomicFile
	w     RecordWriter
	rel   string
	cw    *countWriter
	buf   *bufio.Writer // batches the Parquet writer's many small writes
	rows  int64
	used  int64
	ix    *indexBuilder // nil when the index is disabled
}

// Sink returns the PartitionWriter of one worker.
func (d *Dataset) Sink(worker int) Sink { return NewPartitionWriter(d, worker) }

// NewPartitionWriter returns a writer whose files are named
// <dataset prefix>-<worker>-<n>.parquet.
func NewPartitionWriter(ds *Dataset, worker int) *PartitionWriter {
	return &PartitionWriter{ds: ds, name: fmt.Sprintf("%s-w%d", ds.FilePrefix(), worker),
		MaxOpen: 32, MaxBatches: 3, Index: DefaultIndexConfig(), open: map[int64]*partition{}}
}

const microsPerHour = 3600 * 1e6

// Append adds a row to the partition of its hour.
func (w *PartitionWriter) Append(f *Flow) error {
	hour := f.Time / microsPerHour
	if f.Time < 0 && f.Time%microsPerHour != 0 {
		hour--
	}
	p := w.open[hour]
	if p == nil {
		if len(w.open) >= w.MaxOpen {
			if err := w.closeLRU(); err != nil {
				return err
			}
		}
		p = &partition{hour: hour}
		w.open[hour] = p
	}
	w.tick++
	p.used = w.tick
	if p.batch == nil {
		if err := w.giveBatch(p); err != nil {
			return err
		}
	}
	p.batch.Append(f)
	if p.batch.Len() >= RowGroupRows {
		return w.flushBatch(p)
	}
	return nil
}

// giveBatch finds a batch for p: a spare one, a new one while fewer than
// MaxBatches exist, or the least recently used one, written out first.
func (w *PartitionWriter) giveBatch(p *partition) error {
	switch {
	case len(w.spare) > 0:
		n := len(w.spare)
		p.batch, w.spare = w.spare[n-1], w.spare[:n-1]
	case w.batches < w.MaxBatches:
		p.batch = NewBatch()
	default:
		var lru *partition
		for _, q := range w.open {
			if q.batch != nil && q != p && (lru == nil || q.used < lru.used) {
				lru = q
			}
		}
		if err := w.flushBatch(lru); err != nil {
			return err
		}
		p.batch, lru.batch = lru.batch, nil
		return nil
	}
	w.batches++
	return nil
}

func (w *PartitionWriter) flushBatch(p *partition) error {
	if p.batch.Len() == 0 {
		return nil
	}
	if p.w == nil {
		w.seq++
		p.rel = fmt.Sprintf("%s/%s-%d.parquet", PartitionDir(p.hour*microsPerHour), w.name, w.seq)
		f, err := CreateAtomic(filepath.Join(w.ds.StagingDir(), filepath.FromSlash(p.rel)))
		if err != nil {
			return err
		}
		p.buf = bufio.NewWriterSize(f, 1<<20)
		p.cw = &countWriter{w: p.buf}
		pw, err := NewParquetWriter(p.cw)
		if err != nil {
			f.Abort()
			return err
		}
		p.file, p.w = f, pw
		if !w.Index.Disabled {
			if n := len(w.spareIx); n > 0 {
				p.ix, w.spareIx = w.spareIx[n-1], w.spareIx[:n-1]
			} else {
				p.ix = newIndexBuilder(&w.ixMem)
			}
			p.ix.spillDir = filepath.Dir(f.Name())
		}
	}
	p.batch.ClusterBySource()
	rec := p.batch.Record()
	err := p.w.Write(rec)
	if err == nil && p.ix != nil {
		err = p.ix.addRecord(rec)
	}
	rec.Release()
	if err != nil {
		return fmt.Errorf("write %s: %w", p.rel, err)
	}
	p.rows += int64(p.batch.Len())
	p.batch.Reset()
	return nil
}

func (w *PartitionWriter) closePartition(p *partition) error {
	delete(w.open, p.hour)
	if p.batch != nil {
		if err := w.flushBatch(p); err != nil {
			return err
		}
		w.spare = append(w.spare, p.batch)
		w.batches--
		p.batch = nil
	}
	if p.w == nil {
		return nil
	}
	if err := p.w.Close(); err != nil {
		p.file.Abort()
		return fmt.Errorf("close %s: %w", p.rel, err)
	}
	if err := p.buf.Flush(); err != nil {
		p.file.Abort()
		return fmt.Errorf("write %s: %w", p.rel, err)
	}
	size := p.cw.n
	var index []byte
	if p.ix != nil {
		id := parquetID{size: size, crc: p.cw.crc}
		err := readParquetID(p.file.File, &id)
		if err == nil {
			index, err = p.ix.finish(id, w.Index)
		}
		if err != nil {
			p.ix.reset()
			p.file.Abort()
			return fmt.Errorf("index %s: %w", p.rel, err)
		}
		p.ix.reset()
		if len(w.spareIx) < 2 {
			w.spareIx = append(w.spareIx, p.ix)
		}
		p.ix = nil
	}
	if err := p.file.Commit(); err != nil {
		return err
	}
	sf := StagedFile{Staged: filepath.Join(w.ds.StagingDir(), filepath.FromSlash(p.rel)), Final: p.rel, Rows: p.rows, Bytes: size}
	if index != nil {
		sf.Index, sf.IndexBytes = IndexPath(sf.Staged), int64(len(index))
		if err := writeAtomic(sf.Index, index); err != nil {
			return fmt.Errorf("index %s: %w", p.rel, err)
		}
	}
	w.staged = append(w.staged, sf)
	return nil
}

func (w *PartitionWriter) closeLRU() error {
	var lru *partition
	for _, p := range w.open {
		if lru == nil || p.used < lru.used {
			lru = p
		}
	}
	return w.closePartition(lru)
}

// Checkpoint closes every open file and returns the files staged since the
// last checkpoint.
func (w *PartitionWriter) Checkpoint() ([]StagedFile, error) {
	for _, p := range w.open {
		if err := w.closePartition(p); err != nil {
			return nil, err
		}
	}
	out := w.staged
	w.staged = nil
	return out, nil
}

// Abort drops open files. Staged files stay in staging until the next run
// of the dataset removes them.
func (w *PartitionWriter) Abort() {
	for _, p := range w.open {
		if p.file != nil {
			p.file.Abort()
		}
		if p.ix != nil {
			p.ix.reset() // removes its spill file
		}
		delete(w.open, p.hour)
	}
}

// StreamWriter writes the rows of several workers into one Arrow IPC or
// Parquet stream. It is safe for concurrent use; each worker appends
// through its own StreamSink.
type StreamWriter struct {
	mu  sync.Mutex
	w   RecordWriter
	err error
}

// NewStreamWriter wraps a record writer.
func NewStreamWriter(w RecordWriter) *StreamWriter { return &StreamWriter{w: w} }

func (s *StreamWriter) write(b *Batch) error {
	rec := b.Record()
	defer rec.Release()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.err = s.w.Write(rec)
	return s.err
}

// Close ends the stream.
func (s *StreamWriter) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Close(); err != nil && s.err == nil {
		s.err = err
	}
	return s.err
}

// Sink returns a per-worker sink that writes into the stream.
func (s *StreamWriter) Sink(worker int) Sink { return &streamSink{s: s, b: NewBatch()} }

// Blob reports that a stream has no memory of earlier runs.
func (s *StreamWriter) Blob(key string) (BlobState, bool) { return BlobState{}, false }

// Commit does nothing: a stream is complete when it is closed.
func (s *StreamWriter) Commit(files []StagedFile, blobs map[string]BlobState) error { return nil }

type streamSink struct {
	s *StreamWriter
	b *Batch
}

func (k *streamSink) Append(f *Flow) error {
	k.b.Append(f)
	if k.b.Len() >= RowGroupRows {
		return k.flush()
	}
	return nil
}

func (k *streamSink) flush() error {
	if k.b.Len() == 0 {
		return nil
	}
	err := k.s.write(k.b)
	k.b.Reset()
	return err
}

func (k *streamSink) Checkpoint() ([]StagedFile, error) { return nil, k.flush() }
func (k *streamSink) Abort()                            { k.b.Reset() }

// countWriter counts bytes and checksums them (CRC-32C), and hides the
// Close of the file it writes to (the Parquet writer closes sinks that
// have one).
type countWriter struct {
	w   io.Writer
	n   int64
	crc uint32
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	return n, err
}
