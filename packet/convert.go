package packet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/internal/decompress"
	"github.com/flowlens/flowlens/internal/parallel"
)

// captureExts are the file names a directory walk takes as captures,
// each also with .gz or .zst.
var captureExts = []string{".pcap", ".pcapng", ".cap"}

// IsCaptureName reports whether a directory walk takes a file of this name
// as a capture.
func IsCaptureName(name string) bool { return decompress.HasExt(name, captureExts...) }

// SniffCapture reports whether the file at path holds a capture, looking
// at its first bytes after decompression.
func SniffCapture(path string) (bool, error) {
	f, err := decompress.Open(path, nil)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	n, _ := f.Read(magic[:])
	return IsCapture(magic[:n]), nil
}

// FindCaptures walks directories for capture names (hidden entries and
// flowlens datasets skipped). The result is sorted.
func FindCaptures(dirs []string) ([]string, error) {
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == columnar.MetaDir) {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasPrefix(d.Name(), ".") && d.Type().IsRegular() && IsCaptureName(d.Name()) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// ConvertSummary is the outcome of converting captures.
type ConvertSummary struct {
	Captures  int              `json:"captures"`  // captures read
	Unchanged int              `json:"unchanged"` // captures skipped as already converted
	Packets   int64            `json:"packets"`
	Flows     int64            `json:"flows"` // flows found (0 with Config.Packets)
	Rows      int64            `json:"rows"`  // rows written: flows, or packets with Config.Packets
	Malformed map[string]int64 `json:"malformed"`
	Skipped   map[string]int64 `json:"skipped"` // captures (or their rest) skipped, by reason
	Files     int              `json:"files_written"`
}

// ConvertConfig controls Convert.
type ConvertConfig struct {
	Config
	Workers     int  // captures converted in parallel (at least 1)
	FirstWorker int  // sink number of the first worker; sinks of one target must not share numbers
	Strict      bool // the first skip stops the conversion
	// RawBytes, when set, counts file bytes as they are read (progress).
	RawBytes *atomic.Int64
	// OnSkip, when set, is called with each error that skips a capture or
	// its rest; it may be called from several goroutines at once.
	OnSkip func(error)
}

// Convert reads captures into target, Workers at a time, each capture
// committed with its files when it is done. A capture already converted
// (same size and modification time) is skipped; one that changed since is
// reported, not converted again. A capture with a bad block mid-file keeps
// the flows of the packets before it.
func Convert(ctx context.Context, paths []string, target columnar.Target, cfg ConvertConfig) (*ConvertSummary, error) {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.Workers > 1 && len(paths) > 1 {
		// The workers keep the cores busy: a second goroutine per
		// capture would only add its cost.
		cfg.Sequential = true
	}
	sums := make([]*ConvertSummary, cfg.Workers)
	workers := make([]parallel.Worker[string], cfg.Workers)
	for i := range workers {
		w := &captureWorker{cfg: &cfg, target: target, sink: target.Sink(cfg.FirstWorker + i),
			sum: &ConvertSummary{Malformed: map[string]int64{}, Skipped: map[string]int64{}}}
		sums[i], workers[i] = w.sum, w
	}
	runErr := parallel.Run(ctx, paths, workers)
	sum := &ConvertSummary{Malformed: map[string]int64{}, Skipped: map[string]int64{}}
	for _, s := range sums {
		sum.Captures += s.Captures
		sum.Unchanged += s.Unchanged
		sum.Packets += s.Packets
		sum.Flows += s.Flows
		sum.Rows += s.Rows
		sum.Files += s.Files
		for k, v := range s.Malformed {
			sum.Malformed[k] += v
		}
		for k, v := range s.Skipped {
			sum.Skipped[k] += v
		}
	}
	return sum, runErr
}

type captureWorker struct {
	cfg    *ConvertConfig
	target columnar.Target
	sink   columnar.Sink
	sum    *ConvertSummary
}

func (w *captureWorker) skip(reason string, err error) error {
	w.sum.Skipped[reason]++
	if w.cfg.OnSkip != nil {
		w.cfg.OnSkip(err)
	}
	if w.cfg.Strict {
		return err
	}
	return nil
}

// Finish has nothing to do: each capture was committed when it was done.
func (w *captureWorker) Finish() error { return nil }

// Abort drops the capture in progress.
func (w *captureWorker) Abort() { w.sink.Abort() }

// Do converts one capture and commits it (parallel.Worker).
func (w *captureWorker) Do(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	key := filepath.ToSlash(abs)
	if prev, seen := w.target.Blob(key); seen {
		if prev.Size == fi.Size() && prev.ModTime == fi.ModTime().UnixNano() {
			w.sum.Unchanged++
			return nil
		}
		return w.skip("capture-changed", fmt.Errorf("%s: changed since it was converted; not converted again", path))
	}
	f, err := decompress.Open(path, w.cfg.RawBytes)
	if err != nil {
		return w.skip("read-error", err)
	}
	emit := func(row *columnar.Flow) error {
		w.sum.Rows++
		return w.sink.Append(row)
	}
	var st Stats
	var rerr error
	if w.cfg.Packets {
		st, rerr = readPackets(ctx, f, path, w.cfg.Sequential, emit)
	} else {
		st, rerr = ReadFlows(ctx, f, path, w.cfg.Config, emit)
	}
	f.Close()
	w.sum.Captures++
	w.sum.Packets += st.Packets
	w.sum.Flows += st.Flows
	for k, v := range st.Malformed {
		w.sum.Malformed[k] += v
	}
	if rerr != nil {
		var pe *Error
		if !errors.As(rerr, &pe) {
			return rerr // the sink failed, or the context ended
		}
		if err := w.skip(pe.reason(), rerr); err != nil {
			return err
		}
	}
	files, err := w.sink.Checkpoint()
	if err != nil {
		return err
	}
	state := columnar.BlobState{Size: fi.Size(), ModTime: fi.ModTime().UnixNano(), Records: st.Packets, Rows: st.Flows}
	if w.cfg.Packets {
		state.Rows = st.Packets
	}
	if err := w.target.Commit(files, map[string]columnar.BlobState{key: state}); err != nil {
		return err
	}
	w.sum.Files += len(files)
	return nil
}
