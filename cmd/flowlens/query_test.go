package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/spf13/cobra"
)

// runQueryCLI runs flowlens as run does, with the query and report
// commands registered whether or not main registers them yet.
func runQueryCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRootCmd()
	for _, c := range []*cobra.Command{newQueryCmd(), newReportCmd()} {
		if sub, _, err := root.Find([]string{c.Name()}); err != nil || sub == root {
			root.AddCommand(c)
		}
	}
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	code = exitOK
	if err != nil {
		fmt.Fprintln(&errb, "flowlens:", err)
		code = exitFailed
		var ue usageError
		if errors.As(err, &ue) {
			code = exitUsage
		}
	}
	return code, out.String(), errb.String()
}

// sampleDS converts the real samples into a dataset for one test.
func sampleDS(t *testing.T) string {
	t.Helper()
	ds := filepath.Join(t.TempDir(), "ds")
	if code, _, stderr := runCLI(t, "convert", samples, "-o", ds); code != exitOK {
		t.Fatal(stderr)
	}
	return ds
}

func TestQueryFormats(t *testing.T) {
	ds := sampleDS(t)
	const filter = "src ip 10.1.0.4 and dst port 3389 or deny and in"
	code, stdout, stderr := runQueryCLI(t, "query", ds, filter, "--stats")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("csv: %v\n%s", err, stdout)
	}
	if got := strings.Join(recs[0], ","); got != strings.Join(queryDefaultFields, ",") {
		t.Fatalf("header %s", got)
	}
	rows := len(recs) - 1
	if !strings.Contains(stderr, fmt.Sprintf("%d rows printed", rows)) {
		t.Fatalf("stats: %s", stderr)
	}
	for _, r := range recs[1:] {
		if !(r[2] == "10.1.0.4" && r[5] == "3389" || r[8] == "deny" && r[7] == "in") {
			t.Fatalf("row does not match the filter: %v", r)
		}
	}

	code, stdout, _ = runQueryCLI(t, "query", ds, filter, "--format", "json", "--fields", "time,src_ip,dst_port,nsg,bytes,state")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitOK || len(lines) != rows {
		t.Fatalf("json: exit %d, %d lines, want %d", code, len(lines), rows)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &obj); err != nil {
		t.Fatal(err)
	}
	if _, ok := obj["dst_port"].(float64); !ok || len(obj) != 6 {
		t.Fatalf("json row %s", lines[0])
	}
	if !strings.HasPrefix(lines[0], `{"time":"`) {
		t.Fatalf("fields out of order: %s", lines[0])
	}

	code, stdout, _ = runQueryCLI(t, "query", ds, filter, "--format", "table", "--fields", "src_ip,dst_port,decision")
	if code != exitOK || !strings.HasPrefix(stdout, "src_ip") || strings.Count(stdout, "\n") != rows+1 {
		t.Fatalf("table: exit %d\n%s", code, stdout)
	}

	code, stdout, _ = runQueryCLI(t, "query", ds, filter, "--format", "arrow", "--fields", "time,src_ip,bytes_out")
	if code != exitOK {
		t.Fatal("arrow")
	}
	r, err := ipc.NewReader(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next() {
		n += int(r.RecordBatch().NumRows())
	}
	if n != rows || r.Schema().NumFields() != 3 || r.Schema().Field(1).Name != "src_ip" {
		t.Fatalf("arrow: %d rows, schema %v", n, r.Schema())
	}
	r.Release()
	code, stdout, _ = runQueryCLI(t, "query", ds, filter, "--format", "arrow")
	if code != exitOK || arrowRows(t, strings.NewReader(stdout)) != int64(rows) {
		t.Fatal("arrow, every column")
	}
}

func TestQueryLimitSort(t *testing.T) {
	ds := sampleDS(t)
	_, all, _ := runQueryCLI(t, "query", ds, "--fields", "time,src_port,bytes")
	recs, _ := csv.NewReader(strings.NewReader(all)).ReadAll()
	total := len(recs) - 1
	if total < 100 {
		t.Fatalf("%d rows in the samples", total)
	}
	code, out, _ := runQueryCLI(t, "query", ds, "--fields", "time,src_port,bytes", "--limit", "7")
	if got, _ := csv.NewReader(strings.NewReader(out)).ReadAll(); code != exitOK || len(got) != 8 || strings.Join(got[7], ",") != strings.Join(recs[7], ",") {
		t.Fatalf("limit: exit %d\n%s", code, out)
	}
	// Sorting with and without a limit agree, ties in dataset order, nulls last.
	for _, spec := range []string{"src_port", "bytes,desc", "time"} {
		_, full, _ := runQueryCLI(t, "query", ds, "--fields", "time,src_port,bytes", "--sort", spec)
		_, some, _ := runQueryCLI(t, "query", ds, "--fields", "time,src_port,bytes", "--sort", spec, "--limit", "25")
		fullRecs, _ := csv.NewReader(strings.NewReader(full)).ReadAll()
		someRecs, _ := csv.NewReader(strings.NewReader(some)).ReadAll()
		if len(fullRecs) != total+1 || len(someRecs) != 26 {
			t.Fatalf("%s: %d and %d rows", spec, len(fullRecs), len(someRecs))
		}
		for i := range someRecs {
			if strings.Join(someRecs[i], ",") != strings.Join(fullRecs[i], ",") {
				t.Fatalf("%s: row %d: %v with a limit, %v without", spec, i, someRecs[i], fullRecs[i])
			}
		}
		col := map[string]int{"src_port": 1, "bytes,desc": 2, "time": 0}[spec]
		for i := 2; i < len(fullRecs); i++ {
			a, b := fullRecs[i-1][col], fullRecs[i][col]
			if spec == "bytes,desc" {
				if a == "" && b != "" || a != "" && b != "" && len(a) < len(b) {
					t.Fatalf("%s: %q before %q", spec, a, b)
				}
				continue
			}
			if spec == "src_port" && len(a) > len(b) || spec == "time" && a > b {
				t.Fatalf("%s: %q before %q", spec, a, b)
			}
		}
	}
}

func TestQueryErrors(t *testing.T) {
	ds := sampleDS(t)
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"syntax", []string{"query", ds, "deny and src port https"}, exitUsage,
			"filter:19: expected a port number or range after \"port\", found \"https\"\ndeny and src port https\n                  ^~~~~"},
		{"field", []string{"query", ds, "deny", "--fields", "time,bogus"}, exitUsage, `no field "bogus"`},
		{"arrow field", []string{"query", ds, "--format", "arrow", "--fields", "nsg"}, exitUsage, "not a column"},
		{"format", []string{"query", ds, "--format", "xml"}, exitUsage, "--format"},
		{"sort", []string{"query", ds, "--sort", "time,up"}, exitUsage, "--sort"},
		{"no dataset", []string{"query", filepath.Join(t.TempDir(), "nope"), "deny"}, exitFailed, "no such file"},
		{"args", []string{"query"}, exitUsage, "accepts between 1 and 2 arg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runQueryCLI(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", code, c.code, c.msg, stderr)
			}
		})
	}
}

// TestScanGC: query and report do not collect garbage in their first
// moments (below 64 MiB of heap), then less often than by default (GOGC
// 400); GOGC in the environment is left alone, and with GOMEMLIMIT set
// only GOGC changes.
func TestScanGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	const noLimit = math.MaxInt64
	debug.SetMemoryLimit(noLimit)
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	scanGC()
	if pct, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); pct != -1 || limit != gcQuietLimit {
		t.Errorf("GC percent %d, memory limit %d at first; want -1 (off) and %d", pct, limit, gcQuietLimit)
	}
	scanGC() // a second run while the first is quiet: both end with the limit of before the first
	if before := gcLimitBefore(); before == gcQuietLimit {
		t.Errorf("the limit to restore is the quiet one (%d)", before)
	}
	endQuietGC(noLimit)
	if pct, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); pct != 400 || limit != noLimit {
		t.Errorf("GC percent %d, memory limit %d after the first moments; want 400 and the limit before (%d)", pct, limit, int64(noLimit))
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	scanGC()
	if pct, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); pct != 400 || limit != noLimit {
		t.Errorf("with GOMEMLIMIT set: GC percent %d, memory limit %d; want 400 and the limit left alone", pct, limit)
	}
	t.Setenv("GOGC", "50")
	scanGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d after scanGC with GOGC set, want it left alone (100)", got)
	}
}
