package flowlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/flowlog"
	"github.com/flowlens/flowlens/internal/arrowscan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// sampleFiles lists the real flow logs to test: those copied into
// testdata/, and every sample in ../shared/samples when it is there.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../testdata/flowlogs/*")
	if err != nil {
		t.Fatal(err)
	}
	shared, _ := filepath.Glob("../../shared/samples/flowlogs/*")
	have := map[string]bool{}
	for _, f := range files {
		have[filepath.Base(f)] = true
	}
	for _, f := range shared {
		if !have[filepath.Base(f)] {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatal("no sample flow logs found")
	}
	return files
}

// oracleTotals counts flow tuples and sums their counters with
// encoding/json, independently of the package's scanner and decoder. It
// knows the quirks of the samples: BOM, leading comma of a block fragment,
// trailing commas, newline-delimited records.
type totals struct {
	Tuples                                   int64
	PacketsOut, BytesOut, PacketsIn, BytesIn int64
}

var trailingComma = regexp.MustCompile(`,(\s*[\]}])`)

func oracleTotals(t *testing.T, name string) totals {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimSpace(b)
	b = bytes.TrimPrefix(b, []byte(","))
	b = trailingComma.ReplaceAll(b, []byte("$1"))
	var tot totals
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			// A block fragment is several records separated by commas.
			dec = json.NewDecoder(io.MultiReader(strings.NewReader("["), bytes.NewReader(b), strings.NewReader("]")))
			tot = totals{}
			continue
		}
		walkTuples(v, &tot)
	}
	return tot
}

func walkTuples(v any, tot *totals) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "flowTuples" {
				for _, s := range e.([]any) {
					tot.Tuples++
					f := strings.Split(s.(string), ",")
					if len(f) == 13 && f[9] != "" {
						add := func(dst *int64, s string) {
							n, _ := strconv.ParseInt(s, 10, 64)
							*dst += n
						}
						add(&tot.PacketsOut, f[9])
						add(&tot.BytesOut, f[10])
						add(&tot.PacketsIn, f[11])
						add(&tot.BytesIn, f[12])
					}
				}
				continue
			}
			walkTuples(e, tot)
		}
	case []any:
		for _, e := range x {
			walkTuples(e, tot)
		}
	}
}

func convertInto(t *testing.T, out string, srcs ...string) *flowlog.Summary {
	t.Helper()
	inputs, err := flowlog.Discover(srcs)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := columnar.OpenDataset(out, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	cfg := flowlog.DefaultConfig()
	cfg.Workers = 1
	cfg.Strict = true
	sum, err := flowlog.Convert(context.Background(), inputs, ds, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// readBack reads every row of a dataset as CSV lines, sorted, and sums
// the counters.
func readBack(t *testing.T, root string) ([]string, totals) {
	t.Helper()
	var lines []string
	var tot totals
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Join(root, filepath.FromSlash(f.Path))
	}
	err = arrowscan.ScanFiles(context.Background(), names, nil, func(rec arrow.RecordBatch) error {
		for i := 0; i < int(rec.NumRows()); i++ {
			var b strings.Builder
			for c, col := range rec.Columns() {
				if c > 0 {
					b.WriteByte(',')
				}
				b.WriteString(cell(col, i))
			}
			lines = append(lines, b.String())
			tot.Tuples++
			tot.PacketsOut += int64Cell(rec.Column(15), i)
			tot.BytesOut += int64Cell(rec.Column(16), i)
			tot.PacketsIn += int64Cell(rec.Column(17), i)
			tot.BytesIn += int64Cell(rec.Column(18), i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return lines, tot
}

func int64Cell(a arrow.Array, i int) int64 {
	if a.IsNull(i) {
		return 0
	}
	return a.(*array.Int64).Value(i)
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch x := a.(type) {
	case *array.Timestamp:
		return x.Value(i).ToTime(arrow.Microsecond).UTC().Format("2006-01-02T15:04:05.000Z")
	case *array.Dictionary:
		return x.Dictionary().(*array.String).Value(x.GetValueIndex(i))
	case *array.String:
		return x.Value(i)
	case *array.Int32:
		return strconv.Itoa(int(x.Value(i)))
	case *array.Int64:
		return strconv.FormatInt(x.Value(i), 10)
	}
	return fmt.Sprintf("?%T", a)
}

// TestSamples converts every real sample and checks that rows written
// equal the flow tuples in the file, and that the counter sums agree, with
// an independent encoding/json count. Samples in testdata/ also have a
// golden CSV of every row (go test ./flowlog -run TestSamples -update).
func TestSamples(t *testing.T) {
	for _, name := range sampleFiles(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			want := oracleTotals(t, name)
			if want.Tuples == 0 {
				t.Fatalf("oracle found no tuples in %s", name)
			}
			out := t.TempDir()
			sum := convertInto(t, out, name)
			if sum.Rows != want.Tuples || sum.Tuples != want.Tuples {
				t.Errorf("summary: %d tuples, %d rows; oracle: %d tuples", sum.Tuples, sum.Rows, want.Tuples)
			}
			if sum.SkippedTotal() != 0 {
				t.Errorf("skipped %v", sum.Skipped)
			}
			lines, got := readBack(t, out)
			if got != want {
				t.Errorf("read back %+v, oracle %+v", got, want)
			}
			if filepath.Dir(name) != filepath.Join("..", "testdata", "flowlogs") {
				return
			}
			golden := filepath.Join("..", "testdata", "golden", strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))+".csv")
			header := strings.Join(fieldNames(), ",")
			text := header + "\n" + strings.Join(lines, "\n") + "\n"
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantText, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(wantText) != text {
				t.Errorf("rows differ from %s (run with -update after checking the diff):\n%s", golden, firstDiff(string(wantText), text))
			}
		})
	}
}

func fieldNames() []string {
	var out []string
	for _, f := range columnar.Schema.Fields() {
		out = append(out, f.Name)
	}
	return out
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, a, b)
		}
	}
	return ""
}

// TestSamplesTogether converts all samples in one run with several workers
// and checks the totals, then re-runs and checks that nothing is added.
func TestSamplesTogether(t *testing.T) {
	var want totals
	dir := t.TempDir()
	for i, name := range sampleFiles(t) {
		tot := oracleTotals(t, name)
		want.Tuples += tot.Tuples
		want.PacketsOut += tot.PacketsOut
		want.BytesOut += tot.BytesOut
		want.PacketsIn += tot.PacketsIn
		want.BytesIn += tot.BytesIn
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s", i, filepath.Base(name))), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	inputs, err := flowlog.Discover([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := columnar.OpenDataset(out, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := flowlog.DefaultConfig()
	cfg.Workers = 3
	sum, err := flowlog.Convert(context.Background(), inputs, ds, cfg, nil)
	ds.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != want.Tuples {
		t.Errorf("rows %d, want %d", sum.Rows, want.Tuples)
	}
	_, got := readBack(t, out)
	if got != want {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	again := convertInto(t, out, dir)
	if again.Rows != 0 || again.Unchanged != len(inputs) {
		t.Errorf("re-run: %d rows, %d unchanged of %d", again.Rows, again.Unchanged, len(inputs))
	}
	if _, got := readBack(t, out); got != want {
		t.Errorf("after re-run: %+v, want %+v", got, want)
	}
}
