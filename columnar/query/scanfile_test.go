package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flowlens/flowlens/columnar"
)

// scanFileFlows reads one file with ScanFile and returns its rows as
// strings.
func scanFileFlows(t *testing.T, name string, cols []string) ([]string, columnar.FileScan) {
	t.Helper()
	var out []string
	res, err := ScanFile(context.Background(), name, cols, func(f *columnar.Flow) error {
		out = append(out, flowString(f))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

// TestScanFile reads every file of the sample and synthetic datasets with
// ScanFile: every column, in file order, as arrow-go reads them; only
// some columns; and stopping early.
func TestScanFile(t *testing.T) {
	for _, root := range []string{sampleDataset(t), synthDataset(t)} {
		t.Run(filepath.Base(root), func(t *testing.T) {
			files, err := columnar.Files(root)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fe := range files {
				name := filepath.Join(root, filepath.FromSlash(fe.Path))
				rows, res := scanFileFlows(t, name, nil)
				if res.Rows != fe.Rows || int64(len(rows)) != fe.Rows || res.Missing != nil {
					t.Fatalf("%s: %d rows handed on, %+v; the manifest says %d rows", fe.Path, len(rows), res, fe.Rows)
				}
				got = append(got, rows...)
			}
			want := arrowFlows(t, root)
			if !slices.Equal(got, want) {
				t.Fatalf("%d rows differ from arrow-go's %d", len(got), len(want))
			}

			// Some columns: the others are left zero.
			name := filepath.Join(root, filepath.FromSlash(files[0].Path))
			var n int
			_, err = ScanFile(context.Background(), name, []string{"src_ip", "protocol"}, func(f *columnar.Flow) error {
				g := columnar.Flow{SrcIP: f.SrcIP, Proto: f.Proto}
				if flowString(f) != flowString(&g) || len(f.SrcIP) == 0 {
					t.Fatalf("row %d: %s, want only src_ip and proto", n, flowString(f))
				}
				n++
				return nil
			})
			if err != nil || int64(n) != files[0].Rows {
				t.Fatalf("src_ip and protocol: %d rows, %v", n, err)
			}

			// ErrStop ends the scan without an error; Rows is the file's.
			n = 0
			res, err := ScanFile(context.Background(), name, []string{"time"}, func(f *columnar.Flow) error {
				if n++; n == 3 {
					return ErrStop
				}
				return nil
			})
			if err != nil || n != 3 || res.Rows != files[0].Rows {
				t.Fatalf("stopped after 3 rows: %d rows, %+v, %v", n, res, err)
			}
			if _, err := ScanFile(context.Background(), name, []string{"nsg"}, nil); err == nil {
				t.Fatal("no error for a column not in the schema")
			}
		})
	}
}

// writeOlderFile writes rows into a Parquet file through arrow-go's
// writer, without the columns of lacks, as a file written before those
// columns were added to the schema.
func writeOlderFile(t *testing.T, name string, rows []columnar.Flow, lacks []string) {
	t.Helper()
	b := columnar.NewBatch()
	for i := range rows {
		b.Append(&rows[i])
	}
	rec := b.Record()
	defer rec.Release()
	var fields []arrow.Field
	var cols []arrow.Array
	props := []parquet.WriterProperty{parquet.WithDictionaryDefault(false)}
	for i, f := range columnar.Schema.Fields() {
		if slices.Contains(lacks, f.Name) {
			continue
		}
		fields = append(fields, f)
		cols = append(cols, rec.Column(i))
		if f.Type.ID() == arrow.DICTIONARY {
			props = append(props, parquet.WithDictionaryFor(f.Name, true))
		}
	}
	schema := arrow.NewSchema(fields, nil)
	older := array.NewRecordBatch(schema, cols, rec.NumRows())
	defer older.Release()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(props...), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(older); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestScanFileMissingColumns reads a file that lacks columns: they are
// listed, in the order asked, and left zero; the index built from the
// file has no key in them.
func TestScanFileMissingColumns(t *testing.T) {
	rows := synthFlows(5000, 3)
	lacks := []string{"acl_id", "src_port", "tcp_flags"}
	name := filepath.Join(t.TempDir(), "part-older.parquet")
	writeOlderFile(t, name, rows, lacks)

	got, res := scanFileFlows(t, name, nil)
	if res.Rows != int64(len(rows)) || !slices.Equal(res.Missing, []string{"src_port", "acl_id", "tcp_flags"}) {
		t.Fatalf("%+v, want %d rows and src_port, acl_id, tcp_flags missing", res, len(rows))
	}
	for i := range rows {
		want := rows[i]
		want.Context, want.ACLID, want.SrcPort, want.TCPFlags, want.HasTCPFlags = 0, nil, 0, 0, false
		if got[i] != flowString(&want) {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got[i], flowString(&want))
		}
	}
	_, res = scanFileFlows(t, name, []string{"dst_port", "acl_id"})
	if !slices.Equal(res.Missing, []string{"acl_id"}) {
		t.Fatalf("dst_port, acl_id: missing %q", res.Missing)
	}

	if err := columnar.BuildIndex(name, ScanFile); err != nil {
		t.Fatal(err)
	}
	ix, err := columnar.OpenIndex(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.VerifyParquet(name); err != nil {
		t.Fatal(err)
	}
	for _, c := range ix.Columns() {
		switch c.Name {
		case "src_port", "acl_id":
			if c.Keys != 0 || c.Rows != 0 {
				t.Errorf("%s, which the file lacks: %d keys over %d rows", c.Name, c.Keys, c.Rows)
			}
		case "dst_port":
			if c.Rows != int64(len(rows)) {
				t.Errorf("dst_port: %d rows of %d", c.Rows, len(rows))
			}
		}
	}
}

// TestScanFileDamaged: a damaged file is an error that names it, and,
// for a damaged page, the row group and the column.
func TestScanFileDamaged(t *testing.T) {
	src := footerFiles(t)[0]
	good, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	md, err := readFooter(bytes.NewReader(good), int64(len(good)), &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := md.rowGroups[0].chunks[md.leafIndex("dst_port")]
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
		want   []string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, []string{"no parquet trailer"}},
		{"not parquet", func(b []byte) []byte { return []byte("PAR1 not parquet PAR1") }, nil},
		{"page header", func(b []byte) []byte {
			for i := range 16 {
				b[ch.start()+int64(i)] = 0xff
			}
			return b
		}, []string{"row group 0", "column dst_port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "part-damaged.parquet")
			if err := os.WriteFile(name, tc.damage(bytes.Clone(good)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ScanFile(context.Background(), name, nil, func(*columnar.Flow) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append([]string{name}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if err := columnar.BuildIndex(name, ScanFile); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("BuildIndex: %v", err)
			}
		})
	}
}

// TestBuildIndexScanFile rebuilds the index of every file of the sample
// and synthetic datasets from its rows as ScanFile reads them (what
// "flowlens index" does): each is byte for byte the one written with the
// file.
func TestBuildIndexScanFile(t *testing.T) {
	for _, root := range []string{sampleDataset(t), synthDataset(t)} {
		files, err := columnar.Files(root)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for i, fe := range files {
			if fe.Index == "" {
				t.Fatalf("%s: no index written", fe.Path)
			}
			written, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(fe.Index)))
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(fe.Path)))
			if err != nil {
				t.Fatal(err)
			}
			copied := filepath.Join(dir, filepath.Base(fe.Path))
			if err := os.WriteFile(copied, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := columnar.BuildIndex(copied, ScanFile); err != nil {
				t.Fatal(err)
			}
			built, err := os.ReadFile(columnar.IndexPath(copied))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(built, written) {
				t.Errorf("%s (file %d): index built from ScanFile's rows (%d bytes) differs from the one written (%d bytes)",
					fe.Path, i, len(built), len(written))
			}
		}
	}
}

// TestScanFileContext: a canceled context ends the scan with its error.
func TestScanFileContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ScanFile(ctx, footerFiles(t)[0], nil, func(*columnar.Flow) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}

// TestScanFileDictionaryFallback: a writer whose dictionary outgrew its
// limit mid-chunk writes a dictionary page, dictionary-encoded pages, then
// PLAIN pages (src_ip here: DuckDB lists RLE_DICTIONARY and PLAIN for
// its chunk); strings written without a dictionary at all are PLAIN
// throughout (rule). Both read back value for value, nulls included.
func TestScanFileDictionaryFallback(t *testing.T) {
	const n = 20000
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "time", Type: arrow.FixedWidthTypes.Timestamp_us},
		{Name: "src_ip", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "rule", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	ips, rules := make([]string, n), make([]string, n)
	for i := range n {
		b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(1714521600_000000 + int64(i)))
		ips[i] = fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)
		rules[i] = fmt.Sprintf("rule-%d", i%37)
		if i%11 == 5 {
			ips[i], rules[i] = "", ""
			b.Field(1).AppendNull()
			b.Field(2).AppendNull()
			continue
		}
		b.Field(1).(*array.StringBuilder).Append(ips[i])
		b.Field(2).(*array.StringBuilder).Append(rules[i])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	name := filepath.Join(t.TempDir(), "part-fallback.parquet")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(true), parquet.WithDictionaryFor("rule", false),
		parquet.WithDictionaryPageSizeLimit(4<<10), parquet.WithDataPageSize(2<<10))
	w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	res, err := ScanFile(context.Background(), name, []string{"src_ip", "rule"}, func(f *columnar.Flow) error {
		got = append(got, string(f.SrcIP)+"|"+string(f.Rule))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != n || len(got) != n {
		t.Fatalf("%d rows, %d read; want %d", res.Rows, len(got), n)
	}
	for i := range n {
		if want := ips[i] + "|" + rules[i]; got[i] != want {
			t.Fatalf("row %d: %q, want %q", i, got[i], want)
		}
	}
}
