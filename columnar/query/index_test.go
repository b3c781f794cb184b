package query

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/flowlens/flowlens/columnar"
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
		narrowed := 0
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
		}
		if narrowed < 5 {
			t.Errorf("%s: the index narrowed only %d filters", root, narrowed)
		}
	}
}
