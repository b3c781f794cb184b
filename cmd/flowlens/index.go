package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/query"
)

type indexOptions struct {
	force   bool
	jsonOut bool
}

func newIndexCmd() *cobra.Command {
	o := indexOptions{}
	c := &cobra.Command{
		Use:   "index OUT",
		Short: "Build the missing or invalid index sidecars of a dataset",
		Long: `Build the index sidecar (part-*.idx beside each part-*.parquet) of every
file of the dataset OUT that has none, or whose index is corrupt, does
not match its Parquet file, or is of an older version (without the
per-key totals top reports are counted from), as "flowlens convert"
writes them. Datasets converted before indexes existed get theirs this
way.

Each shard's manifest is updated under the shard's lock, as convert does:
new indexes are written to staging, named by the manifest, then moved into
place, so a killed run leaves every file with a valid index or none. A
file whose Parquet cannot be read is reported and keeps no index.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIndex(cmd.Context(), args[0], o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.BoolVar(&o.force, "force", false, "rebuild every index, valid or not")
	f.BoolVar(&o.jsonOut, "json", false, "print the summary as JSON on stdout")
	return c
}

type indexSummary struct {
	Files        int   `json:"files"`
	Valid        int   `json:"valid"`    // kept as they were
	Built        int   `json:"built"`    // new, including replaced ones
	Replaced     int   `json:"replaced"` // of built: an invalid index was replaced
	Upgraded     int   `json:"upgraded"` // of built: an index of an older version was replaced
	Failed       int   `json:"failed"`
	IndexBytes   int64 `json:"index_bytes"`
	ParquetBytes int64 `json:"parquet_bytes"`
}

func runIndex(ctx context.Context, root string, o indexOptions, stdout, stderr io.Writer) error {
	ms, err := columnar.ReadManifests(root)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return fmt.Errorf("index: %s is not a dataset (no manifest in %s/%s)", root, root, columnar.MetaDir)
	}
	var sum indexSummary
	var failed error
	for _, m := range ms {
		for _, f := range m.Files {
			sum.ParquetBytes += f.Bytes
		}
		ds, err := columnar.OpenDataset(root, m.Shard)
		if err != nil {
			return err
		}
		err = ds.BuildIndexes(ctx, query.ScanFile, o.force, func(r columnar.IndexResult) {
			sum.Files++
			switch {
			case r.Err != nil:
				sum.Failed++
				fmt.Fprintln(stderr, "skip:", r.Err)
			case r.Built:
				sum.Built++
				sum.IndexBytes += r.Bytes
				switch {
				case errors.Is(r.Replaced, columnar.ErrIndexOld):
					sum.Upgraded++
				case r.Replaced != nil:
					sum.Replaced++
					fmt.Fprintf(stderr, "rebuilt %s: %v\n", r.Path, r.Replaced)
				}
			default:
				sum.Valid++
				sum.IndexBytes += r.Bytes
			}
		})
		if cerr := ds.Close(); err == nil {
			err = cerr
		}
		if err != nil && sum.Failed == 0 {
			return err
		}
		failed = err
	}
	ratio := 0.0
	if sum.ParquetBytes > 0 {
		ratio = 100 * float64(sum.IndexBytes) / float64(sum.ParquetBytes)
	}
	fmt.Fprintf(stderr, "index: %s: %d valid, %d built (%d replacing invalid ones, %d of an older version), %d failed; indexes are %.1f%% of the Parquet bytes\n",
		plural(int64(sum.Files), "file"), sum.Valid, sum.Built, sum.Replaced, sum.Upgraded, sum.Failed, ratio)
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	}
	if failed != nil {
		return fmt.Errorf("index: %d files could not be indexed", sum.Failed)
	}
	return nil
}
