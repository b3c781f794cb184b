package flowlog

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/decompress"
)

// Input is one flow log file to convert.
type Input struct {
	Path    string
	Size    int64
	ModTime time.Time
	Key     string   // identity in the manifest: the Azure blob name, or the absolute path
	Info    PathInfo // what the blob path says; Info.Key is "" when it says nothing
}

// flowLogExts are the file names a directory walk picks up.
var flowLogExts = []string{".json", ".ndjson", ".jsonl", ".txt"}

// IsFlowLogName reports whether a directory walk takes a file of this name:
// JSON, NDJSON and text files, plain or compressed with gzip or zstd.
func IsFlowLogName(name string) bool { return decompress.HasExt(name, flowLogExts...) }

// Discover lists the inputs under srcs: files as given, directories walked
// recursively (skipping hidden entries and flowlens datasets) for flow log
// names. The result is sorted by key, so runs and shards are deterministic.
func Discover(srcs []string) ([]Input, error) {
	var out []Input
	seen := map[string]bool{}
	add := func(path string, fi fs.FileInfo) error {
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if seen[abs] {
			return nil
		}
		seen[abs] = true
		in := Input{Path: path, Size: fi.Size(), ModTime: fi.ModTime(), Key: filepath.ToSlash(abs)}
		info, ok, err := ParseBlobPath(abs)
		if err != nil {
			return err
		}
		if ok {
			in.Info = info
			in.Key = info.Key
		}
		out = append(out, in)
		return nil
	}
	for _, src := range srcs {
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			if err := add(src, fi); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != src && (strings.HasPrefix(name, ".") || name == "_flowlens") {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "_flowlens")); err == nil {
					return filepath.SkipDir // a flowlens dataset
				}
				return nil
			}
			if strings.HasPrefix(name, ".") || !d.Type().IsRegular() || !IsFlowLogName(name) {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			return add(path, fi)
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	for i := 1; i < len(out); i++ {
		if out[i].Key == out[i-1].Key {
			return nil, fmt.Errorf("%s and %s are the same blob %s", out[i-1].Path, out[i].Path, out[i].Key)
		}
	}
	return out, nil
}
