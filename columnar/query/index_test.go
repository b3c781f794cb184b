package query

import (
	"context"
	"path/filepath"
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
