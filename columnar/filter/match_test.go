package filter

import (
	"encoding/csv"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/columnar"
)

// rows are four hand-built flows, one per source.
var rows = [4]columnar.Flow{
	{ // NSG v1, denied inbound, no counters
		Time: time.Date(2018, 7, 18, 12, 35, 35, 0, time.UTC).UnixMicro(), Source: columnar.SourceNSGv1,
		ResourceID: []byte("/SUBSCRIPTIONS/743F/RESOURCEGROUPS/WADRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WADVM-NSG"),
		MAC:        []byte("000D3A0AF519"), Rule: []byte("DefaultRule_DenyAllInBound"),
		SrcIP: []byte("122.222.24.18"), DstIP: []byte("10.0.0.4"), SrcPort: 61691, DstPort: 3128, Proto: 6,
		Direction: columnar.DirectionIn, Decision: columnar.DecisionDeny,
	},
	{ // NSG v2, allowed outbound, with counters
		Time: time.Date(2024, 5, 1, 13, 30, 0, 0, time.UTC).UnixMicro(), Source: columnar.SourceNSGv2,
		ResourceID: []byte("/SUBSCRIPTIONS/56AB/RESOURCEGROUPS/DEMO/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/APPNSG"),
		MAC:        []byte("00224803051B"), Rule: []byte("UserRule_web"),
		SrcIP: []byte("10.1.0.4"), DstIP: []byte("20.98.192.237"), SrcPort: 35620, DstPort: 443, Proto: 6,
		Direction: columnar.DirectionOut, Decision: columnar.DecisionAllow, State: 'E',
		HasCounters: true, PacketsOut: 8, BytesOut: 5183, PacketsIn: 9, BytesIn: 6707,
	},
	{ // VNet, IPv6 UDP
		Time: time.Date(2024, 12, 12, 3, 59, 22, 447000000, time.UTC).UnixMicro(), Source: columnar.SourceVNet,
		ResourceID: []byte("/subscriptions/c088/resourceGroups/labs/providers/Microsoft.Network/networkInterfaces/labsvm1519"),
		MAC:        []byte("000D3A359573"), Rule: []byte("DefaultRule_AllowInternetOutBound"),
		SrcIP: []byte("2001:db8::5"), DstIP: []byte("fd00::1"), SrcPort: 123, DstPort: 123, Proto: 17,
		Direction: columnar.DirectionOut, Decision: columnar.DecisionAllow, State: 'C',
		HasCounters: true, PacketsOut: 4, BytesOut: 360, PacketsIn: 4, BytesIn: 528,
	},
	{ // packet capture, ICMP, no rule, no MAC, no direction or decision
		Time: time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC).UnixMicro(), Source: columnar.SourcePcap,
		ResourceID: []byte("capture.pcap"),
		SrcIP:      []byte("192.168.1.1"), DstIP: []byte("192.168.1.2"), Proto: 1,
		HasCounters: true, PacketsOut: 3_000_000, BytesOut: 3_000_000_000,
	},
}

func TestMatch(t *testing.T) {
	tests := []struct {
		filter string
		want   [len(rows)]bool
	}{
		{"src ip 122.222.24.18", [4]bool{true, false, false, false}},
		{"dst ip 122.222.24.18", [4]bool{false, false, false, false}},
		{"ip 10.0.0.4", [4]bool{true, false, false, false}},
		{"host 192.168.1.2", [4]bool{false, false, false, true}},
		{"src net 10.0.0.0/8", [4]bool{false, true, false, false}},
		{"dst net 10.0.0.0/8", [4]bool{true, false, false, false}},
		{"net 10.0.0.0/8", [4]bool{true, true, false, false}},
		{"net 0.0.0.0/0", [4]bool{true, true, false, true}},
		{"net ::/0", [4]bool{false, false, true, false}},
		{"src net 2001:db8::/32", [4]bool{false, false, true, false}},
		{"dst ip fd00::1", [4]bool{false, false, true, false}},
		{"ip ::ffff:10.0.0.4", [4]bool{false, false, false, false}},
		{"port 443", [4]bool{false, true, false, false}},
		{"src port 443", [4]bool{false, false, false, false}},
		{"dst port 1024-65535", [4]bool{true, false, false, false}},
		{"src port 1024-65535", [4]bool{true, true, false, false}},
		{"port 0", [4]bool{false, false, false, true}},
		{"port 123", [4]bool{false, false, true, false}},
		{"proto tcp", [4]bool{true, true, false, false}},
		{"udp", [4]bool{false, false, true, false}},
		{"icmp", [4]bool{false, false, false, true}},
		{"proto 47", [4]bool{false, false, false, false}},
		{"in", [4]bool{true, false, false, false}},
		{"out", [4]bool{false, true, true, false}},
		{"allow", [4]bool{false, true, true, false}},
		{"deny", [4]bool{true, false, false, false}},
		{"not allow", [4]bool{true, false, false, true}},
		{"state E", [4]bool{false, true, false, false}},
		{"state c", [4]bool{false, false, true, false}},
		{"not state B", [4]bool{true, true, true, true}},
		{"source nsg-v1", [4]bool{true, false, false, false}},
		{"source pcap", [4]bool{false, false, false, true}},
		{"rule UserRule_web", [4]bool{false, true, false, false}},
		{"rule userrule_WEB", [4]bool{false, true, false, false}},
		{"rule DefaultRule_*", [4]bool{true, false, true, false}},
		{"rule *Allow*", [4]bool{false, false, true, false}},
		{"rule *", [4]bool{true, true, true, false}},
		{"rule UserRule", [4]bool{false, false, false, false}},
		{"nsg wadvm-nsg", [4]bool{true, false, false, false}},
		{"nsg APPNSG", [4]bool{false, true, false, false}},
		{"nsg *NSG", [4]bool{true, true, false, false}},
		{"resource labsvm1519", [4]bool{false, false, true, false}},
		{"nsg capture.pcap", [4]bool{false, false, false, true}},
		{"nsg /subscriptions/c088/resourceGroups/labs/providers/Microsoft.Network/networkInterfaces/LABSVM1519", [4]bool{false, false, true, false}},
		{"nsg /subscriptions/*/networkInterfaces/*", [4]bool{false, false, true, false}},
		{"nsg /SUBSCRIPTIONS/743F", [4]bool{false, false, false, false}},
		{"mac 00-0d-3a-0a-f5-19", [4]bool{true, false, false, false}},
		{"mac 00:22:48:03:05:1b", [4]bool{false, true, false, false}},
		{"bytes > 1M", [4]bool{false, false, false, true}},
		{"bytes = 11890", [4]bool{false, true, false, false}},
		{"bytes < 1K", [4]bool{false, false, true, false}},
		{"not bytes > 1M", [4]bool{true, true, true, false}},
		{"packets >= 17", [4]bool{false, true, false, true}},
		{"packets_out = 8", [4]bool{false, true, false, false}},
		{"packets_in != 9", [4]bool{false, false, true, true}},
		{"bytes_out <= 360", [4]bool{false, false, true, false}},
		{"bytes_in > 500", [4]bool{false, true, true, false}},
		{"bytes_out >= 3G", [4]bool{false, false, false, true}},
		{"time >= 2024-05-01", [4]bool{false, true, true, true}},
		{"time < 2024-05-01T13:30Z", [4]bool{true, false, false, false}},
		{"time <= 2024-05-01T13:30Z", [4]bool{true, true, false, false}},
		{"time = 2024-05-01T13:30:00Z", [4]bool{false, true, false, false}},
		{"time != 2024-05-01T13:30:00Z", [4]bool{true, false, true, true}},
		{"time > 2024-12-12T03:59:22.446999Z", [4]bool{false, false, true, false}},
		{"since 24h", [4]bool{false, true, true, true}}, // row 2 is in the future of now
		{"before 24h", [4]bool{true, false, false, false}},
		{"after 2024-06-01", [4]bool{false, false, true, false}},
		{"before 2024-06-01", [4]bool{true, true, false, true}},
		// combinations
		{"deny and in", [4]bool{true, false, false, false}},
		{"deny or udp", [4]bool{true, false, true, false}},
		{"tcp and not deny", [4]bool{false, true, false, false}},
		{"not (tcp or udp)", [4]bool{false, false, false, true}},
		{"tcp or udp and state C", [4]bool{true, true, true, false}},
		{"(tcp or udp) and state C", [4]bool{false, false, true, false}},
		{"allow and port 443 or icmp", [4]bool{false, true, false, true}},
		{"allow and (port 443 or icmp)", [4]bool{false, true, false, false}},
		{"not not deny", [4]bool{true, false, false, false}},
		{"src ip 122.222.24.18 and dst port 3128 and deny and since 10000d", [4]bool{true, false, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			e := mustParse(t, tc.filter)
			for i := range rows {
				if got := e.Match(&rows[i]); got != tc.want[i] {
					t.Errorf("%s on row %d = %v, want %v", e, i, got, tc.want[i])
				}
			}
		})
	}
}

// TestMatchNull: a leaf on an empty or unparsable column is false.
func TestMatchNull(t *testing.T) {
	var zero columnar.Flow
	for _, s := range []string{
		"ip 0.0.0.0", "net ::/0", "rule *", "nsg *", "mac 000000000000", "state B",
		"bytes = 0", "packets < 1", "bytes_out = 0", "in", "out", "allow", "deny", "source vnet",
	} {
		t.Run(s, func(t *testing.T) {
			if mustParse(t, s).Match(&zero) {
				t.Errorf("%s matches the zero row", s)
			}
		})
	}
	bad := columnar.Flow{SrcIP: []byte("not an address"), DstIP: []byte("fe80::1%eth0")}
	if e := mustParse(t, "net 0.0.0.0/0 or net ::/0"); e.Match(&bad) {
		t.Errorf("%s matches unparsable addresses", e)
	}
}

// TestMatchHandBuilt: trees built by hand, including shapes Parse does
// not make.
func TestMatchHandBuilt(t *testing.T) {
	r := &rows[1]
	tests := []struct {
		name string
		e    Expr
		want bool
	}{
		{"empty and", &And{}, true},
		{"empty or", &Or{}, false},
		{"nested and", &And{[]Expr{&And{[]Expr{&Enum{FieldDecision, uint8(columnar.DecisionAllow)}}}}}, true},
		{"unmasked prefix", &IP{Src, netip.MustParsePrefix("10.1.2.3/16")}, true},
		{"zero prefix", &IP{}, false},
		{"unknown enum field", &Enum{FieldTime, 0}, false},
		{"unknown text field", &Text{FieldTime, "*"}, false},
		{"unknown counter field", &Counter{FieldTime, Ge, 0}, false},
		{"bad op", &Counter{FieldBytes, Op(42), 0}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.Match(r); got != tc.want {
				t.Errorf("%s on row 1 = %v, want %v", tc.e, got, tc.want)
			}
		})
	}
}

func TestMatchSaturates(t *testing.T) {
	f := &columnar.Flow{HasCounters: true, BytesOut: 1 << 62, BytesIn: 1 << 62 * 1.5}
	if !mustParse(t, "bytes >= 9223372036854775807").Match(f) {
		t.Error("sum of bytes did not saturate")
	}
}

func TestMatchAllocs(t *testing.T) {
	e := mustParse(t, "(src net 10.0.0.0/8 or dst net 2001:db8::/32 or ip 122.222.24.18) and not port 22 "+
		"and (rule Default* or nsg appnsg or mac 00-22-48-03-05-1B) and (tcp or udp) and (state E or deny) "+
		"and not bytes > 1G and since 100000d and (in or out or allow or source pcap)")
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		for i := range rows {
			if e.Match(&rows[i]) {
				n++
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Match allocates %v times per run of %d rows", allocs, len(rows))
	}
	if n == 0 {
		t.Error("the filter matched no row: the test tests nothing")
	}
	addr := []byte("2001:db8:1:2:3:4:5:6")
	if a := testing.AllocsPerRun(100, func() { parseAddr(addr) }); a != 0 {
		t.Errorf("parseAddr allocates %v times", a)
	}
}

// TestParseAddr compares parseAddr with netip.ParseAddr, the oracle.
func TestParseAddr(t *testing.T) {
	for _, s := range []string{
		"", "1", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.0.0.0", "1.2.3", "1.2.3.4.5", "01.2.3.4",
		"1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4a", "::", "::1", "1::", "fe80::1", "fe80::1%eth0", "2001:db8::",
		"2001:DB8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7",
		"1:2:3:4:5:6:7:8::", "::ffff:10.0.0.1", "::10.0.0.1", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:1.2.3.4",
		"1:2:3:4:5:6:7:1.2.3.4", "12345::", "1:::2", "1::2::3", ":1", "1:", "0:0:0:0:0:0:0:0", "ffff::ffff",
		"::ffff:1.2.3.256", "::1.2.3", "g::", "1.2.3.4:5", "[::1]", "%eth0",
	} {
		t.Run(s, func(t *testing.T) {
			checkParseAddr(t, s)
		})
	}
}

func checkParseAddr(t *testing.T, s string) {
	t.Helper()
	want, err := netip.ParseAddr(s)
	wantOK := err == nil && want.Zone() == ""
	got, ok := parseAddr([]byte(s))
	if ok != wantOK || ok && got != want {
		t.Errorf("parseAddr(%q) = %v, %v; netip says %v, %v", s, got, ok, want, err)
	}
}

func TestGlobFold(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "abc", true}, {"a", "A", true},
		{"a*", "abc", true}, {"*c", "abc", true}, {"*b*", "abc", true}, {"a*c", "abc", true},
		{"a*c", "ab", false}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXcYb", false}, {"**", "x", true},
		{"a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true}, {"a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"UserRule_*", "userrule_web", true}, {"é", "É", false}, {"é", "é", true},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"~"+tc.s, func(t *testing.T) {
			if got := globFold(tc.pattern, tc.s); got != tc.want {
				t.Errorf("globFold(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
			if got := globFold(tc.pattern, []byte(tc.s)); got != tc.want {
				t.Errorf("globFold(%q, []byte(%q)) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
		})
	}
}

// TestIndexHelpers: the methods a planner runs on index keys agree with
// Match.
func TestIndexHelpers(t *testing.T) {
	for i := range rows {
		r := &rows[i]
		src, _ := netip.ParseAddr(string(r.SrcIP))
		for _, s := range []string{"src net 10.0.0.0/8", "src ip 122.222.24.18", "src net 2001:db8::/32"} {
			e := mustParse(t, s).(*IP)
			if e.MatchAddr(src) != e.Match(r) {
				t.Errorf("%s on row %d: MatchAddr and Match disagree", e, i)
			}
		}
		for _, s := range []string{"rule Default*", "nsg *nsg", "nsg labsvm1519", "mac 000D3A0AF519"} {
			e := mustParse(t, s).(*Text)
			var col []byte
			switch e.Field {
			case FieldRule:
				col = r.Rule
			case FieldResourceID:
				col = r.ResourceID
			case FieldMAC:
				col = r.MAC
			}
			if e.MatchString(string(col)) != e.Match(r) {
				t.Errorf("%s on row %d: MatchString and Match disagree", e, i)
			}
		}
	}
}

// TestGolden runs filters on every row of the golden CSVs (the real flow
// log samples, converted) and compares with a check written directly on
// the CSV text of the row.
func TestGolden(t *testing.T) {
	flows, recs := loadGolden(t)
	tests := []struct {
		filter string
		oracle func(r map[string]string) bool
	}{
		{"deny", func(r map[string]string) bool { return r["decision"] == "deny" }},
		{"dst port 443", func(r map[string]string) bool { return r["dst_port"] == "443" }},
		{"src net 10.0.0.0/8", func(r map[string]string) bool { return strings.HasPrefix(r["src_ip"], "10.") }},
		{"ip 10.1.0.4", func(r map[string]string) bool { return r["src_ip"] == "10.1.0.4" || r["dst_ip"] == "10.1.0.4" }},
		{"proto udp", func(r map[string]string) bool { return r["protocol"] == "udp" }},
		{"rule DefaultRule_*", func(r map[string]string) bool { return strings.HasPrefix(r["rule"], "DefaultRule_") }},
		{"bytes > 1K", func(r map[string]string) bool {
			return r["bytes_out"] != "" && atoi(r["bytes_out"])+atoi(r["bytes_in"]) > 1000
		}},
		{"state E", func(r map[string]string) bool { return r["state"] == "E" }},
		{"not (in or tcp)", func(r map[string]string) bool { return !(r["direction"] == "in" || r["protocol"] == "tcp") }},
		{"nsg appnsg", func(r map[string]string) bool { return strings.HasSuffix(strings.ToUpper(r["resource_id"]), "/APPNSG") }},
		{"source vnet or source nsg-v1", func(r map[string]string) bool { return r["source"] == "vnet" || r["source"] == "nsg-v1" }},
		{"time >= 2024-01-01", func(r map[string]string) bool { return r["time"] >= "2024-01-01" }},
		{"mac 00-0D-3A-35-95-73 and dst port 1024-65535", func(r map[string]string) bool {
			return r["mac"] == "000D3A359573" && atoi(r["dst_port"]) >= 1024
		}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			e := mustParse(t, tc.filter)
			n := 0
			for i := range flows {
				want := tc.oracle(recs[i])
				if got := e.Match(&flows[i]); got != want {
					t.Fatalf("%s on %v = %v, want %v", e, recs[i], got, want)
				}
				if want {
					n++
				}
			}
			if n == 0 || n == len(flows) {
				t.Errorf("%s matches %d of %d rows: the test tests nothing", e, n, len(flows))
			}
		})
	}
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// loadGolden reads ../../testdata/golden/*.csv into flows, and each row
// as a map from column name to text.
func loadGolden(tb testing.TB) ([]columnar.Flow, []map[string]string) {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "*.csv"))
	if err != nil || len(paths) == 0 {
		tb.Skipf("no golden CSVs: %v", err)
	}
	var (
		flows []columnar.Flow
		recs  []map[string]string
	)
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		all, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		for _, row := range all[1:] {
			r := map[string]string{}
			for i, name := range all[0] {
				r[name] = row[i]
			}
			fl, err := flowOf(r)
			if err != nil {
				tb.Fatalf("%s: %v", path, err)
			}
			flows = append(flows, fl)
			recs = append(recs, r)
		}
	}
	return flows, recs
}

func flowOf(r map[string]string) (columnar.Flow, error) {
	ts, err := time.Parse(time.RFC3339Nano, r["time"])
	if err != nil {
		return columnar.Flow{}, err
	}
	f := columnar.Flow{
		Time: ts.UnixMicro(), ResourceID: []byte(r["resource_id"]), MAC: []byte(r["mac"]), Rule: []byte(r["rule"]),
		SrcIP: []byte(r["src_ip"]), DstIP: []byte(r["dst_ip"]),
		SrcPort: int32(atoi(r["src_port"])), DstPort: int32(atoi(r["dst_port"])), Proto: int32(atoi(r["proto"])),
	}
	for s := range columnar.SourcePcap + 1 {
		if s.String() == r["source"] {
			f.Source = s
		}
	}
	switch r["direction"] {
	case "in":
		f.Direction = columnar.DirectionIn
	case "out":
		f.Direction = columnar.DirectionOut
	}
	switch r["decision"] {
	case "allow":
		f.Decision = columnar.DecisionAllow
	case "deny":
		f.Decision = columnar.DecisionDeny
	}
	if s := r["state"]; len(s) == 1 {
		f.State = s[0]
	}
	if r["packets_out"] != "" {
		f.HasCounters = true
		f.PacketsOut, f.BytesOut = atoi(r["packets_out"]), atoi(r["bytes_out"])
		f.PacketsIn, f.BytesIn = atoi(r["packets_in"]), atoi(r["bytes_in"])
	}
	if f.Source == columnar.SourceUnknown {
		return f, fmt.Errorf("unknown source %q", r["source"])
	}
	return f, nil
}
