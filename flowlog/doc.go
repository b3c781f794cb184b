// Package flowlog reads Azure NSG flow logs (versions 1 and 2) and VNet
// flow logs (flowLogVersion 4) into columnar.Flow rows.
//
// The layers, from bytes up:
//
//   - TupleParser parses one flow tuple ("1542110379,10.5.16.4,…,T,O,A,E,1,66,1,66")
//     without allocating.
//   - Decoder decodes one record (a JSON object) and emits a row per tuple.
//   - Scanner splits a stream into records by brace matching, whatever
//     shape the file has (whole PT1H.json blob, appended block, NDJSON),
//     recovers from damaged records, and tracks the offset and CRC-32C up
//     to which a blob was consumed, so that grown blobs are read on from
//     there.
//   - ParseBlobPath reads resource id, hour and MAC from Azure's blob paths.
//   - Discover and Convert turn files and directories (plain, gzip, zstd)
//     into a dataset, exactly once, in parallel and in shards.
//
// Bad input never panics: errors are *Error values that name the file, byte
// offset, record, tuple and field, and wrap a sentinel reason (ErrBadTuple,
// ErrBadJSON, …) that Reason turns into the name skips are counted by.
package flowlog
