// Package columnar holds the one flow schema every source converts to, and
// the machinery around it: Batch builds Arrow record batches column by
// column without per-row allocation; the Parquet and Arrow IPC writers;
// and the dataset on disk — Hive partitions by UTC hour
// (flows/date=YYYY-MM-DD/hour=H), a manifest per shard under _flowlens/
// that is replaced atomically, and staging that makes a killed run leave
// nothing behind.
//
// It imports no other flowlens package: parsers (flowlog, packet) feed it
// Flow rows through a Sink, and readers (reports, verification) scan the
// files a manifest names.
//
// Not here yet: the roaring-bitmap index sidecars and the query engine of
// DESIGN.md.
package columnar
