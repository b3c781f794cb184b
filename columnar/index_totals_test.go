package columnar

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// totalsFlows is randomFlows with the keys the totals must keep apart or
// together: texts of one address (canonical or not), IPv4-mapped IPv6,
// zones, texts that are not addresses, the empty text, protocol numbers
// outside 0-255, ports outside 0-65535, resource ids that end in "/".
func totalsFlows(n int, seed uint64) []Flow {
	rows := randomFlows(n, seed)
	odd := []string{"2001:db8::1", "2001:DB8::1", "2001:db8:0::1", "::ffff:10.0.0.1", "10.0.0.1", "010.0.0.1",
		"fe80::1%eth0", "fe80::1", "", "-", "10.0.0.1 ", "::", "0.0.0.0"}
	for i := range rows {
		f := &rows[i]
		switch i % 17 {
		case 3:
			f.SrcIP = []byte(odd[(i/17)%len(odd)])
		case 5:
			f.DstIP = []byte(odd[(i/17+3)%len(odd)])
		case 7:
			f.Proto = []int32{300, -1, 255, 256, -1 << 31, 1<<31 - 1}[(i/17)%6]
		case 11:
			f.DstPort = []int32{-1 << 31, 1<<31 - 1, 65536, -1}[(i/17)%4]
		case 13:
			f.ResourceID = []byte("/SUBSCRIPTIONS/X/NSG-TRAILING/")
			f.Context = 0 // not its neighbours' resource
		}
		if i%101 == 0 { // one key's counters wrap as int64 sums do
			f.HasCounters, f.BytesOut, f.BytesIn = true, 1<<62, 1<<62
		}
	}
	return rows
}

// totalsOracle counts the totals of each column the slow way, keyed as
// "a" + address (canonical texts), "t" + text, "n" for null, "i" + int.
func totalsOracle(rows []Flow) map[string]map[string]Totals {
	out := map[string]map[string]Totals{}
	for _, col := range TotalsColumns() {
		out[col] = map[string]Totals{}
	}
	str := func(b []byte) string {
		if len(b) == 0 {
			return "n"
		}
		return "t" + string(b)
	}
	addr := func(b []byte) string {
		if a, err := netip.ParseAddr(string(b)); err == nil && a.Zone() == "" && a.String() == string(b) {
			return "a" + a.String()
		}
		return "t" + string(b)
	}
	for i := range rows {
		f := &rows[i]
		t := Totals{Flows: 1}
		if f.HasCounters {
			t.Packets, t.Bytes = f.PacketsOut+f.PacketsIn, f.BytesOut+f.BytesIn
		}
		switch f.Decision {
		case DecisionAllow:
			t.Allowed = 1
		case DecisionDeny:
			t.Denied = 1
		}
		for col, key := range map[string]string{
			"src_ip": addr(f.SrcIP), "dst_ip": addr(f.DstIP),
			"dst_port": fmt.Sprint("i", f.DstPort), "proto": fmt.Sprint("i", f.Proto),
			"rule": str(f.Rule), "resource_id": str(f.ResourceID),
		} {
			s := out[col][key]
			s.Flows += t.Flows
			s.Packets += t.Packets
			s.Bytes += t.Bytes
			s.Allowed += t.Allowed
			s.Denied += t.Denied
			out[col][key] = s
		}
	}
	return out
}

// readTotals returns an index's totals of col keyed as totalsOracle keys
// them, checking that keys come once each.
func readTotals(t *testing.T, ix *Index, col string) map[string]Totals {
	t.Helper()
	got := map[string]Totals{}
	err := ix.Totals(col, func(k TotalsKey, tot Totals) bool {
		var key string
		switch {
		case k.Null:
			key = "n"
		case k.Text != nil:
			key = "t" + string(k.Text)
		case col == "dst_port" || col == "proto":
			key = fmt.Sprint("i", k.Int)
		default:
			key = "a" + k.Addr.String()
		}
		if _, dup := got[key]; dup {
			t.Errorf("%s: key %q twice", col, key)
		}
		got[key] = tot
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestIndexTotals: each column's totals equal the oracle's, written with
// the file in records of different lengths, and rebuilt from the file.
func TestIndexTotals(t *testing.T) {
	rows := totalsFlows(30_000, 1)
	want := totalsOracle(rows)
	for _, batch := range []int{30_000, 4096, 777} {
		t.Run(fmt.Sprint(batch), func(t *testing.T) {
			name := writeIndexed(t, t.TempDir(), rows, batch, DefaultIndexConfig())
			ix, err := OpenIndex(name)
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if err := ix.Verify(); err != nil {
				t.Fatal(err)
			}
			for _, col := range TotalsColumns() {
				if !ix.HasTotals(col) {
					t.Fatalf("no totals of %s", col)
				}
				got := readTotals(t, ix, col)
				if len(got) != len(want[col]) {
					t.Errorf("%s: %d keys, want %d", col, len(got), len(want[col]))
				}
				for k, w := range want[col] {
					if got[k] != w {
						t.Errorf("%s %q: %+v, want %+v", col, k, got[k], w)
					}
				}
			}
			if ix.HasTotals("src_port") || ix.HasTotals("protocol") {
				t.Error("totals of a column without")
			}
			if err := ix.Totals("mac", func(TotalsKey, Totals) bool { return true }); !errors.Is(err, ErrNotIndexed) {
				t.Errorf("totals of mac: %v", err)
			}
		})
	}
}

// TestIndexTotalsKeyOrder: keys come in order (IPv4, IPv6, texts, null;
// numbers by value), and fn returning false stops.
func TestIndexTotalsKeyOrder(t *testing.T) {
	name := writeIndexed(t, t.TempDir(), totalsFlows(5000, 2), 1000, DefaultIndexConfig())
	ix, err := OpenIndex(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	rank := func(k TotalsKey) int {
		switch {
		case k.Null:
			return 3
		case k.Text != nil:
			return 2
		case k.Addr.Is6():
			return 1
		}
		return 0
	}
	for _, col := range TotalsColumns() {
		var prev TotalsKey
		var prevText string
		n := 0
		err := ix.Totals(col, func(k TotalsKey, _ Totals) bool {
			if n > 0 {
				less := false
				switch {
				case rank(prev) != rank(k):
					less = rank(prev) < rank(k)
				case col == "dst_port" || col == "proto":
					less = prev.Int < k.Int
				case k.Text != nil:
					less = prevText < string(k.Text)
				default:
					less = prev.Addr.Less(k.Addr)
				}
				if !less {
					t.Errorf("%s: key %d (%+v) not after %+v", col, n, k, prev)
				}
			}
			prev, prevText = k, string(k.Text)
			n++
			return true
		})
		if err != nil || n < 2 {
			t.Fatalf("%s: %d keys, %v", col, n, err)
		}
		calls := 0
		if err := ix.Totals(col, func(TotalsKey, Totals) bool { calls++; return false }); err != nil || calls != 1 {
			t.Errorf("%s: stopped after %d calls, %v", col, calls, err)
		}
	}
}

// TestIndexTotalsMissing: a file that lacks a column the totals count
// gets an index without totals, whose look-ups work.
func TestIndexTotalsMissing(t *testing.T) {
	rows := randomFlows(3000, 3) // arrowScanner refuses protocol numbers over 255
	name := writeIndexed(t, t.TempDir(), rows, 1000, DefaultIndexConfig())
	for _, missing := range []string{"bytes_in", "decision", "proto", "rule", "src_ip"} {
		t.Run(missing, func(t *testing.T) {
			scan := func(ctx context.Context, name string, cols []string, fn func(f *Flow) error) (FileScan, error) {
				res, err := arrowScanner(ctx, name, cols, fn)
				res.Missing = []string{missing}
				return res, err
			}
			out := filepath.Join(t.TempDir(), "part-test.idx")
			if _, err := buildIndexFile(context.Background(), scan, nil, name, out, DefaultIndexConfig()); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			ix, err := openIndex(bytes.NewReader(b), int64(len(b)), out, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range TotalsColumns() {
				if ix.HasTotals(col) {
					t.Errorf("totals of %s", col)
				}
			}
			if err := ix.Verify(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// downgrade returns a version-3 index as version 2 wrote it: the same
// columns, without the totals (whose directory entries and sections come
// last; sections are placed relative to the end of the directory).
func downgrade(t *testing.T, b []byte) []byte {
	t.Helper()
	ix, err := openIndex(bytes.NewReader(b), int64(len(b)), "v3", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.totals) == 0 {
		t.Fatal("no totals to drop")
	}
	dirLen := int64(binary.LittleEndian.Uint32(b[12:]))
	cut := ix.totals[0].dirOffset // the first totals entry
	dir := b[indexHeaderLen:cut]
	out := append(bytes.Clone(b[:indexHeaderLen]), dir...)
	out = append(out, b[indexHeaderLen+dirLen:ix.totals[0].dataOff]...)
	binary.LittleEndian.PutUint16(out[8:], 2)
	binary.LittleEndian.PutUint16(out[10:], uint16(len(ix.cols)))
	binary.LittleEndian.PutUint32(out[12:], uint32(len(dir)))
	binary.LittleEndian.PutUint32(out[44:], crc32c(dir))
	binary.LittleEndian.PutUint32(out[52:], crc32c(out[:52]))
	return out
}

// TestIndexTotalsOldVersion: a version-2 index (no totals) opens and
// serves look-ups, has no totals; the new one is the old one plus the
// totals; and a version-2 index may not hold totals.
func TestIndexTotalsOldVersion(t *testing.T) {
	rows := randomFlows(4000, 4) // the checker's protocol oracle needs numbers up to 255
	name := writeIndexed(t, t.TempDir(), rows, 1000, DefaultIndexConfig())
	cur, err := os.ReadFile(IndexPath(name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(IndexPath(name), downgrade(t, cur), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, err := OpenIndex(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, col := range TotalsColumns() {
		if ix.HasTotals(col) {
			t.Errorf("totals of %s", col)
		}
		err := ix.Totals(col, func(TotalsKey, Totals) bool { return true })
		var ie *IndexError
		if !errors.As(err, &ie) || !errors.Is(err, ErrNotIndexed) {
			t.Errorf("totals of %s: %v", col, err)
		}
	}
	(&checker{t: t, ix: ix, rows: rows}).run()
	ix.Close()
	if err := checkIndex(name); !errors.Is(err, ErrIndexOld) {
		t.Errorf("checkIndex of version 2: %v", err)
	}
	// The postings of the two versions are the same bytes.
	ixNew, err := openIndex(bytes.NewReader(cur), int64(len(cur)), "new", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ixNew.Columns(), ix.Columns()) || len(ixNew.totals) != len(totalsSpecs) {
		t.Errorf("columns %+v and %+v, %d totals", ixNew.Columns(), ix.Columns(), len(ixNew.totals))
	}
	// Version 2 with totals: refused.
	v2 := bytes.Clone(cur)
	binary.LittleEndian.PutUint16(v2[8:], 2)
	binary.LittleEndian.PutUint32(v2[52:], crc32c(v2[:52]))
	_, err = openIndex(bytes.NewReader(v2), int64(len(v2)), "v2", false)
	if !errors.Is(err, ErrIndexCorrupt) || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("version 2 with totals: %v", err)
	}
}

// TestBuildIndexesUpgrades: BuildIndexes rebuilds an index of version 2
// (ErrIndexOld), into the one convert writes, and keeps current ones.
func TestBuildIndexesUpgrades(t *testing.T) {
	root := t.TempDir()
	ds, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	w := NewPartitionWriter(ds, 0)
	rows := randomFlows(12000, 8)
	for i := range rows {
		rows[i].Time = 1714521600_000000 + int64(i/4000)*3600_000000
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
	entries, err := Files(root)
	if err != nil || len(entries) != 3 {
		t.Fatalf("%d files, %v", len(entries), err)
	}
	idx := filepath.Join(root, entries[1].Index)
	cur, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(idx, downgrade(t, cur), 0o644); err != nil {
		t.Fatal(err)
	}
	var results []IndexResult
	if err := ds.BuildIndexes(context.Background(), arrowScanner, false, func(r IndexResult) { results = append(results, r) }); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Built != (r.Path == entries[1].Path) || r.Built && !errors.Is(r.Replaced, ErrIndexOld) || r.Err != nil {
			t.Errorf("result %+v", r)
		}
	}
	got, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, cur) {
		t.Errorf("rebuilt index (%d bytes) differs from the one written with the file (%d bytes)", len(got), len(cur))
	}
}

// TestTotalsMutations is TestIndexMutations aimed at the totals sections:
// bytes changed, cut or repeated within them, read with checksums ignored
// so that the decoder meets them. Nothing may panic; Totals either fails
// with an *IndexError naming the section or gives keys that count every
// row once.
func TestTotalsMutations(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	name := writeIndexed(t, t.TempDir(), totalsFlows(300, 5), 100, DefaultIndexConfig())
	seed, err := os.ReadFile(IndexPath(name))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := openIndex(bytes.NewReader(seed), int64(len(seed)), "fuzz.idx", false)
	if err != nil {
		t.Fatal(err)
	}
	start := int(ix.totals[0].dataOff) // the totals sections run to the end
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < n; i++ {
		b := bytes.Clone(seed)
		for k := 0; k < 1+r.IntN(4); k++ {
			at := start + r.IntN(len(b)-start)
			switch r.IntN(4) {
			case 0, 1:
				b[at] = byte(r.IntN(256))
			case 2:
				b[at] ^= 0x80 // a varint's continuation bit
			case 3:
				copy(b[at:], []byte{0xff, 0xff, 0xff, 0x7f})
			}
		}
		ix, err := openIndex(bytes.NewReader(b), int64(len(b)), "fuzz.idx", true)
		if err != nil {
			checkIndexError(t, err)
			continue
		}
		for _, col := range TotalsColumns() {
			var flows int64
			err := ix.Totals(col, func(_ TotalsKey, tot Totals) bool {
				flows += tot.Flows
				return true
			})
			if err != nil {
				var ie *IndexError
				if !errors.As(err, &ie) || !strings.HasPrefix(ie.Section, "totals of ") || !errors.Is(err, ErrIndexCorrupt) {
					t.Fatalf("mutation %d: %s: %v", i, col, err)
				}
				continue
			}
			if flows != ix.Rows() {
				t.Fatalf("mutation %d: %s: keys count %d rows of %d", i, col, flows, ix.Rows())
			}
		}
	}
}
