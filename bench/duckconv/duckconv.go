// Package duckconv holds the DuckDB SQL that converts Azure flow logs
// (NSG v1 and v2, VNet v4) into the flowlens flow schema: what DuckDB has
// to run to do the job `flowlens convert` does. The side-by-side benchmark
// times it against flowlens, and the interop tests check it yields the
// same rows, so both sides are known to do the same work.
//
// It reads whole blobs, {"records":[...]} objects, as Azure writes them;
// it does not read the appended fragments, bare records or trailing commas
// that flowlens also accepts. Resource id and MAC come from the record
// body, not from the blob path.
package duckconv

import (
	"fmt"
	"strings"
)

// recordsType is the DuckDB type of a blob's records array: the fields of
// NSG and VNet records that the flow schema needs. Declaring it spares
// DuckDB the schema sampling and makes NSG and VNet blobs read alike.
const recordsType = `STRUCT(
	"resourceId" VARCHAR,
	"macAddress" VARCHAR,
	"properties" STRUCT("Version" INTEGER, "flows" STRUCT("rule" VARCHAR, "flows" STRUCT("mac" VARCHAR, "flowTuples" VARCHAR[])[])[]),
	"flowLogResourceID" VARCHAR,
	"targetResourceID" VARCHAR,
	"flowRecords" STRUCT("flows" STRUCT("aclID" VARCHAR, "flowGroups" STRUCT("rule" VARCHAR, "flowTuples" VARCHAR[])[])[])
)[]`

// Options tune the reading of the JSON.
type Options struct {
	// MaxObjectSize is read_json's maximum_object_size: a blob is one JSON
	// object, so it must exceed the largest blob. 0 means 1 GiB.
	MaxObjectSize int64
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Select returns a SELECT that yields one row per flow tuple of the blobs
// matching glob (a path or a DuckDB glob such as 'TREE/**/*.json'), with
// the columns of the flowlens schema that flow logs fill: time (TIMESTAMP
// WITH TIME ZONE; seconds in NSG tuples, milliseconds in VNet ones), source, resource_id, mac, rule, src_ip, dst_ip,
// src_port, dst_port, protocol, proto, direction, decision, state,
// packets_out, bytes_out, packets_in, bytes_in, acl_id, flow_log_id,
// encryption. NSG and VNet records are unnested separately and joined
// with UNION ALL.
func Select(glob string, o Options) string {
	size := o.MaxObjectSize
	if size <= 0 {
		size = 1 << 30
	}
	return fmt.Sprintf(`WITH blobs AS (
	SELECT unnest(records) AS rec
	FROM read_json(%s, format = 'unstructured', records = true, maximum_object_size = %d,
		columns = {records: '%s'})
),
nsg_rules AS (
	SELECT rec.resourceId AS resource_id, rec.macAddress AS rec_mac, rec.properties.Version AS version,
		unnest(rec.properties.flows) AS rf
	FROM blobs WHERE rec.properties IS NOT NULL
),
nsg_nics AS (
	SELECT resource_id, rec_mac, version, rf.rule AS rule, unnest(rf.flows) AS nf FROM nsg_rules
),
nsg_tuples AS (
	SELECT resource_id, coalesce(nf.mac, rec_mac) AS mac, version, rule, unnest(nf.flowTuples) AS tuple
	FROM nsg_nics
),
nsg AS (
	SELECT resource_id, mac, version, rule, string_split(tuple, ',') AS t FROM nsg_tuples
),
vnet_acls AS (
	SELECT rec.targetResourceID AS resource_id, rec.macAddress AS mac, rec.flowLogResourceID AS flow_log_id,
		unnest(rec.flowRecords.flows) AS fa
	FROM blobs WHERE rec.flowRecords IS NOT NULL
),
vnet_groups AS (
	SELECT resource_id, mac, flow_log_id, fa.aclID AS acl_id, unnest(fa.flowGroups) AS fg FROM vnet_acls
),
vnet_tuples AS (
	SELECT resource_id, mac, flow_log_id, acl_id, fg.rule AS rule, unnest(fg.flowTuples) AS tuple
	FROM vnet_groups
),
vnet AS (
	SELECT resource_id, mac, flow_log_id, acl_id, rule, string_split(tuple, ',') AS t FROM vnet_tuples
)
SELECT
	timezone('UTC', make_timestamp(t[1]::BIGINT * 1000000)) AS time,
	-- a v1 tuple has 8 fields, a v2 tuple 13 (properties.Version says the same)
	CASE WHEN len(t) = 8 THEN 'nsg-v1' ELSE 'nsg-v2' END AS source,
	resource_id, upper(mac) AS mac, rule,
	t[2] AS src_ip, t[3] AS dst_ip, t[4]::INTEGER AS src_port, t[5]::INTEGER AS dst_port,
	CASE t[6] WHEN 'T' THEN 'tcp' WHEN 'U' THEN 'udp' ELSE t[6] END AS protocol,
	CASE t[6] WHEN 'T' THEN 6 WHEN 'U' THEN 17 ELSE t[6]::INTEGER END AS proto,
	CASE t[7] WHEN 'I' THEN 'in' WHEN 'O' THEN 'out' END AS direction,
	CASE t[8] WHEN 'A' THEN 'allow' WHEN 'D' THEN 'deny' END AS decision,
	nullif(t[9], '') AS state,
	nullif(t[10], '')::BIGINT AS packets_out, nullif(t[11], '')::BIGINT AS bytes_out,
	nullif(t[12], '')::BIGINT AS packets_in, nullif(t[13], '')::BIGINT AS bytes_in,
	NULL::VARCHAR AS acl_id, NULL::VARCHAR AS flow_log_id, NULL::VARCHAR AS encryption
FROM nsg
UNION ALL
SELECT
	timezone('UTC', make_timestamp(t[1]::BIGINT * 1000)) AS time,
	'vnet' AS source,
	resource_id, upper(mac) AS mac, rule,
	t[2] AS src_ip, t[3] AS dst_ip, t[4]::INTEGER AS src_port, t[5]::INTEGER AS dst_port,
	CASE t[6] WHEN '6' THEN 'tcp' WHEN '17' THEN 'udp' WHEN '1' THEN 'icmp' ELSE t[6] END AS protocol,
	t[6]::INTEGER AS proto,
	CASE t[7] WHEN 'I' THEN 'in' WHEN 'O' THEN 'out' END AS direction,
	CASE t[8] WHEN 'D' THEN 'deny' ELSE 'allow' END AS decision,
	t[8] AS state,
	t[10]::BIGINT AS packets_out, t[11]::BIGINT AS bytes_out,
	t[12]::BIGINT AS packets_in, t[13]::BIGINT AS bytes_in,
	acl_id, flow_log_id, t[9] AS encryption
FROM vnet`, quote(glob), size, strings.ReplaceAll(recordsType, "'", "''"))
}

// Copy returns the statement that writes Select(glob) to one zstd
// Parquet file, as flowlens writes its dataset.
func Copy(glob, out string, o Options) string {
	return fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION zstd)", Select(glob, o), quote(out))
}
