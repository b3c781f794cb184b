package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/columnar"
)

// TestIndexCommand: "flowlens index --force" rebuilds, from the Parquet
// files as the query package reads them, exactly the indexes convert
// wrote with them; without --force it keeps valid ones and replaces a
// corrupt one.
func TestIndexCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	if code, _, stderr := runCLI(t, "convert", samples, "-o", out, "--workers", "2"); code != exitOK {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	files, err := columnar.Files(out)
	if err != nil || len(files) == 0 {
		t.Fatalf("files %v, %v", files, err)
	}
	written := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Index)))
		if err != nil {
			t.Fatal(err)
		}
		written[f.Path] = b
	}
	index := func(args ...string) indexSummary {
		t.Helper()
		code, stdout, stderr := runCLI(t, append([]string{"index", out, "--json"}, args...)...)
		if code != exitOK {
			t.Fatalf("index %q: exit %d: %s", args, code, stderr)
		}
		var sum indexSummary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		return sum
	}
	if sum := index("--force"); sum.Files != len(files) || sum.Built != len(files) || sum.Failed != 0 {
		t.Fatalf("--force: %+v, want %d built", sum, len(files))
	}
	check := func() {
		t.Helper()
		files, err := columnar.Files(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Index)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, written[f.Path]) {
				t.Errorf("%s: index rebuilt (%d bytes) differs from convert's (%d bytes)", f.Path, len(b), len(written[f.Path]))
			}
		}
	}
	check()
	bad := filepath.Join(out, filepath.FromSlash(files[0].Index))
	b, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if sum := index(); sum.Built != 1 || sum.Replaced != 1 || sum.Valid != len(files)-1 {
		t.Fatalf("one index corrupted: %+v", sum)
	}
	check()
}

// TestBinaryDeps keeps arrow-go's Parquet packages out of the flowlens
// binary, and with them arrow/compute, arrow/flight, grpc and protobuf:
// their package init cost every command about 22 ms and 600 page faults.
// internal/arrowscan, the tests' independent reader, is how they would
// come back. net/http (which a progress bar once brought) costs another
// millisecond of init with its crypto.
func TestBinaryDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := []string{
		"github.com/flowlens/flowlens/internal/arrowscan",
		"github.com/apache/arrow-go/v18/parquet", // Thrift, every codec, HTTP
		"github.com/apache/arrow-go/v18/arrow/compute",
		"github.com/apache/arrow-go/v18/arrow/flight",
		"google.golang.org/grpc",
		"google.golang.org/protobuf",
		"net/http", // and the crypto it brings: milliseconds of start-up
	}
	var linked []string
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				linked = append(linked, dep)
			}
		}
	}
	if len(linked) > 0 {
		t.Errorf("flowlens links %d packages it must not (go list -deps ./cmd/flowlens):\n%s", len(linked), strings.Join(linked, "\n"))
	}
}
