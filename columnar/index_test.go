package columnar

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/internal/arrowscan"
)

// randomFlows returns n rows whose indexed columns have every case the
// index must handle: IPv4 in a few /16s, IPv6, IPv4-mapped IPv6, texts
// that are not addresses, ports at both ends of the range and outside
// it, nulls, runs of rows of one resource (Context), rare and common
// values; and counters (null in some rows) for the totals.
func randomFlows(n int, seed uint64) []Flow {
	r := rand.New(rand.NewPCG(seed, 7))
	rc := rand.New(rand.NewPCG(seed, 11)) // counters: the other columns as they were before totals
	rules := []string{"DefaultRule_AllowInternetOutBound", "DefaultRule_DenyAllInBound", "UserRule_web", "UserRule_SSH", "userrule_ssh", ""}
	macs := []string{"000D3AF87856", "000D3AF87857", ""}
	rows := make([]Flow, n)
	addr := func() []byte {
		switch k := r.IntN(100); {
		case k < 60:
			return []byte(fmt.Sprintf("10.%d.%d.%d", r.IntN(3), r.IntN(4), r.IntN(256)))
		case k < 80:
			return []byte(fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), r.IntN(256)))
		case k < 90:
			return []byte(fmt.Sprintf("2001:db8:%x::%x", r.IntN(3), r.IntN(50)))
		case k < 95:
			return []byte(fmt.Sprintf("::ffff:10.0.0.%d", r.IntN(20)))
		case k < 97:
			return []byte("not-an-ip")
		case k < 98:
			return []byte("0.0.0.0")
		}
		return []byte("255.255.255.255")
	}
	port := func() int32 {
		switch k := r.IntN(100); {
		case k < 40:
			return []int32{443, 80, 53, 22, 3389}[r.IntN(5)]
		case k < 95:
			return int32(1024 + r.IntN(64512))
		case k < 97:
			return []int32{0, 65535, 1023, 1024}[r.IntN(4)]
		case k < 99:
			return -1 // not a port: not indexed
		}
		return 70000
	}
	ctx := uint64(0)
	for i := range rows {
		if i == 0 || r.IntN(50) == 0 {
			ctx++
		}
		res := int(ctx % 7)
		rows[i] = Flow{
			Time:       1714568400_000000 + int64(i),
			Source:     SourceNSGv2,
			Context:    ctx,
			ResourceID: []byte(fmt.Sprintf("/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-%d", res)),
			MAC:        []byte(macs[int(ctx)%len(macs)]),
			Rule:       []byte(rules[int(ctx)%len(rules)]),
			SrcIP:      addr(),
			DstIP:      addr(),
			SrcPort:    port(),
			DstPort:    port(),
			Proto:      []int32{6, 17, 1, 58, 47, 200}[r.IntN(6)],
			Direction:  Direction(r.IntN(3)),
			Decision:   Decision(r.IntN(3)),
		}
		if ctx%5 == 0 {
			rows[i].ACLID = []byte("acl-" + strconv.Itoa(int(ctx%3)))
		}
		if ctx%11 == 0 { // a resource with no id at all
			rows[i].ResourceID = nil
		}
		if f := &rows[i]; rc.IntN(5) > 0 {
			f.HasCounters = true
			f.PacketsOut, f.PacketsIn = rc.Int64N(100), rc.Int64N(100)
			f.BytesOut, f.BytesIn = rc.Int64N(1e6), rc.Int64N(1<<40)
		} else if rc.IntN(2) == 0 {
			f.PacketsOut, f.BytesOut = 7, 7000 // values without counters count 0
		}
	}
	return rows
}

// oracle gives, for a column and row, the value the index keys it by,
// and whether it has one.
func oracle(col string, f *Flow) (string, bool) {
	switch col {
	case "src_ip", "dst_ip":
		b := f.SrcIP
		if col == "dst_ip" {
			b = f.DstIP
		}
		a, err := netip.ParseAddr(string(b))
		if err != nil {
			return "", false
		}
		return a.String(), true
	case "src_port", "dst_port":
		p := f.SrcPort
		if col == "dst_port" {
			p = f.DstPort
		}
		return strconv.Itoa(int(p)), p >= 0 && p <= 65535
	case "protocol":
		return ProtocolName(f.Proto), true
	case "direction":
		return f.Direction.String(), f.Direction != DirectionUnknown
	case "decision":
		return f.Decision.String(), f.Decision != DecisionUnknown
	}
	var b []byte
	switch col {
	case "rule":
		b = f.Rule
	case "resource_id":
		b = f.ResourceID
	case "mac":
		b = f.MAC
	case "acl_id":
		b = f.ACLID
	}
	return string(b), len(b) > 0
}

// writeIndexed writes rows to dir/part-test.parquet, in record batches
// of batchRows rows, and its index as PartitionWriter does.
func writeIndexed(t testing.TB, dir string, rows []Flow, batchRows int, cfg IndexConfig) string {
	t.Helper()
	name := filepath.Join(dir, "part-test.parquet")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	cw := &countWriter{w: f}
	w, err := NewParquetWriter(cw)
	if err != nil {
		t.Fatal(err)
	}
	b := newIndexBuilder(nil)
	b.spillDir = dir
	batch := NewBatch()
	for i := 0; i < len(rows); i += batchRows {
		for j := i; j < min(i+batchRows, len(rows)); j++ {
			batch.Append(&rows[j])
		}
		rec := batch.Record()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := b.addRecord(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		batch.Reset()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	id := parquetID{size: cw.n, crc: cw.crc}
	if err := readParquetID(f, &id); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, err := b.finish(id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(IndexPath(name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	b.reset()
	if left, _ := filepath.Glob(filepath.Join(dir, ".idx-spill-*")); len(left) > 0 {
		t.Fatalf("spill files left: %v", left)
	}
	return name
}

var exactConfig = IndexConfig{Budget: 1000}  // everything exact
var coarseConfig = IndexConfig{Budget: 1e-9} // everything as coarse as it gets
var middleConfig = IndexConfig{Budget: 0.5}  // some columns coarse

// checker compares an index with a brute-force scan of its rows.
type checker struct {
	t    *testing.T
	ix   *Index
	rows []Flow
}

// want returns the rows an index look-up must return for the rows that
// match: those rows when the column is exact, else every row of each
// block (and, for ports, bucket) that holds one.
func (c *checker) want(col string, match func(i int) bool) *roaring.Bitmap {
	var rows []int
	for i := range c.rows {
		if match(i) {
			rows = append(rows, i)
		}
	}
	return c.wantRows(col, rows)
}

// wantRows is want for a list of rows; for an address column, all of one
// family.
func (c *checker) wantRows(col string, rows []int) *roaring.Bitmap {
	var rs uint8
	for _, cc := range c.ix.cols {
		if cc.name != col {
			continue
		}
		if cc.kind == kindIP4 || cc.kind == kindIP6 {
			if len(rows) == 0 {
				continue
			}
			v, _ := oracle(col, &c.rows[rows[0]])
			if netip.MustParseAddr(v).Is4() != (cc.kind == kindIP4) {
				continue
			}
		}
		rs = cc.rowShift
	}
	out := roaring.New()
	for _, i := range rows {
		lo := uint64(i) >> rs << rs
		out.AddRange(lo, min(lo+1<<rs, uint64(len(c.rows))))
	}
	return out
}

func (c *checker) equal(what string, got *roaring.Bitmap, err error, want *roaring.Bitmap) {
	c.t.Helper()
	if err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
	if !got.Equals(want) {
		c.t.Fatalf("%s: %d rows, want %d (only in got: %v; only in want: %v)", what, got.GetCardinality(), want.GetCardinality(),
			head(roaring.AndNot(got, want)), head(roaring.AndNot(want, got)))
	}
}

func head(b *roaring.Bitmap) []uint32 {
	a := b.ToArray()
	return a[:min(len(a), 8)]
}

// portMatch matches rows whose port is in the bucket range of [lo, hi].
func (c *checker) portRange(col string, lo, hi int) func(i int) bool {
	var ks uint8
	for _, cc := range c.ix.cols {
		if cc.name == col {
			ks = cc.keyShift
		}
	}
	lo, hi = lo>>ks<<ks, (hi>>ks+1)<<ks-1
	return func(i int) bool {
		v, ok := oracle(col, &c.rows[i])
		p, _ := strconv.Atoi(v)
		return ok && p >= lo && p <= hi
	}
}

func (c *checker) run() {
	t := c.t
	if c.ix.Rows() != int64(len(c.rows)) {
		t.Fatalf("Rows %d, want %d", c.ix.Rows(), len(c.rows))
	}
	if err := c.ix.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, col := range IndexedColumns() {
		// Keys: every value once, with its count.
		byValue := map[string][]int{}
		counts := map[string]int64{}
		for i := range c.rows {
			if v, ok := oracle(col, &c.rows[i]); ok {
				counts[v]++
				byValue[v] = append(byValue[v], i)
			}
		}
		got := map[string]int64{}
		var order []Key
		err := c.ix.Keys(col, func(k Key) bool {
			order = append(order, k)
			if k.Lo != k.Hi { // a bucket of ports
				for p := int(k.Lo); p <= int(k.Hi); p++ {
					got[strconv.Itoa(p)] += 0
				}
				var n int64
				for p := int(k.Lo); p <= int(k.Hi); p++ {
					n += counts[strconv.Itoa(p)]
				}
				if n != k.Rows {
					t.Errorf("%s: bucket %s has %d rows, want %d", col, k.Value, k.Rows, n)
				}
				return true
			}
			got[k.Value] = k.Rows
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		for v, n := range counts {
			if g, ok := got[v]; !ok || (g != n && g != 0) {
				t.Errorf("%s: key %q has %d rows (listed %v), want %d", col, v, g, ok, n)
			}
		}
		if !c.ix.Exact(col) && !strings.HasSuffix(col, "_ip") && !strings.HasSuffix(col, "_port") {
			t.Errorf("%s is not exact", col)
		}
		// Lookup of every value, and of absent ones.
		values := []string{}
		for v := range counts {
			values = append(values, v)
		}
		slices.Sort(values)
		if len(values) > 300 {
			values = values[:300]
		}
		for _, v := range values {
			var want *roaring.Bitmap
			if strings.HasSuffix(col, "_port") && !c.ix.Exact(col) {
				p, _ := strconv.Atoi(v)
				want = c.want(col, c.portRange(col, p, p))
			} else {
				want = c.wantRows(col, byValue[v])
			}
			got, err := c.ix.Lookup(col, v)
			c.equal(col+" "+v, got, err, want)
		}
		absent := map[string]string{"src_ip": "192.0.2.1", "dst_ip": "2001:db8:ffff::1", "src_port": "12", "dst_port": "12"}[col]
		if absent == "" {
			absent = "no such value"
		}
		if got, err := c.ix.Lookup(col, absent); err != nil || (!got.IsEmpty() && c.ix.Exact(col)) {
			t.Errorf("%s %s: %v, %v", col, absent, got, err)
		}
	}
	// Prefixes, over both address columns.
	prefixes := []string{"10.0.0.0/8", "10.1.0.0/16", "10.2.3.0/24", "10.2.3.128/25", "0.0.0.0/0", "128.0.0.0/1",
		"255.255.255.255/32", "0.0.0.0/32", "2001:db8::/32", "2001:db8:1::/48", "::/0", "::ffff:0:0/96", "::ffff:10.0.0.0/120", "fe80::/10"}
	for _, p := range prefixes {
		pfx := netip.MustParsePrefix(p)
		for _, col := range []string{"src_ip", "dst_ip"} {
			got, err := c.ix.LookupPrefix(col, pfx)
			c.equal(col+" "+p, got, err, c.want(col, func(i int) bool {
				v, ok := oracle(col, &c.rows[i])
				return ok && pfx.Contains(netip.MustParseAddr(v))
			}))
		}
	}
	// Port ranges.
	for _, r := range [][2]int{{0, 0}, {0, 1023}, {1024, 65535}, {443, 443}, {50, 60}, {65535, 65535}, {3000, 40000}, {100, 99}} {
		for _, col := range []string{"src_port", "dst_port"} {
			got, err := c.ix.LookupPorts(col, uint16(r[0]), uint16(r[1]))
			want := roaring.New()
			if r[0] <= r[1] {
				want = c.want(col, c.portRange(col, r[0], r[1]))
			}
			c.equal(fmt.Sprintf("%s %d-%d", col, r[0], r[1]), got, err, want)
		}
	}
	// Case-insensitive and glob matches on strings.
	for _, col := range []string{"rule", "resource_id", "mac", "protocol", "acl_id"} {
		match := func(s string) bool {
			return strings.Contains(strings.ToLower(s), "ssh") || strings.HasSuffix(s, "-3") || s == "udp"
		}
		got, err := c.ix.LookupStrings(col, match)
		c.equal(col+" match", got, err, c.want(col, func(i int) bool { v, ok := oracle(col, &c.rows[i]); return ok && match(v) }))
	}
}

func TestIndexRoundTrip(t *testing.T) {
	rows := randomFlows(100_000, 1)
	for _, tc := range []struct {
		name  string
		cfg   IndexConfig
		batch int
	}{
		{"exact", exactConfig, RowGroupRows},
		{"coarse", coarseConfig, 30000},
		{"middle", middleConfig, 77777},
		{"default", DefaultIndexConfig(), 65536},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := writeIndexed(t, t.TempDir(), rows, tc.batch, tc.cfg)
			ix, err := OpenIndex(name)
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			t.Logf("parquet %d bytes, index %d", ix.parquetSize, ix.size)
			for _, c := range ix.Columns() {
				t.Logf("%-11s v%d %6d keys, %5d rows/block, %3d ports/key, %7d bytes", c.Name, c.Family, c.Keys, c.BlockRows, c.BucketPorts, c.Bytes)
			}
			exact := true
			for _, col := range IndexedColumns() {
				exact = exact && ix.Exact(col)
			}
			if tc.name != "default" && exact != (tc.name == "exact") {
				t.Errorf("all columns exact: %v", exact)
			}
			(&checker{t: t, ix: ix, rows: rows}).run()
		})
	}
}

// TestIndexSmall covers tiny and empty files: one row, a row per key,
// rows whose columns are all null.
func TestIndexSmall(t *testing.T) {
	for _, n := range []int{1, 2, 3, 100} {
		rows := randomFlows(n, uint64(n))
		for _, cfg := range []IndexConfig{exactConfig, coarseConfig} {
			name := writeIndexed(t, t.TempDir(), rows, 2, cfg)
			ix, err := OpenIndex(name)
			if err != nil {
				t.Fatal(err)
			}
			(&checker{t: t, ix: ix, rows: rows}).run()
			ix.Close()
		}
	}
	rows := make([]Flow, 10) // every indexed column null or empty
	name := writeIndexed(t, t.TempDir(), rows, 4, DefaultIndexConfig())
	ix, err := OpenIndex(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, c := range ix.Columns() {
		want := int64(0)
		if c.Name == "src_port" || c.Name == "dst_port" || c.Name == "protocol" || c.Name == "src_ip" || c.Name == "dst_ip" {
			continue // 0, "0" and "" are values or non-addresses
		}
		if c.Keys != want {
			t.Errorf("%s: %d keys", c.Name, c.Keys)
		}
	}
	(&checker{t: t, ix: ix, rows: rows}).run()
}

// arrowScanner is a FileScanner that reads through arrow-go's reader
// (internal/arrowscan): columnar's tests cannot import query.ScanFile,
// and an independent reader checks that the index built from a file's
// rows as read back is the one written with the file. It fills the
// columns an index needs, protocol from proto (as query.ScanFile does,
// checking that the two agree), counters when all four are valid (as
// query.ScanFile does), and fails on a column the file lacks.
func arrowScanner(ctx context.Context, name string, cols []string, fn func(f *Flow) error) (FileScan, error) {
	read := slices.Clone(cols)
	if !slices.Contains(read, "proto") {
		read = append(read, "proto")
	}
	var f Flow
	rows, err := arrowscan.ScanFile(ctx, name, read, func(rec arrow.RecordBatch) error {
		for i := range int(rec.NumRows()) {
			f = Flow{}
			protocol := ""
			counters := 0
			for c, col := range rec.Columns() {
				str := func() []byte { return []byte(arrowscan.StringValue(col, i)) }
				switch read[c] {
				case "src_ip":
					f.SrcIP = str()
				case "dst_ip":
					f.DstIP = str()
				case "src_port":
					f.SrcPort = col.(*array.Int32).Value(i)
				case "dst_port":
					f.DstPort = col.(*array.Int32).Value(i)
				case "proto":
					f.Proto = col.(*array.Int32).Value(i)
				case "protocol":
					protocol = string(str())
				case "direction":
					switch string(str()) {
					case "in":
						f.Direction = DirectionIn
					case "out":
						f.Direction = DirectionOut
					}
				case "decision":
					switch string(str()) {
					case "allow":
						f.Decision = DecisionAllow
					case "deny":
						f.Decision = DecisionDeny
					}
				case "rule":
					f.Rule = str()
				case "resource_id":
					f.ResourceID = str()
				case "mac":
					f.MAC = str()
				case "acl_id":
					f.ACLID = str()
				case "packets_out", "bytes_out", "packets_in", "bytes_in":
					v := col.(*array.Int64)
					if v.IsNull(i) {
						continue
					}
					counters++
					switch read[c] {
					case "packets_out":
						f.PacketsOut = v.Value(i)
					case "bytes_out":
						f.BytesOut = v.Value(i)
					case "packets_in":
						f.PacketsIn = v.Value(i)
					default:
						f.BytesIn = v.Value(i)
					}
				default:
					return fmt.Errorf("arrowScanner: column %q", read[c])
				}
			}
			f.HasCounters = counters == 4
			if slices.Contains(cols, "protocol") && protocol != ProtocolName(f.Proto) {
				return fmt.Errorf("%s: protocol %q, proto %d", name, protocol, f.Proto)
			}
			if err := fn(&f); err != nil {
				return err
			}
		}
		return nil
	})
	return FileScan{Rows: rows}, err
}

// TestBuildIndex builds the index of a Parquet file from the file's rows,
// and checks it against the one written with the file.
func TestBuildIndex(t *testing.T) {
	rows := randomFlows(50_000, 2)
	name := writeIndexed(t, t.TempDir(), rows, 10_000, middleConfig)
	written, err := os.ReadFile(IndexPath(name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(IndexPath(name)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenIndex(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing index: %v", err)
	}
	if _, err := buildIndexFile(context.Background(), arrowScanner, nil, name, IndexPath(name), middleConfig); err != nil {
		t.Fatal(err)
	}
	built, err := os.ReadFile(IndexPath(name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written, built) {
		t.Errorf("index built from the file (%d bytes) differs from the one written with it (%d bytes)", len(built), len(written))
	}
	ix, err := OpenIndex(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.VerifyParquet(name); err != nil {
		t.Fatal(err)
	}
	(&checker{t: t, ix: ix, rows: rows}).run()
}

// sections returns the byte ranges of an index file's sections, named as
// its errors name them.
func sections(t *testing.T, name string) map[string][2]int64 {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := openIndex(bytes.NewReader(b), int64(len(b)), name, false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]int64{
		"header":    {0, indexHeaderLen},
		"directory": {indexHeaderLen, ix.cols[0].fenceOff},
	}
	for i := range ix.cols {
		c := &ix.cols[i]
		if c.nchunks == 0 {
			continue
		}
		out["fence of "+c.label()] = [2]int64{c.fenceOff, c.fenceOff + c.fenceLen}
		f, err := ix.loadFence(c)
		if err != nil {
			t.Fatal(err)
		}
		for j := range f.off {
			out[fmt.Sprintf("chunk %d of %s", j, c.label())] = [2]int64{f.off[j], f.off[j] + f.size[j]}
		}
	}
	for i := range ix.totals {
		c := &ix.totals[i]
		out[c.label()] = [2]int64{c.dataOff, c.dataOff + c.dataLen}
	}
	return out
}

// useAll opens an index and reads all of it as look-ups do.
func useAll(name string) error {
	ix, err := OpenIndex(strings.TrimSuffix(name, ".idx") + ".parquet")
	if err != nil {
		return err
	}
	defer ix.Close()
	for _, col := range IndexedColumns() {
		if err := ix.Keys(col, func(Key) bool { return true }); err != nil {
			return err
		}
	}
	if _, err := ix.LookupPrefix("src_ip", netip.MustParsePrefix("0.0.0.0/0")); err != nil {
		return err
	}
	if _, err := ix.LookupPorts("dst_port", 0, 65535); err != nil {
		return err
	}
	for _, col := range TotalsColumns() {
		if err := ix.Totals(col, func(TotalsKey, Totals) bool { return true }); err != nil {
			return err
		}
	}
	return ix.Verify()
}

// TestIndexCorrupt flips a byte in each section, truncates, and swaps
// files: every case is an *IndexError naming the file and the section.
func TestIndexCorrupt(t *testing.T) {
	dir := t.TempDir()
	rows := randomFlows(5000, 3)
	name := writeIndexed(t, dir, rows, 1000, DefaultIndexConfig())
	idx := IndexPath(name)
	good, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, data []byte, sentinel error, section string) {
		t.Helper()
		if err := os.WriteFile(idx, data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := useAll(idx)
		var ie *IndexError
		if !errors.As(err, &ie) || !errors.Is(err, sentinel) {
			t.Fatalf("got %v, want an IndexError wrapping %v", err, sentinel)
		}
		if ie.File != idx || !strings.Contains(ie.Section, section) || !strings.Contains(err.Error(), idx) {
			t.Fatalf("error %q: want file %s, section %q", err, idx, section)
		}
	}
	secs := sections(t, idx)
	if len(secs) < 10 {
		t.Fatalf("only %d sections", len(secs))
	}
	for sec, r := range secs {
		for _, at := range []int64{r[0], (r[0] + r[1]) / 2, r[1] - 1} {
			t.Run(fmt.Sprintf("flip %s at %d", sec, at), func(t *testing.T) {
				bad := bytes.Clone(good)
				bad[at] ^= 0x20
				check(t, bad, ErrIndexCorrupt, sec)
			})
		}
	}
	for _, n := range []int{0, 10, indexHeaderLen, indexHeaderLen + 5, len(good) / 2, len(good) - 1} {
		t.Run(fmt.Sprintf("truncate to %d", n), func(t *testing.T) {
			check(t, good[:n], ErrIndexCorrupt, "")
		})
	}
	t.Run("magic", func(t *testing.T) {
		bad := bytes.Clone(good)
		copy(bad, "PAR1....")
		check(t, bad, ErrIndexCorrupt, "header")
	})
	t.Run("version", func(t *testing.T) {
		bad := bytes.Clone(good)
		binary.LittleEndian.PutUint16(bad[8:], 9)
		binary.LittleEndian.PutUint32(bad[52:], crc32c(bad[:52]))
		check(t, bad, ErrIndexVersion, "header")
	})
	t.Run("another parquet file", func(t *testing.T) {
		other := writeIndexed(t, t.TempDir(), randomFlows(5000, 4), 1000, DefaultIndexConfig())
		b, err := os.ReadFile(IndexPath(other))
		if err != nil {
			t.Fatal(err)
		}
		check(t, b, ErrIndexStale, "header")
	})
	t.Run("parquet changed", func(t *testing.T) {
		if err := os.WriteFile(idx, good, 0o644); err != nil {
			t.Fatal(err)
		}
		pq, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(name, pq, 0o644)
		changed := bytes.Clone(pq)
		changed[len(changed)-20] ^= 1 // in the footer, same size
		os.WriteFile(name, changed, 0o644)
		check(t, good, ErrIndexStale, "header")
		os.WriteFile(name, append(bytes.Clone(pq), 0), 0o644)
		check(t, good, ErrIndexStale, "header")
	})
	// Intact again: no error.
	if err := os.WriteFile(idx, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := useAll(idx); err != nil {
		t.Fatal(err)
	}
	ix, _ := OpenIndex(name)
	defer ix.Close()
	if _, err := ix.Lookup("state", "B"); !errors.Is(err, ErrNotIndexed) {
		t.Errorf("state: %v", err)
	}
	if _, err := ix.LookupPorts("rule", 1, 2); !errors.Is(err, ErrNotIndexed) {
		t.Errorf("ports of rule: %v", err)
	}
	if _, err := ix.Lookup("src_port", "https"); err == nil {
		t.Errorf("port https: no error")
	}
}

// TestPartitionWriterIndex: a converted dataset has an index per file,
// named by the manifest, that opens and matches its rows.
func TestPartitionWriterIndex(t *testing.T) {
	root := t.TempDir()
	ds, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w := NewPartitionWriter(ds, 0)
	w.MaxOpen, w.MaxBatches = 2, 1
	rows := randomFlows(30000, 5)
	for i := range rows {
		rows[i].Time = 1714521600_000000 + int64(i/1000%4)*3600_000000 + int64(i)
		if err := w.Append(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	files, err := w.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Index == "" || !strings.HasPrefix(f.Index, ds.StagingDir()) {
			t.Fatalf("staged index %q", f.Index)
		}
	}
	if err := ds.Commit(files, nil); err != nil {
		t.Fatal(err)
	}
	ds.Close()
	committed, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range committed {
		if f.Index != IndexPath(f.Path) || f.IndexBytes == 0 {
			t.Fatalf("entry %+v", f)
		}
		ix, err := OpenIndex(filepath.Join(root, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(filepath.Join(root, f.Index)); fi.Size() != f.IndexBytes {
			t.Errorf("%s: %d bytes, manifest says %d", f.Index, fi.Size(), f.IndexBytes)
		}
		if ix.Rows() != f.Rows {
			t.Errorf("%s: %d rows, manifest says %d", f.Index, ix.Rows(), f.Rows)
		}
		if err := ix.Verify(); err != nil {
			t.Fatal(err)
		}
		total += ix.Rows()
		ix.Close()
	}
	if total != int64(len(rows)) {
		t.Fatalf("%d rows indexed of %d", total, len(rows))
	}
}

// TestIndexRecovery: a run that committed its manifest but died before
// moving its files has the data file and its index moved by the next
// open; an uncommitted index left in staging is removed.
func TestIndexRecovery(t *testing.T) {
	root := t.TempDir()
	ds, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w := NewPartitionWriter(ds, 0)
	rows := randomFlows(500, 6)
	for i := range rows {
		if err := w.Append(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	files, err := w.Checkpoint()
	if err != nil || len(files) != 1 {
		t.Fatalf("%v %v", files, err)
	}
	// What Commit writes, without the moves after it.
	m := ds.own
	rel, _ := filepath.Rel(root, files[0].Staged)
	relIdx, _ := filepath.Rel(root, files[0].Index)
	m.Files = []FileEntry{{Path: files[0].Final, Rows: files[0].Rows, Index: IndexPath(files[0].Final), IndexBytes: files[0].IndexBytes}}
	m.Pending = []move{{From: filepath.ToSlash(rel), To: files[0].Final}, {From: filepath.ToSlash(relIdx), To: IndexPath(files[0].Final)}}
	if err := writeJSONAtomic(filepath.Join(root, MetaDir, manifestName("")), &m); err != nil {
		t.Fatal(err)
	}
	ds.Close()
	ds2, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	ds2.Close()
	ix, err := OpenIndex(filepath.Join(root, files[0].Final))
	if err != nil {
		t.Fatalf("index not moved into place: %v", err)
	}
	ix.Close()
	if _, err := os.Stat(files[0].Index); !os.IsNotExist(err) {
		t.Fatalf("staged index still there: %v", err)
	}
}

// TestBuildIndexes indexes a dataset written without indexes, then
// replaces a corrupt index, through the manifest.
func TestBuildIndexes(t *testing.T) {
	root := t.TempDir()
	ds, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w := NewPartitionWriter(ds, 0)
	w.Index.Disabled = true
	rows := randomFlows(20000, 7)
	for i := range rows {
		rows[i].Time = 1714521600_000000 + int64(i/5000)*3600_000000
		if err := w.Append(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	files, err := w.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Commit(files, nil); err != nil {
		t.Fatal(err)
	}
	var results []IndexResult
	progress := func(r IndexResult) { results = append(results, r) }
	if err := ds.BuildIndexes(context.Background(), arrowScanner, false, progress); err != nil {
		t.Fatal(err)
	}
	if len(results) != 4 {
		t.Fatalf("results %+v", results)
	}
	for _, r := range results {
		if !r.Built || r.Replaced != nil || r.Err != nil || r.Bytes == 0 {
			t.Fatalf("result %+v", r)
		}
	}
	ds.Close()
	entries, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range entries {
		if f.Index == "" {
			t.Fatalf("%s: no index in the manifest", f.Path)
		}
		if err := checkIndex(filepath.Join(root, f.Path)); err != nil {
			t.Fatal(err)
		}
	}
	// Corrupt one, and run again: only it is rebuilt.
	bad := filepath.Join(root, entries[1].Index)
	b, _ := os.ReadFile(bad)
	b[len(b)-1] ^= 1
	os.WriteFile(bad, b, 0o644)
	ds, err = OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	results = nil
	if err := ds.BuildIndexes(context.Background(), arrowScanner, false, progress); err != nil {
		t.Fatal(err)
	}
	built := 0
	for _, r := range results {
		if r.Built {
			built++
			if r.Path != entries[1].Path || !errors.Is(r.Replaced, ErrIndexCorrupt) {
				t.Errorf("rebuilt %+v", r)
			}
		}
	}
	if built != 1 {
		t.Fatalf("%d rebuilt: %+v", built, results)
	}
	if err := checkIndex(filepath.Join(root, entries[1].Path)); err != nil {
		t.Fatal(err)
	}
	// A data file that does not read is reported, the others kept.
	os.WriteFile(filepath.Join(root, entries[2].Path), []byte("PAR1 not parquet PAR1"), 0o644)
	results = nil
	err = ds.BuildIndexes(context.Background(), arrowScanner, false, progress)
	if err == nil || !strings.Contains(err.Error(), entries[2].Path) {
		t.Fatalf("unreadable parquet: %v", err)
	}
}

// TestIndexLookupWithin: a look-up restricted to some rows equals the
// whole look-up intersected with them, for coarse and exact columns,
// ports and prefixes, with selections of a few rows and of blocks' edges.
func TestIndexLookupWithin(t *testing.T) {
	rows := randomFlows(100_000, 3)
	for _, cfg := range []IndexConfig{exactConfig, coarseConfig, DefaultIndexConfig()} {
		ix, err := OpenIndex(writeIndexed(t, t.TempDir(), rows, 30000, cfg))
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(4, 5))
		for trial := range 40 {
			within := roaring.New()
			for range 1 + rnd.IntN(300) {
				r := rnd.Uint32N(uint32(len(rows)))
				within.AddRange(uint64(r), uint64(min(int(r)+1+rnd.IntN(3)*4096, len(rows))))
			}
			f := &rows[rnd.IntN(len(rows))]
			port := uint16(f.DstPort)
			lo, hi := port, port
			if trial%3 == 0 {
				lo, hi = port/2, port
			}
			prefix := netip.MustParsePrefix(string(f.SrcIP) + "/32")
			if trial%4 == 0 {
				prefix = netip.PrefixFrom(prefix.Addr(), 20).Masked()
			}
			for _, c := range []struct {
				name          string
				whole, narrow func() (*roaring.Bitmap, error)
			}{
				{"dst_port", func() (*roaring.Bitmap, error) { return ix.LookupPorts("dst_port", lo, hi) },
					func() (*roaring.Bitmap, error) { return ix.LookupPortsWithin("dst_port", lo, hi, within) }},
				{"src_ip", func() (*roaring.Bitmap, error) { return ix.LookupPrefix("src_ip", prefix) },
					func() (*roaring.Bitmap, error) { return ix.LookupPrefixWithin("src_ip", prefix, within) }},
			} {
				whole, err := c.whole()
				if err != nil {
					t.Fatal(err)
				}
				narrow, err := c.narrow()
				if err != nil {
					t.Fatal(err)
				}
				whole.And(within)
				if !whole.Equals(narrow) {
					t.Fatalf("%s, trial %d: %d rows within, want %d", c.name, trial, narrow.GetCardinality(), whole.GetCardinality())
				}
			}
		}
		ix.Close()
	}
}

// TestPostingEncodings encodes block lists of every shape, checks that
// appendBlocks picks the smallest of the four encodings and that the
// posting decodes to the same blocks, and that damaged run postings are
// errors, never panics.
func TestPostingEncodings(t *testing.T) {
	const nblocks = 300000
	rng := rand.New(rand.NewPCG(3, 4))
	lists := [][]uint32{{0}, {nblocks - 1}, {0, 1, 2, 3}, {5, 7, 9}, {0, 2, 3, 4, 10, 11, 12, 200000, 200001}}
	for range 300 {
		var l []uint32
		b := uint32(rng.IntN(1000))
		runLen, gap := 1+rng.IntN(20), 1+rng.IntN(3000)
		for b < nblocks && len(l) < 5000 {
			for k := 0; k < 1+rng.IntN(runLen) && b < nblocks; k++ {
				l = append(l, b)
				b++
			}
			b += uint32(1 + rng.IntN(gap))
		}
		lists = append(lists, l)
	}
	ix := &Index{name: "test", rows: nblocks}
	c := &indexColumn{name: "src_ip", kind: kindIP4}
	seen := map[byte]int{}
	for _, l := range lists {
		post, enc := appendBlocks(nil, l)
		seen[enc]++
		// The smallest: no other encoding is shorter.
		bm := roaring.BitmapOf(l...)
		bm.RunOptimize()
		sizes := map[byte]int{encRoaring: int(bm.GetSerializedSizeInBytes()), encBitset: int(l[len(l)-1]/8 + 1)}
		v, prev := 0, int64(-1)
		for _, b := range l {
			v += uvarintLen(uint64(int64(b) - prev - 1))
			prev = int64(b)
		}
		sizes[encVarint] = v
		for e, n := range sizes {
			if n < len(post) {
				t.Fatalf("%d blocks: encoding %d takes %d bytes, encoding %d (chosen) %d", len(l), e, n, enc, len(post))
			}
		}
		got, err := ix.posting(c, &entry{count: uint64(len(l)), enc: enc, posting: post})
		if err != nil {
			t.Fatalf("%d blocks, encoding %d: %v", len(l), enc, err)
		}
		if !slices.Equal(got.ToArray(), l) {
			t.Fatalf("encoding %d: decoded %v, want %v", enc, got.ToArray(), l)
		}
		if enc == encRuns {
			for _, cut := range []int{0, 1, 2, 3, len(post) / 2, len(post) - 1} {
				if _, err := ix.posting(c, &entry{count: uint64(len(l)), enc: encRuns, posting: post[:max(cut, 0)]}); err == nil {
					t.Fatalf("a run posting cut to %d of %d bytes decoded without error", cut, len(post))
				}
			}
		}
	}
	if seen[encRuns] == 0 || seen[encVarint] == 0 {
		t.Fatalf("encodings chosen: %v; want runs and varint among them", seen)
	}
	// Runs past the last block, of absurd length, or cut short are corrupt.
	bad := [][]byte{
		binary.AppendUvarint(binary.AppendUvarint(nil, nblocks-1), 1),
		binary.AppendUvarint(binary.AppendUvarint(nil, nblocks), 0),
		{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{5},
	}
	for _, post := range bad {
		if _, err := ix.posting(c, &entry{count: 1, enc: encRuns, posting: post}); !errors.Is(err, ErrIndexCorrupt) {
			t.Errorf("posting %v: %v, want ErrIndexCorrupt", post, err)
		}
	}
}
