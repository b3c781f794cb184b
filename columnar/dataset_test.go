package columnar

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/internal/arrowscan"
)

// arrowScan calls fn with the record batches of every file of the
// dataset at root, read through arrow-go's reader.
func arrowScan(t *testing.T, root string, cols []string, fn func(rec arrow.RecordBatch) error) {
	t.Helper()
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Join(root, filepath.FromSlash(f.Path))
	}
	if err := arrowscan.ScanFiles(context.Background(), names, cols, fn); err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, root string) int64 {
	t.Helper()
	var n int64
	arrowScan(t, root, []string{"time"}, func(rec arrow.RecordBatch) error {
		n += rec.NumRows()
		return nil
	})
	return n
}

// TestPartitionWriter writes rows over six hours through a writer that may
// keep only two files open, and checks partitions, manifest and rows.
func TestPartitionWriter(t *testing.T) {
	root := t.TempDir()
	ds, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w := NewPartitionWriter(ds, 0)
	w.MaxOpen = 2    // hours 0..5 in runs of 100 rows: files get closed
	w.MaxBatches = 1 // and batches written early
	rows := sampleFlows(3000)
	for i := range rows {
		rows[i].Time = 1714521600_000000 + int64(i/100%6)*3600_000000 + int64(i) // 2024-05-01
		if err := w.Append(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	files, err := w.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("%d files for 6 hours", len(files))
	}
	if err := ds.Commit(files, map[string]BlobState{"blob": {Size: 1, Records: 3}}); err != nil {
		t.Fatal(err)
	}
	got, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	hours := map[string]bool{}
	for _, f := range got {
		n += f.Rows
		hours[filepath.Dir(f.Path)] = true
		if _, err := os.Stat(filepath.Join(root, f.Path)); err != nil {
			t.Errorf("committed file missing: %v", err)
		}
	}
	if n != 3000 || len(hours) != 6 || countRows(t, root) != 3000 {
		t.Fatalf("%d rows in manifest, %d partitions, %d rows read", n, len(hours), countRows(t, root))
	}
	if _, ok := hours["flows/date=2024-05-01/hour=5"]; !ok {
		t.Fatalf("partitions %v", hours)
	}
	if b, ok := ds.Blob("blob"); !ok || b.Records != 3 {
		t.Fatalf("blob state %+v %v", b, ok)
	}
}

// TestRecovery: a run that committed its manifest but died before moving
// its files has them moved by the next open; files a killed run left in
// staging without a commit are removed.
func TestRecovery(t *testing.T) {
	root := t.TempDir()
	ds, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w := NewPartitionWriter(ds, 0)
	rows := sampleFlows(100)
	for i := range rows {
		if err := w.Append(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	files, err := w.Checkpoint()
	if err != nil || len(files) != 1 {
		t.Fatalf("%v %v", files, err)
	}
	// Commit the manifest only, as a crash right after it would leave it.
	m := ds.own
	m.Blobs = map[string]BlobState{"b": {Size: 9}}
	rel, _ := filepath.Rel(root, files[0].Staged)
	m.Files = []FileEntry{{Path: files[0].Final, Rows: files[0].Rows}}
	m.Pending = []move{{From: filepath.ToSlash(rel), To: files[0].Final}}
	if err := writeJSONAtomic(filepath.Join(root, MetaDir, manifestName("")), &m); err != nil {
		t.Fatal(err)
	}
	// And an uncommitted file of another (killed) run.
	stray := filepath.Join(root, MetaDir, stagingDir, "all", "run2", "flows", "x.parquet")
	os.MkdirAll(filepath.Dir(stray), 0o755)
	os.WriteFile(stray, []byte("partial"), 0o644)

	ds.Close() // the process dies: the kernel drops its lock
	ds2, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	ds2.Close()
	if _, err := os.Stat(filepath.Join(root, files[0].Final)); err != nil {
		t.Fatalf("committed file not moved into place: %v", err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatalf("stray staging file still there: %v", err)
	}
	if n := countRows(t, root); n != 100 {
		t.Fatalf("%d rows", n)
	}
	// Opening again is a no-op.
	ds3, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	ds3.Close()
}

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "sub", "f.txt")
	f, err := CreateAtomic(name)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("hello")
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Fatal("file visible before commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(name); string(b) != "hello" {
		t.Fatalf("content %q", b)
	}
	g, _ := CreateAtomic(filepath.Join(dir, "g.txt"))
	g.WriteString("x")
	g.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("abort left %d entries", len(entries))
	}
}

// TestLock: a second run of the same shard is refused while the first has
// the dataset open; other shards are not.
func TestLock(t *testing.T) {
	root := t.TempDir()
	ds, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDataset(root, ""); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	other, err := OpenDataset(root, "1of2")
	if err != nil {
		t.Fatalf("another shard: %v", err)
	}
	other.Close()
	ds.Close()
	again, err := OpenDataset(root, "")
	if err != nil {
		t.Fatalf("after close: %v", err)
	}
	again.Close()
}

// TestWriteNullPages: a row group whose nullable integer columns hold
// values for a few pages and then only nulls (flow log v1 rows after v2
// rows: v1 has no counters) is written and read back whole. arrow-go's
// delta encoder (v18.8.0) failed on such pages; ours writes them
// DELTA_BINARY_PACKED like every integer column.
func TestWriteNullPages(t *testing.T) {
	root := t.TempDir()
	ds, err := OpenDataset(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w := NewPartitionWriter(ds, 0)
	rows := sampleFlows(RowGroupRows)
	var sum int64
	x := uint64(1)
	for i := range rows {
		f := &rows[i]
		f.Time = 1714521600_000000 + int64(i)
		// Five write batches (1,024 rows each) of values 64 bits apart
		// fill 32 KiB pages, the last ending where they do (delta fails
		// with 5120 rows, not 4096 or 6144); nulls follow. One
		// source address: clustering keeps the rows in this order.
		const withValues = 5120
		f.SrcIP = []byte("10.0.0.1")
		x = x*6364136223846793005 + 1442695040888963407
		f.HasCounters = i < withValues
		f.BytesIn = int64(x)
		f.HasEndTime, f.EndTime = i < withValues, int64(x>>1)
		f.HasTCPFlags, f.TCPFlags = i < withValues, int32(x>>32)
		if f.HasCounters {
			sum += f.BytesIn
		}
		if err := w.Append(f); err != nil {
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
	var n, got int64
	arrowScan(t, root, []string{"bytes_in"}, func(rec arrow.RecordBatch) error {
		n += rec.NumRows()
		col := rec.Column(0).(*array.Int64)
		for i := range col.Len() {
			if col.IsValid(i) {
				got += col.Value(i)
			}
		}
		return nil
	})
	if n != RowGroupRows || got != sum {
		t.Fatalf("%d rows, sum(bytes_in) %d; wrote %d, %d", n, got, RowGroupRows, sum)
	}
}

// TestFilesFromManifests: Files, which reads only the files of each
// manifest, lists what decoding whole manifests lists, for two shards;
// a manifest that is not one is an error naming it.
func TestFilesFromManifests(t *testing.T) {
	root := t.TempDir()
	for _, shard := range []string{"", "2of2"} {
		ds, err := OpenDataset(root, shard)
		if err != nil {
			t.Fatal(err)
		}
		w := NewPartitionWriter(ds, 0)
		rows := sampleFlows(3000)
		for i := range rows {
			rows[i].Time = 1714521600_000000 + int64(i)*3_600_000_000/1000
			if err := w.Append(&rows[i]); err != nil {
				t.Fatal(err)
			}
		}
		files, err := w.Checkpoint()
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.Commit(files, map[string]BlobState{"blob/" + shard: {Size: 1, Records: 3}}); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := ReadManifests(root)
	if err != nil {
		t.Fatal(err)
	}
	var want []FileEntry
	for _, m := range ms {
		want = append(want, m.Files...)
	}
	slices.SortFunc(want, func(a, b FileEntry) int { return strings.Compare(a.Path, b.Path) })
	got, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || len(got) < 6 || !slices.Equal(got, want) {
		t.Fatalf("%d manifests; Files:\n%v\nmanifests:\n%v", len(ms), got, want)
	}
	for _, f := range got {
		if f.Index == "" || f.IndexBytes == 0 || f.Run == "" || f.Bytes == 0 {
			t.Fatalf("entry %+v lacks a field", f)
		}
	}
	name := filepath.Join(root, MetaDir, "manifest.json")
	for _, bad := range []string{`{"version": 2, "files": []}`, `{"version": 1, "files": [{"rows": 1}]}`, `{"version": 1, "files": {}}`, `[`} {
		if err := os.WriteFile(name, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Files(root); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("manifest %s: error %v, want one naming the manifest", bad, err)
		}
	}
}

// FuzzManifestFiles: the member skipper of Files never panics, and what
// it lists equals what a full decode of the manifest lists.
func FuzzManifestFiles(f *testing.F) {
	f.Add([]byte(`{"version":1,"blobs":{"a\"}]{[b":{"size":1}},"files":[{"path":"p","rows":2,"bytes":3,"run":"r"}],"runs":null}`))
	f.Add([]byte(`{ "version" : 1 , "files" : [ ] }`))
	f.Add([]byte(`{"files":[{"path":"p","rows":2,"bytes":3,"run":"r","index":"i","index_bytes":4}],"version":1,"blobs":{"x":[1,{"y":"\\"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := manifestFiles(b, nil)
		if err != nil {
			return
		}
		var m Manifest
		if json.Unmarshal(b, &m) != nil {
			return // the skipper does not validate what it skips
		}
		if !slices.Equal(got, m.Files) {
			t.Fatalf("skipper: %v, full decode: %v", got, m.Files)
		}
	})
}
