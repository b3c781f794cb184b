package flowlog

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/internal/decompress"
	"github.com/flowlens/flowlens/internal/parallel"
)

// Target is where a conversion writes: a columnar.Dataset or a
// columnar.StreamWriter.
type Target = columnar.Target

// Config controls a conversion.
type Config struct {
	Workers int  // parallel blobs; 0 means all cores
	Strict  bool // stop at the first bad record or tuple
	// Shard and Shards select a deterministic share of the inputs:
	// those whose key hashes to Shard modulo Shards (0 ≤ Shard < Shards).
	Shard, Shards int
	// CheckpointBytes commits a worker's output after it has read this
	// many input bytes, so that a killed run keeps most of its work.
	CheckpointBytes int64
	// OnSkip, when set, is called with every skipped record, tuple or blob
	// (a *Error). It may be called from several goroutines at once.
	OnSkip func(err error)
}

// DefaultConfig returns the defaults: all cores, lenient, unsharded,
// checkpoints every 512 MiB of input.
func DefaultConfig() Config {
	return Config{Workers: runtime.NumCPU(), Shards: 1, CheckpointBytes: 512 << 20}
}

// Progress counts what a conversion has done so far; its fields are
// updated atomically while it runs.
type Progress struct {
	Blobs    atomic.Int64 // blobs finished
	RawBytes atomic.Int64 // file bytes read
	Records  atomic.Int64
	Rows     atomic.Int64
}

// Summary is the outcome of a conversion.
type Summary struct {
	Inputs      int              `json:"inputs"`        // inputs in this shard
	Blobs       int              `json:"blobs"`         // inputs read (new or grown)
	Unchanged   int              `json:"unchanged"`     // inputs skipped as already converted
	Resumed     int              `json:"resumed"`       // grown inputs read from where the last run stopped
	Records     int64            `json:"records"`       // records read
	Tuples      int64            `json:"tuples"`        // flow tuples read
	Rows        int64            `json:"rows"`          // rows written
	Skipped     map[string]int64 `json:"skipped"`       // records, tuples and blobs skipped, by reason
	Repaired    int64            `json:"repaired"`      // records with trailing commas, read anyway
	RawBytes    int64            `json:"bytes"`         // file bytes read
	Files       int              `json:"files_written"` // data files committed
	Seconds     float64          `json:"seconds"`
	MBPerSecond float64          `json:"mb_per_s"`
}

// SkippedTotal is the number of skips of every reason.
func (s *Summary) SkippedTotal() int64 {
	var n int64
	for _, v := range s.Skipped {
		n += v
	}
	return n
}

// InShard reports whether an input key belongs to shard i of n.
func InShard(key string, i, n int) bool {
	if n <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64()%uint64(n)) == i
}

// Convert reads the inputs (those of the configured shard) into target.
// Inputs are handed to workers whole; each worker commits its output at
// checkpoints and at the end. With Strict, the first skip stops the run
// with an error and what it had not committed is dropped.
func Convert(ctx context.Context, inputs []Input, target Target, cfg Config, prog *Progress) (*Summary, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 1
	}
	if cfg.Shard < 0 || cfg.Shard >= cfg.Shards {
		return nil, fmt.Errorf("shard %d of %d out of range", cfg.Shard, cfg.Shards)
	}
	if prog == nil {
		prog = &Progress{}
	}
	start := time.Now()
	var mine []Input
	for _, in := range inputs {
		if InShard(in.Key, cfg.Shard, cfg.Shards) {
			mine = append(mine, in)
		}
	}
	// Hour by hour keeps each worker's rows in few partitions at a time;
	// within an hour, largest first keeps the workers busy to the end.
	sort.SliceStable(mine, func(i, j int) bool {
		if hi, hj := mine[i].Info.Hour, mine[j].Info.Hour; !hi.Equal(hj) {
			return hi.Before(hj)
		}
		return mine[i].Size > mine[j].Size
	})

	sums := make([]*Summary, cfg.Workers)
	workers := make([]parallel.Worker[Input], cfg.Workers)
	for i := range workers {
		w := &worker{id: i, cfg: &cfg, target: target, sink: target.Sink(i), prog: prog,
			sum: &Summary{Skipped: map[string]int64{}}, pending: map[string]columnar.BlobState{}}
		sums[i], workers[i] = w.sum, w
	}
	runErr := parallel.Run(ctx, mine, workers)

	sum := &Summary{Inputs: len(mine), Skipped: map[string]int64{}}
	for _, s := range sums {
		sum.Blobs += s.Blobs
		sum.Unchanged += s.Unchanged
		sum.Resumed += s.Resumed
		sum.Records += s.Records
		sum.Tuples += s.Tuples
		sum.Rows += s.Rows
		sum.Repaired += s.Repaired
		sum.Files += s.Files
		for k, v := range s.Skipped {
			sum.Skipped[k] += v
		}
	}
	sum.RawBytes = prog.RawBytes.Load()
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.MBPerSecond = float64(sum.RawBytes) / 1e6 / sum.Seconds
	}
	if runErr != nil {
		return sum, runErr
	}
	return sum, nil
}

type worker struct {
	id      int
	cfg     *Config
	target  Target
	sink    columnar.Sink
	prog    *Progress
	sum     *Summary
	pending map[string]columnar.BlobState
	since   int64 // raw bytes since the last checkpoint
	dec     Decoder

	// per-blob state used by the Emitter methods
	in      *Input
	recOff  int64
	recIdx  int64
	blobErr error
}

// Do converts one blob, and commits at a checkpoint (parallel.Worker).
func (w *worker) Do(ctx context.Context, in Input) error {
	if err := w.blob(&in); err != nil {
		return err
	}
	if w.since >= w.cfg.CheckpointBytes {
		return w.checkpoint()
	}
	return nil
}

// Finish commits what the worker converted since its last checkpoint.
func (w *worker) Finish() error { return w.checkpoint() }

// Abort drops what the worker had not committed.
func (w *worker) Abort() { w.sink.Abort() }

func (w *worker) checkpoint() error {
	files, err := w.sink.Checkpoint()
	if err != nil {
		return err
	}
	if err := w.target.Commit(files, w.pending); err != nil {
		return err
	}
	w.sum.Files += len(files)
	w.pending = map[string]columnar.BlobState{}
	w.since = 0
	return nil
}

// skip counts a skipped item and, under Strict, turns it into the error
// that stops the run.
func (w *worker) skip(err error) error {
	w.sum.Skipped[Reason(err)]++
	if w.cfg.OnSkip != nil {
		w.cfg.OnSkip(err)
	}
	if w.cfg.Strict {
		return err
	}
	return nil
}

func (w *worker) blob(in *Input) error {
	prev, seen := w.target.Blob(in.Key)
	if seen && prev.Size == in.Size && prev.ModTime == in.ModTime.UnixNano() {
		w.sum.Unchanged++
		w.prog.Blobs.Add(1)
		return nil
	}
	r, err := decompress.Open(in.Path, &w.prog.RawBytes)
	if err != nil {
		return w.skip(&Error{File: in.Path, Offset: 0, Record: -1, Tuple: -1, Field: -1, Msg: err.Error(), Err: ErrRead})
	}
	defer func() {
		w.since += r.RawBytes()
		w.prog.Blobs.Add(1)
		r.Close()
	}()

	var sc *Scanner
	state := columnar.BlobState{Size: in.Size, ModTime: in.ModTime.UnixNano()}
	if seen && prev.Offset > 0 {
		h := crc32.New(crcTable)
		n, err := io.CopyN(h, r, prev.Offset)
		if err != nil || h.Sum32() != prev.CRC {
			msg := "its first " + itoa(int(prev.Offset)) + " bytes differ from those converted before"
			if err != nil {
				msg = "it is shorter than the " + itoa(int(prev.Offset)) + " bytes converted before (read " + itoa(int(n)) + ")"
			}
			return w.skip(&Error{File: in.Path, Offset: 0, Record: -1, Tuple: -1, Field: -1, Msg: msg, Err: ErrBlobChanged})
		}
		sc = ResumeScanner(r, prev.Offset, prev.Mode, prev.CRC)
		state.Records, state.Rows = prev.Records, prev.Rows
		w.sum.Resumed++
	} else {
		sc = NewScanner(r)
	}
	w.sum.Blobs++
	def := Defaults{}
	if in.Info.Key != "" {
		if !in.Info.VNet {
			def.ResourceID = []byte(in.Info.ResourceID)
		}
		def.MAC = []byte(in.Info.MAC)
	}
	w.in = in
	state.Mode = sc.Mode()
	state.Offset, state.CRC = sc.End()
	for {
		rec, off, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				pe.File = in.Path
				if pe.Record < 0 {
					pe.Record = state.Records
				}
			}
			if err := w.skip(err); err != nil {
				return err
			}
			if sc.Done() {
				break
			}
			continue
		}
		w.recOff, w.recIdx = off, state.Records
		state.Records++
		w.sum.Records++
		w.prog.Records.Add(1)
		if sc.HadTrailingComma() {
			w.sum.Repaired++
		}
		info, err := w.dec.Decode(rec, def, w)
		w.sum.Tuples += int64(info.Tuples)
		w.sum.Rows += int64(info.Rows)
		w.prog.Rows.Add(int64(info.Rows))
		state.Rows += int64(info.Rows)
		if err != nil {
			if w.blobErr != nil { // from the emitter: a sink error, or Strict
				err, w.blobErr = w.blobErr, nil
				return err
			}
			var pe *Error
			if errors.As(err, &pe) {
				pe.File, pe.Offset, pe.Record = in.Path, off, w.recIdx
			}
			if errors.Is(err, ErrBadJSON) && sc.Resync() {
				pe.Msg += "; records found inside it are read"
			}
			if err := w.skip(err); err != nil {
				return err
			}
		}
		state.Offset, state.CRC = sc.End()
		state.Mode = sc.Mode()
	}
	w.pending[in.Key] = state
	return nil
}

// Row implements Emitter.
func (w *worker) Row(f *columnar.Flow) error {
	if err := w.sink.Append(f); err != nil {
		w.blobErr = err
		return err
	}
	return nil
}

// BadTuple implements Emitter.
func (w *worker) BadTuple(i int, te *TupleError) error {
	msg := te.Msg
	if te.Field >= 0 {
		msg += " " + strconv.Quote(te.Value)
	}
	err := &Error{File: w.in.Path, Offset: w.recOff, Record: w.recIdx, Tuple: i, Field: te.Field, Msg: msg, Err: ErrBadTuple}
	if err := w.skip(err); err != nil {
		w.blobErr = err
		return err
	}
	return nil
}
