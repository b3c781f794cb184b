package query

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// oracleTable counts a table the slow way: one map over Flow rows.
func oracleTable(rows []columnar.Flow, g *group) Table {
	t := Table{Name: g.name, ID: g.id, Chart: g.chart}
	for _, p := range g.parts {
		t.Keys = append(t.Keys, partNames[p])
		t.KeyKinds = append(t.KeyKinds, map[part]KeyKind{pDstPort: KeyInt, pTime: KeyTime}[p])
	}
	for _, m := range g.metrics {
		t.Metrics = append(t.Metrics, metricNames[m])
	}
	str := func(b []byte) Key {
		if len(b) == 0 {
			return Key{Null: true}
		}
		return Key{Str: string(b)}
	}
	sums := map[[2]Key][]int64{}
	var order [][2]Key
	for i := range rows {
		f := &rows[i]
		if g.denyOnly && f.Decision != columnar.DecisionDeny {
			continue
		}
		var k [2]Key
		for j, p := range g.parts {
			switch p {
			case pSrcIP:
				k[j] = str(f.SrcIP)
			case pDstIP:
				k[j] = str(f.DstIP)
			case pRule:
				k[j] = str(f.Rule)
			case pNSG:
				s := string(f.ResourceID)
				k[j] = str([]byte(s[strings.LastIndexByte(s, '/')+1:]))
				if s == "" {
					k[j] = Key{Null: true}
				}
			case pDstPort:
				k[j] = Key{Int: int64(f.DstPort)}
			case pProtocol:
				k[j] = Key{Str: columnar.ProtocolName(f.Proto)}
			case pTime:
				k[j] = Key{Int: time.UnixMicro(f.Time).UTC().Truncate(time.Duration(g.every) * time.Microsecond).UnixMicro()}
			}
		}
		s, ok := sums[k]
		if !ok {
			s = make([]int64, len(g.metrics))
			sums[k] = s
			order = append(order, k)
		}
		for j, m := range g.metrics {
			switch m {
			case mFlows:
				s[j]++
			case mBytes:
				s[j] += f.BytesOut + f.BytesIn
			case mPackets:
				s[j] += f.PacketsOut + f.PacketsIn
			case mAllowed:
				if f.Decision == columnar.DecisionAllow {
					s[j]++
				}
			case mDenied:
				if f.Decision == columnar.DecisionDeny {
					s[j]++
				}
			}
		}
	}
	for _, k := range order {
		t.Rows = append(t.Rows, Row{Keys: append([]Key(nil), k[:len(g.parts)]...), Metrics: sums[k]})
	}
	slices.SortFunc(t.Rows, func(a, b Row) int {
		if !g.byKey {
			if d := cmp.Compare(b.Metrics[0], a.Metrics[0]); d != 0 {
				return d
			}
		}
		return compareKeys(a.Keys, b.Keys, t.KeyKinds)
	})
	if g.top > 0 && len(t.Rows) > g.top {
		t.Rows = t.Rows[:g.top]
	}
	return t
}

// testReports are the reports the tests run.
var testReports = []Report{
	{Kind: KindTop, By: "src_ip", Metric: "bytes", Top: 10},
	{Kind: KindTop, By: "dst_ip", Metric: "packets", Top: 5},
	{Kind: KindTop, By: "pair", Metric: "flows", Top: 20},
	{Kind: KindTop, By: "dst_port", Metric: "bytes"},
	{Kind: KindTop, By: "protocol"},
	{Kind: KindTop, By: "rule", Metric: "bytes"},
	{Kind: KindTop, By: "nsg", Metric: "packets"},
	{Kind: KindDenied, Top: 10},
	{Kind: KindRules},
	{Kind: KindTimeline, Every: time.Minute},
	{Kind: KindTimeline, Every: 5 * time.Minute},
	{Kind: KindTimeline},
	{Kind: KindTimeline, Every: 24 * time.Hour},
	{Kind: KindPorts, Top: 15},
	{Kind: KindAll},
}

// TestReportMatchesOracle runs every report, with and without a filter
// and with one and three workers, against oracleTable.
func TestReportMatchesOracle(t *testing.T) {
	for _, root := range []string{sampleDataset(t), synthDataset(t)} {
		var all []columnar.Flow
		if _, err := (&Query{Root: root, Columns: allColumns()}).Scan(context.Background(), func(f *columnar.Flow) error {
			all = append(all, copyFlow(f))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, where := range []string{"", "tcp and not dst port 443", "not state B"} {
			var e filter.Expr
			rows := all
			if where != "" {
				e = filter.MustParse(where)
				rows = nil
				for _, f := range all {
					if e.Match(&f) {
						rows = append(rows, f)
					}
				}
			}
			for _, r := range testReports {
				name := fmt.Sprintf("%s/%s/%+v", root[strings.LastIndexByte(root, '/')+1:], where, r)
				groups, err := r.plan()
				if err != nil {
					t.Fatal(err)
				}
				workers := []int{3}
				if where == "" { // the result does not depend on the workers
					workers = []int{1, 3}
				}
				for _, workers := range workers {
					res, err := (&Query{Root: root, Where: e, Workers: workers}).Report(context.Background(), r)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if len(res.Tables) != len(groups) {
						t.Fatalf("%s: %d tables", name, len(res.Tables))
					}
					for i, g := range groups {
						want := oracleTable(rows, g)
						got := res.Tables[i]
						if len(got.Rows) == 0 && len(want.Rows) == 0 {
							got.Rows, want.Rows = nil, nil
						}
						if !reflect.DeepEqual(got, want) {
							t.Errorf("%s, %d workers, table %s:\n got %+v\nwant %+v", name, workers, g.id, got, want)
						}
					}
				}
			}
		}
	}
}

func TestReportErrors(t *testing.T) {
	root := sampleDataset(t)
	for _, r := range []Report{{Kind: "nope"}, {Kind: KindTop, By: "mac"}, {Kind: KindTop, Metric: "octets"},
		{Kind: KindTimeline, Every: time.Millisecond}, {Kind: KindTop, Top: -1}} {
		if _, err := (&Query{Root: root}).Report(context.Background(), r); err == nil {
			t.Errorf("%+v: no error", r)
		}
	}
}

// TestDottedQuad: the address texts counters key by 32 bits are exactly
// those netip reads as IPv4, and each such address has only that text.
func TestDottedQuad(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "1.2.3.4", "255.255.255.255", "10.0.0.10", "256.1.1.1", "01.2.3.4",
		"1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "::ffff:1.2.3.4", "1.2.3.4 ", "", "a.b.c.d", "100.200.30.04"} {
		got, ok := dottedQuad([]byte(s))
		a, err := netip.ParseAddr(s)
		wantOK := err == nil && a.Is4()
		if ok != wantOK {
			t.Errorf("dottedQuad(%q): ok %v, netip %v", s, ok, wantOK)
			continue
		}
		if ok {
			b := a.As4()
			if want := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]); got != want || a.String() != s {
				t.Errorf("dottedQuad(%q) = %#x, want %#x (netip text %s)", s, got, want, a)
			}
		}
	}
}

// TestSmallest: the n first of a shuffled list, for every n, equal the
// head of the sorted list.
func TestSmallest(t *testing.T) {
	for _, size := range []int{0, 1, 2, 7, 100, 1000} {
		for _, n := range []int{1, 2, 3, 10, 99, 100, 101, 5000} {
			s := make([]int, size)
			for i := range s {
				s[i] = (i*7919 + 13) % size // a permutation: size is not a multiple of 7919
			}
			got := smallest(slices.Clone(s), n, cmp.Compare[int])
			want := slices.Sorted(slices.Values(s))[:min(n, size)]
			if !slices.Equal(got, want) {
				t.Errorf("size %d, n %d: %v, want %v", size, n, got, want)
			}
		}
	}
}
