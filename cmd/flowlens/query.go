package main

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
	"github.com/flowlens/flowlens/columnar/query"
)

type queryOptions struct {
	format  string
	fields  string
	limit   int64
	sort    string
	workers int
	noIndex bool
	stats   bool
}

func newQueryCmd() *cobra.Command {
	o := queryOptions{}
	c := &cobra.Command{
		Use:   "query OUT ['FILTER']",
		Short: "Print the flows of a dataset that match a filter",
		Long: `Print the flows of the dataset OUT (written by flowlens convert) that match
FILTER, in dataset order: a table on a terminal, else CSV; or --format
csv|json|arrow (json: one object per line; arrow: an Arrow IPC stream).
Without FILTER every flow is printed.

The filter language (see columnar/filter/filter.md):

  src ip 94.102.49.190 and dst port 3389 and deny and since 7d
  dst net 10.0.0.0/8 and not (dst port 22 or dst port 3389)
  rule UserRule_* and nsg appnsg and bytes > 1M

--fields picks the columns: any column of the flow schema, and nsg (the
last segment of resource_id), bytes and packets (both directions summed).
--sort FIELD[,desc] orders the rows (with --limit N only the first N are
kept in memory; without, every matching row is).`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			where := ""
			if len(args) == 2 {
				where = args[1]
			}
			scanGC()
			return runQuery(cmd.Context(), args[0], where, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&o.format, "format", "", "table, csv, json or arrow (default: table on a terminal, else csv)")
	f.StringVar(&o.fields, "fields", "", "comma-separated columns to print (default: "+strings.Join(queryDefaultFields, ",")+"; arrow: every column)")
	f.Int64Var(&o.limit, "limit", 0, "print at most N rows (0: all)")
	f.StringVar(&o.sort, "sort", "", "order rows by FIELD, ascending, or FIELD,desc")
	f.IntVar(&o.workers, "workers", 0, "files read in parallel (default: all cores)")
	f.BoolVar(&o.noIndex, "no-index", false, "read every row the filter may need instead of narrowing with the index sidecars")
	f.BoolVar(&o.stats, "stats", false, "print what the scan read and skipped on stderr")
	return c
}

// parseWhere parses a filter; a syntax error becomes a usage error that
// shows the filter with a caret under the problem.
func parseWhere(s string) (filter.Expr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	e, err := filter.Parse(s, filter.Options{Now: time.Now()})
	var se *filter.SyntaxError
	if errors.As(err, &se) {
		return nil, usageError{fmt.Errorf("%w\n%s", err, se.Caret())}
	}
	return e, err
}

// queryField is a column that query can print.
type queryField struct {
	name string
	cols []string // schema columns it reads
	num  bool     // printed as a number in JSON
	// text appends the value to dst; ok is false for null.
	text func(dst []byte, f *columnar.Flow) ([]byte, bool)
	// key returns a sort key: an integer when intKey, else a string.
	key    func(f *columnar.Flow) (int64, []byte, bool)
	intKey bool
}

var queryDefaultFields = []string{"time", "rule", "src_ip", "src_port", "dst_ip", "dst_port", "protocol",
	"direction", "decision", "state", "packets_out", "bytes_out", "packets_in", "bytes_in"}

func strField(name string, get func(f *columnar.Flow) []byte) queryField {
	return queryField{name: name, cols: []string{name},
		text: func(dst []byte, f *columnar.Flow) ([]byte, bool) {
			v := get(f)
			return append(dst, v...), len(v) > 0
		},
		key: func(f *columnar.Flow) (int64, []byte, bool) { v := get(f); return 0, v, len(v) > 0 }}
}

func intField(name string, cols []string, get func(f *columnar.Flow) (int64, bool)) queryField {
	return queryField{name: name, cols: cols, num: true, intKey: true,
		text: func(dst []byte, f *columnar.Flow) ([]byte, bool) {
			v, ok := get(f)
			if !ok {
				return dst, false
			}
			return strconv.AppendInt(dst, v, 10), true
		},
		key: func(f *columnar.Flow) (int64, []byte, bool) { v, ok := get(f); return v, nil, ok }}
}

func timeField(name string, get func(f *columnar.Flow) (int64, bool)) queryField {
	fld := intField(name, []string{name}, get)
	fld.num = false
	fld.text = func(dst []byte, f *columnar.Flow) ([]byte, bool) {
		v, ok := get(f)
		if !ok {
			return dst, false
		}
		return time.UnixMicro(v).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z"), true
	}
	return fld
}

func enumField(name string, get func(f *columnar.Flow) string) queryField {
	return strField(name, func(f *columnar.Flow) []byte {
		s := get(f)
		if s == "" {
			return nil
		}
		return []byte(s)
	})
}

// queryFields are the columns query prints, by name.
var queryFields = func() map[string]queryField {
	counter := func(get func(f *columnar.Flow) int64) func(f *columnar.Flow) (int64, bool) {
		return func(f *columnar.Flow) (int64, bool) { return get(f), f.HasCounters }
	}
	fs := []queryField{
		timeField("time", func(f *columnar.Flow) (int64, bool) { return f.Time, true }),
		timeField("end_time", func(f *columnar.Flow) (int64, bool) { return f.EndTime, f.HasEndTime }),
		enumField("source", func(f *columnar.Flow) string { return f.Source.String() }),
		strField("resource_id", func(f *columnar.Flow) []byte { return f.ResourceID }),
		strField("mac", func(f *columnar.Flow) []byte { return f.MAC }),
		strField("rule", func(f *columnar.Flow) []byte { return f.Rule }),
		strField("src_ip", func(f *columnar.Flow) []byte { return f.SrcIP }),
		strField("dst_ip", func(f *columnar.Flow) []byte { return f.DstIP }),
		intField("src_port", []string{"src_port"}, func(f *columnar.Flow) (int64, bool) { return int64(f.SrcPort), true }),
		intField("dst_port", []string{"dst_port"}, func(f *columnar.Flow) (int64, bool) { return int64(f.DstPort), true }),
		enumField("protocol", func(f *columnar.Flow) string { return columnar.ProtocolName(f.Proto) }),
		intField("proto", []string{"proto"}, func(f *columnar.Flow) (int64, bool) { return int64(f.Proto), true }),
		enumField("direction", func(f *columnar.Flow) string { return f.Direction.String() }),
		enumField("decision", func(f *columnar.Flow) string { return f.Decision.String() }),
		enumField("state", stateText),
		intField("packets_out", []string{"packets_out"}, counter(func(f *columnar.Flow) int64 { return f.PacketsOut })),
		intField("bytes_out", []string{"bytes_out"}, counter(func(f *columnar.Flow) int64 { return f.BytesOut })),
		intField("packets_in", []string{"packets_in"}, counter(func(f *columnar.Flow) int64 { return f.PacketsIn })),
		intField("bytes_in", []string{"bytes_in"}, counter(func(f *columnar.Flow) int64 { return f.BytesIn })),
		strField("acl_id", func(f *columnar.Flow) []byte { return f.ACLID }),
		strField("flow_log_id", func(f *columnar.Flow) []byte { return f.FlowLogID }),
		strField("encryption", func(f *columnar.Flow) []byte { return f.Encryption }),
		intField("tcp_flags", []string{"tcp_flags"}, func(f *columnar.Flow) (int64, bool) { return int64(f.TCPFlags), f.HasTCPFlags }),
		intField("vlan", []string{"vlan"}, func(f *columnar.Flow) (int64, bool) { return int64(f.VLAN), f.HasVLAN }),
		intField("captured_len", []string{"captured_len"}, func(f *columnar.Flow) (int64, bool) { return int64(f.CapturedLen), f.HasCapturedLen }),
		// Derived fields.
		intField("bytes", []string{"bytes_out", "bytes_in"}, counter(func(f *columnar.Flow) int64 { return f.BytesOut + f.BytesIn })),
		intField("packets", []string{"packets_out", "packets_in"}, counter(func(f *columnar.Flow) int64 { return f.PacketsOut + f.PacketsIn })),
	}
	nsg := strField("nsg", func(f *columnar.Flow) []byte {
		id := f.ResourceID
		for i := len(id) - 1; i >= 0; i-- {
			if id[i] == '/' {
				return id[i+1:]
			}
		}
		return id
	})
	nsg.cols = []string{"resource_id"}
	fs = append(fs, nsg)
	m := map[string]queryField{}
	for _, f := range fs {
		m[f.name] = f
	}
	return m
}()

// pickFields resolves --fields.
func pickFields(list string, def []string) ([]queryField, error) {
	names := def
	if strings.TrimSpace(list) != "" {
		names = strings.Split(list, ",")
	}
	var out []queryField
	for _, n := range names {
		n = strings.TrimSpace(n)
		f, ok := queryFields[n]
		if !ok {
			known := make([]string, 0, len(queryFields))
			for k := range queryFields {
				known = append(known, k)
			}
			slices.Sort(known)
			return nil, usagef("--fields: no field %q; fields are %s", n, strings.Join(known, ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

func runQuery(ctx context.Context, root, where string, o queryOptions, stdout, stderr io.Writer) error {
	if o.format == "" {
		o.format = "csv"
		if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			o.format = "table"
		}
	}
	if o.limit < 0 {
		return usagef("--limit %d: want 0 or more", o.limit)
	}
	expr, err := parseWhere(where)
	if err != nil {
		return err
	}
	var fields []queryField
	switch o.format {
	case "table", "csv", "json":
		if fields, err = pickFields(o.fields, queryDefaultFields); err != nil {
			return err
		}
	case "arrow":
		def := make([]string, 0, len(columnar.Schema.Fields()))
		for _, f := range columnar.Schema.Fields() {
			def = append(def, f.Name)
		}
		if fields, err = pickFields(o.fields, def); err != nil {
			return err
		}
		for _, f := range fields {
			if columnar.Schema.FieldIndices(f.name) == nil {
				return usagef("--fields: %s is not a column of the flow schema, which --format arrow writes", f.name)
			}
		}
	default:
		return usagef("--format %q: want table, csv, json or arrow", o.format)
	}
	var cols []string
	for _, f := range fields {
		cols = append(cols, f.cols...)
	}
	var order *querySort
	if o.sort != "" {
		name, dir, _ := strings.Cut(o.sort, ",")
		f, ok := queryFields[strings.TrimSpace(name)]
		if !ok || dir != "" && dir != "desc" && dir != "asc" {
			return usagef("--sort %q: want FIELD or FIELD,desc with a field of --fields", o.sort)
		}
		order = &querySort{field: f, desc: dir == "desc", limit: o.limit}
		cols = append(cols, f.cols...)
	}
	if _, err := os.Stat(root); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(stdout, 64<<10)
	var w flowWriter
	switch o.format {
	case "table":
		w = newQueryTable(bw, fields)
	case "csv":
		w = newQueryCSV(bw, fields)
	case "json":
		w = &queryJSON{w: bw, fields: fields}
	case "arrow":
		w = newQueryArrow(bw, fields)
	}
	q := &query.Query{Root: root, Where: expr, Columns: cols, Workers: o.workers}
	if expr != nil && !o.noIndex {
		q.Select = query.IndexSelector(root, expr)
	}
	var n int64
	st, err := q.Scan(ctx, func(f *columnar.Flow) error {
		if order != nil {
			order.add(f)
			return nil
		}
		if err := w.write(f); err != nil {
			return err
		}
		if n++; o.limit > 0 && n >= o.limit {
			return query.ErrStop
		}
		return nil
	})
	if err == nil && order != nil {
		for _, f := range order.sorted() {
			if err = w.write(f); err != nil {
				break
			}
		}
		n = int64(len(order.rows))
	}
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if o.stats {
		fmt.Fprintf(stderr, "%s printed; read %d of %d files, %d of %d row groups, %d rows (%d selected), %d matched; %.1f MB of column chunks read\n",
			plural(n, "row"), st.Files-st.FilesPruned, st.Files, st.RowGroups-st.RowGroupsPruned, st.RowGroups,
			st.RowsRead, st.RowsSelected, st.RowsMatched, float64(st.BytesRead)/1e6)
	}
	return err
}

// querySort collects rows for --sort: all of them, or with a limit the
// first ones in a heap. Ties keep dataset order.
type querySort struct {
	field queryField
	desc  bool
	limit int64
	rows  []*columnar.Flow
	seq   []int64
	next  int64
}

// before reports whether row a (the aseq'th matched) sorts before row b.
// Nulls sort last in either direction.
func (s *querySort) before(a *columnar.Flow, aseq int64, b *columnar.Flow, bseq int64) bool {
	d := compareBy(s.field, a, b)
	if _, _, aok := s.field.key(a); s.desc && aok {
		if _, _, bok := s.field.key(b); bok {
			d = -d
		}
	}
	if d != 0 {
		return d < 0
	}
	return aseq < bseq
}

func (s *querySort) less(i, j int) bool { return s.before(s.rows[i], s.seq[i], s.rows[j], s.seq[j]) }

// compareBy compares two rows by a field, ascending, nulls last.
func compareBy(f queryField, a, b *columnar.Flow) int {
	ai, as, aok := f.key(a)
	bi, bs, bok := f.key(b)
	switch {
	case !aok || !bok:
		if aok == bok {
			return 0
		}
		if !aok {
			return 1
		}
		return -1
	case f.intKey:
		if ai != bi {
			if ai < bi {
				return -1
			}
			return 1
		}
		return 0
	}
	return strings.Compare(string(as), string(bs))
}

// The heap holds the kept rows with the one that sorts last on top.
func (s *querySort) Len() int           { return len(s.rows) }
func (s *querySort) Less(i, j int) bool { return s.less(j, i) }
func (s *querySort) Swap(i, j int) {
	s.rows[i], s.rows[j] = s.rows[j], s.rows[i]
	s.seq[i], s.seq[j] = s.seq[j], s.seq[i]
}
func (s *querySort) Push(x any) { panic("BUG: querySort.Push") }
func (s *querySort) Pop() any   { panic("BUG: querySort.Pop") }

func (s *querySort) add(f *columnar.Flow) {
	seq := s.next
	s.next++
	if s.limit > 0 && int64(len(s.rows)) == s.limit {
		// Keep f in place of the kept row that sorts last, if f sorts before it.
		if s.before(f, seq, s.rows[0], s.seq[0]) {
			s.rows[0], s.seq[0] = copyRow(f), seq
			heap.Fix(s, 0)
		}
		return
	}
	s.rows = append(s.rows, copyRow(f))
	s.seq = append(s.seq, seq)
	if s.limit > 0 && int64(len(s.rows)) == s.limit {
		heap.Init(s)
	}
}

func (s *querySort) sorted() []*columnar.Flow {
	idx := make([]int, len(s.rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if s.less(a, b) {
			return -1
		}
		if s.less(b, a) {
			return 1
		}
		return 0
	})
	out := make([]*columnar.Flow, len(idx))
	for i, j := range idx {
		out[i] = s.rows[j]
	}
	return out
}

// copyRow copies a row and its byte slices.
func copyRow(f *columnar.Flow) *columnar.Flow {
	g := *f
	n := len(f.ResourceID) + len(f.MAC) + len(f.Rule) + len(f.ACLID) + len(f.FlowLogID) + len(f.SrcIP) + len(f.DstIP) + len(f.Encryption)
	buf := make([]byte, 0, n)
	for _, b := range []*[]byte{&g.ResourceID, &g.MAC, &g.Rule, &g.ACLID, &g.FlowLogID, &g.SrcIP, &g.DstIP, &g.Encryption} {
		if len(*b) > 0 {
			start := len(buf)
			buf = append(buf, *b...)
			*b = buf[start:len(buf):len(buf)]
		}
	}
	return &g
}

// queryTable prints aligned columns, flushed every few hundred rows so
// that memory stays small.
type queryTable struct {
	tw     *tabwriter.Writer
	fields []queryField
	buf    []byte
	rows   int
}

func newQueryTable(w io.Writer, fields []queryField) *queryTable {
	t := &queryTable{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), fields: fields}
	for i, f := range fields {
		if i > 0 {
			t.buf = append(t.buf, '\t')
		}
		t.buf = append(t.buf, f.name...)
	}
	t.buf = append(t.buf, '\n')
	t.tw.Write(t.buf)
	return t
}

func (t *queryTable) write(f *columnar.Flow) error {
	t.buf = t.buf[:0]
	for i, fld := range t.fields {
		if i > 0 {
			t.buf = append(t.buf, '\t')
		}
		var ok bool
		n := len(t.buf)
		if t.buf, ok = fld.text(t.buf, f); !ok {
			t.buf = append(t.buf[:n], '-')
		}
	}
	t.buf = append(t.buf, '\n')
	if _, err := t.tw.Write(t.buf); err != nil {
		return err
	}
	if t.rows++; t.rows%512 == 0 {
		return t.tw.Flush()
	}
	return nil
}

func (t *queryTable) close() error { return t.tw.Flush() }

type queryCSV struct {
	w      *csv.Writer
	fields []queryField
	rec    []string
	buf    []byte
}

func newQueryCSV(w io.Writer, fields []queryField) *queryCSV {
	c := &queryCSV{w: csv.NewWriter(w), fields: fields}
	for _, f := range fields {
		c.rec = append(c.rec, f.name)
	}
	c.w.Write(c.rec)
	return c
}

func (c *queryCSV) write(f *columnar.Flow) error {
	c.rec = c.rec[:0]
	for _, fld := range c.fields {
		c.buf, _ = fld.text(c.buf[:0], f)
		c.rec = append(c.rec, string(c.buf))
	}
	return c.w.Write(c.rec)
}

func (c *queryCSV) close() error { c.w.Flush(); return c.w.Error() }

// queryJSON prints one object per line, fields in order, null for null.
type queryJSON struct {
	w      io.Writer
	fields []queryField
	buf    []byte
	val    []byte
}

func (j *queryJSON) write(f *columnar.Flow) error {
	j.buf = append(j.buf[:0], '{')
	for i, fld := range j.fields {
		if i > 0 {
			j.buf = append(j.buf, ',')
		}
		j.buf = strconv.AppendQuote(j.buf, fld.name)
		j.buf = append(j.buf, ':')
		var ok bool
		j.val, ok = fld.text(j.val[:0], f)
		switch {
		case !ok:
			j.buf = append(j.buf, "null"...)
		case fld.num:
			j.buf = append(j.buf, j.val...)
		default:
			j.buf = appendJSONString(j.buf, j.val)
		}
	}
	j.buf = append(j.buf, '}', '\n')
	_, err := j.w.Write(j.buf)
	return err
}

func (j *queryJSON) close() error { return nil }

// appendJSONString appends s as a JSON string.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range string(s) {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', byte(c))
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case c == 0xfffd:
			dst = append(dst, `\ufffd`...)
		default:
			dst = append(dst, string(c)...)
		}
	}
	return append(dst, '"')
}

// queryArrow writes an Arrow IPC stream of the chosen schema columns.
type queryArrow struct {
	b      *columnar.Batch
	w      *ipc.Writer
	schema *arrow.Schema
	idx    []int
}

func newQueryArrow(w io.Writer, fields []queryField) *queryArrow {
	a := &queryArrow{b: columnar.NewBatch()}
	var fs []arrow.Field
	for _, f := range fields {
		i := columnar.Schema.FieldIndices(f.name)[0]
		a.idx = append(a.idx, i)
		fs = append(fs, columnar.Schema.Field(i))
	}
	a.schema = arrow.NewSchema(fs, nil)
	a.w = ipc.NewWriter(w, ipc.WithSchema(a.schema), ipc.WithAllocator(memory.DefaultAllocator), ipc.WithZstd(), ipc.WithDictionaryDeltas(false))
	return a
}

func (a *queryArrow) write(f *columnar.Flow) error {
	a.b.Append(f)
	if a.b.Len() >= columnar.RowGroupRows {
		return a.flush()
	}
	return nil
}

func (a *queryArrow) flush() error {
	if a.b.Len() == 0 {
		return nil
	}
	rec := a.b.Record()
	cols := make([]arrow.Array, len(a.idx))
	for i, j := range a.idx {
		cols[i] = rec.Column(j)
	}
	proj := array.NewRecordBatch(a.schema, cols, rec.NumRows())
	err := a.w.Write(proj)
	proj.Release()
	rec.Release()
	a.b.Reset()
	return err
}

func (a *queryArrow) close() error {
	if err := a.flush(); err != nil {
		return err
	}
	return a.w.Close()
}
