package bench_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"image"
	"image/png"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
	"github.com/flowlens/flowlens/columnar/query"
)

// The query engine against DuckDB: every report kind and a set of
// filters, run by package query and by hand-written SQL on the same
// Parquet, must give the same rows — on a generated tree and on the real
// samples.
//
// The SQL follows the filter language's two-valued logic (filter.md): a
// leaf on a null column is false, so every leaf is wrapped in
// coalesce(…, false) and "not" is a plain NOT. bytes and packets are the
// sums of both directions; a row without counters matches no comparison
// (the four counters are null together) and counts 0 in a report.

// leaf wraps one SQL comparison as a filter leaf.
func leaf(cond string) string { return "coalesce(" + cond + ", false)" }

// v4in is the SQL for "COL in the IPv4 network p".
func v4in(col string, p netip.Prefix) string {
	lo := p.Masked().Addr().As4()
	first := int64(lo[0])<<24 | int64(lo[1])<<16 | int64(lo[2])<<8 | int64(lo[3])
	last := first + 1<<(32-p.Bits()) - 1
	num := fmt.Sprintf("(try_cast(split_part(%[1]s, '.', 1) AS BIGINT) * 16777216 + try_cast(split_part(%[1]s, '.', 2) AS BIGINT) * 65536 + try_cast(split_part(%[1]s, '.', 3) AS BIGINT) * 256 + try_cast(split_part(%[1]s, '.', 4) AS BIGINT))", col)
	return leaf(fmt.Sprintf("%s NOT LIKE '%%:%%' AND %s BETWEEN %d AND %d", col, num, first, last))
}

// glob is the SQL for the filter's case-insensitive * pattern on expr.
func glob(expr, pattern string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`, `*`, `%`, `'`, `''`)
	return leaf(fmt.Sprintf(`lower(%s) LIKE lower('%s') ESCAPE '\'`, expr, r.Replace(pattern)))
}

const nsgSQL = "regexp_extract(resource_id, '[^/]*$')"

// bytesSQL and packetsSQL are the report metrics: nulls count 0.
const (
	bytesSQL   = "coalesce(bytes_out, 0) + coalesce(bytes_in, 0)"
	packetsSQL = "coalesce(packets_out, 0) + coalesce(packets_in, 0)"
)

// probe holds values picked from a dataset so that the filters select
// something in it.
type probe struct {
	srcIP, dstIP, ipv6, mac, nsg string
	mid, max                     int64 // epoch microseconds
}

func pick(t *testing.T, db *sql.DB, from string) probe {
	t.Helper()
	var p probe
	one := func(q string, dst any) {
		t.Helper()
		if err := db.QueryRow(q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	one("SELECT src_ip FROM "+from+" WHERE decision = 'deny' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", &p.srcIP)
	one("SELECT dst_ip FROM "+from+" GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", &p.dstIP)
	one("SELECT coalesce(max(src_ip) FILTER (WHERE src_ip LIKE '%:%'), '2603::1') FROM "+from, &p.ipv6)
	one("SELECT mac FROM "+from+" WHERE mac IS NOT NULL GROUP BY 1 ORDER BY count(*), 1 LIMIT 1", &p.mac)
	one("SELECT "+nsgSQL+" FROM "+from+" WHERE resource_id IS NOT NULL GROUP BY 1 ORDER BY count(*), 1 LIMIT 1", &p.nsg)
	one("SELECT epoch_us(quantile_disc(time, 0.5)) FROM "+from, &p.mid)
	one("SELECT epoch_us(max(time)) FROM "+from, &p.max)
	return p
}

// filterCase is a filter with its SQL.
type filterCase struct {
	filter, sql string
}

func filterCases(p probe) []filterCase {
	mid := time.UnixMicro(p.mid).UTC().Format(time.RFC3339Nano)
	macDashed := p.mac
	if len(p.mac) == 12 {
		macDashed = strings.ToLower(p.mac[0:2] + "-" + p.mac[2:4] + "-" + p.mac[4:6] + "-" + p.mac[6:8] + "-" + p.mac[8:10] + "-" + p.mac[10:12])
	}
	ip := func(col, a string) string { return leaf(fmt.Sprintf("%s = '%s'", col, a)) }
	return []filterCase{
		{"src ip " + p.srcIP, ip("src_ip", p.srcIP)},
		{"ip " + p.dstIP + " or host " + p.ipv6,
			fmt.Sprintf("%s OR %s OR %s OR %s", ip("src_ip", p.dstIP), ip("dst_ip", p.dstIP), ip("src_ip", p.ipv6), ip("dst_ip", p.ipv6))},
		{"dst net 10.0.0.0/8", v4in("dst_ip", netip.MustParsePrefix("10.0.0.0/8"))},
		{"src net 10.0.64.0/18 or net 168.63.128.0/17",
			v4in("src_ip", netip.MustParsePrefix("10.0.64.0/18")) + " OR " + v4in("src_ip", netip.MustParsePrefix("168.63.128.0/17")) + " OR " + v4in("dst_ip", netip.MustParsePrefix("168.63.128.0/17"))},
		{"net 2603::/16 and not src net 2603::/16", "(" + leaf("src_ip LIKE '2603:%'") + " OR " + leaf("dst_ip LIKE '2603:%'") + ") AND NOT " + leaf("src_ip LIKE '2603:%'")},
		{"port 443", leaf("src_port = 443") + " OR " + leaf("dst_port = 443")},
		{"dst port 1024-65535 and src port 0-1023", leaf("dst_port BETWEEN 1024 AND 65535") + " AND " + leaf("src_port BETWEEN 0 AND 1023")},
		{"proto udp or icmp", leaf("proto = 17") + " OR " + leaf("protocol = 'icmp'")},
		{"in and deny", leaf("direction = 'in'") + " AND " + leaf("decision = 'deny'")},
		{"out && allow && !tcp", leaf("direction = 'out'") + " AND " + leaf("decision = 'allow'") + " AND NOT " + leaf("proto = 6")},
		{"rule UserRule_* or rule defaultrule_denyallinbound", glob("rule", "UserRule_*") + " OR " + glob("rule", "defaultrule_denyallinbound")},
		{"nsg " + strings.ToLower(p.nsg) + " or nsg *-vnet", glob(nsgSQL, strings.ToLower(p.nsg)) + " OR " + glob(nsgSQL, "*-vnet")},
		{"mac " + macDashed, leaf(fmt.Sprintf("upper(mac) = '%s'", strings.ToUpper(p.mac)))},
		{"state B", leaf("state = 'B'")},
		{"not state B and not state E", "NOT " + leaf("state = 'B'") + " AND NOT " + leaf("state = 'E'")},
		{"source nsg-v1 or source vnet", leaf("source = 'nsg-v1'") + " OR " + leaf("source = 'vnet'")},
		{"bytes > 1M", leaf("bytes_out + bytes_in > 1000000")},
		{"not bytes > 1M", "NOT " + leaf("bytes_out + bytes_in > 1000000")},
		{"packets <= 10 and bytes_out > 0 or packets_in >= 5KiB", "(" + leaf("packets_out + packets_in <= 10") + " AND " + leaf("bytes_out > 0") + ") OR " + leaf("packets_in >= 5120")},
		{"time >= " + mid + " and time < " + time.UnixMicro(p.mid+600e6).UTC().Format(time.RFC3339Nano),
			leaf(fmt.Sprintf("epoch_us(time) >= %d", p.mid)) + " AND " + leaf(fmt.Sprintf("epoch_us(time) < %d", p.mid+600e6))},
		{"since 1h", leaf(fmt.Sprintf("epoch_us(time) >= %d", p.max-3600e6))},
		{"(tcp or udp) and not (port 80 or port 443) and src port 1024-65535",
			"(" + leaf("proto = 6") + " OR " + leaf("proto = 17") + ") AND NOT (" + leaf("src_port = 80") + " OR " + leaf("dst_port = 80") + " OR " + leaf("src_port = 443") + " OR " + leaf("dst_port = 443") + ") AND " + leaf("src_port BETWEEN 1024 AND 65535")},
	}
}

// rowColumns are the columns on which query and DuckDB must agree.
var rowColumns = []string{"time", "source", "resource_id", "mac", "rule", "src_ip", "dst_ip", "src_port", "dst_port",
	"protocol", "direction", "decision", "state", "packets_out", "bytes_out", "packets_in", "bytes_in"}

// flowRow prints a row of query.Scan as duckRows prints DuckDB's.
func flowRow(f *columnar.Flow) string {
	str := func(b []byte) string {
		if len(b) == 0 {
			return "NULL"
		}
		return string(b)
	}
	enum := func(s string) string {
		if s == "" {
			return "NULL"
		}
		return s
	}
	state := "NULL"
	if f.State != 0 {
		state = string(f.State)
	}
	counters := "NULL|NULL|NULL|NULL"
	if f.HasCounters {
		counters = fmt.Sprintf("%d|%d|%d|%d", f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn)
	}
	return strings.Join([]string{strconv.FormatInt(f.Time, 10), enum(f.Source.String()), str(f.ResourceID), str(f.MAC), str(f.Rule),
		str(f.SrcIP), str(f.DstIP), strconv.Itoa(int(f.SrcPort)), strconv.Itoa(int(f.DstPort)), columnar.ProtocolName(f.Proto),
		enum(f.Direction.String()), enum(f.Decision.String()), state, counters}, "|")
}

// duckRows runs q and prints each row's columns joined by "|", NULL for
// null.
func duckRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = "NULL"
			if v.Valid {
				cells[i] = v.String
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// reportRows prints a report table as duckRows prints DuckDB's: keys
// (time as epoch microseconds, NULL for null) then metrics.
func reportRows(tab query.Table) []string {
	var out []string
	for _, r := range tab.Rows {
		var cells []string
		for i, k := range r.Keys {
			switch {
			case k.Null:
				cells = append(cells, "NULL")
			case tab.KeyKinds[i] == query.KeyString:
				cells = append(cells, k.Str)
			default:
				cells = append(cells, strconv.FormatInt(k.Int, 10))
			}
		}
		for _, m := range r.Metrics {
			cells = append(cells, strconv.FormatInt(m, 10))
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

// reportCase is a report with the SQL of each of its tables.
type reportCase struct {
	report query.Report
	sql    []string // with %[1]s for FROM and %[2]s for the WHERE condition
}

func reportCases() []reportCase {
	top := func(by string, keys []string, metric, msql string, n int) reportCase {
		var sel, order []string
		for i, k := range keys {
			sel = append(sel, fmt.Sprintf("%s AS k%d", k, i))
			order = append(order, fmt.Sprintf("k%d NULLS LAST", i))
		}
		sel = append(sel, msql+" AS m")
		if metric != "flows" {
			sel = append(sel, "count(*)")
		}
		q := fmt.Sprintf("SELECT %s FROM %%[1]s WHERE %%[2]s GROUP BY ALL ORDER BY m DESC, %s", strings.Join(sel, ", "), strings.Join(order, ", "))
		if n > 0 {
			q += fmt.Sprintf(" LIMIT %d", n)
		}
		return reportCase{query.Report{Kind: query.KindTop, By: by, Metric: metric, Top: n}, []string{q}}
	}
	denied := func(key string, n int) string {
		return fmt.Sprintf("SELECT %s, count(*) AS m FROM %%[1]s WHERE (%%[2]s) AND decision = 'deny' GROUP BY ALL ORDER BY m DESC, %s NULLS LAST LIMIT %d", key, key, n)
	}
	timeline := func(every time.Duration) reportCase {
		us := every.Microseconds()
		return reportCase{query.Report{Kind: query.KindTimeline, Every: every}, []string{
			"SELECT epoch_us(time) // " + strconv.FormatInt(us, 10) + " * " + strconv.FormatInt(us, 10) + " AS k, count(*), sum(" + bytesSQL +
				")::BIGINT, count(*) FILTER (WHERE decision = 'deny') FROM %[1]s WHERE %[2]s GROUP BY ALL ORDER BY k"}}
	}
	nsgKey := "CASE WHEN resource_id IS NULL THEN NULL ELSE " + nsgSQL + " END"
	return []reportCase{
		top("src_ip", []string{"src_ip"}, "bytes", "sum("+bytesSQL+")::BIGINT", 10),
		top("dst_ip", []string{"dst_ip"}, "packets", "sum("+packetsSQL+")::BIGINT", 25),
		top("pair", []string{"src_ip", "dst_ip"}, "flows", "count(*)", 20),
		top("dst_port", []string{"dst_port"}, "bytes", "sum("+bytesSQL+")::BIGINT", 0),
		top("protocol", []string{"protocol"}, "flows", "count(*)", 10),
		top("rule", []string{"rule"}, "packets", "sum("+packetsSQL+")::BIGINT", 0),
		top("nsg", []string{nsgKey}, "bytes", "sum("+bytesSQL+")::BIGINT", 7),
		{query.Report{Kind: query.KindDenied, Top: 10}, []string{denied("src_ip", 10), denied("dst_port", 10), denied("rule", 10)}},
		{query.Report{Kind: query.KindRules}, []string{"SELECT rule, " + nsgKey + " AS nsg, count(*) AS m, count(*) FILTER (WHERE decision = 'allow'), count(*) FILTER (WHERE decision = 'deny') FROM %[1]s WHERE %[2]s GROUP BY ALL ORDER BY m DESC, rule NULLS LAST, nsg NULLS LAST"}},
		timeline(time.Minute),
		timeline(5 * time.Minute),
		timeline(time.Hour),
		timeline(24 * time.Hour),
		{query.Report{Kind: query.KindPorts, Top: 15}, []string{"SELECT protocol, dst_port, count(*) AS m, count(*) FILTER (WHERE decision = 'allow'), count(*) FILTER (WHERE decision = 'deny') FROM %[1]s WHERE %[2]s GROUP BY ALL ORDER BY m DESC, protocol, dst_port LIMIT 15"}},
	}
}

// compareWithDuck runs every filter and every report on the dataset at
// root both ways.
func compareWithDuck(t *testing.T, root string) {
	db := openDuck(t)
	from := parquetFrom(root)
	p := pick(t, db, from)
	now := time.UnixMicro(p.max).UTC()
	ctx := context.Background()
	matched := 0
	for _, c := range filterCases(p) {
		t.Run("query/"+c.filter, func(t *testing.T) {
			e, err := filter.Parse(c.filter, filter.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			q := &query.Query{Root: root, Where: e, Columns: rowColumns, Workers: 2}
			if _, err := q.Scan(ctx, func(f *columnar.Flow) error {
				got = append(got, flowRow(f))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want := duckRows(t, db, fmt.Sprintf("SELECT epoch_us(time), %s FROM %s WHERE %s", strings.Join(rowColumns[1:], ", "), from, c.sql))
			slices.Sort(got)
			slices.Sort(want)
			if len(got) > 0 {
				matched++
			}
			if len(got) != len(want) {
				t.Fatalf("flowlens %d rows, DuckDB %d\nSQL: %s", len(got), len(want), c.sql)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("row %d:\nflowlens %s\n  DuckDB %s", i, got[i], want[i])
				}
			}
		})
	}
	if matched < len(filterCases(p))*2/3 {
		t.Errorf("only %d of %d filters select a row: the probe values do not fit the dataset", matched, len(filterCases(p)))
	}
	wheres := []filterCase{{"", "true"}, {"not state B and not dst port 443", "NOT " + leaf("state = 'B'") + " AND NOT " + leaf("dst_port = 443")}}
	for _, w := range wheres {
		var e filter.Expr
		if w.filter != "" {
			e = filter.MustParse(w.filter)
		}
		for _, rc := range reportCases() {
			r := rc.report
			for _, totals := range []bool{false, true} { // unfiltered tops: from index totals, or scanned
				t.Run(fmt.Sprintf("report/%s/%s %s %s %s/totals=%v", w.filter, r.Kind, r.By, r.Metric, r.Every, totals), func(t *testing.T) {
					res, err := (&query.Query{Root: root, Where: e, Workers: 2, IndexTotals: totals}).Report(ctx, r)
					if err != nil {
						t.Fatal(err)
					}
					if fromIndex := totals && e == nil && r.Kind == query.KindTop && r.By != "pair"; fromIndex != (res.Stats.FilesFromIndex == res.Stats.Files) || res.Stats.Files == 0 {
						t.Errorf("%d of %d files counted from index totals", res.Stats.FilesFromIndex, res.Stats.Files)
					}
					if len(res.Tables) != len(rc.sql) {
						t.Fatalf("%d tables, %d queries", len(res.Tables), len(rc.sql))
					}
					for i, q := range rc.sql {
						got := reportRows(res.Tables[i])
						want := duckRows(t, db, fmt.Sprintf(q, from, w.sql))
						if len(want) == 0 {
							t.Errorf("table %s: DuckDB finds no rows: a weak test", res.Tables[i].ID)
						}
						if strings.Join(got, "\n") != strings.Join(want, "\n") {
							t.Errorf("table %s differs:\nflowlens:\n%s\nDuckDB:\n%s", res.Tables[i].ID, strings.Join(got, "\n"), strings.Join(want, "\n"))
						}
					}
				})
			}
		}
	}
}

// TestQueryMatchesDuckDB converts the generated tree and compares query
// and every report with DuckDB.
func TestQueryMatchesDuckDB(t *testing.T) {
	g := tree(t)
	out := filepath.Join(t.TempDir(), "ds")
	convert(t, []string{g.tree}, out, 2)
	compareWithDuck(t, out)
}

// TestQueryMatchesDuckDBSamples does the same on the real samples,
// converted into one dataset.
func TestQueryMatchesDuckDBSamples(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	convert(t, sampleFiles(t), out, 2)
	compareWithDuck(t, out)
}

// TestReportHTMLRenders builds flowlens, writes the HTML dashboard of the
// generated tree (report all --format html), opens it in headless
// Chromium and checks in the screenshot that the charts were drawn: bars
// in the flows colour and the denied colour, and the bytes line. The
// screenshot is kept as testdata of the run (-args -keep DIR keeps it
// elsewhere, to look at).
func TestReportHTMLRenders(t *testing.T) {
	if testing.Short() {
		t.Skip("builds flowlens and runs Chromium")
	}
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium (Debian: apt-get install chromium)")
	}
	g := tree(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "flowlens")
	build := exec.Command("go", "build", "-o", bin, "./cmd/flowlens")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/flowlens: %v\n%s", err, b)
	}
	out := filepath.Join(dir, "ds")
	convert(t, []string{g.tree}, out, 2)
	page := filepath.Join(dir, "report.html")
	cmd := exec.Command(bin, "report", out, "all", "--format", "html", "--every", "5m", "-o", page)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("flowlens report: %v\n%s", err, b)
	}
	png := filepath.Join(*keepDir(t), "report.png")
	shot := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=1100,2400", "--screenshot="+png, "file://"+page)
	if b, err := shot.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, b)
	}
	img := decodePNG(t, png)
	// Count pixels of the chart colours of the page's style sheet.
	colours := map[string][3]uint8{"flows": {0x4a, 0x78, 0xc2}, "denied": {0xd2, 0x45, 0x3b}, "bytes": {0x2f, 0x9e, 0x6e}}
	want := map[string]int{"flows": 20000, "denied": 5000, "bytes": 200}
	got := map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for name, c := range colours {
				if near(r, c[0]) && near(g, c[1]) && near(bl, c[2]) {
					got[name]++
				}
			}
		}
	}
	for name, n := range want {
		if got[name] < n {
			t.Errorf("screenshot %s has %d pixels of the %s colour, want at least %d: the charts did not render", png, got[name], name, n)
		}
	}
	t.Logf("screenshot %s: %v", png, got)
}

func near(v uint32, c uint8) bool {
	d := int(v>>8) - int(c)
	return d > -8 && d < 8
}

func decodePNG(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img
}

var keep = flag.String("keep", "", "directory to keep the report screenshot in")

func keepDir(t *testing.T) *string {
	if *keep != "" {
		return keep
	}
	d := t.TempDir()
	return &d
}
