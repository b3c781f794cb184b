// Command sidebyside times `flowlens convert` against DuckDB doing the
// same job (cmd/duckconvert) on a generated flow-log tree, and checks that
// both wrote every row the generator counted. It measures each command's
// wall time and peak resident set size (the child's rusage), and prints
// both and their ratio. sidebyside.sh builds the binaries and the tree.
//
//	sidebyside -tree T -totals T.totals.json -flowlens BIN -duckconvert BIN -work DIR -workers 2
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/flowlens/flowlens/bench/gen"
	"github.com/flowlens/flowlens/bench/measure"
)

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// check counts, with DuckDB, the rows and counter sums of a Parquet glob.
func check(db *sql.DB, from string, want *gen.Totals) error {
	var rows, po, bi int64
	q := fmt.Sprintf("SELECT count(*), sum(packets_out)::BIGINT, sum(bytes_in)::BIGINT FROM %s", from)
	if err := db.QueryRow(q).Scan(&rows, &po, &bi); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	if rows != want.Tuples || po != want.PacketsOut || bi != want.BytesIn {
		return fmt.Errorf("%s: %d rows, sum(packets_out) %d, sum(bytes_in) %d; the generator wrote %d, %d, %d",
			from, rows, po, bi, want.Tuples, want.PacketsOut, want.BytesIn)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("sidebyside", flag.ContinueOnError)
	fl.SetOutput(stderr)
	tree := fl.String("tree", "", "generated flow-log tree")
	totalsFile := fl.String("totals", "", "the generator's totals JSON for the tree")
	flowlens := fl.String("flowlens", "", "flowlens binary")
	duckconvert := fl.String("duckconvert", "", "duckconvert binary")
	work := fl.String("work", "", "directory for the outputs (replaced)")
	workers := fl.Int("workers", 2, "flowlens --workers and DuckDB threads")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *tree == "" || *totalsFile == "" || *flowlens == "" || *duckconvert == "" || *work == "" {
		return fmt.Errorf("%w: -tree, -totals, -flowlens, -duckconvert and -work are required", errUsage)
	}
	b, err := os.ReadFile(*totalsFile)
	if err != nil {
		return err
	}
	want := &gen.Totals{}
	if err := json.Unmarshal(b, want); err != nil {
		return fmt.Errorf("%s: %w", *totalsFile, err)
	}
	treeBytes, err := measure.DirSize(*tree)
	if err != nil {
		return err
	}
	if treeBytes != want.Bytes {
		return fmt.Errorf("%s holds %d bytes, its totals say %d: regenerate it", *tree, treeBytes, want.Bytes)
	}
	if err := os.RemoveAll(*work); err != nil {
		return err
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sidebyside: tree %s: %d blobs, %s, %d tuples; warming the page cache\n", *tree, want.Files, gen.FormatSize(want.Bytes), want.Tuples)
	if err := measure.Warm(*tree); err != nil {
		return err
	}

	ds := filepath.Join(*work, "flowlens-ds")
	fmt.Fprintf(stderr, "sidebyside: flowlens convert --workers %d\n", *workers)
	fm, err := measure.Run(ctx, "flowlens", *flowlens, "convert", *tree, "-o", ds, "--workers", strconv.Itoa(*workers), "--json")
	if err != nil {
		return err
	}
	var fsum struct {
		Rows int64 `json:"rows"`
	}
	if err := json.Unmarshal(fm.Stdout, &fsum); err != nil {
		return fmt.Errorf("flowlens --json: %w", err)
	}
	if fm.OutBytes, err = measure.DirSize(filepath.Join(ds, "flows")); err != nil {
		return err
	}

	pq := filepath.Join(*work, "duckdb.parquet")
	fmt.Fprintf(stderr, "sidebyside: duckconvert -threads %d\n", *workers)
	dm, err := measure.Run(ctx, "duckdb", *duckconvert, "-threads", strconv.Itoa(*workers), "-o", pq, *tree)
	if err != nil {
		return err
	}
	var dsum struct {
		Rows int64 `json:"rows"`
	}
	if err := json.Unmarshal(dm.Stdout, &dsum); err != nil {
		return fmt.Errorf("duckconvert: %w", err)
	}
	if fi, err := os.Stat(pq); err == nil {
		dm.OutBytes = fi.Size()
	}

	if fsum.Rows != want.Tuples || dsum.Rows != want.Tuples {
		return fmt.Errorf("rows: flowlens %d, DuckDB %d, generator %d", fsum.Rows, dsum.Rows, want.Tuples)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	if err := check(db, fmt.Sprintf("read_parquet('%s/flows/**/*.parquet', hive_partitioning = true)", filepath.ToSlash(ds)), want); err != nil {
		return err
	}
	if err := check(db, fmt.Sprintf("read_parquet('%s')", filepath.ToSlash(pq)), want); err != nil {
		return err
	}

	mb := float64(want.Bytes) / 1e6
	fmt.Fprintf(stdout, "input: %d blobs, %.1f MB (%s), %d rows; %d workers/threads; %s\n", want.Files, mb, gen.FormatSize(want.Bytes), want.Tuples, *workers, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(stdout, "%-9s %9s %9s %9s %12s %12s %14s\n", "", "wall s", "MB/s", "CPU s", "peak RSS MiB", "output MiB", "others' CPU s")
	for _, m := range []*measure.Measurement{fm, dm} {
		fmt.Fprintf(stdout, "%-9s %9.2f %9.1f %9.2f %12.1f %12.1f %14.1f\n", m.Name, m.Wall.Seconds(), mb/m.Wall.Seconds(), m.CPU.Seconds(),
			float64(m.PeakRSS)/(1<<20), float64(m.OutBytes)/(1<<20), m.Others.Seconds())
	}
	fmt.Fprintf(stdout, "DuckDB/flowlens: wall %.2fx, peak RSS %.2fx, CPU %.2fx (above 1: flowlens is faster, smaller)\n",
		dm.Wall.Seconds()/fm.Wall.Seconds(), float64(dm.PeakRSS)/float64(fm.PeakRSS), dm.CPU.Seconds()/fm.CPU.Seconds())
	fmt.Fprintln(stdout, "both outputs checked: row count, sum(packets_out), sum(bytes_in) equal the generator's")
	return nil
}
