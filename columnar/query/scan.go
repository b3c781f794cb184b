package query

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// RowSelector narrows a scan to some rows of each data file; it is where
// a bitmap index plugs in. file is a data file's path relative to the
// dataset root, as columnar.Files lists it.
//
// It returns the selection and ok true; or ok false when it cannot tell
// (the file has no index, or one that failed validation), and the file is
// then scanned whole. The selection may hold rows that do not match, as
// the filter is still evaluated on every selected row (less the leaves of
// Selection.Exact), but it must hold every row that does. Row groups
// without a selected row are not read, pages without one are not
// decompressed, a page is decoded up to its last selected row, and rows
// it leaves out are never handed on. An error ends the scan. A RowSelector
// is called from several goroutines at once and must not modify a bitmap
// after returning it.
type RowSelector func(file string) (sel Selection, ok bool, err error)

// Selection is what a RowSelector tells of one file.
type Selection struct {
	Rows *roaring.Bitmap // rows that may match; 0 is the file's first row
	// Exact are leaves of the query's filter that every selected row is
	// known to satisfy, each reached from the filter's root through
	// "and" nodes only: the scan does not evaluate them, nor read their
	// columns when nothing else needs them.
	Exact []filter.Expr
	// Check, when not nil, is how the scan makes sure the file is the one
	// the selection was made for, as it reads the file's footer; a file
	// that fails it is scanned whole.
	Check *columnar.ParquetCheck
}

// Query describes a scan of a flow dataset. The zero value of each field
// but Root is usable; a Query is not modified by its methods and may be
// used by several goroutines at once.
type Query struct {
	Root  string      // the dataset directory
	Where filter.Expr // rows to keep; nil keeps every row
	// Columns are the schema columns (columnar.Schema names) the caller
	// wants in each row; the filter's are added. Fields of columns not
	// read are left zero.
	Columns []string
	Workers int         // files read in parallel; 0 means GOMAXPROCS
	Select  RowSelector // nil: every row of every file is a candidate
	// IndexTotals lets Report answer a report that counts every row of a
	// file (no Where, or one on time only that covers the file's hour) by
	// one key from the per-key totals of the file's index sidecar, where
	// the index is valid and holds them, instead of scanning the file
	// (see Report). Scan ignores it.
	IndexTotals bool
}

// Stats counts what a scan read and skipped.
type Stats struct {
	Files           int   `json:"files"`             // data files the manifest lists
	FilesPruned     int   `json:"files_pruned"`      // files not opened: outside the filter's time range, or no row selected
	RowGroups       int   `json:"row_groups"`        // row groups of the files opened
	RowGroupsPruned int   `json:"row_groups_pruned"` // row groups not read: statistics outside the filter, or no row selected
	RowsRead        int64 `json:"rows_read"`         // rows of the row groups read
	RowsSelected    int64 `json:"rows_selected"`     // of those, rows the selector picked (all of them without a selector)
	RowsMatched     int64 `json:"rows_matched"`      // rows that matched the filter
	BytesRead       int64 `json:"bytes_read"`        // bytes of column chunks read: whole chunks, or the pages holding selected rows
	// FilesFromIndex are files a report counted from the totals of their
	// index (Query.IndexTotals), not read: not in FilesPruned, their rows
	// in RowsMatched but not in RowsRead.
	FilesFromIndex int `json:"files_from_index"`
}

func (s *Stats) add(o Stats) {
	s.Files += o.Files
	s.FilesPruned += o.FilesPruned
	s.RowGroups += o.RowGroups
	s.RowGroupsPruned += o.RowGroupsPruned
	s.RowsRead += o.RowsRead
	s.RowsSelected += o.RowsSelected
	s.RowsMatched += o.RowsMatched
	s.BytesRead += o.BytesRead
	s.FilesFromIndex += o.FilesFromIndex
}

// ErrStop, returned by a Scan callback, ends the scan early without an
// error: Scan returns nil.
var ErrStop = errors.New("stop the scan")

// Scan calls fn with every row of the dataset at root that matches expr,
// with at least the columns cols and the filter's filled in. See
// Query.Scan.
func Scan(ctx context.Context, root string, expr filter.Expr, cols []string, fn func(f *columnar.Flow) error) error {
	q := Query{Root: root, Where: expr, Columns: cols}
	_, err := q.Scan(ctx, fn)
	return err
}

// Scan calls fn with every matching row, in dataset order: files in the
// order of columnar.Files, rows in file order. Files are read and
// filtered by q.Workers goroutines at once, a row group at a time, while
// fn is called from one goroutine. The Flow and its byte slices are valid
// only during the call: copy what you keep. fn returns ErrStop to end the
// scan early; any other error ends it and is returned.
//
// Memory is bounded by the row groups in flight (a few per worker), not
// by the dataset.
func (q *Query) Scan(ctx context.Context, fn func(f *columnar.Flow) error) (Stats, error) {
	cols, err := q.columns(q.Columns)
	if err != nil {
		return Stats{}, err
	}
	files, err := columnar.Files(q.Root)
	if err != nil {
		return Stats{}, err
	}
	outer := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queues := make([]chan delivery, len(files))
	for i := range queues {
		queues[i] = make(chan delivery, 2)
	}
	e := q.newEngine(files, cols)
	var st Stats
	var runErr error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		st, runErr = e.run(ctx, func(_ int, b *block) (bool, error) {
			// A few rows are copied out and the worker keeps its block:
			// a new block's columns are a row group long.
			d := delivery{b: b}
			if len(b.rows) <= compactRows {
				d = delivery{rows: copyRows(b)}
			}
			select {
			case queues[b.file] <- d:
				return d.b != nil, nil
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}, func(i int) { close(queues[i]) })
		if runErr != nil {
			cancel()
		}
	}()
	var f columnar.Flow
	var fnErr error
deliver:
	for _, queue := range queues {
		for d := range queue {
			if b := d.b; b != nil {
				for _, r := range b.rows {
					b.fill(int(r), &f)
					if fnErr = fn(&f); fnErr != nil {
						break deliver
					}
				}
				e.put(b)
				continue
			}
			for i := range d.rows {
				if fnErr = fn(&d.rows[i]); fnErr != nil {
					break deliver
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if fnErr != nil {
		cancel()
	}
	<-finished
	switch {
	case errors.Is(fnErr, ErrStop):
		return st, nil
	case fnErr != nil:
		return st, fnErr
	case outer.Err() != nil:
		return st, outer.Err()
	}
	return st, runErr
}

// ScanFile calls fn with every row of the one Parquet file at name, in
// file order, with at least the columns cols (columnar.Schema names; nil
// for every column) filled in. It needs no dataset, filters nothing and
// reads in the calling goroutine: it is how a file is read back whole,
// e.g. to build its index (columnar.BuildIndex, Dataset.BuildIndexes;
// ScanFile is a columnar.FileScanner).
//
// A column the file lacks, one added to the schema after the file was
// written, is not an error: its fields are left zero and the result lists
// it in Missing. A damaged file gives the errors Scan gives, naming name,
// and the row group and column where they apply. The Flow and its byte
// slices are valid only during the call. fn returns ErrStop to end the
// scan early; any other error ends it and is returned. The result's Rows
// is the file's row count, the sum of its row groups', even after ErrStop.
func ScanFile(ctx context.Context, name string, cols []string, fn func(f *columnar.Flow) error) (columnar.FileScan, error) {
	if cols == nil {
		cols = allColumnNames()
	}
	q := &Query{Workers: 1}
	ids, err := q.columns(cols)
	if err != nil {
		return columnar.FileScan{}, err
	}
	e := q.newEngine([]columnar.FileEntry{{Path: name}}, ids)
	e.lenient = true
	pr := &pageReader{}
	defer pr.close()
	var st Stats
	var f columnar.Flow
	err = e.scanFile(ctx, 0, 0, &evaluator{}, pr, &st, func(_ int, b *block) (bool, error) {
		for _, r := range b.rows {
			b.fill(int(r), &f)
			if err := fn(&f); err != nil {
				return false, err
			}
		}
		return false, nil
	})
	if err != nil && !errors.Is(err, ErrStop) {
		return columnar.FileScan{}, err
	}
	var res columnar.FileScan
	for i := range pr.md.rowGroups {
		res.Rows += pr.md.rowGroups[i].rows
	}
	for _, name := range cols {
		c, _ := colByName(name)
		if c == colProtocol {
			c = colProto
		}
		if slices.Contains(e.missing, c) {
			res.Missing = append(res.Missing, name)
		}
	}
	return res, nil
}

// allColumnNames returns the names of every column of the flow schema.
func allColumnNames() []string {
	out := make([]string, numCols)
	for c := range numCols {
		out[c] = c.String()
	}
	return out
}

// columns returns the columns to read for the output columns out and the
// filter, in schema order. The protocol column is read as proto, from
// which both are filled.
func (q *Query) columns(out []string) ([]colID, error) {
	var need [numCols]bool
	add := func(name string) error {
		c, ok := colByName(name)
		if !ok {
			return fmt.Errorf("no column %q in the flow schema", name)
		}
		if c == colProtocol {
			c = colProto
		}
		need[c] = true
		return nil
	}
	for _, name := range out {
		if err := add(name); err != nil {
			return nil, err
		}
	}
	if q.Where != nil {
		for _, name := range filter.Columns(q.Where) {
			if err := add(name); err != nil {
				return nil, err
			}
		}
	}
	var cols []colID
	for c := range numCols {
		if need[c] {
			cols = append(cols, c)
		}
	}
	return cols, nil
}

// engine reads the files of one query with a pool of workers.
type engine struct {
	q     *Query
	files []columnar.FileEntry
	cols  []colID // every column read
	// The filter's columns are read first, as far as the filter needs
	// them; the others only in row groups where rows match, and only the
	// pages that hold one.
	first []colID
	root  *node // the filter, compiled
	free  chan *block
	// With lenient (ScanFile: one file, one goroutine), columns the file
	// lacks are noted in missing and left out, instead of being an error.
	lenient bool
	missing []colID
	// answer, when not nil, is asked first for each file, with the
	// worker's number: when it returns ok, it has counted the file's rows
	// (rows of them) without reading it, and the file is not scanned.
	answer func(w, file int) (rows int64, ok bool)
}

func (q *Query) newEngine(files []columnar.FileEntry, cols []colID) *engine {
	e := &engine{q: q, files: files, cols: cols, free: make(chan *block, 4*q.workers()+4)}
	if q.Where != nil {
		e.root = compile(q.Where)
	}
	var inFilter [numCols]bool
	if q.Where != nil {
		fc, _ := (&Query{Where: q.Where}).columns(nil)
		for _, c := range fc {
			inFilter[c] = true
		}
	}
	for _, c := range cols {
		if inFilter[c] {
			e.first = append(e.first, c)
		}
	}
	return e
}

func (q *Query) workers() int {
	if q.Workers > 0 {
		return q.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (e *engine) get() *block {
	select {
	case b := <-e.free:
		return b
	default:
		return newBlock(e.cols)
	}
}

func (e *engine) put(b *block) {
	select {
	case e.free <- b:
	default:
	}
}

// run reads every file with q.Workers goroutines. Each row group with
// matching rows goes to onBlock, with the worker's number; onBlock
// returns true when it keeps the block (and later gives it back with
// put). done is called once for every file, when nothing more of it will
// be handed on, even when run fails.
func (e *engine) run(ctx context.Context, onBlock func(w int, b *block) (keep bool, err error), done func(file int)) (Stats, error) {
	var next atomic.Int64
	nw := min(e.q.workers(), max(len(e.files), 1))
	stats := make([]Stats, nw)
	errs := make([]error, nw)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := &evaluator{}
			pr := &pageReader{}
			defer pr.close()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(e.files) {
					return
				}
				if e.answer != nil {
					if rows, ok := e.answer(w, i); ok {
						stats[w].FilesFromIndex++
						stats[w].RowsMatched += rows
						if done != nil {
							done(i)
						}
						continue
					}
				}
				err := e.scanFile(ctx, w, i, ev, pr, &stats[w], onBlock)
				stats[w].BytesRead, pr.read = stats[w].BytesRead+pr.read, 0
				if done != nil {
					done(i)
				}
				if err != nil {
					errs[w] = err
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if done != nil {
		for i := int(next.Load()); i < len(e.files); i++ {
			done(i)
		}
	}
	var st Stats
	for _, s := range stats {
		st.add(s)
	}
	st.Files = len(e.files)
	if err := errors.Join(errs...); err != nil {
		return st, err
	}
	if int(next.Load()) < len(e.files) {
		return st, ctx.Err() // canceled before every file was claimed
	}
	return st, nil
}

// scanFile reads one file, a row group at a time.
func (e *engine) scanFile(ctx context.Context, w, i int, ev *evaluator, pr *pageReader, st *Stats, onBlock func(int, *block) (bool, error)) error {
	entry := e.files[i]
	known := partitionBounds(entry.Path)
	if e.q.Where != nil && !mayMatch(e.q.Where, &known) {
		st.FilesPruned++
		return nil
	}
	var s Selection
	selected := false
	if e.q.Select != nil {
		var err error
		if s, selected, err = e.q.Select(entry.Path); err != nil {
			return fmt.Errorf("select rows of %s: %w", entry.Path, err)
		}
	}
	name := filepath.Join(e.q.Root, filepath.FromSlash(entry.Path))
	osf, err := os.Open(name)
	if err != nil {
		return err
	}
	defer osf.Close()
	fi, err := osf.Stat()
	if err != nil {
		return err
	}
	if selected && (s.Rows == nil || s.Rows.IsEmpty()) {
		if s.Check == nil || s.Check.File(osf, fi.Size()) == nil {
			st.FilesPruned++
			return nil
		}
		selected = false
	}
	md, err := pr.loadFooter(osf, fi.Size())
	if err != nil {
		return fmt.Errorf("read %s: %w", entry.Path, err)
	}
	if selected && s.Check != nil && s.Check.Tail(fi.Size(), pr.foot) != nil {
		selected = false
	}
	var sel *roaring.Bitmap
	filterCols := e.first
	ev.root = e.root
	if selected {
		sel = s.Rows
		if len(s.Exact) > 0 {
			rest := withoutLeaves(e.q.Where, s.Exact)
			ev.root, filterCols = nil, nil
			if rest != nil {
				ev.root = compile(rest)
				filterCols, _ = (&Query{Where: rest}).columns(nil)
			}
		}
	}
	src := &chunks{f: osf, path: entry.Path, md: md, pr: pr}
	read := e.cols // the columns read, less those the file lacks
	for _, c := range e.cols {
		src.leaf[c] = md.leafIndex(c.String())
		if src.leaf[c] < 0 {
			if !e.lenient {
				return fmt.Errorf("%s: no column %q", entry.Path, c)
			}
			e.missing = append(e.missing, c)
		}
	}
	if len(e.missing) > 0 {
		read = slices.DeleteFunc(slices.Clone(e.cols), func(c colID) bool { return slices.Contains(e.missing, c) })
	}
	timeLeaf := md.leafIndex("time")
	srcPortLeaf := md.leafIndex("src_port")
	dstPortLeaf := md.leafIndex("dst_port")
	var first int64
	b := e.get()
	defer func() { e.put(b) }()
	for rg := range md.rowGroups {
		if err := ctx.Err(); err != nil {
			return err
		}
		rgr := &md.rowGroups[rg]
		if rgr.rows > 1<<31-1 {
			return fmt.Errorf("%s: row group %d of %d rows", entry.Path, rg, rgr.rows)
		}
		n := int(rgr.rows)
		st.RowGroups++
		b.file, b.first, b.n = i, first, n
		first += int64(n)
		b.cand = nil
		if sel != nil {
			b.cand = selectRange(sel, b.first, n, b.cand[:0:cap(b.cand)])
			if len(b.cand) == 0 {
				st.RowGroupsPruned++
				continue
			}
		}
		if e.q.Where != nil {
			r := known
			r.time.narrow(chunkStats(rgr, timeLeaf))
			r.srcPort.narrow(chunkStats(rgr, srcPortLeaf))
			r.dstPort.narrow(chunkStats(rgr, dstPortLeaf))
			if !mayMatch(e.q.Where, &r) {
				st.RowGroupsPruned++
				continue
			}
		}
		src.rg, src.rgNo, src.cur = rgr, rg, numCols
		b.src, b.state = src, [numCols + 1]uint8{}
		b.span = nil
		if b.cand != nil {
			b.span = rowList(b.cand)
		}
		st.RowsRead += int64(n)
		if b.cand != nil {
			st.RowsSelected += int64(len(b.cand))
		} else {
			st.RowsSelected += int64(n)
		}
		if err := ev.filter(b, filterCols); err != nil {
			return err
		}
		st.RowsMatched += int64(len(b.rows))
		if len(b.rows) == 0 {
			continue
		}
		b.span = nil
		if len(b.rows) < b.n {
			b.span = rowList(b.rows)
		}
		if err := b.needAll(read); err != nil {
			return err
		}
		keep, err := onBlock(w, b)
		if err != nil {
			return err
		}
		if keep {
			b = e.get()
		}
	}
	return nil
}

// selectRange appends to dst the rows of sel in [first, first+n), made
// relative to first.
func selectRange(sel *roaring.Bitmap, first int64, n int, dst []int32) []int32 {
	if first > int64(^uint32(0)) {
		return dst
	}
	it := sel.Iterator()
	it.AdvanceIfNeeded(uint32(first))
	end := first + int64(n)
	for it.HasNext() {
		r := int64(it.Next())
		if r >= end {
			break
		}
		dst = append(dst, int32(r-first))
	}
	return dst
}

// partitionBounds returns the time range of a file's Hive partition
// (…/date=YYYY-MM-DD/hour=H/…), unknown when the path has none.
func partitionBounds(path string) bounds {
	var date, hour string
	for _, seg := range strings.Split(path, "/") {
		if v, ok := strings.CutPrefix(seg, "date="); ok {
			date = v
		}
		if v, ok := strings.CutPrefix(seg, "hour="); ok {
			hour = v
		}
	}
	var r bounds
	if date == "" || hour == "" {
		return r
	}
	start, ok := hourStart(date, hour)
	if ok {
		r.time = interval{lo: start, hi: start + 3600e6 - 1, known: true}
	}
	return r
}

// compactRows is the most matching rows of a row group that Scan copies
// out of its block instead of handing the block on.
const compactRows = 256

// delivery is what a worker hands Scan's caller for one row group: the
// block itself, or a copy of its few matching rows.
type delivery struct {
	b    *block
	rows []columnar.Flow
}

// copyRows returns the matching rows of b, their texts copied into one
// buffer of their own.
func copyRows(b *block) []columnar.Flow {
	rows := make([]columnar.Flow, len(b.rows))
	size := 0
	for i, r := range b.rows {
		b.fill(int(r), &rows[i])
		f := &rows[i]
		size += len(f.ResourceID) + len(f.MAC) + len(f.Rule) + len(f.ACLID) + len(f.FlowLogID) +
			len(f.SrcIP) + len(f.DstIP) + len(f.Encryption)
	}
	buf := make([]byte, 0, size)
	own := func(p *[]byte) {
		if *p != nil {
			start := len(buf)
			buf = append(buf, *p...)
			*p = buf[start:len(buf):len(buf)]
		}
	}
	for i := range rows {
		f := &rows[i]
		for _, p := range []*[]byte{&f.ResourceID, &f.MAC, &f.Rule, &f.ACLID, &f.FlowLogID, &f.SrcIP, &f.DstIP, &f.Encryption} {
			own(p)
		}
	}
	return rows
}
