package query

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// TestQueryRowSelector plugs fake indexes into a scan: the rows it hands on
// are exactly the selected rows that match, and row groups without a
// selected row are not read.
func TestQueryRowSelector(t *testing.T) {
	root := synthDataset(t)
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	// Every row, with the file and row number it has.
	type loc struct{ file, row int }
	var all []columnar.Flow
	var where []loc
	if _, err := (&Query{Root: root, Columns: allColumns()}).Scan(context.Background(), func(f *columnar.Flow) error {
		all = append(all, copyFlow(f))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, fe := range files {
		for r := range int(fe.Rows) {
			where = append(where, loc{i, r})
		}
	}
	if len(where) != len(all) {
		t.Fatalf("%d rows in the manifest, %d read", len(where), len(all))
	}
	fileNo := map[string]int{}
	for i, fe := range files {
		fileNo[fe.Path] = i
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	random := func(share float64) []*roaring.Bitmap {
		var out []*roaring.Bitmap
		for _, fe := range files {
			bm := roaring.New()
			for r := range uint32(fe.Rows) {
				if rnd.Float64() < share {
					bm.Add(r)
				}
			}
			bm.Add(uint32(fe.Rows) + 5) // past the end: ignored
			out = append(out, bm)
		}
		return out
	}
	firstRows := func(n uint32) []*roaring.Bitmap {
		var out []*roaring.Bitmap
		for range files {
			bm := roaring.New()
			bm.AddRange(0, uint64(n))
			out = append(out, bm)
		}
		return out
	}
	spots := func() []*roaring.Bitmap { // two rows a third into each file, one two thirds in
		var out []*roaring.Bitmap
		for _, fe := range files {
			out = append(out, roaring.BitmapOf(uint32(fe.Rows/3), uint32(fe.Rows/3+1), uint32(2*fe.Rows/3)))
		}
		return out
	}
	cases := []struct {
		name   string
		sel    []*roaring.Bitmap // per file; nil entry: ok false
		filter string
	}{
		{"dense", random(0.5), "tcp or deny"},
		{"sparse", random(0.004), "not state B"},
		{"sparse no filter", random(0.004), ""},
		{"needles", spots(), "not udp"},
		{"first rows", firstRows(10), "bytes > 1M or not allow"},
		{"some files unknown", func() []*roaring.Bitmap { s := random(0.1); s[0] = nil; return s }(), "udp"},
		{"empty", func() []*roaring.Bitmap { s := random(0); return s }(), ""},
	}
	read := map[string]int64{} // bytes of column chunks read, by case
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e filter.Expr
			if c.filter != "" {
				e = filter.MustParse(c.filter)
			}
			var want []key
			for k := range all {
				l := where[k]
				bm := c.sel[l.file]
				if bm != nil && !bm.Contains(uint32(l.row)) {
					continue
				}
				if e == nil || e.Match(&all[k]) {
					want = append(want, flowKey(&all[k]))
				}
			}
			q := Query{Root: root, Where: e, Columns: allColumns(), Workers: 2,
				Select: func(file string) (Selection, bool, error) {
					bm := c.sel[fileNo[file]]
					return Selection{Rows: bm}, bm != nil, nil
				}}
			var got []key
			st, err := q.Scan(context.Background(), func(f *columnar.Flow) error {
				got = append(got, flowKey(f))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			read[c.name] = st.BytesRead
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d (stats %+v)", len(got), len(want), st)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("row %d differs", i)
				}
			}
			var selected int64
			for i, bm := range c.sel {
				if bm == nil {
					selected += files[i].Rows
				} else {
					selected += int64(bm.Rank(uint32(files[i].Rows - 1)))
				}
			}
			if st.RowsSelected != selected || st.RowsMatched != int64(len(want)) {
				t.Errorf("stats %+v: want %d rows selected, %d matched", st, selected, len(want))
			}
			if c.name == "first rows" && st.RowGroups-st.RowGroupsPruned != st.Files {
				t.Errorf("stats %+v: want one row group read per file", st)
			}
			if c.name == "empty" && st.RowsRead != 0 {
				t.Errorf("stats %+v: want nothing read", st)
			}
		})
	}
	// A few rows per row group are read from the pages that hold them
	// (the offset index says where), not from whole column chunks.
	if needles, dense := read["needles"], read["dense"]; needles <= 0 || needles*2 > dense {
		t.Errorf("needles read %d bytes of column chunks, the dense selection %d", needles, dense)
	}
	t.Run("error", func(t *testing.T) {
		boom := errors.New("index broken")
		q := Query{Root: root, Select: func(string) (Selection, bool, error) { return Selection{}, false, boom }}
		if _, err := q.Scan(context.Background(), func(*columnar.Flow) error { return nil }); !errors.Is(err, boom) {
			t.Fatalf("error %v", err)
		}
	})
}

// TestQueryPruning: a time filter skips partitions and row groups by their
// bounds, and port filters row groups by statistics, without changing
// the result.
func TestQueryPruning(t *testing.T) {
	root := synthDataset(t)
	var all []columnar.Flow
	if _, err := (&Query{Root: root, Columns: allColumns()}).Scan(context.Background(), func(f *columnar.Flow) error {
		all = append(all, copyFlow(f))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		filter                   string
		filesPruned, groupPruned int
	}{
		{"time >= 2024-05-01T01:00Z and time < 2024-05-01T02:00Z", 2, 0},
		{"time >= 2024-05-01T01:00Z and time < 2024-05-01T01:58Z", 2, 1},
		{"time < 2024-05-01T01:58Z and time > 2024-05-01T02:30Z or time = 2024-05-01T00:00:00.000851Z", 2, 0},
		{"time > 2030-01-01 or dst port 80 and time < 2024-05-01T01:00Z", 2, 0},
		{"not time < 2024-05-01T02:00Z", 0, 0},                    // not is not looked into
		{"dst port 65535 and time >= 2024-05-01T00:00:00Z", 0, 4}, // no row has it: port statistics
	} {
		e := filter.MustParse(c.filter)
		want := 0
		for i := range all {
			if e.Match(&all[i]) {
				want++
			}
		}
		got := 0
		st, err := (&Query{Root: root, Where: e}).Scan(context.Background(), func(*columnar.Flow) error {
			got++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != want || st.FilesPruned != c.filesPruned || st.RowGroupsPruned != c.groupPruned {
			t.Errorf("%s: %d rows, want %d; stats %+v, want %d files and %d row groups pruned",
				c.filter, got, want, st, c.filesPruned, c.groupPruned)
		}
	}
}

// TestQueryScanStop: ErrStop ends a scan early without an error, and an error
// from the callback is returned.
func TestQueryScanStop(t *testing.T) {
	root := synthDataset(t)
	n := 0
	err := Scan(context.Background(), root, nil, []string{"time"}, func(*columnar.Flow) error {
		n++
		if n == 10 {
			return ErrStop
		}
		return nil
	})
	if err != nil || n != 10 {
		t.Fatalf("%d rows, %v", n, err)
	}
	boom := errors.New("boom")
	if err := Scan(context.Background(), root, nil, nil, func(*columnar.Flow) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Scan(ctx, root, nil, nil, func(*columnar.Flow) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	if err := Scan(context.Background(), root, nil, []string{"bogus"}, func(*columnar.Flow) error { return nil }); err == nil {
		t.Fatal("no error for an unknown column")
	}
}

// TestQueryRowSelectorStaleIndexes: a worker that reads a row group with a
// large dictionary and then part of one with a small dictionary must not
// look up the rows it skipped in the second: their indexes are left over
// from the first (CI's race run once panicked on exactly this).
func TestQueryRowSelectorStaleIndexes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ds")
	const n = columnar.RowGroupRows
	const start, hour = 1714521600_000000, 3600_000000 // 2024-05-01T00:00Z
	big := synthFlows(n, 3)                            // about 1,100 source addresses
	small := synthFlows(n, 4)
	for i := range big {
		big[i].Time = start + int64(i)
		small[i].Time = start + hour + int64(i)
		small[i].SrcIP = []byte([]string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}[i%3])
	}
	if err := writeFlows(root, append(big, small...)); err != nil {
		t.Fatal(err)
	}
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || !strings.Contains(files[0].Path, "/hour=0/") {
		t.Fatalf("files %+v, want hour 0 then hour 1", files)
	}
	e := filter.MustParse("src host 10.0.0.2 or src host 10.0.1.7")
	// The first tenth of one file is selected, the other file is read
	// whole: reading the small dictionary's file second or first. Each
	// file is one row group, its rows clustered by source address.
	big, small = clusteredBySource(big), clusteredBySource(small)
	for part, rows := range [][]columnar.Flow{big, small} {
		const selected = n / 10
		want := 0
		for k, rs := range [][]columnar.Flow{big, small} {
			for r := range rs {
				if (k != part || r < selected) && e.Match(&rs[r]) {
					want++
				}
			}
		}
		if want == 0 || len(rows) != n {
			t.Fatalf("part %d: no row to find", part)
		}
		first := roaring.New()
		first.AddRange(0, selected)
		q := Query{Root: root, Where: e, Columns: []string{"src_ip"}, Workers: 1,
			Select: func(file string) (Selection, bool, error) {
				if file == files[part].Path {
					return Selection{Rows: first}, true, nil
				}
				return Selection{}, false, nil
			}}
		got := 0
		if _, err := q.Scan(context.Background(), func(*columnar.Flow) error {
			got++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("part %d selected: scan: %d rows, want %d", part, got, want)
		}
		// A report reuses a worker's block for the next row group at once.
		res, err := q.Report(context.Background(), Report{Kind: KindTop, By: "src_ip", Metric: "flows"})
		if err != nil {
			t.Fatal(err)
		}
		got = 0
		for _, r := range res.Tables[0].Rows {
			got += int(r.Metrics[0])
		}
		if got != want {
			t.Errorf("part %d selected: report: %d flows, want %d", part, got, want)
		}
	}
}

// clusteredBySource returns rows in the order a row group stores them:
// by source address in order of first appearance, each address's rows
// in their order (columnar.Batch.ClusterBySource).
func clusteredBySource(rows []columnar.Flow) []columnar.Flow {
	first := map[string]int{}
	for i := range rows {
		if _, ok := first[string(rows[i].SrcIP)]; !ok {
			first[string(rows[i].SrcIP)] = i
		}
	}
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b columnar.Flow) int { return first[string(a.SrcIP)] - first[string(b.SrcIP)] })
	return out
}
