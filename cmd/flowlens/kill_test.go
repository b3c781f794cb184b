package main

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/internal/arrowscan"
)

// writeBlobs writes n synthetic NSG v2 PT1H.json blobs in the Azure blob
// layout under dir, with records×tuples tuples each. Generated data is for
// scale: the kill test needs a conversion that runs long enough to be
// interrupted.
func writeBlobs(t *testing.T, dir string, n, records, tuples int) int {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	total := 0
	for b := 0; b < n; b++ {
		nsg := fmt.Sprintf("NSG-%d", b%3)
		mac := fmt.Sprintf("000D3A%06X", b)
		hour := time.Date(2024, 5, 1, b%24, 0, 0, 0, time.UTC)
		p := filepath.Join(dir, "insights-logs-networksecuritygroupflowevent", "resourceId=", "SUBSCRIPTIONS", "00000000-0000-0000-0000-000000000001",
			"RESOURCEGROUPS", "RG", "PROVIDERS", "MICROSOFT.NETWORK", "NETWORKSECURITYGROUPS", nsg,
			fmt.Sprintf("y=%d", hour.Year()), fmt.Sprintf("m=%02d", hour.Month()), fmt.Sprintf("d=%02d", hour.Day()), fmt.Sprintf("h=%02d", hour.Hour()), "m=00",
			"macAddress="+mac, "PT1H.json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		sb.WriteString(`{"records":[`)
		for i := 0; i < records; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			ts := hour.Add(time.Duration(i) * time.Minute)
			fmt.Fprintf(&sb, `{"time":"%s","systemId":"x","macAddress":"%s","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/%s","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":[{"rule":"DefaultRule_AllowInternetOutBound","flows":[{"mac":"%s","flowTuples":[`,
				ts.Format(time.RFC3339Nano), mac, nsg, mac)
			for j := 0; j < tuples; j++ {
				if j > 0 {
					sb.WriteByte(',')
				}
				sec := ts.Unix() + int64(j%60)
				src := fmt.Sprintf("10.%d.%d.%d", b%4, r.IntN(8), r.IntN(250)+1)
				dst := fmt.Sprintf("%d.%d.%d.%d", r.IntN(200)+1, r.IntN(256), r.IntN(256), r.IntN(256))
				if r.IntN(3) == 0 {
					fmt.Fprintf(&sb, `"%d,%s,%s,%d,%d,T,O,A,B,,,,"`, sec, src, dst, 1024+r.IntN(60000), 443)
				} else {
					fmt.Fprintf(&sb, `"%d,%s,%s,%d,%d,U,O,A,E,%d,%d,%d,%d"`, sec, src, dst, 1024+r.IntN(60000), 53, r.IntN(9)+1, r.IntN(9000), r.IntN(9)+1, r.IntN(9000))
				}
				total++
			}
			sb.WriteString(`]}]}]}}`)
		}
		sb.WriteString("]}")
		if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return total
}

func buildFlowlens(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flowlens")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// arrowScan calls fn with the record batches of every file of the
// dataset at root, read through arrow-go's reader: an independent check
// of what flowlens wrote.
func arrowScan(t *testing.T, root string, cols []string, fn func(rec arrow.RecordBatch) error) {
	t.Helper()
	files, err := columnar.Files(root)
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

// datasetRows reads every row of a dataset as a sorted list of strings.
func datasetRows(t *testing.T, root string) []string {
	t.Helper()
	var rows []string
	cols := []string{"time", "src_ip", "dst_ip", "src_port", "dst_port", "state", "bytes_out"}
	arrowScan(t, root, cols, func(rec arrow.RecordBatch) error {
		ts := rec.Column(0).(*array.Timestamp)
		sip, dip := rec.Column(1), rec.Column(2)
		sp, dp := rec.Column(3).(*array.Int32), rec.Column(4).(*array.Int32)
		bo := rec.Column(6).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			rows = append(rows, fmt.Sprintf("%d %s %s %d %d %d %v", ts.Value(i), arrowscan.StringValue(sip, i), arrowscan.StringValue(dip, i), sp.Value(i), dp.Value(i), bo.Value(i), bo.IsNull(i)))
		}
		return nil
	})
	sort.Strings(rows)
	return rows
}

// checkNoStrays fails if OUT/flows holds a file no manifest names.
func checkNoStrays(t *testing.T, root string) {
	t.Helper()
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, f := range files {
		named[f.Path] = true
		if f.Index != "" {
			named[f.Index] = true
		}
	}
	filepath.WalkDir(filepath.Join(root, columnar.FlowsDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !named[filepath.ToSlash(rel)] {
			t.Errorf("stray file %s", rel)
		}
		return nil
	})
}

// TestKilledRunsConvertExactlyOnce converts a tree with the real binary,
// SIGKILLs it at random moments several times over, finishes with a clean
// run, and demands exactly the rows of one uninterrupted run.
func TestKilledRunsConvertExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and converts ~30 MB several times")
	}
	bin := buildFlowlens(t)
	src := t.TempDir()
	total := writeBlobs(t, src, 16, 40, 400)

	clean := filepath.Join(t.TempDir(), "clean")
	if out, err := exec.Command(bin, "convert", src, "-o", clean, "--workers", "2").CombinedOutput(); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	want := datasetRows(t, clean)
	if len(want) != total {
		t.Fatalf("clean run wrote %d rows, generated %d", len(want), total)
	}

	out := filepath.Join(t.TempDir(), "killed")
	r := rand.New(rand.NewPCG(3, 4))
	killed := 0
	for i := 0; i < 8; i++ {
		cmd := exec.Command(bin, "convert", src, "-o", out, "--workers", "2", "--checkpoint-mb", "3")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(10+r.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed++
		} else if err != nil {
			t.Fatalf("run %d failed: %v", i, err)
		}
	}
	if killed == 0 {
		t.Fatal("no run was killed before it finished; the test proved nothing")
	}
	if b, err := exec.Command(bin, "convert", src, "-o", out, "--workers", "2").CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, b)
	}
	got := datasetRows(t, out)
	if len(got) != len(want) {
		t.Fatalf("after %d kills: %d rows, want %d", killed, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after %d kills: row %d is %q, want %q", killed, i, got[i], want[i])
		}
	}
	checkNoStrays(t, out)
	t.Logf("%d of 8 runs killed; %d rows, exactly once", killed, len(got))
}
