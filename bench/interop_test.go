package bench_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/flowlens/flowlens/bench/duckconv"
	"github.com/flowlens/flowlens/bench/gen"
	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/flowlog"
)

// openDuck opens an in-memory DuckDB on one connection (so that SET sticks)
// with UTC as the session time zone.
func openDuck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("open duckdb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	for _, q := range []string{"SET TimeZone = 'UTC'", "SET threads = 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

// convert runs the flowlens conversion in-process, as `flowlens convert
// SRC... -o out --workers N` does, and fails the test on any skip.
func convert(t *testing.T, srcs []string, out string, workers int) *flowlog.Summary {
	t.Helper()
	inputs, err := flowlog.Discover(srcs)
	if err != nil {
		t.Fatalf("discover %v: %v", srcs, err)
	}
	ds, err := columnar.OpenDataset(out, "")
	if err != nil {
		t.Fatalf("open dataset %s: %v", out, err)
	}
	defer ds.Close()
	cfg := flowlog.DefaultConfig()
	cfg.Workers = workers
	var mu sync.Mutex
	var skips []string
	cfg.OnSkip = func(err error) {
		mu.Lock()
		defer mu.Unlock()
		skips = append(skips, err.Error())
	}
	sum, err := flowlog.Convert(context.Background(), inputs, ds, cfg, nil)
	if err != nil {
		t.Fatalf("convert %v: %v", srcs, err)
	}
	if len(skips) > 0 {
		t.Errorf("convert %v skipped %d items, first: %s", srcs, len(skips), skips[0])
	}
	return sum
}

// parquetFrom is the FROM clause that reads a flowlens dataset the way the
// README says DuckDB should.
func parquetFrom(out string) string {
	return fmt.Sprintf("read_parquet('%s/flows/**/*.parquet', hive_partitioning = true)", filepath.ToSlash(out))
}

// tableTotals is what DuckDB counts in a table of flow rows; it mirrors
// the fields of gen.Totals.
type tableTotals struct {
	Rows                                     int64
	PacketsOut, BytesOut, PacketsIn, BytesIn int64
	NullCounters, Denies                     int64
	SrcPortSum, DstPortSum, ProtoSum         int64
	TimeOffsetMsSum                          int64
	DistinctSrcIPs, DistinctDstIPs           int64
	DistinctMACs, DistinctResourceIDs        int64
	BySource, ByState, ByHour                map[string]int64
}

// duckTotals counts, in DuckDB, the rows of from (a table function call or
// a parenthesised query), with times as offsets from start.
func duckTotals(t *testing.T, db *sql.DB, from string, start time.Time) tableTotals {
	t.Helper()
	var g tableTotals
	q := fmt.Sprintf(`SELECT count(*),
		coalesce(sum(packets_out), 0)::BIGINT, coalesce(sum(bytes_out), 0)::BIGINT,
		coalesce(sum(packets_in), 0)::BIGINT, coalesce(sum(bytes_in), 0)::BIGINT,
		count(*) FILTER (WHERE packets_out IS NULL), count(*) FILTER (WHERE decision = 'deny'),
		coalesce(sum(src_port), 0)::BIGINT, coalesce(sum(dst_port), 0)::BIGINT, coalesce(sum(proto), 0)::BIGINT,
		coalesce(sum(epoch_ms(time) - %d), 0)::BIGINT,
		count(DISTINCT src_ip), count(DISTINCT dst_ip), count(DISTINCT mac), count(DISTINCT resource_id)
		FROM %s`, start.UnixMilli(), from)
	err := db.QueryRow(q).Scan(&g.Rows, &g.PacketsOut, &g.BytesOut, &g.PacketsIn, &g.BytesIn,
		&g.NullCounters, &g.Denies, &g.SrcPortSum, &g.DstPortSum, &g.ProtoSum, &g.TimeOffsetMsSum,
		&g.DistinctSrcIPs, &g.DistinctDstIPs, &g.DistinctMACs, &g.DistinctResourceIDs)
	if err != nil {
		t.Fatalf("totals of %s: %v", from, err)
	}
	g.BySource = groupCounts(t, db, "source", from)
	g.ByState = groupCounts(t, db, "state", from)
	g.ByHour = groupCounts(t, db, "strftime(time, '%Y-%m-%dT%H')", from)
	return g
}

// groupCounts returns count(*) by expr, leaving out NULL keys.
func groupCounts(t *testing.T, db *sql.DB, expr, from string) map[string]int64 {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf("SELECT %s AS k, count(*) FROM %s WHERE k IS NOT NULL GROUP BY k", expr, from))
	if err != nil {
		t.Fatalf("count by %s: %v", expr, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatalf("count by %s: %v", expr, err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("count by %s: %v", expr, err)
	}
	return out
}

// compareTotals reports every field where DuckDB's count differs from the
// generator's.
func compareTotals(t *testing.T, what string, got tableTotals, want *gen.Totals) {
	t.Helper()
	scalars := []struct {
		name      string
		got, want int64
	}{
		{"rows", got.Rows, want.Tuples},
		{"sum(packets_out)", got.PacketsOut, want.PacketsOut},
		{"sum(bytes_out)", got.BytesOut, want.BytesOut},
		{"sum(packets_in)", got.PacketsIn, want.PacketsIn},
		{"sum(bytes_in)", got.BytesIn, want.BytesIn},
		{"rows with null counters", got.NullCounters, want.NullCounters},
		{"deny rows", got.Denies, want.Denies},
		{"sum(src_port)", got.SrcPortSum, want.SrcPortSum},
		{"sum(dst_port)", got.DstPortSum, want.DstPortSum},
		{"sum(proto)", got.ProtoSum, want.ProtoSum},
		{"sum of time offsets (ms)", got.TimeOffsetMsSum, want.TimeOffsetMsSum},
		{"distinct src_ip", got.DistinctSrcIPs, int64(want.DistinctSrcIPs)},
		{"distinct dst_ip", got.DistinctDstIPs, int64(want.DistinctDstIPs)},
		{"distinct mac", got.DistinctMACs, int64(want.DistinctMACs)},
		{"distinct resource_id", got.DistinctResourceIDs, int64(want.DistinctResourceIDs)},
	}
	for _, s := range scalars {
		if s.got != s.want {
			t.Errorf("%s: %s = %d, generator wrote %d", what, s.name, s.got, s.want)
		}
	}
	maps := []struct {
		name      string
		got, want map[string]int64
	}{
		{"rows by source", got.BySource, want.BySource},
		{"rows by state", got.ByState, want.ByState},
		{"rows by UTC hour of time", got.ByHour, want.ByHour},
	}
	for _, m := range maps {
		if d := diffCounts(m.got, m.want); d != "" {
			t.Errorf("%s: %s differ (-duckdb +generator):\n%s", what, m.name, d)
		}
	}
}

func diffCounts(got, want map[string]int64) string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var b strings.Builder
	for _, k := range sorted {
		if got[k] != want[k] {
			fmt.Fprintf(&b, "  %q: -%d +%d\n", k, got[k], want[k])
		}
	}
	return b.String()
}

// wantTypes are the DuckDB types of the flowlens columns (time may be
// read with or without the time zone).
var wantTypes = map[string][]string{
	"time":        {"TIMESTAMP WITH TIME ZONE", "TIMESTAMP"},
	"source":      {"VARCHAR"},
	"resource_id": {"VARCHAR"},
	"mac":         {"VARCHAR"},
	"rule":        {"VARCHAR"},
	"src_ip":      {"VARCHAR"},
	"dst_ip":      {"VARCHAR"},
	"src_port":    {"INTEGER"},
	"dst_port":    {"INTEGER"},
	"protocol":    {"VARCHAR"},
	"proto":       {"INTEGER"},
	"direction":   {"VARCHAR"},
	"decision":    {"VARCHAR"},
	"state":       {"VARCHAR"},
	"packets_out": {"BIGINT"},
	"bytes_out":   {"BIGINT"},
	"packets_in":  {"BIGINT"},
	"bytes_in":    {"BIGINT"},
	"acl_id":      {"VARCHAR"},
	"flow_log_id": {"VARCHAR"},
	"encryption":  {"VARCHAR"},
	// Hive partition columns: hour is unpadded (hour=5), so DuckDB infers
	// an integer (a zero-padded hour=05 made it VARCHAR).
	"date": {"DATE"},
	"hour": {"BIGINT"},
}

func checkTypes(t *testing.T, db *sql.DB, from string) {
	t.Helper()
	rows, err := db.Query("DESCRIBE SELECT * FROM " + from)
	if err != nil {
		t.Fatalf("describe %s: %v", from, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		got[fmt.Sprint(vals[0])] = fmt.Sprint(vals[1])
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for col, want := range wantTypes {
		typ, ok := got[col]
		switch {
		case !ok:
			t.Errorf("column %s missing; DuckDB sees %v", col, got)
		case !contains(want, typ):
			t.Errorf("column %s is %s in DuckDB, want %s", col, typ, strings.Join(want, " or "))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compareColumns are the columns on which flowlens and DuckDB's own
// conversion (package duckconv) must agree row for row.
const compareColumns = `time, source, resource_id, mac, rule, src_ip, dst_ip, src_port, dst_port,
	protocol, proto, direction, decision, state, packets_out, bytes_out, packets_in, bytes_in,
	acl_id, flow_log_id, encryption`

// rowDiff returns how many rows of a are not in b and of b not in a, as
// multisets, with up to three examples of each.
func rowDiff(t *testing.T, db *sql.DB, a, b string) (onlyA, onlyB int64, examples []string) {
	t.Helper()
	count := func(x, y string) int64 {
		var n int64
		q := fmt.Sprintf("SELECT count(*) FROM (SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s)", compareColumns, x, compareColumns, y)
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("row diff: %v", err)
		}
		if n > 0 {
			q = fmt.Sprintf("SELECT CAST(ROW(%s) AS VARCHAR) FROM (SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s) LIMIT 3", compareColumns, compareColumns, x, compareColumns, y)
			rows, err := db.Query(q)
			if err != nil {
				t.Fatalf("row diff: %v", err)
			}
			defer rows.Close()
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				examples = append(examples, s)
			}
		}
		return n
	}
	return count(a, b), count(b, a), examples
}

// generatedTree is one small mixed tree, generated once for all tests.
var generatedTree = sync.OnceValues(func() (*generated, error) {
	dir, err := os.MkdirTemp("", "flowlens-bench-tree-")
	if err != nil {
		return nil, err
	}
	cfg := gen.DefaultConfig()
	cfg.Seed = 20240501
	cfg.Resources = 9
	cfg.Hours = 3
	cfg.Start = time.Date(2024, 5, 1, 22, 0, 0, 0, time.UTC) // crosses midnight: two date partitions
	cfg.TargetSize = 6 << 20
	tree := filepath.Join(dir, "tree")
	tot, err := gen.Generate(context.Background(), tree, cfg)
	if err != nil {
		return nil, err
	}
	return &generated{dir: dir, tree: tree, totals: tot}, nil
})

type generated struct {
	dir, tree string
	totals    *gen.Totals
}

func TestMain(m *testing.M) {
	code := m.Run()
	if g, err := generatedTree(); err == nil {
		os.RemoveAll(g.dir)
	}
	os.Exit(code)
}

func tree(t *testing.T) *generated {
	t.Helper()
	g, err := generatedTree()
	if err != nil {
		t.Fatalf("generate tree: %v", err)
	}
	return g
}

// TestGeneratedTree converts a generated tree in-process and checks, in
// DuckDB, the dataset's types, counts, sums and partitions against the
// generator's totals.
func TestGeneratedTree(t *testing.T) {
	g := tree(t)
	want := g.totals
	if want.BySource["nsg-v1"] == 0 || want.BySource["nsg-v2"] == 0 || want.BySource["vnet"] == 0 {
		t.Fatalf("the tree should mix every format: %v", want.BySource)
	}
	if s := want.DenyShare(); s < 0.08 || s > 0.25 {
		t.Errorf("deny share %.3f: the generator should write 10-20%% denies", s)
	}
	out := filepath.Join(t.TempDir(), "ds")
	sum := convert(t, []string{g.tree}, out, 2)
	if sum.Rows != want.Tuples || sum.Tuples != want.Tuples || sum.Records != want.Records || int64(sum.Blobs) != want.Files {
		t.Errorf("flowlens summary: %d blobs, %d records, %d tuples, %d rows; generator wrote %d blobs, %d records, %d tuples",
			sum.Blobs, sum.Records, sum.Tuples, sum.Rows, want.Files, want.Records, want.Tuples)
	}

	db := openDuck(t)
	from := parquetFrom(out)
	checkTypes(t, db, from)
	compareTotals(t, "flowlens dataset", duckTotals(t, db, from, want.Start), want)

	// Every row is in the Hive partition of its time's UTC hour.
	var misplaced int64
	err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %s
		WHERE strftime(time, '%%Y-%%m-%%d') <> CAST(date AS VARCHAR) OR hour(time) <> CAST(hour AS INTEGER)`, from)).Scan(&misplaced)
	if err != nil {
		t.Fatal(err)
	}
	if misplaced != 0 {
		t.Errorf("%d rows are in a partition other than their time's", misplaced)
	}
	// The manifest names exactly the files DuckDB reads, with their rows.
	files, err := columnar.Files(out)
	if err != nil {
		t.Fatal(err)
	}
	var manifestRows int64
	for _, f := range files {
		manifestRows += f.Rows
	}
	var parquetFiles int64
	q := fmt.Sprintf("SELECT count(DISTINCT filename) FROM read_parquet('%s/flows/**/*.parquet', filename = true)", filepath.ToSlash(out))
	if err := db.QueryRow(q).Scan(&parquetFiles); err != nil {
		t.Fatal(err)
	}
	if manifestRows != want.Tuples || parquetFiles != int64(len(files)) {
		t.Errorf("manifest: %d files with %d rows; DuckDB reads %d files, generator wrote %d tuples", len(files), manifestRows, parquetFiles, want.Tuples)
	}
}

// TestDuckDBConversionMatches checks the side-by-side benchmark's premise:
// DuckDB's conversion (package duckconv) of a generated tree yields the
// generator's totals and the very rows flowlens writes.
func TestDuckDBConversionMatches(t *testing.T) {
	g := tree(t)
	out := filepath.Join(t.TempDir(), "ds")
	convert(t, []string{g.tree}, out, 2)
	db := openDuck(t)
	duck := "(" + duckconv.Select(filepath.ToSlash(g.tree)+"/**/*.json", duckconv.Options{}) + ")"
	compareTotals(t, "duckconv", duckTotals(t, db, duck, g.totals.Start), g.totals)
	onlyFlowlens, onlyDuck, ex := rowDiff(t, db, parquetFrom(out), duck)
	if onlyFlowlens != 0 || onlyDuck != 0 {
		t.Errorf("%d rows only in flowlens' dataset, %d only in DuckDB's conversion; examples: %s", onlyFlowlens, onlyDuck, strings.Join(ex, "\n"))
	}
}

// TestCLI builds ../cmd/flowlens, converts the generated tree with the
// command the side-by-side runs, and checks its JSON summary and the
// dataset's row count and counter sums.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the flowlens binary")
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
	cmd := exec.Command(bin, "convert", g.tree, "-o", out, "--workers", "2", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("flowlens convert: %v\n%s", err, stderr.Bytes())
	}
	var sum flowlog.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("flowlens convert --json printed %q: %v", stdout.Bytes(), err)
	}
	want := g.totals
	if sum.Rows != want.Tuples || sum.SkippedTotal() != 0 || int64(sum.Blobs) != want.Files {
		t.Errorf("flowlens convert --json: %d blobs, %d rows, %d skipped; generator wrote %d blobs, %d tuples", sum.Blobs, sum.Rows, sum.SkippedTotal(), want.Files, want.Tuples)
	}
	db := openDuck(t)
	got := duckTotals(t, db, parquetFrom(out), want.Start)
	compareTotals(t, "flowlens convert", got, want)
}

// sampleFiles lists the real flow logs: testdata/flowlogs of the main
// module, and ../shared/samples/flowlogs beside the repository when it is
// there (files of the same name are taken once).
func sampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../testdata/flowlogs/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no samples in ../testdata/flowlogs")
	}
	have := map[string]bool{}
	for _, f := range files {
		have[filepath.Base(f)] = true
	}
	shared, _ := filepath.Glob("../../shared/samples/flowlogs/*")
	for _, f := range shared {
		if !have[filepath.Base(f)] {
			files = append(files, f)
		}
	}
	return files
}

// oracle is an independent count of a flow log file with encoding/json.
type oracle struct {
	Records, Tuples                          int64
	PacketsOut, BytesOut, PacketsIn, BytesIn int64
	Denies                                   int64
	WholeBlob                                bool // one {"records":[...]} object, valid JSON as it is (but for a BOM)
}

var trailingComma = regexp.MustCompile(`,(\s*[\]}])`)

// countSample counts the records, tuples and counters of a flow log file
// with encoding/json. It knows the shapes the samples come in: a BOM, the
// leading comma of an appended block, trailing commas, newline-delimited
// records, a whole {"records":[...]} blob.
func countSample(t *testing.T, name string) oracle {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	var o oracle
	o.WholeBlob = json.Valid(b) && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) && bytes.Contains(b[:min(len(b), 200)], []byte(`"records"`))
	b = bytes.TrimSpace(b)
	b = bytes.TrimPrefix(b, []byte(","))
	b = trailingComma.ReplaceAll(b, []byte("$1"))
	// Values one after the other (a blob, NDJSON); a block of records
	// separated by commas is read as an array.
	var values []any
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			values = nil
			var arr []any
			if err := json.Unmarshal(append(append([]byte("["), b...), ']'), &arr); err != nil {
				t.Fatalf("oracle cannot read %s: %v", name, err)
			}
			values = arr
			break
		}
		values = append(values, v)
	}
	var records []any
	for _, v := range values {
		switch x := v.(type) {
		case map[string]any:
			if rs, ok := x["records"].([]any); ok {
				records = append(records, rs...)
			} else {
				records = append(records, x)
			}
		case []any:
			records = append(records, x...)
		}
	}
	for _, r := range records {
		rec, _ := r.(map[string]any)
		o.Records++
		var tuples []any
		if props, ok := rec["properties"].(map[string]any); ok {
			for _, rf := range list(props["flows"]) {
				for _, nf := range list(obj(rf)["flows"]) {
					tuples = append(tuples, list(obj(nf)["flowTuples"])...)
				}
			}
		}
		if fr, ok := rec["flowRecords"].(map[string]any); ok {
			for _, fa := range list(fr["flows"]) {
				for _, fg := range list(obj(fa)["flowGroups"]) {
					tuples = append(tuples, list(obj(fg)["flowTuples"])...)
				}
			}
		}
		for _, tu := range tuples {
			s, _ := tu.(string)
			f := strings.Split(s, ",")
			o.Tuples++
			// Field 7 is the decision in NSG tuples, the state in VNet
			// ones; D is a deny in both.
			if len(f) >= 8 && f[7] == "D" {
				o.Denies++
			}
			if len(f) == 13 && f[9] != "" {
				var c [4]int64
				for i := range c {
					if _, err := fmt.Sscan(f[9+i], &c[i]); err != nil {
						t.Fatalf("%s: tuple %q: counter %d: %v", name, s, i, err)
					}
				}
				o.PacketsOut += c[0]
				o.BytesOut += c[1]
				o.PacketsIn += c[2]
				o.BytesIn += c[3]
			}
		}
	}
	return o
}

func list(v any) []any { l, _ := v.([]any); return l }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// TestSamples converts every real sample on its own and checks DuckDB's
// row count, deny count and counter sums against the encoding/json
// oracle; for whole blobs DuckDB's own conversion must also give the same
// rows, column for column.
func TestSamples(t *testing.T) {
	db := openDuck(t)
	for _, name := range sampleFiles(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			want := countSample(t, name)
			if want.Tuples == 0 {
				t.Fatalf("oracle found no tuples in %s", name)
			}
			out := filepath.Join(t.TempDir(), "ds")
			sum := convert(t, []string{name}, out, 1)
			if sum.Records != want.Records || sum.Rows != want.Tuples {
				t.Errorf("flowlens summary: %d records, %d rows; oracle: %d records, %d tuples", sum.Records, sum.Rows, want.Records, want.Tuples)
			}
			from := parquetFrom(out)
			checkTypes(t, db, from)
			var got oracle
			err := db.QueryRow(fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE decision = 'deny'),
				coalesce(sum(packets_out), 0)::BIGINT, coalesce(sum(bytes_out), 0)::BIGINT,
				coalesce(sum(packets_in), 0)::BIGINT, coalesce(sum(bytes_in), 0)::BIGINT FROM %s`, from)).
				Scan(&got.Tuples, &got.Denies, &got.PacketsOut, &got.BytesOut, &got.PacketsIn, &got.BytesIn)
			if err != nil {
				t.Fatal(err)
			}
			got.Records, got.WholeBlob = want.Records, want.WholeBlob
			if got != want {
				t.Errorf("DuckDB reads %+v\n      oracle counts %+v", got, want)
			}
			if !want.WholeBlob {
				return
			}
			duck := "(" + duckconv.Select(filepath.ToSlash(name), duckconv.Options{}) + ")"
			onlyFlowlens, onlyDuck, ex := rowDiff(t, db, from, duck)
			if onlyFlowlens != 0 || onlyDuck != 0 {
				t.Errorf("%d rows only in flowlens' dataset, %d only in DuckDB's read_json conversion; examples:\n%s", onlyFlowlens, onlyDuck, strings.Join(ex, "\n"))
			}
		})
	}
}
