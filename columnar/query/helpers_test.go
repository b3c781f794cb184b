package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/flowlog"
)

// samples is the real flow logs of the repository.
const samples = "../../testdata/flowlogs"

var (
	tmpOnce sync.Once
	tmpDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

// shared returns a directory the package's tests share, removed at exit.
func shared(t testing.TB) string {
	t.Helper()
	tmpOnce.Do(func() {
		d, err := os.MkdirTemp("", "flowlens-query-")
		if err != nil {
			panic(err)
		}
		tmpDir = d
	})
	return tmpDir
}

var (
	sampleOnce sync.Once
	sampleRoot string
	sampleErr  error
)

// sampleDataset converts testdata/flowlogs once, as flowlens convert
// does, and returns the dataset's root.
func sampleDataset(t testing.TB) string {
	t.Helper()
	dir := shared(t)
	sampleOnce.Do(func() {
		sampleRoot = filepath.Join(dir, "samples")
		sampleErr = convert([]string{samples}, sampleRoot)
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sampleRoot
}

func convert(srcs []string, out string) error {
	inputs, err := flowlog.Discover(srcs)
	if err != nil {
		return err
	}
	ds, err := columnar.OpenDataset(out, "")
	if err != nil {
		return err
	}
	defer ds.Close()
	cfg := flowlog.DefaultConfig()
	cfg.Workers = 2
	sum, err := flowlog.Convert(context.Background(), inputs, ds, cfg, nil)
	if err != nil {
		return err
	}
	if sum.SkippedTotal() != 0 || sum.Rows == 0 {
		return fmt.Errorf("convert %v: %d rows, skipped %v", srcs, sum.Rows, sum.Skipped)
	}
	return nil
}

var (
	synthOnce sync.Once
	synthRoot string
	synthErr  error
)

// synthDataset writes random rows over two hours that fill every column
// of the schema, nulls included, in several row groups per file, and
// returns the dataset's root.
func synthDataset(t testing.TB) string {
	t.Helper()
	dir := shared(t)
	synthOnce.Do(func() {
		synthRoot = filepath.Join(dir, "synth")
		synthErr = writeFlows(synthRoot, synthFlows(2*columnar.RowGroupRows+5000, 1))
	})
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return synthRoot
}

// writeFlows writes rows into a new dataset at root.
func writeFlows(root string, rows []columnar.Flow) error {
	return writeFlowsIndexed(root, rows, columnar.DefaultIndexConfig())
}

// writeFlowsIndexed is writeFlows with indexes built by cfg.
func writeFlowsIndexed(root string, rows []columnar.Flow, cfg columnar.IndexConfig) error {
	ds, err := columnar.OpenDataset(root, "")
	if err != nil {
		return err
	}
	defer ds.Close()
	w := columnar.NewPartitionWriter(ds, 0)
	w.Index = cfg
	for i := range rows {
		if err := w.Append(&rows[i]); err != nil {
			return err
		}
	}
	files, err := w.Checkpoint()
	if err != nil {
		return err
	}
	return ds.Commit(files, nil)
}

// synthFlows returns n random rows: mostly in time order over two hours
// of 2024-05-01, with every kind of null.
func synthFlows(n int, seed uint64) []columnar.Flow {
	r := rand.New(rand.NewPCG(seed, 7))
	var srcs, dsts [][]byte
	for i := range 800 {
		srcs = append(srcs, fmt.Appendf(nil, "10.0.%d.%d", i/200, i%200))
	}
	for i := range 300 {
		srcs = append(srcs, fmt.Appendf(nil, "2001:db8::%x", i))
	}
	// Texts that are not canonical addresses, or not addresses: they
	// must match what filter.Match says of them.
	srcs = append(srcs, []byte("010.0.1.5"), []byte("::ffff:10.0.1.5"), []byte("10.0.1.5 "), []byte("2001:DB8::1F"), []byte("nope"))
	for range 5000 {
		dsts = append(dsts, fmt.Appendf(nil, "%d.%d.%d.%d", 20+r.IntN(3), r.IntN(256), r.IntN(256), r.IntN(256)))
	}
	pick := func(s ...string) []byte {
		v := s[r.IntN(len(s))]
		if v == "" {
			return nil
		}
		return []byte(v)
	}
	const start = 1714521600_000000 // 2024-05-01T00:00Z
	rows := make([]columnar.Flow, n)
	for i := range rows {
		f := &rows[i]
		f.Time = start + int64(i)*(2*3600_000000/int64(n)) + r.Int64N(1000)
		if r.IntN(50) == 0 { // a few out of order, into another hour
			f.Time += 3600_000000
		}
		f.Source = columnar.Source(1 + r.IntN(4))
		f.ResourceID = pick("/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB",
			"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-DB", "capture.pcap", "")
		f.MAC = pick("000D3AF87856", "000D3A0AF519", "")
		f.Rule = pick("DefaultRule_AllowInternetOutBound", "DefaultRule_DenyAllInBound", "UserRule_web", "UserRule_ssh", "")
		f.SrcIP = srcs[r.IntN(800)]
		if r.IntN(20) == 0 {
			f.SrcIP = srcs[800+r.IntN(300)]
		}
		if r.IntN(500) == 0 {
			f.SrcIP = srcs[1100+r.IntN(5)]
		}
		f.DstIP = dsts[r.IntN(len(dsts))]
		f.SrcPort = int32(r.IntN(65536))
		f.DstPort = []int32{22, 53, 80, 443, 3389, 8080, int32(r.IntN(65536))}[r.IntN(7)]
		f.Proto = []int32{6, 6, 6, 17, 17, 1, 58, 47, 200}[r.IntN(9)]
		f.Direction = columnar.Direction(r.IntN(3))
		f.Decision = columnar.Decision(r.IntN(3))
		f.State = []byte{0, 'B', 'C', 'E', 'D'}[r.IntN(5)]
		if r.IntN(3) > 0 {
			f.HasCounters = true
			f.PacketsOut, f.PacketsIn = r.Int64N(1000), r.Int64N(1000)
			f.BytesOut, f.BytesIn = r.Int64N(5_000_000), r.Int64N(1<<40)
		}
		if r.IntN(4) == 0 {
			f.HasEndTime, f.EndTime = true, f.Time+r.Int64N(1e9)
		}
		f.ACLID = pick("00000000-0000-0000-0000-000000000000", "acl-1", "")
		f.FlowLogID = pick("/FLOWLOGS/FL1", "")
		f.Encryption = pick("NX", "X", "")
		if r.IntN(3) == 0 {
			f.HasTCPFlags, f.TCPFlags = true, int32(r.IntN(256))
		}
		if r.IntN(5) == 0 {
			f.HasVLAN, f.VLAN = true, int32(r.IntN(4096))
		}
		if r.IntN(5) == 0 {
			f.HasCapturedLen, f.CapturedLen = true, int32(r.IntN(1500))
		}
	}
	return rows
}
