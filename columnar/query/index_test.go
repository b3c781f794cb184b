package query

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// TestIndexSelector runs every test filter with and without the index
// selector and demands the same rows, and that the index narrowed the
// rows read for some of them.
func TestIndexSelector(t *testing.T) {
	for _, root := range []string{sampleDataset(t), synthDataset(t)} {
		files, err := columnar.Files(root)
		if err != nil {
			t.Fatal(err)
		}
		indexed := 0
		for _, f := range files {
			if ix, err := columnar.OpenIndex(filepath.Join(root, filepath.FromSlash(f.Path))); err == nil {
				indexed++
				ix.Close()
			}
		}
		if indexed == 0 {
			t.Fatalf("%s: no file has an index", root)
		}
		narrowed, exact := 0, 0
		for i, e := range parseAll(t) {
			scan := func(sel RowSelector) ([]key, Stats) {
				var got []key
				q := Query{Root: root, Where: e, Columns: allColumns(), Workers: 2, Select: sel}
				st, err := q.Scan(context.Background(), func(f *columnar.Flow) error {
					got = append(got, flowKey(f))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return got, st
			}
			want, plain := scan(nil)
			got, st := scan(IndexSelector(root, e))
			if len(got) != len(want) {
				t.Errorf("%s: %q: %d rows with the index, %d without", root, testFilters[i], len(got), len(want))
				continue
			}
			for k := range got {
				if got[k] != want[k] {
					t.Errorf("%s: %q: row %d differs", root, testFilters[i], k)
					break
				}
			}
			if st.RowsSelected < plain.RowsSelected {
				narrowed++
			}
			sel := IndexSelector(root, e)
			for _, f := range files {
				if s, ok, _ := sel(f.Path); ok && len(s.Exact) > 0 {
					exact++ // leaves the scan skipped, with the same rows
					break
				}
			}
		}
		if narrowed < 5 || exact < 3 {
			t.Errorf("%s: the index narrowed %d filters and answered leaves of %d exactly", root, narrowed, exact)
		}
	}
}

// TestWithoutLeaves: leaves are dropped through "and" nodes only.
func TestWithoutLeaves(t *testing.T) {
	ip, deny, in := filter.MustParse("src ip 10.0.0.1"), filter.MustParse("deny"), filter.MustParse("in")
	allow, tcp := filter.MustParse("allow"), filter.MustParse("tcp")
	or := &filter.Or{Terms: []filter.Expr{allow, tcp}}
	e := &filter.And{Terms: []filter.Expr{ip, &filter.And{Terms: []filter.Expr{deny, in}}, or}}
	for _, c := range []struct {
		drop []filter.Expr
		want string
	}{
		{nil, e.String()},
		{[]filter.Expr{deny}, "src ip 10.0.0.1 and in and (allow or proto tcp)"},
		{[]filter.Expr{deny, in}, "src ip 10.0.0.1 and (allow or proto tcp)"},
		{[]filter.Expr{allow}, e.String()}, // under an or: kept
		{[]filter.Expr{deny, in, ip, or}, ""},
		{[]filter.Expr{ip, or}, "deny and in"},
	} {
		got := withoutLeaves(e, c.drop)
		s := ""
		if got != nil {
			s = got.String()
		}
		if s != c.want {
			t.Errorf("drop %v: %q, want %q", c.drop, s, c.want)
		}
	}
	if withoutLeaves(e, nil) != filter.Expr(e) {
		t.Error("nothing dropped: not the same expression")
	}
}

// TestPlanSkipsEnums: once an address leaves fewer than 1 row in 64,
// direction and decision are not looked up, and not reported exact: the
// scan checks them on the rows left, with the same result.
func TestPlanSkipsEnums(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ds")
	rows := synthFlows(3*columnar.RowGroupRows, 5)
	for i := range rows {
		rows[i].Time = 1714521600_000000 + int64(i) // one file
		if i >= 5000 && i < 5030 {                  // a burst: a block or two however coarse
			rows[i].SrcIP = []byte("10.9.0.1")
		}
	}
	// A roomy budget keeps the address postings exact: these random
	// rows have so many distinct keys that the default budget, which
	// the exact totals share, makes them blocks of thousands of rows.
	if err := writeFlowsIndexed(root, rows, columnar.IndexConfig{Budget: 0.3}); err != nil {
		t.Fatal(err)
	}
	files, err := columnar.Files(root)
	if err != nil || len(files) != 1 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	e := filter.MustParse("deny and src ip 10.9.0.1 and in")
	ix, err := columnar.OpenIndex(filepath.Join(root, filepath.FromSlash(files[0].Path)))
	if err != nil {
		t.Fatal(err)
	}
	var skipped []filter.Expr
	sel, ok := plan(ix, e, nil, &skipped)
	ix.Close()
	if !ok || len(skipped) != 2 || sel.GetCardinality()*64 >= uint64(len(rows)) {
		t.Fatalf("%d rows selected, skipped %v", sel.GetCardinality(), skipped)
	}
	s, _, _ := IndexSelector(root, e)(files[0].Path)
	for _, x := range s.Exact {
		if slices.Contains(skipped, x) {
			t.Fatalf("skipped leaf %v reported exact", x)
		}
	}
	want := 0
	for i := range rows {
		if e.Match(&rows[i]) {
			want++
		}
	}
	got := 0
	q := Query{Root: root, Where: e, Select: IndexSelector(root, e)}
	if _, err := q.Scan(context.Background(), func(*columnar.Flow) error { got++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got != want || want == 0 {
		t.Fatalf("%d rows, want %d", got, want)
	}
}

// TestIndexSelectorChecksParquet: an index that belongs to another
// Parquet file (here a copy of its neighbour's) selects nothing: the
// scan checks the file against the index as it reads the footer, or
// before it prunes the file, and reads it whole. Every filter gives the
// rows it gives without the index.
func TestIndexSelectorChecksParquet(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ds")
	rows := synthFlows(columnar.RowGroupRows, 5)
	if err := writeFlows(root, rows); err != nil {
		t.Fatal(err)
	}
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("%d files, want 2 or more", len(files))
	}
	path := func(i int) string { return filepath.Join(root, filepath.FromSlash(files[i].Path)) }
	foreign, err := os.ReadFile(columnar.IndexPath(path(0)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(columnar.IndexPath(path(1)), foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	filters := parseAll(t)
	for _, r := range rows[:40] { // addresses of both files: empty selections and not
		filters = append(filters, filter.MustParse("src ip "+string(r.SrcIP)))
	}
	checked, wrong := 0, 0
	for _, e := range filters {
		scan := func(sel RowSelector) []key {
			var got []key
			q := Query{Root: root, Where: e, Columns: allColumns(), Workers: 2, Select: sel}
			if _, err := q.Scan(context.Background(), func(f *columnar.Flow) error {
				got = append(got, flowKey(f))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return got
		}
		want, got := scan(nil), scan(IndexSelector(root, e))
		if !slices.Equal(got, want) {
			t.Errorf("%v: %d rows with the foreign index, %d without", e, len(got), len(want))
		}
		s, ok, err := IndexSelector(root, e)(files[1].Path)
		if err != nil || !ok || s.Check == nil {
			continue
		}
		checked++
		f, err := os.Open(path(1))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		if s.Check.File(f, fi.Size()) == nil {
			t.Errorf("%v: the foreign index passed the check of %s", e, files[1].Path)
		}
		f.Close()
		var n uint64
		for _, r := range rows {
			if e.Match(&r) {
				n++
			}
		}
		if s.Rows != nil && s.Rows.GetCardinality() != n {
			wrong++ // the selection alone would have lost or invented rows
		}
	}
	if checked == 0 || wrong == 0 {
		t.Errorf("%d selections came with a check, %d of them wrong for the file: the test proves nothing", checked, wrong)
	}
}
