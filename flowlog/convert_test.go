package flowlog_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/flowlog"
)

func copyFile(t *testing.T, src, dst string) []byte {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func convertWith(t *testing.T, out string, cfg flowlog.Config, shard string, srcs ...string) (*flowlog.Summary, error) {
	t.Helper()
	inputs, err := flowlog.Discover(srcs)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := columnar.OpenDataset(out, shard)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	return flowlog.Convert(context.Background(), inputs, ds, cfg, nil)
}

// TestGrownBlob converts a PT1H.json blob as it looked after k records,
// then after it grew, and demands the rows of one conversion of the grown
// blob, with only the new records read the second time.
func TestGrownBlob(t *testing.T) {
	for _, name := range []string{"sumologic-nsg-v2-blob_fixtures.json", "msft-nsgconnector-nsg-v1-sampleOfInputV1.json", "sumologic-vnet-v4-target-vnet.json"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			blob := filepath.Join(dir, "PT1H.json")
			full := copyFile(t, filepath.Join("..", "testdata", "flowlogs", name), blob)
			sc := flowlog.NewScanner(bytes.NewReader(full))
			var records int
			for {
				if _, _, err := sc.Next(); err != nil {
					break
				}
				records++
			}
			if records < 2 {
				t.Skip("needs two records")
			}
			// The blob after its first record: Azure closes the array.
			sc = flowlog.NewScanner(bytes.NewReader(full))
			if _, _, err := sc.Next(); err != nil {
				t.Fatal(err)
			}
			end, _ := sc.End()
			early := append(append([]byte(nil), full[:end]...), "\n]\n}"...)
			if err := os.WriteFile(blob, early, 0o644); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			first := convertInto(t, out, dir)
			if first.Records != 1 {
				t.Fatalf("first run read %d records, want 1", first.Records)
			}
			// Grow it, and make sure the mtime moves.
			if err := os.WriteFile(blob, full, 0o644); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Second)
			os.Chtimes(blob, later, later)
			second := convertInto(t, out, dir)
			if second.Resumed != 1 || second.Records != int64(records-1) {
				t.Fatalf("second run: resumed %d, read %d records; want 1 and %d", second.Resumed, second.Records, records-1)
			}
			got, gotTot := readBack(t, out)
			clean := t.TempDir()
			convertInto(t, clean, dir)
			want, wantTot := readBack(t, clean)
			if gotTot != wantTot || !slices.Equal(got, want) {
				t.Fatalf("incremental %+v, clean %+v", gotTot, wantTot)
			}
		})
	}
}

// TestRewrittenBlob: a blob whose converted part changed is reported and
// skipped, never converted twice.
func TestRewrittenBlob(t *testing.T) {
	dir := t.TempDir()
	blob := filepath.Join(dir, "PT1H.json")
	full := copyFile(t, "../testdata/flowlogs/sumologic-nsg-v2-blob_fixtures.json", blob)
	out := t.TempDir()
	convertInto(t, out, dir)
	changed := bytes.Replace(full, []byte("10.1.0.4"), []byte("10.1.0.5"), 1)
	if err := os.WriteFile(blob, append(changed, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	var skipped []error
	cfg := flowlog.DefaultConfig()
	cfg.OnSkip = func(err error) { skipped = append(skipped, err) }
	sum, err := convertWith(t, out, cfg, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 0 || sum.Skipped["blob-changed"] != 1 || len(skipped) != 1 || !errors.Is(skipped[0], flowlog.ErrBlobChanged) {
		t.Fatalf("rows %d, skipped %v, errors %v", sum.Rows, sum.Skipped, skipped)
	}
}

// TestShardsUnionIsOneRun converts the samples as three shards into one
// dataset and compares with a single run.
func TestShardsUnionIsOneRun(t *testing.T) {
	src := "../testdata/flowlogs"
	single := t.TempDir()
	convertInto(t, single, src)
	want, _ := readBack(t, single)

	sharded := t.TempDir()
	var blobs int
	for i := 0; i < 3; i++ {
		cfg := flowlog.DefaultConfig()
		cfg.Shard, cfg.Shards = i, 3
		sum, err := convertWith(t, sharded, cfg, []string{"0of3", "1of3", "2of3"}[i], src)
		if err != nil {
			t.Fatal(err)
		}
		blobs += sum.Blobs
	}
	got, _ := readBack(t, sharded)
	if !slices.Equal(got, want) {
		t.Fatalf("sharded runs: %d rows, single run %d", len(got), len(want))
	}
	inputs, _ := flowlog.Discover([]string{src})
	if blobs != len(inputs) {
		t.Fatalf("shards read %d blobs, there are %d", blobs, len(inputs))
	}
	// An unsharded re-run over the sharded dataset adds nothing.
	again := convertInto(t, sharded, src)
	if again.Rows != 0 {
		t.Fatalf("re-run after shards wrote %d rows", again.Rows)
	}
}

// TestBadInput corrupts real records and checks that the errors name the
// file, offset, record, tuple and field, that good records around them are
// converted, that skips are counted by reason, and that Strict fails.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	blob := filepath.Join(dir, "PT1H.json")
	full, err := os.ReadFile("../testdata/flowlogs/sumologic-nsg-v2-blob_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	wantRows := oracleTotals(t, "../testdata/flowlogs/sumologic-nsg-v2-blob_fixtures.json").Tuples
	// One bad port in one tuple, and one record whose JSON is broken.
	bad := bytes.Replace(full, []byte(",35620,443,"), []byte(",35620,99999,"), 1)
	i := bytes.Index(bad, []byte(`"time":"2024-08-19T18:01`))
	if i < 0 {
		t.Fatal("sample changed")
	}
	bad = append(bad[:i:i], append([]byte(`"time":2024-08-19T18:01`), bad[i+len(`"time":"2024-08-19T18:01`):]...)...)
	if err := os.WriteFile(blob, bad, 0o644); err != nil {
		t.Fatal(err)
	}

	var msgs []string
	cfg := flowlog.DefaultConfig()
	cfg.OnSkip = func(err error) { msgs = append(msgs, err.Error()) }
	sum, err := convertWith(t, t.TempDir(), cfg, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped["bad-tuple"] != 1 || sum.Skipped["bad-json"] != 1 {
		t.Fatalf("skipped %v", sum.Skipped)
	}
	// The broken record's tuples are lost; every other tuple is converted.
	if sum.Rows >= wantRows-1 || sum.Rows == 0 {
		t.Fatalf("rows %d of %d", sum.Rows, wantRows)
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{blob + ": offset ", "record 0: tuple 0: field 4: bad flow tuple: bad port \"99999\"", "record 1: malformed JSON"} {
		if !strings.Contains(joined, want) {
			t.Errorf("messages lack %q:\n%s", want, joined)
		}
	}

	cfg = flowlog.DefaultConfig()
	cfg.Strict = true
	out := t.TempDir()
	_, err = convertWith(t, out, cfg, "", dir)
	var pe *flowlog.Error
	if !errors.As(err, &pe) || pe.Tuple != 0 || pe.Field != 4 || pe.Record != 0 || pe.File != blob {
		t.Fatalf("strict: %v", err)
	}
	if files, _ := columnar.Files(out); len(files) != 0 {
		t.Fatalf("strict run committed %d files", len(files))
	}
}

// TestTruncatedBlob: a blob cut inside a record (still being written)
// converts its complete records, reports the cut, and picks up the rest
// once the blob is whole.
func TestTruncatedBlob(t *testing.T) {
	dir := t.TempDir()
	blob := filepath.Join(dir, "PT1H.json")
	full := copyFile(t, "../testdata/flowlogs/sumologic-nsg-v2-blob_fixtures.json", blob)
	if err := os.WriteFile(blob, full[:len(full)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sum, err := convertWith(t, out, flowlog.DefaultConfig(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped["truncated"] != 1 || sum.Rows == 0 {
		t.Fatalf("rows %d, skipped %v", sum.Rows, sum.Skipped)
	}
	if err := os.WriteFile(blob, full, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	os.Chtimes(blob, later, later)
	convertInto(t, out, dir)
	_, got := readBack(t, out)
	if want := oracleTotals(t, blob); got != want {
		t.Fatalf("after completion %+v, want %+v", got, want)
	}
}

// TestCompressedInputs converts gzip and zstd copies of a sample (named
// like the plain file and not) and expects the rows of the plain file.
func TestCompressedInputs(t *testing.T) {
	src := "../testdata/flowlogs/sumologic-nsg-v1v2-mixed-blob_fixtures-2019.json"
	plain, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	clean := t.TempDir()
	convertInto(t, clean, src)
	want, _ := readBack(t, clean)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll(plain, nil)
	for name, data := range map[string][]byte{"PT1H.json.gz": gz.Bytes(), "PT1H.json.zst": zs, "blob.json": gz.Bytes()} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			convertInto(t, out, dir)
			got, _ := readBack(t, out)
			if !slices.Equal(got, want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
		})
	}
}
