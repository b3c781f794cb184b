package gen

import (
	"time"
)

// Totals is what a tree holds, counted while it was written: what a
// correct conversion of the tree yields. Every tuple the generator writes
// is valid, so Tuples is also the number of rows.
type Totals struct {
	Seed           uint64    `json:"seed"`
	Start          time.Time `json:"start"`
	Hours          int       `json:"hours"`
	FlowsPerMinute float64   `json:"flows_per_minute"`

	Files   int64 `json:"files"`
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	Tuples  int64 `json:"tuples"`

	// Sums of the counters of the tuples that have them (v2 tuples in
	// state C or E, every VNet tuple).
	PacketsOut int64 `json:"packets_out"`
	BytesOut   int64 `json:"bytes_out"`
	PacketsIn  int64 `json:"packets_in"`
	BytesIn    int64 `json:"bytes_in"`
	// NullCounters counts the tuples without counters: every v1 tuple,
	// and v2 tuples in state B.
	NullCounters int64 `json:"null_counter_rows"`
	// Denies counts tuples with decision D (NSG) or state D (VNet).
	Denies int64 `json:"denies"`

	// Column sums, to check values and not only counts.
	SrcPortSum int64 `json:"src_port_sum"`
	DstPortSum int64 `json:"dst_port_sum"`
	ProtoSum   int64 `json:"proto_sum"`
	// TimeOffsetMsSum is the sum over tuples of (tuple time − Start) in
	// milliseconds; the first record of a blob holds tuples of the hour
	// before, so some terms are negative.
	TimeOffsetMsSum int64 `json:"time_offset_ms_sum"`

	DistinctSrcIPs      int `json:"distinct_src_ips"`
	DistinctDstIPs      int `json:"distinct_dst_ips"`
	DistinctMACs        int `json:"distinct_macs"`
	DistinctResourceIDs int `json:"distinct_resource_ids"` // the resource_id column: NSG ids, VNet target ids

	BySource map[string]int64 `json:"by_source"` // nsg-v1, nsg-v2, vnet
	ByState  map[string]int64 `json:"by_state"`  // B, C, E, D; v1 tuples have none and are not counted
	ByHour   map[string]int64 `json:"by_hour"`   // UTC hour of the tuple time, "2006-01-02T15"

	// Filled while generating, folded into the exported fields by finish.
	kinds   [numKinds]int64
	states  [256]int64
	hours   map[int64]int64 // Unix hour → tuples
	src     bitset
	dst     bitset
	nicSeen map[[2]int]bool // resource, NIC
}

// DenyShare is the share of tuples that are denies.
func (t *Totals) DenyShare() float64 {
	if t.Tuples == 0 {
		return 0
	}
	return float64(t.Denies) / float64(t.Tuples)
}

type bitset []uint64

func (b bitset) set(i int) { b[i>>6] |= 1 << (i & 63) }

func (b bitset) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }

func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func newTotals(cfg *Config, topo *topology) *Totals {
	words := (len(topo.addrs) + 63) / 64
	return &Totals{
		Seed:           cfg.Seed,
		Start:          cfg.Start,
		Hours:          cfg.Hours,
		FlowsPerMinute: cfg.FlowsPerMinute,
		hours:          map[int64]int64{},
		src:            make(bitset, words),
		dst:            make(bitset, words),
		nicSeen:        map[[2]int]bool{},
	}
}

func (t *Totals) merge(o *Totals) {
	t.Files += o.Files
	t.Records += o.Records
	t.Bytes += o.Bytes
	t.Tuples += o.Tuples
	t.PacketsOut += o.PacketsOut
	t.BytesOut += o.BytesOut
	t.PacketsIn += o.PacketsIn
	t.BytesIn += o.BytesIn
	t.NullCounters += o.NullCounters
	t.Denies += o.Denies
	t.SrcPortSum += o.SrcPortSum
	t.DstPortSum += o.DstPortSum
	t.ProtoSum += o.ProtoSum
	t.TimeOffsetMsSum += o.TimeOffsetMsSum
	for k, v := range o.kinds {
		t.kinds[k] += v
	}
	for k, v := range o.states {
		t.states[k] += v
	}
	for k, v := range o.hours {
		t.hours[k] += v
	}
	t.src.or(o.src)
	t.dst.or(o.dst)
	for k := range o.nicSeen {
		t.nicSeen[k] = true
	}
}

// finish fills the exported summary fields from the raw counts.
func (t *Totals) finish(topo *topology) {
	distinct := func(b bitset) int {
		seen := map[string]bool{}
		for i, a := range topo.addrs {
			if b.has(i) {
				seen[a] = true
			}
		}
		return len(seen)
	}
	t.DistinctSrcIPs = distinct(t.src)
	t.DistinctDstIPs = distinct(t.dst)
	macs, ids := map[string]bool{}, map[string]bool{}
	for k := range t.nicSeen {
		res := &topo.resources[k[0]]
		macs[res.nics[k[1]].mac] = true
		if res.kind == VNet {
			ids[res.targetID] = true
		} else {
			ids[res.id] = true
		}
	}
	t.DistinctMACs, t.DistinctResourceIDs = len(macs), len(ids)
	t.BySource = map[string]int64{}
	for k, v := range t.kinds {
		if v > 0 {
			t.BySource[Kind(k).String()] = v
		}
	}
	t.ByState = map[string]int64{}
	for _, s := range "BCED" {
		if v := t.states[s]; v > 0 {
			t.ByState[string(s)] = v
		}
	}
	t.ByHour = map[string]int64{}
	for h, v := range t.hours {
		t.ByHour[time.Unix(h*3600, 0).UTC().Format("2006-01-02T15")] = v
	}
}
