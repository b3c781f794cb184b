// Package gen generates synthetic Azure flow logs: a directory tree laid
// out exactly as Azure writes flow-log blobs to a storage account, with
// records shaped like the real samples in testdata/flowlogs, so that
// conversions can be tested and timed at any size.
//
// A tree holds NSG flow logs version 1 and 2
//
//	insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/<GUID>/RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/<NSG>/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<MAC>/PT1H.json
//
// and VNet flow logs (flowLogVersion 4)
//
//	insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/<GUID>/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_<REGION>/FLOWLOGS/<NAME>/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<MAC>/PT1H.json
//
// Each blob is one hour of one NIC: sixty one-minute records in compact
// {"records":[...]} JSON. Talkers follow a Zipf distribution over a fixed
// pool of public addresses (a few of them IPv6); ports are the common ones
// (443, 80, 22, 3389, 53, 1433, ...); a configurable share of flows is
// denied, mostly inbound scans; allowed v2 and VNet flows go through the
// states B, C and E with counters, as Azure logs them.
//
// Generation is deterministic: the same Config writes the same bytes,
// whatever the number of workers, because every blob draws from its own
// random source seeded by the Config seed and the blob's coordinates.
// Memory stays small: each blob is streamed to its file record by record.
//
// Generate returns the Totals of what it wrote (tuples, counter sums,
// denies, distinct addresses, rows per hour, ...), which are what a correct
// conversion of the tree must yield. The generator does not write malformed
// input; the real samples cover that.
package gen
