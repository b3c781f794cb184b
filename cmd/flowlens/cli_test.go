package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/spf13/cobra"

	"github.com/flowlens/flowlens/columnar"
)

const samples = "../../testdata/flowlogs"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConvertJSONSummary(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	code, stdout, stderr := runCLI(t, "convert", samples, "-o", out, "--json", "--workers", "2")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct {
		Inputs  int              `json:"inputs"`
		Rows    int64            `json:"rows"`
		Tuples  int64            `json:"tuples"`
		Skipped map[string]int64 `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, stdout)
	}
	if sum.Inputs != 9 || sum.Rows == 0 || sum.Rows != sum.Tuples || len(sum.Skipped) != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.Contains(stderr, "converted 9 of 9 inputs") || !strings.Contains(stderr, "0 skipped") || !strings.Contains(stderr, "MB/s") {
		t.Fatalf("summary line: %q", stderr)
	}
	files, err := columnar.Files(out)
	if err != nil || len(files) == 0 {
		t.Fatalf("files %v, %v", files, err)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"records":[{"time":"x","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":2,"flows":[{"rule":"r","flows":[{"mac":"000D3AF87856","flowTuples":["1542110379,10.5.16.4,13.67.143.117,59932,443,T,O,A,E,1,66,1,66","1542110379,10.5.16.4,nope,1,2,T,O,A,E,1,66,1,66"]}]}]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"querry"}, exitUsage, "Did you mean this?\n\tquery"},
		{"no output", []string{"convert", samples}, exitUsage, "-o OUT is required"},
		{"no source", []string{"convert", "-o", dir}, exitUsage, "requires at least 1 arg"},
		{"bad flag", []string{"convert", samples, "-o", dir, "--bogus"}, exitUsage, "unknown flag"},
		{"bad shard", []string{"convert", samples, "-o", dir, "--shard", "3/3"}, exitUsage, "--shard"},
		{"bad format", []string{"convert", samples, "-o", dir, "--format", "csv"}, exitUsage, "--format"},
		{"missing source", []string{"convert", filepath.Join(dir, "nope"), "-o", filepath.Join(dir, "o1")}, exitFailed, "no such file"},
		{"lenient skip", []string{"convert", bad, "-o", filepath.Join(dir, "o2")}, exitOK, "bad IP address"},
		{"strict skip", []string{"convert", bad, "-o", filepath.Join(dir, "o3"), "--strict"}, exitFailed, "tuple 1: field 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", code, c.code, c.msg, stderr)
			}
		})
	}
}

func TestConvertArrowStream(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flows.arrow")
	code, _, stderr := runCLI(t, "convert", samples, "--format", "arrow", "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := arrowRows(t, f)
	// Compare with the Parquet conversion of the same inputs.
	ds := filepath.Join(t.TempDir(), "ds")
	if code, _, stderr := runCLI(t, "convert", samples, "-o", ds); code != exitOK {
		t.Fatal(stderr)
	}
	files, _ := columnar.Files(ds)
	var want int64
	for _, f := range files {
		want += f.Rows
	}
	if rows != want || rows == 0 {
		t.Fatalf("arrow stream has %d rows, parquet %d", rows, want)
	}
}

func TestDemo(t *testing.T) {
	code, stdout, stderr := runCLI(t, "demo")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"converted 7 of 7 inputs", "(7 unchanged, 0 grown): 0 records read", "(6 unchanged, 1 grown)", "by decision:", "dataset: 597 rows"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestConvertArrowStdout pipes the Arrow stream to stdout, as for
// `flowlens convert … --format arrow -o - | python …`.
func TestConvertArrowStdout(t *testing.T) {
	code, stdout, stderr := runCLI(t, "convert", samples+"/sumologic-vnet-v4-target-nic.json", "--format", "arrow", "-o", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if rows := arrowRows(t, strings.NewReader(stdout)); rows == 0 {
		t.Fatal("no rows")
	}
	if !strings.Contains(stderr, "rows written") {
		t.Fatalf("no summary on stderr: %q", stderr)
	}
}

const captures = "../../testdata/pcap"

// TestConvertCaptures converts captures and flow logs into one dataset, and
// a re-run converts nothing.
func TestConvertCaptures(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	code, stdout, stderr := runCLI(t, "convert", captures, samples, "-o", out, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct {
		Rows     int64 `json:"rows"`
		Captures struct {
			Captures int              `json:"captures"`
			Flows    int64            `json:"flows"`
			Skipped  map[string]int64 `json:"skipped"`
		} `json:"captures"`
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Rows == 0 || sum.Captures.Captures == 0 || sum.Captures.Flows == 0 {
		t.Fatalf("summary %+v", sum)
	}
	// The malformed samples are skipped with positioned errors.
	if sum.Captures.Skipped["bad-header"] == 0 || !strings.Contains(stderr, "libpcap-pcap-invalid-version-1.pcap: offset 0: bad capture file header") {
		t.Fatalf("skips %v\n%s", sum.Captures.Skipped, stderr)
	}
	files, _ := columnar.Files(out)
	var rows int64
	for _, f := range files {
		rows += f.Rows
	}
	if rows != sum.Rows+sum.Captures.Flows {
		t.Fatalf("dataset has %d rows, summary %d + %d", rows, sum.Rows, sum.Captures.Flows)
	}
	code, _, stderr = runCLI(t, "convert", captures, samples, "-o", out)
	if code != exitOK || !strings.Contains(stderr, "0 rows written") || !strings.Contains(stderr, "39 unchanged") {
		t.Fatalf("re-run: exit %d\n%s", code, stderr)
	}
	// Under --strict, a bad capture fails the run.
	code, _, _ = runCLI(t, "convert", captures+"/libpcap-pcap-invalid-version-1.pcap", "-o", filepath.Join(t.TempDir(), "s"), "--strict")
	if code != exitFailed {
		t.Fatalf("strict: exit %d", code)
	}
}

func TestFlowsFormats(t *testing.T) {
	capture := captures + "/tcpdump-tcp-handshake-nano.pcap"
	cases := map[string]string{
		"table": "131.155.215.69:46656",
		"csv":   "2014-12-09T17:16:09.924505Z,2014-12-09T17:16:10.052115Z,tcp,6,131.155.215.69,46656,137.116.81.94,80,2,144,1,76,B,18,",
		"json":  `"src_ip":"131.155.215.69","src_port":46656,"dst_ip":"137.116.81.94","dst_port":80,"packets_out":2,"bytes_out":144,"packets_in":1,"bytes_in":76,"state":"B","tcp_flags":18`,
	}
	for format, want := range cases {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "flows", capture, "--format", format)
			if code != exitOK || !strings.Contains(stdout, want) || !strings.Contains(stderr, "3 packets, 1 flow") {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
			}
		})
	}
	t.Run("arrow", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "flows", capture, "--format", "arrow")
		if code != exitOK {
			t.Fatal(stderr)
		}
		if rows := arrowRows(t, strings.NewReader(stdout)); rows != 1 {
			t.Fatalf("%d rows", rows)
		}
	})
	t.Run("packets", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "flows", capture, "--packets", "--format", "csv")
		want := "2014-12-09T17:16:10.052027Z,,tcp,6,137.116.81.94,80,131.155.215.69,46656,1,76,0,0,,18,,76"
		if code != exitOK || strings.Count(stdout, "\n") != 4 || !strings.Contains(stdout, want) {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
	if code, _, _ := runCLI(t, "flows", capture, "--format", "xml"); code != exitUsage {
		t.Fatalf("bad format: exit %d", code)
	}
}

// arrowRows reads an Arrow IPC stream of the flow schema and counts its rows.
func arrowRows(t *testing.T, in io.Reader) int64 {
	t.Helper()
	r, err := ipc.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if !r.Schema().Equal(columnar.Schema) {
		t.Fatalf("schema %v", r.Schema())
	}
	var rows int64
	for r.Next() {
		rows += r.RecordBatch().NumRows()
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCapturesWorkers: captures converted by one worker or by three give
// the same rows.
func TestCapturesWorkers(t *testing.T) {
	var got [][]string
	for _, w := range []string{"1", "3"} {
		out := filepath.Join(t.TempDir(), "ds")
		if code, _, stderr := runCLI(t, "convert", captures, "-o", out, "--workers", w); code != exitOK {
			t.Fatalf("workers %s: %s", w, stderr)
		}
		got = append(got, datasetRows(t, out))
	}
	if len(got[0]) == 0 || strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("1 worker: %d rows, 3 workers: %d rows, or they differ", len(got[0]), len(got[1]))
	}
}

// TestCommandTable: run builds only the command its command line names;
// the table it finds it in names each command as the command names
// itself, a command's help is the same either way, and a command line
// that names none (or an unknown one) gets the whole tree.
func TestCommandTable(t *testing.T) {
	full := newRootCmd()
	if len(full.Commands()) != len(commands) {
		t.Errorf("the whole tree has %d commands, the table %d", len(full.Commands()), len(commands))
	}
	for _, c := range commands {
		if got := c.make().Name(); got != c.name {
			t.Errorf("table entry %q makes the command %q", c.name, got)
		}
		one := newRootCmdFor([]string{c.name, "--help"})
		if len(one.Commands()) != 1 || one.Commands()[0].Name() != c.name {
			t.Errorf("%s: the tree for its command line has %d commands", c.name, len(one.Commands()))
		}
		help := func(root *cobra.Command) string {
			var b bytes.Buffer
			root.SetArgs([]string{c.name, "--help"})
			root.SetOut(&b)
			root.SetErr(&b)
			if err := root.Execute(); err != nil {
				t.Fatalf("%s --help: %v", c.name, err)
			}
			return b.String()
		}
		if a, b := help(one), help(newRootCmd()); a != b || !strings.Contains(a, "Usage:") {
			t.Errorf("%s --help differs with the one command:\n%s\nand with all:\n%s", c.name, a, b)
		}
	}
	for _, args := range [][]string{nil, {"--help"}, {"nosuch"}, {"completion", "bash"}} {
		if n := len(newRootCmdFor(args).Commands()); n != len(commands) {
			t.Errorf("%q: %d commands, want all %d", args, n, len(commands))
		}
	}
	if code, stdout, _ := runCLI(t, "completion", "bash"); code != exitOK || !strings.Contains(stdout, "flowlens") {
		t.Errorf("completion bash: exit %d, %d bytes", code, len(stdout))
	}
}
