// Package bench is the flowlens benchmark and interoperability module. It
// is a separate Go module so that the main module stays free of cgo: it
// uses DuckDB (through github.com/duckdb/duckdb-go) to read what flowlens
// writes and to do the same conversion for comparison.
//
//   - gen and cmd/flowgen generate synthetic Azure flow-log trees of any
//     size, with the totals a correct conversion must yield;
//   - duckconv is the DuckDB SQL that converts flow-log JSON into the flow
//     schema, and cmd/duckconvert runs it;
//   - cmd/sidebyside times flowlens convert against cmd/duckconvert;
//   - the tests of this package (interop_test.go) convert generated trees
//     and the real samples with flowlens and check, in DuckDB, the types,
//     counts and sums against the generator's totals and against
//     independent oracles.
//
// See README.md for the commands.
package bench
