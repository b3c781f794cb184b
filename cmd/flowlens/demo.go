package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/query"
	"github.com/flowlens/flowlens/flowlog"
	"github.com/flowlens/flowlens/packet"
)

// Real flow logs from public projects (see demodata/README.md), gzipped.
//
//go:embed demodata/*.gz
var demoData embed.FS

func newDemoCmd() *cobra.Command {
	keep := false
	c := &cobra.Command{
		Use:   "demo",
		Short: "Convert the sample flow logs built into flowlens and summarise them",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), keep)
		},
	}
	c.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory")
	return c
}

func runDemo(ctx context.Context, stdout, stderr io.Writer, keep bool) error {
	dir, err := os.MkdirTemp("", "flowlens-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	logs, out := filepath.Join(dir, "logs"), filepath.Join(dir, "dataset")
	names, err := extractDemo(logs)
	if err != nil {
		return err
	}
	// One blob is written short first, to show an incremental run later.
	grow := filepath.Join(logs, "sumologic-nsg-v2-blob_fixtures.json")
	full, err := os.ReadFile(grow)
	if err != nil {
		return err
	}
	short, err := firstRecords(full, 5)
	if err != nil {
		return err
	}
	if err := os.WriteFile(grow, short, 0o644); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "flowlens demo: %d real flow logs (NSG v1, NSG v2, VNet v4; gzip; a block fragment with a BOM; a blob with trailing commas)\n", len(names))
	fmt.Fprintf(stdout, "  from %s\n  into %s\n\n", logs, out)

	convert := func(title string) error {
		fmt.Fprintf(stdout, "$ flowlens convert %s -o %s   # %s\n", logs, out, title)
		o := convertOptions{out: out, format: "parquet", workers: 2, maxErrors: 5, checkpoint: 512,
			idle: packet.DefaultConfig().IdleTimeout, active: packet.DefaultConfig().ActiveTimeout}
		return runConvert(ctx, []string{logs}, o, io.Discard, stdout)
	}
	if err := convert("first run"); err != nil {
		return err
	}
	if err := summarise(ctx, stdout, out); err != nil {
		return err
	}
	if err := convert("again: nothing is converted twice"); err != nil {
		return err
	}
	// The blob grows, as a PT1H.json does during its hour.
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(grow, full, 0o644); err != nil {
		return err
	}
	if err := convert("after " + filepath.Base(grow) + " grew: only its new records"); err != nil {
		return err
	}
	files, err := columnar.Files(out)
	if err != nil {
		return err
	}
	var rows int64
	for _, f := range files {
		rows += f.Rows
	}
	fmt.Fprintf(stdout, "\ndataset: %d rows in %d Parquet files under %s\n", rows, len(files), filepath.Join(out, columnar.FlowsDir))
	if keep {
		fmt.Fprintf(stdout, "kept; try: duckdb -c \"SELECT decision, count(*) FROM '%s/flows/**/*.parquet' GROUP BY ALL\"\n", out)
	}
	return nil
}

func extractDemo(dir string) ([]string, error) {
	entries, err := demoData.ReadDir("demodata")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		b, err := demoData.ReadFile(path.Join("demodata", e.Name()))
		if err != nil {
			return nil, err
		}
		name := e.Name()
		// Keep some compressed, to show it; unpack the blob that grows.
		if strings.HasPrefix(name, "sumologic-nsg-v2") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			if b, err = io.ReadAll(zr); err != nil {
				return nil, err
			}
			name = strings.TrimSuffix(name, ".gz")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// firstRecords returns a blob holding the first n records of a
// {"records":[...]} blob, as Azure's blob looked earlier in the hour.
func firstRecords(blob []byte, n int) ([]byte, error) {
	sc := flowlog.NewScanner(bytes.NewReader(blob))
	for i := 0; i < n; i++ {
		if _, _, err := sc.Next(); err != nil {
			return nil, err
		}
	}
	end, _ := sc.End()
	return append(append([]byte(nil), blob[:end]...), "]}"...), nil
}

type counter map[string]int64

func (c counter) top(n int) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c[keys[i]] != c[keys[j]] {
			return c[keys[i]] > c[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, c[k])
	}
	return strings.Join(parts, ", ")
}

// summarise reads the dataset back and prints a few facts about the flows.
func summarise(ctx context.Context, w io.Writer, root string) error {
	bySource, byDecision, pairs, denied := counter{}, counter{}, counter{}, counter{}
	var first, last int64
	var rows int64
	err := query.Scan(ctx, root, nil, []string{"time", "source", "src_ip", "dst_ip", "dst_port", "proto", "decision"},
		func(f *columnar.Flow) error {
			if rows == 0 || f.Time < first {
				first = f.Time
			}
			if f.Time > last {
				last = f.Time
			}
			rows++
			bySource[f.Source.String()]++
			byDecision[f.Decision.String()]++
			pairs[string(f.SrcIP)+" → "+string(f.DstIP)]++
			if f.Decision == columnar.DecisionDeny {
				denied[fmt.Sprintf("%s/%d", columnar.ProtocolName(f.Proto), f.DstPort)]++
			}
			return nil
		})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d flows from %s to %s\n", rows,
		time.UnixMicro(first).UTC().Format(time.RFC3339), time.UnixMicro(last).UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  by source:          %s\n", bySource.top(5))
	fmt.Fprintf(w, "  by decision:        %s\n", byDecision.top(2))
	fmt.Fprintf(w, "  top pairs (flows):  %s\n", pairs.top(3))
	fmt.Fprintf(w, "  top denied ports:   %s\n\n", denied.top(5))
	return nil
}
