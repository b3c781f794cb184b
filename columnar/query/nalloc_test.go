package query

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowlens/flowlens/columnar"
)

// TestQueryDecodeNoAllocs: decoding a column chunk into a vector that has
// held one before allocates nothing, whatever the column's kind.
func TestQueryDecodeNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	root := synthDataset(t)
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, files[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	md, err := readFooter(f, fi.Size(), &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	rg := &md.rowGroups[0]
	pr := &pageReader{}
	defer pr.close()
	for _, c := range []colID{colTime, colSrcIP, colDstPort, colBytesOut, colState, colTCPFlags, colEndTime} {
		leaf := md.leafIndex(c.String())
		cc := &rg.chunks[leaf]
		v := newVector(c)
		decode := func() {
			if err := pr.reset(f, cc); err != nil {
				t.Fatal(err)
			}
			if err := v.start(&md.leaves[leaf], int(rg.rows), true); err != nil {
				t.Fatal(err)
			}
			if done, err := v.read(pr, nil, false); err != nil || !done {
				t.Fatal(done, err)
			}
		}
		decode()
		if n := testing.AllocsPerRun(5, decode); n != 0 {
			t.Errorf("column %s: %.0f allocations per chunk", c, n)
		}
	}
}

// TestQueryScanAllocs: a scan allocates per file and row group (the footer,
// new column vectors), not per row: a few thousand allocations for a
// quarter of a million rows of every column.
func TestQueryScanAllocs(t *testing.T) {
	root := synthDataset(t)
	q := Query{Root: root, Columns: allColumns(), Workers: 1}
	rows := 0
	scan := func() {
		rows = 0
		if _, err := q.Scan(t.Context(), func(*columnar.Flow) error { rows++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	scan()
	n := testing.AllocsPerRun(3, scan)
	if n > float64(rows)/20 {
		t.Errorf("%.0f allocations to scan %d rows", n, rows)
	}
}
