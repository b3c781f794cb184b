package columnar

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// IndexResult is what BuildIndexes did with one data file.
type IndexResult struct {
	Path string // the data file, relative to the dataset root
	// Built reports whether an index was built; when false and Err is
	// nil, the file's committed index was valid and was kept.
	Built bool
	// Replaced is why the file's committed index was replaced (it was
	// missing, corrupt or stale); nil when the file had none, or with
	// force.
	Replaced error
	Bytes    int64 // size of the file's index
	Err      error // the index could not be built; the file keeps none
}

// indexCommitEvery is how many built indexes BuildIndexes commits at
// once, so that a killed run keeps most of its work.
const indexCommitEvery = 64

type stagedIndex struct {
	path   string // data file, relative to the root
	staged string // absolute
	bytes  int64
}

// BuildIndexes builds the index of every committed file of this shard
// that has none, or whose index does not open or verify, or is of an
// older version (ErrIndexOld) (force: of every file), from the file's
// rows as scan reads them (query.ScanFile), and commits them through the
// manifest: the index files are written to staging, the manifest names
// them, then they are moved into place, as Commit does with data files.
// progress, if not nil, is called once per file. A file whose index
// cannot be built (its Parquet does not read) is reported and skipped;
// the error returned joins those failures, or is the first error
// committing.
func (d *Dataset) BuildIndexes(ctx context.Context, scan FileScanner, force bool, progress func(IndexResult)) error {
	if scan == nil {
		return errors.New("BUG: BuildIndexes without a FileScanner")
	}
	d.mu.Lock()
	files := append([]FileEntry(nil), d.own.Files...)
	d.mu.Unlock()
	var rows *Batch // shared by the files, made for the first one built
	var batch []stagedIndex
	var failed []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			if cerr := d.commitIndexes(batch); cerr != nil {
				return cerr
			}
			return err
		}
		pq := filepath.Join(d.Root, filepath.FromSlash(f.Path))
		res := IndexResult{Path: f.Path, Bytes: f.IndexBytes}
		if f.Index != "" && !force {
			err := checkIndex(pq)
			if err == nil {
				if progress != nil {
					progress(res)
				}
				continue
			}
			res.Replaced = err
		}
		staged := filepath.Join(d.StagingDir(), filepath.FromSlash(IndexPath(f.Path)))
		if rows == nil {
			rows = NewBatch()
		}
		n, err := buildIndexFile(ctx, scan, rows, pq, staged, DefaultIndexConfig())
		if err != nil {
			res.Err = fmt.Errorf("index %s: %w", f.Path, err)
			failed = append(failed, res.Err)
		} else {
			res.Built, res.Bytes = true, n
			batch = append(batch, stagedIndex{path: f.Path, staged: staged, bytes: n})
		}
		if progress != nil {
			progress(res)
		}
		if len(batch) >= indexCommitEvery {
			if err := d.commitIndexes(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := d.commitIndexes(batch); err != nil {
		return err
	}
	return errors.Join(failed...)
}

// checkIndex opens and verifies the index of a Parquet file. An index of
// an older version, valid as it is, gives an error wrapping ErrIndexOld:
// it lacks what this build writes.
func checkIndex(parquetPath string) error {
	ix, err := OpenIndex(parquetPath)
	if err != nil {
		return err
	}
	defer ix.Close()
	if err := ix.Verify(); err != nil {
		return err
	}
	if ix.version < indexVersion {
		return ix.errorf("header", 8, ErrIndexOld, "version %d, this build writes %d (with per-key totals)", ix.version, indexVersion)
	}
	return nil
}

// commitIndexes names staged indexes in the manifest of their files, then
// moves them into place.
func (d *Dataset) commitIndexes(batch []stagedIndex) error {
	if len(batch) == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	byPath := make(map[string]stagedIndex, len(batch))
	for _, s := range batch {
		byPath[s.path] = s
	}
	next := d.own
	next.Files = append([]FileEntry(nil), d.own.Files...)
	next.Pending = nil
	for i := range next.Files {
		f := &next.Files[i]
		s, ok := byPath[f.Path]
		if !ok {
			continue
		}
		rel, err := filepath.Rel(d.Root, s.staged)
		if err != nil {
			return err
		}
		f.Index, f.IndexBytes = IndexPath(f.Path), s.bytes
		next.Pending = append(next.Pending, move{From: filepath.ToSlash(rel), To: f.Index})
	}
	if err := writeJSONAtomic(filepath.Join(d.Root, MetaDir, manifestName(d.Shard)), &next); err != nil {
		return fmt.Errorf("commit manifest: %w", err)
	}
	d.own = next
	return d.finishMoves()
}
