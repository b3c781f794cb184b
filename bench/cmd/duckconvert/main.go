// Command duckconvert converts a tree of Azure flow-log blobs into one
// zstd Parquet file with DuckDB, running the SQL of package duckconv: the
// DuckDB side of the side-by-side benchmark.
//
//	duckconvert -threads 2 -o flows.parquet TREE
//
// It prints {"rows": N, "seconds": S} on stdout.
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
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/flowlens/flowlens/bench/duckconv"
	"github.com/flowlens/flowlens/bench/gen"
)

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "duckconvert:", err)
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("duckconvert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "Parquet file to write")
	threads := fs.Int("threads", 2, "DuckDB threads")
	maxObject := fs.String("max-object-size", "1GiB", "read_json maximum_object_size: more than the largest blob")
	preserveOrder := fs.Bool("preserve-order", false, "keep DuckDB's preserve_insertion_order (off: less memory, as flowlens does not keep order either)")
	memLimit := fs.String("memory-limit", "", "DuckDB memory_limit, e.g. 2GB (default: DuckDB's, 80% of RAM)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		return fmt.Errorf("%w: duckconvert -o OUT.parquet TREE", errUsage)
	}
	size, err := gen.ParseSize(*maxObject)
	if err != nil {
		return fmt.Errorf("%w: -max-object-size: %w", errUsage, err)
	}
	tree, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	if fi, err := os.Stat(tree); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", fs.Arg(0))
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the SETs below belong to the connection
	setup := []string{
		fmt.Sprintf("SET threads = %d", *threads),
		fmt.Sprintf("SET preserve_insertion_order = %t", *preserveOrder),
		fmt.Sprintf("SET temp_directory = '%s'", filepath.ToSlash(filepath.Dir(*out))+"/duckdb.tmp"),
	}
	if *memLimit != "" {
		setup = append(setup, fmt.Sprintf("SET memory_limit = '%s'", *memLimit))
	}
	for _, q := range setup {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	began := time.Now()
	res, err := db.ExecContext(ctx, duckconv.Copy(filepath.ToSlash(tree)+"/**/*.json", filepath.ToSlash(*out), duckconv.Options{MaxObjectSize: size}))
	if err != nil {
		return fmt.Errorf("convert %s: %w", tree, err)
	}
	rows, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("convert %s: rows written: %w", tree, err)
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"rows": rows, "seconds": time.Since(began).Seconds()})
}
