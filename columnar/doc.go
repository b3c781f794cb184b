// Package columnar holds the one flow schema every source converts to, and
// the machinery around it: Batch builds Arrow record batches column by
// column without per-row allocation; the Parquet and Arrow IPC writers;
// the dataset on disk — Hive partitions by UTC hour
// (flows/date=YYYY-MM-DD/hour=H), a manifest per shard under _flowlens/
// that is replaced atomically, and staging that makes a killed run leave
// nothing behind; and the index sidecar of each Parquet file.
//
// It imports no other flowlens package: parsers (flowlog, packet) feed it
// Flow rows through a Sink, and readers (reports, verification) scan the
// files a manifest names. It reads no Parquet itself: what needs a file's
// rows back (BuildIndex, Dataset.BuildIndexes) takes a FileScanner, the
// reader of columnar/query (query.ScanFile), which imports columnar.
//
// # Index
//
// Beside each part-X.parquet, PartitionWriter writes part-X.idx: for the
// columns src_ip, dst_ip, src_port, dst_port, protocol, direction,
// decision, rule, resource_id, mac and acl_id, every distinct value with
// the number of rows holding it and the roaring bitmap of those rows; and,
// for the keys a top report groups by (src_ip, dst_ip, dst_port, proto,
// rule, resource_id), per distinct key its totals: rows, packets, bytes,
// allowed and denied rows (Index.Totals). A report over every row by one
// of those keys is then counted from a few hundred KiB of each index
// instead of a scan of the file's columns (query.Query.IndexTotals), as
// is one filtered by time alone for the hours it covers whole; every
// other report scans. A file and its index
// are committed by the same manifest (FileEntry.Index), so they appear
// together or not at all; Dataset.BuildIndexes (the "flowlens index"
// command) adds indexes to files written without them, and rebuilds those
// of an older version (ErrIndexOld), which have no totals.
//
// OpenIndex reads an index's header and directory, and checks that it was
// built for the Parquet file beside it; look-ups then read only the few
// KiB of the index they need (a column's fence, then the chunks holding
// the keys), check their CRC-32C, and validate what they decode. Keys are
// kept sorted in a form that compares bytewise (IPv4 and IPv6 apart,
// ports as 16-bit numbers), so that a CIDR or a port range is a range of
// keys whose bitmaps are unioned. A corrupt, truncated, stale or foreign
// index gives an *IndexError naming the file, the section and the offset:
// the caller then scans the Parquet file instead.
//
// The index aims at IndexConfig.Budget of its Parquet file's size (12% by
// default) with its postings; the totals come on top (about 2% of the
// Parquet file for flow logs: a key's counters take a byte or two when
// its rows are all allowed or all denied, or have no counters). The string columns are always exact. The address and port
// columns are exact when that fits; otherwise the columns that save the
// most per step are made coarser, their bits standing for blocks of 4,
// 16, ... rows, and, for ports, their keys for buckets of 4, 16, ...
// ports: a look-up then returns every row of the blocks holding a match,
// a superset to check against the data (Index.Exact tells). Counts stay
// exact. Flow data with many distinct addresses and ports cannot be
// indexed exactly in that budget: an exact index of such a column is
// about as large as the column itself. The exception is src_ip: the
// writer clusters each row group's rows by source address
// (Batch.ClusterBySource), so a source's rows are a run or two per row
// group, and run postings keep the column exact at about 2%.
//
// docs/format/index.md describes the file format.
package columnar
