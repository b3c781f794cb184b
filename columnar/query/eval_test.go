package query

import (
	"context"
	"testing"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// testFilters cover every primitive, and, or, not and nulls, on the
// synthetic and the sample datasets.
var testFilters = []string{
	"src ip 10.0.1.5",
	"dst net 20.0.0.0/8",
	"ip 2001:db8::1f or net 2001:db8::100/120",
	"net 10.0.0.0/16 and not src net 10.0.2.0/23",
	"port 443",
	"dst port 1024-65535",
	"src port 0-1023 or dst port 22",
	"proto tcp",
	"udp or icmp or proto icmpv6",
	"proto 200 or proto gre",
	"in",
	"out and allow",
	"deny",
	"not deny and not allow",
	"rule UserRule_*",
	"rule defaultrule_denyallinbound",
	"not rule *",
	"nsg nsg-web",
	"nsg *DB or nsg capture.pcap",
	"mac 00-0D-3A-F8-78-56",
	"not mac 000d3a0af519",
	"state B",
	"not state B",
	"state E or state D",
	"source vnet or source pcap",
	"bytes > 1M",
	"not bytes > 1M",
	"packets <= 100",
	"bytes_in >= 1TiB or bytes_out = 0",
	"packets_out != 5 and packets_in < 500",
	"time >= 2024-05-01T01:00Z",
	"time < 2024-05-01T00:30Z or time >= 2024-05-01T01:45Z",
	"time != 2024-05-01T00:00:00.5Z",
	"time >= 2018-11-13T12:00Z and time < 2018-11-13T13:00Z",
	"(tcp or udp) and not (port 80 or port 443) and src port 1024-65535",
	"deny and in and not src net 10.0.0.0/8 and dst port 3389",
	"deny and src ip 10.0.1.5 and in and dst port 443", // a needle: the index skips deny and in
	"ip 10.5.16.4 or ip 13.67.143.117 or nsg fabrikam*",
	"since 3d or before 2019-01-01",
}

func parseAll(t *testing.T) []filter.Expr {
	t.Helper()
	now := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	var out []filter.Expr
	for _, s := range testFilters {
		e, err := filter.Parse(s, filter.Options{Now: now})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		out = append(out, e)
	}
	return out
}

// TestQueryEvalMatchesMatch checks the column-at-a-time filter against
// filter.Match on every row.
func TestQueryEvalMatchesMatch(t *testing.T) {
	for _, root := range []string{sampleDataset(t), synthDataset(t)} {
		var all []columnar.Flow
		if _, err := (&Query{Root: root, Columns: allColumns()}).Scan(context.Background(), func(f *columnar.Flow) error {
			all = append(all, copyFlow(f))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		matched := 0
		for i, e := range parseAll(t) {
			var want []columnar.Flow
			for j := range all {
				if e.Match(&all[j]) {
					want = append(want, all[j])
				}
			}
			// The scan's rows, as keys; every 97th also in full.
			var got []key
			full := map[int]string{}
			q := Query{Root: root, Where: e, Columns: allColumns(), Workers: 2}
			if _, err := q.Scan(context.Background(), func(f *columnar.Flow) error {
				if len(got)%97 == 0 {
					full[len(got)] = flowString(f)
				}
				got = append(got, flowKey(f))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Errorf("%s: %q: %d rows, Match keeps %d", root, testFilters[i], len(got), len(want))
				continue
			}
			for k := range got {
				if s, ok := full[k]; got[k] != flowKey(&want[k]) || ok && s != flowString(&want[k]) {
					t.Errorf("%s: %q: row %d differs from\n%s", root, testFilters[i], k, flowString(&want[k]))
					break
				}
			}
			if len(want) > 0 {
				matched++
			}
		}
		if matched < len(testFilters)/3 {
			t.Errorf("%s: only %d filters match a row", root, matched)
		}
	}
}

type key struct {
	time, end, po, bo, pi, bi int64
	sp, dp, proto             int32
	src, dst                  string
}

// flowKey is enough of a row to tell rows of the test datasets apart.
func flowKey(f *columnar.Flow) key {
	return key{f.Time, f.EndTime, f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn, f.SrcPort, f.DstPort, f.Proto, string(f.SrcIP), string(f.DstIP)}
}

// copyFlow returns f with its own copies of the byte slices.
func copyFlow(f *columnar.Flow) columnar.Flow {
	g := *f
	for _, b := range []*[]byte{&g.ResourceID, &g.MAC, &g.Rule, &g.SrcIP, &g.DstIP, &g.ACLID, &g.FlowLogID, &g.Encryption} {
		if *b != nil {
			*b = append([]byte(nil), *b...)
		}
	}
	return g
}
