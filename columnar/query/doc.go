// Package query scans a flow dataset (the Parquet files a
// columnar.Dataset's manifests name) for the rows that match a filter,
// and counts them into reports. It is the engine behind "flowlens query"
// and "flowlens report".
//
// # Scanning
//
// Query.Scan hands every matching row to a callback as a *columnar.Flow,
// in dataset order, while a pool of workers reads files in parallel. A
// scan reads only the columns the filter and the caller need, and skips
// what it can prove holds no match:
//
//   - files whose Hive partition (date=…/hour=…) lies outside the
//     filter's time bounds (filter.Time.Bounds under and and or);
//   - row groups whose time and port statistics lie outside them;
//   - with a RowSelector (a bitmap index), row groups without a selected
//     row; pages without one, not even read when the file has Parquet's
//     offset index (flowlens writes it); the part of a page before its
//     first selected row (dictionary indexes and levels are not decoded
//     there); and the leaves of the filter the index answered exactly
//     (Selection.Exact: they are not evaluated, nor their columns read);
//   - in every row group, the columns the filter does not need once an
//     and has no row left: terms are taken cheapest first, and a leaf on
//     a dictionary column (address, rule, NSG, MAC, direction, decision,
//     state, source) is first evaluated on the dictionary alone, so a row
//     group whose dictionary lacks the value is settled without decoding
//     its rows.
//
// Output columns are decoded last, and only in the pages that hold a
// matching row.
//
// ScanFile reads one Parquet file whole, in row order, without a dataset
// or filter, and tolerates columns an older file lacks: it is the
// columnar.FileScanner that rebuilds index sidecars ("flowlens index").
//
// Rows are decoded by the package's own Parquet page decoders — the
// encodings flowlens writes: dictionary (RLE_DICTIONARY), DELTA_BINARY_PACKED
// and PLAIN, data pages v1 and v2; uncompressed, SNAPPY, GZIP or ZSTD
// (which flowlens writes) — into column vectors reused from one row group
// to the next. A dictionary column is an
// index per row into its row group's dictionary, so a Flow's byte slices
// point into the dictionary: filling a Flow allocates nothing. A page
// with a few selected rows (at most 64) is not decoded into the vector:
// its runs are walked and only those rows' levels and values written
// (pick.go), which keeps a needle query from touching, and faulting in,
// whole row-group-long vectors. The file footer and the page headers are
// read by the package's own Thrift decoder. Files that use other encodings (or
// nested columns) are reported as errors naming the file and the column.
// TestQueryReadMatchesArrow checks every column against arrow-go's reader.
//
// Filters are evaluated column by column, and give the same answer as
// filter.Expr.Match on every row (TestQueryEvalMatchesMatch), including its
// two-valued logic on nulls. A Flow from a scan has HasCounters when
// every counter column read is valid in the row; flowlens writes the four
// counters together, all valid or all null.
//
// # Reports
//
// Query.Report counts the matching rows into tables: the top keys by
// flows, bytes or packets (bytes and packets sum both directions, nulls
// counting 0), denied flows by source, port and rule, flows per rule and
// NSG, a timeline per interval aligned to UTC midnight, and flows per
// protocol and destination port. Each worker counts into its own tables
// keyed by small integers (strings are interned once per row group
// dictionary entry, not per row), merged at the end: memory grows with
// the distinct keys, not with the rows. Rows are ordered by their first
// metric, largest first, then by key ascending (strings bytewise, nulls
// last), so a report does not depend on the number of workers. The
// bench module checks every kind against DuckDB on the same Parquet.
//
// # What it does not do
//
// It plans no index look-ups itself: a bitmap index plugs in as a
// RowSelector. It does not sort rows (the CLI sorts for --sort), nor
// join, nor read Parquet it did not write beyond the encodings above.
package query
