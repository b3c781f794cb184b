package query

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/flowlens/flowlens/columnar"
)

// arrowFooter describes a footer as arrow-go's full decoder reads it, in
// footer.describe's form.
func arrowFooter(md *metadata.FileMetaData, stats bool) (string, error) {
	var s strings.Builder
	for i := range md.Schema.NumColumns() {
		c := md.Schema.Column(i)
		fmt.Fprintf(&s, "%s %s def %d rep %d\n", c.Path(), c.PhysicalType(), c.MaxDefinitionLevel(), c.MaxRepetitionLevel())
	}
	for i := range md.NumRowGroups() {
		rg := md.RowGroup(i)
		fmt.Fprintf(&s, "row group %d: %d rows\n", i, rg.NumRows())
		for j := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(j)
			if err != nil {
				return "", err
			}
			dict := int64(-1)
			if cc.HasDictionaryPage() {
				dict = cc.DictionaryPageOffset()
			}
			fmt.Fprintf(&s, "  %d: data %d dict %d size %d values %d codec %d", j, cc.DataPageOffset(), dict, cc.TotalCompressedSize(), cc.NumValues(), cc.Compression())
			if ok, err := cc.StatsSet(); ok && err == nil && stats {
				st, err := cc.Statistics()
				if err != nil {
					return "", err
				}
				switch x := st.(type) {
				case *metadata.Int64Statistics:
					if x.HasMinMax() {
						fmt.Fprintf(&s, " min %d max %d", x.Min(), x.Max())
					}
				case *metadata.Int32Statistics:
					if x.HasMinMax() {
						fmt.Fprintf(&s, " min %d max %d", x.Min(), x.Max())
					}
				}
			}
			s.WriteByte('\n')
		}
	}
	return s.String(), nil
}

// footerFiles returns Parquet files to check footers on: a synthetic
// dataset's.
func footerFiles(t testing.TB) []string {
	root := synthDataset(t)
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, filepath.Join(root, filepath.FromSlash(f.Path)))
	}
	return out
}

// TestFooterMatchesArrow: the footer parser reads what arrow-go's full
// decoder reads, leaf by leaf and chunk by chunk, statistics included.
func TestFooterMatchesArrow(t *testing.T) {
	var reused footer // parsed into from one file to the next, as a scan does
	for _, name := range footerFiles(t) {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		var buf []byte
		got, err := readFooter(f, fi.Size(), &buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := readFooter(f, fi.Size(), &buf, &reused); err != nil || again.String() != got.String() {
			t.Fatalf("%s: parsed into the footer of the file before: %v\n%s\nfresh:\n%s", name, err, again, got)
		}
		pf, err := file.NewParquetReader(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := arrowFooter(pf.MetaData(), true)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got.String() != want {
			t.Fatalf("%s:\n%s\narrow-go reads\n%s", name, got, want)
		}
		if !strings.Contains(want, " min ") || !strings.Contains(want, "dict ") {
			t.Fatalf("%s: no statistics or dictionaries to compare:\n%s", name, want)
		}
	}
}

// FuzzFooter: any bytes are an error or a consistent footer, never a
// panic. (arrow-go's decoder is no fuzz oracle: it allocates whatever a
// list header claims; TestFooterMatchesArrow compares the two on real
// files.)
func FuzzFooter(f *testing.F) {
	// Seeds: the footers of a small dataset (one row group a file, two
	// hours), cheap for every fuzz worker to write.
	root := filepath.Join(f.TempDir(), "ds")
	rows := synthFlows(300, 9)
	for i := range rows {
		rows[i].Time = 1714521600_000000 + int64(i)*15_000_000 // 300 rows over 75 minutes
	}
	if err := writeFlows(root, rows); err != nil {
		f.Fatal(err)
	}
	files, err := columnar.Files(root)
	if err != nil || len(files) != 2 {
		f.Fatalf("%d files, %v", len(files), err)
	}
	for _, e := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(e.Path)))
		if err != nil {
			f.Fatal(err)
		}
		n := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
		f.Add(b[len(b)-8-n : len(b)-8])
	}
	f.Fuzz(func(t *testing.T, foot []byte) {
		got, err := parseFooter(foot, nil)
		if err != nil {
			return
		}
		for i, rg := range got.rowGroups {
			if len(rg.chunks) != len(got.leaves) || rg.rows < 0 {
				t.Fatalf("row group %d: %d chunks for %d leaves, %d rows", i, len(rg.chunks), len(got.leaves), rg.rows)
			}
			for _, c := range rg.chunks {
				if c.dataOff < 0 || c.size < 0 || c.values < 0 {
					t.Fatalf("row group %d: chunk %+v", i, c)
				}
			}
		}
	})
}

// BenchmarkParseFooter: the footer parser against arrow-go's full decode
// of the same bytes (a file of the synthetic dataset: 3 row groups).
func BenchmarkParseFooter(b *testing.B) {
	raw, err := os.ReadFile(footerFiles(b)[0])
	if err != nil {
		b.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint32(raw[len(raw)-8:]))
	foot := raw[len(raw)-8-n : len(raw)-8]
	b.Run("flowlens", func(b *testing.B) {
		b.SetBytes(int64(len(foot)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseFooter(foot, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flowlens-reused", func(b *testing.B) {
		b.SetBytes(int64(len(foot)))
		b.ReportAllocs()
		var f footer
		for b.Loop() {
			if _, err := parseFooter(foot, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("arrow-go", func(b *testing.B) {
		b.SetBytes(int64(len(foot)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := metadata.NewFileMetaData(foot, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
