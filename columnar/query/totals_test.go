package query

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

var (
	oddOnce sync.Once
	oddRoot string
	oddErr  error
)

// oddDataset is synthDataset with the keys the index totals must count as
// a scan does: texts of one address (canonical or not), IPv4-mapped
// IPv6, zones, texts that are not addresses, the empty text; ports
// outside 0-65535; protocol numbers outside 0-255; null rules and
// resource ids, and one ending in "/"; negative and wrapping counters.
func oddDataset(t testing.TB) string {
	t.Helper()
	oddOnce.Do(func() {
		rows := synthFlows(columnar.RowGroupRows+3000, 2)
		texts := []string{"2001:db8::1f", "2001:DB8::1F", "2001:db8:0::1f", "::ffff:10.0.0.1", "10.0.0.1", "010.0.0.1",
			"fe80::1%eth0", "fe80::1", "", "-", "10.0.0.1 ", "::", "0.0.0.0"}
		for i := range rows {
			f := &rows[i]
			switch i % 13 {
			case 1:
				f.SrcIP = []byte(texts[(i/13)%len(texts)])
			case 2:
				f.DstIP = []byte(texts[(i/13+5)%len(texts)])
			case 3:
				f.DstPort = []int32{-1, 65536, 70000, -1 << 31}[(i/13)%4]
			case 4:
				f.Proto = []int32{300, -1, 256, 255}[(i/13)%4]
			case 5:
				f.ResourceID = []byte("/SUBSCRIPTIONS/S/NSG-TRAILING/")
			case 6:
				f.HasCounters, f.BytesOut, f.BytesIn, f.PacketsOut = true, 1<<62, 1<<62, -5
			}
		}
		oddRoot = filepath.Join(shared(t), "odd")
		oddErr = writeFlows(oddRoot, rows)
	})
	if oddErr != nil {
		t.Fatal(oddErr)
	}
	return oddRoot
}

// totalsReports are the reports index totals answer: every key and
// metric of a top report.
func totalsReports() []Report {
	var out []Report
	for _, by := range []string{"src_ip", "dst_ip", "dst_port", "protocol", "rule", "nsg"} {
		for _, m := range Metrics {
			out = append(out, Report{Kind: KindTop, By: by, Metric: m}, Report{Kind: KindTop, By: by, Metric: m, Top: 7})
		}
	}
	return out
}

// indexed returns how many files of root have an index with totals.
func indexed(t *testing.T, root string) int {
	t.Helper()
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		ix, err := columnar.OpenIndex(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			continue
		}
		if ix.HasTotals("src_ip") {
			n++
		}
		ix.Close()
	}
	return n
}

// compareReports runs every totals report on root with and without index
// totals, with 1 and 3 workers, and demands the same tables; fromIndex is
// how many files each must count from their index.
func compareReports(t *testing.T, root string, fromIndex int) {
	t.Helper()
	for _, r := range totalsReports() {
		for _, workers := range []int{1, 3} {
			name := fmt.Sprintf("%s/%+v/%d workers", filepath.Base(root), r, workers)
			scan, err := (&Query{Root: root, Workers: workers}).Report(context.Background(), r)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := (&Query{Root: root, Workers: workers, IndexTotals: true}).Report(context.Background(), r)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got.Tables, scan.Tables) {
				t.Errorf("%s: with index totals\n got %+v\nwant %+v", name, got.Tables, scan.Tables)
			}
			st := got.Stats
			if st.FilesFromIndex != fromIndex || st.RowsMatched != scan.Stats.RowsMatched || st.Files != scan.Stats.Files ||
				st.FilesPruned != 0 || fromIndex == st.Files && (st.RowsRead != 0 || st.RowGroups != 0) {
				t.Errorf("%s: stats %+v, scan's %+v, want %d files from the index", name, st, scan.Stats, fromIndex)
			}
		}
	}
}

// TestReportIndexTotals: top reports counted from index totals equal the
// scan's, for every key and metric, on the real samples, the synthetic
// dataset and one with every odd key; and a filter, another kind of
// report, or an index without totals, scans.
func TestReportIndexTotals(t *testing.T) {
	for _, root := range []string{sampleDataset(t), synthDataset(t), oddDataset(t)} {
		files, err := columnar.Files(root)
		if err != nil {
			t.Fatal(err)
		}
		if n := indexed(t, root); n != len(files) || n == 0 {
			t.Fatalf("%s: %d of %d files have totals", root, n, len(files))
		}
		compareReports(t, root, len(files))
		for _, r := range []Report{{Kind: KindTop, By: "pair"}, {Kind: KindDenied}, {Kind: KindAll}, {Kind: KindPorts}} {
			res, err := (&Query{Root: root, IndexTotals: true}).Report(context.Background(), r)
			if err != nil || res.Stats.FilesFromIndex != 0 {
				t.Errorf("%+v: %v, stats %+v", r, err, res.Stats)
			}
		}
		res, err := (&Query{Root: root, IndexTotals: true, Where: parseAll(t)[0]}).Report(context.Background(), Report{Kind: KindTop})
		if err != nil || res.Stats.FilesFromIndex != 0 {
			t.Errorf("with a filter: %v, stats %+v", err, res.Stats)
		}
	}
}

// TestIndexTotalsMatchScan: each file's totals equal what a scan of the
// file counts, key by key, for every column and counter.
func TestIndexTotalsMatchScan(t *testing.T) {
	for _, root := range []string{sampleDataset(t), synthDataset(t), oddDataset(t)} {
		files, err := columnar.Files(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			path := filepath.Join(root, filepath.FromSlash(f.Path))
			want := map[string]map[string]columnar.Totals{}
			add := func(col, key string, fl *columnar.Flow) {
				if want[col] == nil {
					want[col] = map[string]columnar.Totals{}
				}
				s := want[col][key]
				s.Flows++
				// As counter.add: each counter column a null counting 0.
				s.Packets += fl.PacketsOut + fl.PacketsIn
				s.Bytes += fl.BytesOut + fl.BytesIn
				switch fl.Decision {
				case columnar.DecisionAllow:
					s.Allowed++
				case columnar.DecisionDeny:
					s.Denied++
				}
				want[col][key] = s
			}
			text := func(b []byte) string {
				if b == nil {
					return "null"
				}
				return "text " + string(b)
			}
			_, err := ScanFile(context.Background(), path, nil, func(fl *columnar.Flow) error {
				add("src_ip", text(fl.SrcIP), fl)
				add("dst_ip", text(fl.DstIP), fl)
				add("dst_port", fmt.Sprint(fl.DstPort), fl)
				add("proto", fmt.Sprint(fl.Proto), fl)
				add("rule", text(fl.Rule), fl)
				add("resource_id", text(fl.ResourceID), fl)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			ix, err := columnar.OpenIndex(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range columnar.TotalsColumns() {
				got := map[string]columnar.Totals{}
				err := ix.Totals(col, func(k columnar.TotalsKey, tot columnar.Totals) bool {
					var key string
					switch {
					case k.Null:
						key = "null"
					case k.Text != nil:
						key = "text " + string(k.Text)
						if a, err := netip.ParseAddr(string(k.Text)); err == nil && a.Zone() == "" && a.String() == string(k.Text) {
							t.Errorf("%s %s: canonical text %q kept as text", f.Path, col, k.Text)
						}
					case col == "dst_port" || col == "proto":
						key = fmt.Sprint(k.Int)
					default:
						key = "text " + k.Addr.String()
					}
					got[key] = tot
					return true
				})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want[col]) {
					t.Errorf("%s: totals of %s: %d keys, scan %d\n got %v\nwant %v", f.Path, col, len(got), len(want[col]), got, want[col])
				}
			}
			ix.Close()
		}
	}
}

// TestIndexTotalsFallBack: a file whose totals section is corrupt, or
// whose index has no totals (a file lacking a column they count, or an
// older index), or no valid index, is scanned; the result is unchanged.
func TestIndexTotalsFallBack(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ds")
	if err := writeFlows(root, synthFlows(2*columnar.RowGroupRows+5000, 3)); err != nil {
		t.Fatal(err)
	}
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("%d files", len(files))
	}
	path := func(i int) string { return filepath.Join(root, filepath.FromSlash(files[i].Path)) }
	// File 0: its last section, the totals of resource_id, corrupt.
	idx := columnar.IndexPath(path(0))
	b, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x40
	if err := os.WriteFile(idx, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ix, err := columnar.OpenIndex(path(0))
	if err != nil {
		t.Fatal(err)
	}
	err = ix.Totals("resource_id", func(columnar.TotalsKey, columnar.Totals) bool {
		t.Error("a key of a corrupt section")
		return true
	})
	var ie *columnar.IndexError
	if !errors.As(err, &ie) || !errors.Is(err, columnar.ErrIndexCorrupt) || ie.File != idx || ie.Section != "totals of resource_id" ||
		!strings.Contains(err.Error(), "totals of resource_id at offset") {
		t.Errorf("corrupt totals: %v", err)
	}
	if err := ix.Totals("src_ip", func(columnar.TotalsKey, columnar.Totals) bool { return true }); err != nil {
		t.Errorf("totals of src_ip beside corrupt ones: %v", err)
	}
	ix.Close()
	// File 1: an index rebuilt from a file read as if it lacked bytes_in:
	// valid, without totals.
	lacking := func(ctx context.Context, name string, cols []string, fn func(*columnar.Flow) error) (columnar.FileScan, error) {
		res, err := ScanFile(ctx, name, cols, fn)
		res.Missing = append(res.Missing, "bytes_in")
		return res, err
	}
	if err := columnar.BuildIndex(path(1), lacking); err != nil {
		t.Fatal(err)
	}
	if ix, err := columnar.OpenIndex(path(1)); err != nil || ix.HasTotals("src_ip") {
		t.Fatalf("index without totals: %v", err)
	} else {
		ix.Close()
	}
	// File 2: no index.
	if err := os.Remove(columnar.IndexPath(path(2))); err != nil {
		t.Fatal(err)
	}
	want := len(files) - 3
	for _, r := range totalsReports() {
		scan, err := (&Query{Root: root}).Report(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := (&Query{Root: root, IndexTotals: true}).Report(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Tables, scan.Tables) {
			t.Errorf("%+v: with index totals\n got %+v\nwant %+v", r, got.Tables, scan.Tables)
		}
		n := want
		if r.By != "nsg" { // file 0's other totals are intact
			n++
		}
		if got.Stats.FilesFromIndex != n {
			t.Errorf("%+v: %d files from the index, want %d", r, got.Stats.FilesFromIndex, n)
		}
	}
}

// TestReportIndexTotalsTime: with a filter on time only, the files whose
// hour it covers whole are counted from their index totals, the others
// scanned with the filter (or pruned); the result is the scan's, and no
// file counted from its index holds a row the filter refuses.
func TestReportIndexTotalsTime(t *testing.T) {
	filters := []struct {
		where     string
		fromIndex bool // some file is counted from its index
	}{
		{"since 1d", true},
		{"time >= 2024-05-01T01:00Z", true},
		{"time >= 2024-05-01T00:30Z", true},
		{"time > 2024-05-01T00:59:59.999999Z", true},
		{"time >= 2024-05-01T00:30Z and time < 2024-05-01T01:30Z", false},
		{"time != 2024-05-01T01:00:00.5Z", true},
		{"time < 2024-05-01T01:00Z or time >= 2024-05-01T02:00Z", true},
		{"time = 2024-05-01T01:00Z", false},
		{"tcp and time >= 2024-05-01T01:00Z", false},
		{"not time < 2024-05-01T01:00Z", false},
	}
	reports := []Report{{Kind: KindTop, By: "src_ip", Metric: "bytes"}, {Kind: KindTop, By: "dst_port", Top: 5},
		{Kind: KindTop, By: "nsg", Metric: "packets"}, {Kind: KindTop, By: "protocol"}}
	for _, root := range []string{synthDataset(t), oddDataset(t)} {
		files, err := columnar.Files(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range filters {
			e, err := filter.Parse(f.where, filter.Options{Now: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			// The files all of whose rows match: those the index may answer.
			whole := map[string]bool{}
			for _, fe := range files {
				all := true
				_, err := ScanFile(context.Background(), filepath.Join(root, filepath.FromSlash(fe.Path)), nil, func(fl *columnar.Flow) error {
					all = all && e.Match(fl)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				whole[fe.Path] = all
			}
			for _, r := range reports {
				name := fmt.Sprintf("%s/%s/%+v", filepath.Base(root), f.where, r)
				scan, err := (&Query{Root: root, Where: e}).Report(context.Background(), r)
				if err != nil {
					t.Fatal(err)
				}
				got, err := (&Query{Root: root, Where: e, IndexTotals: true}).Report(context.Background(), r)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Tables, scan.Tables) {
					t.Errorf("%s: with index totals\n got %+v\nwant %+v", name, got.Tables, scan.Tables)
				}
				if (got.Stats.FilesFromIndex > 0) != f.fromIndex || got.Stats.RowsMatched != scan.Stats.RowsMatched {
					t.Errorf("%s: stats %+v, scan's %+v", name, got.Stats, scan.Stats)
				}
				n := 0
				for _, ok := range whole {
					if ok {
						n++
					}
				}
				if got.Stats.FilesFromIndex > n {
					t.Errorf("%s: %d files from the index, only %d match whole", name, got.Stats.FilesFromIndex, n)
				}
			}
		}
	}
}

// TestAllMatch: allMatch holds only where every time of the range
// matches (checked at the range's ends and around each leaf's instant),
// and does for the leaves and ands that cover it; an or is judged term
// by term (conservative: a split it does not see is scanned).
func TestAllMatch(t *testing.T) {
	const h = 3600_000000
	b := bounds{time: interval{lo: 10 * h, hi: 11*h - 1, known: true}}
	for _, c := range []struct {
		where string
		want  bool
	}{
		{"time >= 1970-01-01T10:00Z", true},
		{"time > 1970-01-01T09:59:59.999999Z", true},
		{"time > 1970-01-01T10:00Z", false},
		{"time < 1970-01-01T11:00Z", true},
		{"time <= 1970-01-01T10:59:59.999999Z", true},
		{"time < 1970-01-01T10:59:59.999999Z", false},
		{"time = 1970-01-01T10:00Z", false},
		{"time != 1970-01-01T10:30Z", false},
		{"time != 1970-01-01T11:00Z", true},
		{"time != 1970-01-01T09:59:59.999999Z", true},
		{"time >= 1970-01-01T10:00Z and time < 1970-01-01T11:00Z", true},
		{"time >= 1970-01-01T10:00Z and time < 1970-01-01T10:30Z", false},
		{"time < 1970-01-01T10:30Z or time >= 1970-01-01T09:00Z", true},
		{"time < 1970-01-01T10:30Z or time >= 1970-01-01T10:30Z", false}, // conservative
		{"tcp", false},
		{"time >= 1970-01-01T10:00Z and tcp", false},
		{"not time < 1970-01-01T10:00Z", false},
	} {
		e := filter.MustParse(c.where)
		all := true
		for _, at := range []int64{b.time.lo, b.time.lo + 1, 10*h + h/2 - 1, 10*h + h/2, 10*h + h/2 + 1, b.time.hi - 1, b.time.hi} {
			all = all && e.Match(&columnar.Flow{Time: at, Proto: 17})
		}
		got := allMatch(e, &b)
		if got != c.want || got && !all {
			t.Errorf("%q: allMatch %v, want %v (every time checked matches: %v)", c.where, got, c.want, all)
		}
	}
	if allMatch(filter.MustParse("time >= 1970-01-01T10:00Z"), &bounds{}) {
		t.Error("allMatch with an unknown range")
	}
}
