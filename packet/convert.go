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

// Convert reads captures into target, one after another, through the sink
// of the given worker number, committing each capture with its files. A
// capture already converted (same size and modification time) is skipped;
// one that changed since is reported, not converted again. A capture with
// a bad block mid-file keeps the flows of the packets before it. onSkip,
// when set, is called with each error that skips a capture or its rest;
// with strict, the first one stops the conversion.
func Convert(ctx context.Context, paths []string, target columnar.Target, cfg Config, worker int, strict bool, rawBytes *atomic.Int64, onSkip func(error)) (*ConvertSummary, error) {
	sum := &ConvertSummary{Malformed: map[string]int64{}, Skipped: map[string]int64{}}
	sink := target.Sink(worker)
	skip := func(reason string, err error) error {
		sum.Skipped[reason]++
		if onSkip != nil {
			onSkip(err)
		}
		if strict {
			return err
		}
		return nil
	}
	for _, path := range paths {
		if err := ctx.Err(); err != nil {
			sink.Abort()
			return sum, err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return sum, err
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return sum, err
		}
		key := filepath.ToSlash(abs)
		if prev, seen := target.Blob(key); seen {
			if prev.Size == fi.Size() && prev.ModTime == fi.ModTime().UnixNano() {
				sum.Unchanged++
				continue
			}
			if err := skip("capture-changed", fmt.Errorf("%s: changed since it was converted; not converted again", path)); err != nil {
				sink.Abort()
				return sum, err
			}
			continue
		}
		f, err := decompress.Open(path, rawBytes)
		if err != nil {
			if err := skip("read-error", err); err != nil {
				sink.Abort()
				return sum, err
			}
			continue
		}
		emit := func(row *columnar.Flow) error {
			sum.Rows++
			return sink.Append(row)
		}
		var st Stats
		var rerr error
		if cfg.Packets {
			st, rerr = ReadPackets(ctx, f, path, emit)
		} else {
			st, rerr = ReadFlows(ctx, f, path, cfg, emit)
		}
		f.Close()
		sum.Captures++
		sum.Packets += st.Packets
		sum.Flows += st.Flows
		for k, v := range st.Malformed {
			sum.Malformed[k] += v
		}
		if rerr != nil {
			var pe *Error
			if !errors.As(rerr, &pe) {
				sink.Abort()
				return sum, rerr // the sink failed, or the context ended
			}
			if err := skip(pe.reason(), rerr); err != nil {
				sink.Abort()
				return sum, err
			}
		}
		files, err := sink.Checkpoint()
		if err != nil {
			return sum, err
		}
		state := columnar.BlobState{Size: fi.Size(), ModTime: fi.ModTime().UnixNano(), Records: st.Packets, Rows: st.Flows}
		if cfg.Packets {
			state.Rows = st.Packets
		}
		if err := target.Commit(files, map[string]columnar.BlobState{key: state}); err != nil {
			return sum, err
		}
		sum.Files += len(files)
	}
	return sum, nil
}
