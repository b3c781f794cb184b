package gen

import (
	"bufio"
	"cmp"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// flow is a connection seen by one NIC during one blob.
type flow struct {
	src, dst     int // indexes in topology.addrs
	sport, dport int
	proto        int // 6, 17 or 1
	out          bool
	deny         bool
	rule         string
	acl          string // VNet: the aclID of the flow group
	enc          string // VNet: the encryption status
	end          int    // record in which the flow ends (state E)
}

// event is one tuple to write in the current record.
type event struct {
	ms    int64 // tuple time, Unix milliseconds
	flow  int   // index in blobWriter.flows
	state byte  // 'B', 'C', 'E' or 'D'
}

// group is the tuples of one rule (and, in VNet logs, one aclID) of a record.
type group struct {
	acl, rule string
	tuples    []byte // quoted tuples, comma-separated
}

const zeroACL = "00000000-0000-0000-0000-000000000000"

// blobWriter writes blobs one after the other, reusing its buffers. It is
// not safe for concurrent use; each worker has its own.
type blobWriter struct {
	cfg  *Config
	topo *topology
	tot  *Totals

	pcg  *rand.PCG
	r    *rand.Rand
	zipf *rand.Zipf // rank of a public talker

	res    *resource
	nic    *nic
	flows  []flow // active flows first, then the record's new ones
	events []event
	groups []group
	bw     *bufio.Writer
	cw     countWriter
	line   []byte
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newBlobWriter(cfg *Config, topo *topology) *blobWriter {
	pcg := rand.NewPCG(0, 0)
	r := rand.New(pcg)
	return &blobWriter{
		cfg:  cfg,
		topo: topo,
		tot:  newTotals(cfg, topo),
		pcg:  pcg,
		r:    r,
		zipf: rand.NewZipf(r, 1.15, 2, externalAddrs-1),
		bw:   bufio.NewWriterSize(nil, 256<<10),
	}
}

// diurnal scales traffic by the UTC hour of the day: busiest at 14:00.
func diurnal(hour int) float64 {
	return 1 + 0.35*math.Sin(2*math.Pi*float64(hour-8)/24)
}

// write writes one blob (sixty one-minute records) to w.
func (b *blobWriter) write(w io.Writer, ref blobRef) error {
	b.pcg.Seed(b.cfg.Seed, uint64(ref.res)<<40^uint64(ref.nic)<<32^uint64(ref.hour)^0x626c6f62) // "blob"
	b.res = &b.topo.resources[ref.res]
	b.nic = &b.res.nics[ref.nic]
	b.flows = b.flows[:0]
	b.cw = countWriter{w: w}
	b.bw.Reset(&b.cw)

	hour := b.cfg.Start.Add(time.Duration(ref.hour) * time.Hour)
	rate := b.cfg.FlowsPerMinute * diurnal(hour.Hour())
	b.bw.WriteString(`{"records":[`)
	first := true
	for k := range 60 {
		// Record k is written at about k minutes past the hour and holds
		// the tuples of the minute before it.
		window := hour.Add(time.Duration(k-1) * time.Minute).UnixMilli()
		active := len(b.flows)
		b.events = b.events[:0]
		for i := range active {
			f := &b.flows[i]
			st := byte('C')
			if f.end == k {
				st = 'E'
			}
			b.events = append(b.events, event{ms: window + b.r.Int64N(60000), flow: i, state: st})
		}
		lambda := rate * (0.8 + 0.4*b.r.Float64())
		n := int(lambda)
		if b.r.Float64() < lambda-float64(n) {
			n++
		}
		for range n {
			b.newFlow(k)
			i := len(b.flows) - 1
			f := &b.flows[i]
			at := window + b.r.Int64N(60000)
			switch {
			case f.deny:
				b.events = append(b.events, event{ms: at, flow: i, state: 'D'})
			default:
				b.events = append(b.events, event{ms: at, flow: i, state: 'B'})
				if f.end == k && b.res.kind != NSGv1 {
					end := min(at+1+b.r.Int64N(20000), window+59999)
					b.events = append(b.events, event{ms: end, flow: i, state: 'E'})
				}
			}
		}
		if len(b.events) > 0 {
			slices.SortStableFunc(b.events, func(x, y event) int { return cmp.Compare(x.ms, y.ms) })
			if !first {
				b.bw.WriteByte(',')
			}
			first = false
			b.record(hour.Add(time.Duration(k)*time.Minute + time.Duration(20e9+b.r.Int64N(30e9))))
		}
		// Keep the flows that go on into the next record.
		kept := b.flows[:0]
		for i := range b.flows {
			if f := b.flows[i]; !f.deny && f.end > k {
				kept = append(kept, f)
			}
		}
		b.flows = kept
	}
	b.bw.WriteString(`]}`)
	if err := b.bw.Flush(); err != nil {
		return err
	}
	b.tot.Files++
	b.tot.Bytes += b.cw.n
	b.tot.nicSeen[[2]int{ref.res, ref.nic}] = true
	return nil
}

// newFlow appends a new flow starting in record k to b.flows.
func (b *blobWriter) newFlow(k int) {
	r := b.r
	f := flow{sport: 1024 + r.IntN(64512), proto: 6, end: k}
	me := b.nic.addr
	// Public talkers are Zipf-ranked; clients, servers and scanners rank
	// the pool from different places.
	client := func() int { return int(b.zipf.Uint64()) }
	server := func() int { return (int(b.zipf.Uint64()) + externalAddrs/2) % externalAddrs }
	scanner := func() int { return (int(b.zipf.Uint64()) + externalAddrs/4) % externalAddrs }
	if r.Float64() < b.cfg.DenyRate {
		f.deny = true
		if r.IntN(10) == 0 { // outbound, blocked by a user rule
			f.src, f.dst, f.out = me, server(), true
			f.dport, f.rule = 25, "UserRule_DenySMTPOutBound"
		} else { // an inbound scan
			f.src, f.dst = scanner(), me
			if r.IntN(5) == 0 {
				f.dport = 1 + r.IntN(65535)
			} else {
				f.dport = scanPorts[min(int(r.ExpFloat64()*2.5), len(scanPorts)-1)]
			}
			f.rule = "DefaultRule_DenyAllInBound"
			if r.IntN(10) == 0 {
				f.proto = 17
			}
		}
		f.acl = b.res.nsgACL
	} else {
		switch u := r.Float64(); {
		case u < 0.45: // out to the internet
			f.src, f.dst, f.out = me, server(), true
			f.rule = "DefaultRule_AllowInternetOutBound"
			switch v := r.IntN(20); {
			case v < 14:
				f.dport = 443
			case v < 17:
				f.dport = 80
			case v < 19:
				f.dport, f.proto = 53, 17
			default:
				f.dport, f.proto, f.sport = 123, 17, 123
			}
			if b.res.kind == VNet && r.IntN(50) == 0 {
				f.sport, f.dport, f.proto = 0, 0, 1 // ping
			}
		case u < 0.72: // in to a service of the NIC
			s := b.nic.services[min(int(r.ExpFloat64()), len(b.nic.services)-1)]
			f.src, f.dst, f.dport, f.proto, f.rule = client(), me, s.port, s.proto, s.rule
		case u < 0.77: // Azure platform: load balancer probes, DNS, DHCP
			s := b.nic.services[0]
			f.src, f.dst, f.dport, f.proto = b.topo.platform, me, s.port, s.proto
			f.rule = "DefaultRule_AllowAzureLoadBalancerInBound"
			if b.res.kind == VNet {
				f.rule, f.acl = "PlatformRule", zeroACL
			}
		case u < 0.92: // east-west, in
			f.src, f.dst, f.dport = b.res.peers[r.IntN(len(b.res.peers))], me, eastWest[r.IntN(len(eastWest))]
			f.rule = "DefaultRule_AllowVnetInBound"
		default: // east-west, out
			f.src, f.dst, f.out, f.dport = me, b.res.peers[r.IntN(len(b.res.peers))], true, eastWest[r.IntN(len(eastWest))]
			f.rule = "DefaultRule_AllowVnetOutBound"
		}
		if f.acl == "" {
			f.acl = b.res.nsgACL
		}
		if r.Float64() >= 0.6 { // a longer flow: C tuples, then E
			f.end = min(k+1+int(r.ExpFloat64()*2.5), 59)
		}
	}
	if b.res.kind == VNet {
		f.enc = encryptions[r.IntN(len(encryptions))]
	} else {
		f.acl = ""
	}
	b.flows = append(b.flows, f)
}

// counters draws the packets and bytes of a flow's interval.
func (b *blobWriter) counters(f *flow) (c [4]int64) {
	r := b.r
	switch {
	case f.proto == 17 && (f.dport == 53 || f.dport == 123):
		c = [4]int64{1, 60 + r.Int64N(30), 1, 90 + r.Int64N(400)}
	case f.proto == 1:
		n := 1 + r.Int64N(4)
		c = [4]int64{n, 84 * n, n, 84 * n}
	default:
		mean := 12.0
		switch f.dport {
		case 22, 3389:
			mean = 80
		case 1433, 5432, 6379:
			mean = 40
		}
		po := 1 + int64(r.ExpFloat64()*mean)
		pi := po/2 + int64(r.ExpFloat64()*mean)
		c = [4]int64{po, po * (54 + r.Int64N(600)), pi, pi * (54 + r.Int64N(1400))}
	}
	return c
}

// record writes the current events as one record written at t.
func (b *blobWriter) record(t time.Time) {
	for i := range b.groups {
		b.groups[i].tuples = b.groups[i].tuples[:0]
	}
	b.groups = b.groups[:0]
	for _, e := range b.events {
		f := &b.flows[e.flow]
		g := b.group(f.acl, f.rule)
		if len(g.tuples) > 0 {
			g.tuples = append(g.tuples, ',')
		}
		g.tuples = append(g.tuples, '"')
		g.tuples = b.appendTuple(g.tuples, f, e)
		g.tuples = append(g.tuples, '"')
	}
	b.tot.Records++

	line := b.line[:0]
	ts := t.Format("2006-01-02T15:04:05.0000000Z")
	res := b.res
	switch res.kind {
	case NSGv1, NSGv2:
		line = append(line, `{"time":"`...)
		line = append(line, ts...)
		line = append(line, `","systemId":"`...)
		line = append(line, res.systemID...)
		if res.kind == NSGv2 {
			line = append(line, `","macAddress":"`...)
			line = append(line, b.nic.mac...)
		}
		line = append(line, `","category":"NetworkSecurityGroupFlowEvent","resourceId":"`...)
		line = append(line, res.id...)
		line = append(line, `","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":`...)
		line = strconv.AppendInt(line, int64(res.kind)+1, 10)
		line = append(line, `,"flows":[`...)
		for i := range b.groups {
			g := &b.groups[i]
			if i > 0 {
				line = append(line, ',')
			}
			line = append(line, `{"rule":"`...)
			line = append(line, g.rule...)
			line = append(line, `","flows":[{"mac":"`...)
			line = append(line, b.nic.mac...)
			line = append(line, `","flowTuples":[`...)
			line = append(line, g.tuples...)
			line = append(line, `]}]}`...)
		}
		line = append(line, `]}}`...)
	case VNet:
		line = append(line, `{"time":"`...)
		line = append(line, ts...)
		line = append(line, `","flowLogGUID":"`...)
		line = append(line, res.systemID...)
		line = append(line, `","macAddress":"`...)
		line = append(line, b.nic.mac...)
		line = append(line, `","category":"FlowLogFlowEvent","flowLogResourceID":"`...)
		line = append(line, res.flowLogID...)
		line = append(line, `","targetResourceID":"`...)
		line = append(line, res.targetID...)
		line = append(line, `","flowLogVersion":4,"operationName":"FlowLogFlowEvent","flowRecords":{"flows":[`...)
		// One flows entry per aclID, in order of first appearance.
		for i := range b.groups {
			g := &b.groups[i]
			if i > 0 && b.groups[i-1].acl == g.acl {
				line = append(line, ',')
			} else {
				if i > 0 {
					line = append(line, `]},`...)
				}
				line = append(line, `{"aclID":"`...)
				line = append(line, g.acl...)
				line = append(line, `","flowGroups":[`...)
			}
			line = append(line, `{"rule":"`...)
			line = append(line, g.rule...)
			line = append(line, `","flowTuples":[`...)
			line = append(line, g.tuples...)
			line = append(line, `]}`...)
		}
		if len(b.groups) > 0 {
			line = append(line, `]}`...)
		}
		line = append(line, `]}}`...)
	}
	b.bw.Write(line)
	b.line = line
}

// group returns the group of (acl, rule), adding it after the other groups
// of the same acl.
func (b *blobWriter) group(acl, rule string) *group {
	at := len(b.groups)
	for i := range b.groups {
		g := &b.groups[i]
		if g.acl == acl {
			if g.rule == rule {
				return g
			}
			at = i + 1
		}
	}
	if len(b.groups) < cap(b.groups) {
		b.groups = b.groups[:len(b.groups)+1] // reuse the tuples buffer left there
	} else {
		b.groups = append(b.groups, group{})
	}
	last := b.groups[len(b.groups)-1]
	copy(b.groups[at+1:], b.groups[at:len(b.groups)-1])
	b.groups[at] = group{acl: acl, rule: rule, tuples: last.tuples[:0]}
	return &b.groups[at]
}

// appendTuple appends the tuple of event e of flow f and counts it.
func (b *blobWriter) appendTuple(dst []byte, f *flow, e event) []byte {
	kind := b.res.kind
	tot := b.tot
	tot.Tuples++
	tot.kinds[kind]++
	tot.src.set(f.src)
	tot.dst.set(f.dst)
	tot.SrcPortSum += int64(f.sport)
	tot.DstPortSum += int64(f.dport)
	tot.ProtoSum += int64(f.proto)

	ms := e.ms
	if kind != VNet {
		ms -= ms % 1000 // NSG tuples have seconds
		dst = strconv.AppendInt(dst, ms/1000, 10)
	} else {
		dst = strconv.AppendInt(dst, ms, 10)
	}
	tot.TimeOffsetMsSum += ms - b.cfg.Start.UnixMilli()
	sec := ms / 1000
	tot.hours[sec/3600]++

	dst = append(dst, ',')
	dst = append(dst, b.topo.addrs[f.src]...)
	dst = append(dst, ',')
	dst = append(dst, b.topo.addrs[f.dst]...)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(f.sport), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(f.dport), 10)
	dst = append(dst, ',')
	if kind == VNet {
		dst = strconv.AppendInt(dst, int64(f.proto), 10)
	} else if f.proto == 17 {
		dst = append(dst, 'U')
	} else {
		dst = append(dst, 'T')
	}
	dst = append(dst, ',')
	if f.out {
		dst = append(dst, 'O')
	} else {
		dst = append(dst, 'I')
	}
	dst = append(dst, ',')
	if f.deny {
		tot.Denies++
	}
	switch kind {
	case NSGv1:
		tot.NullCounters++
		if f.deny {
			return append(dst, 'D')
		}
		return append(dst, 'A')
	case NSGv2:
		if f.deny {
			dst = append(dst, 'D', ',', 'B')
			e.state = 'B'
		} else {
			dst = append(dst, 'A', ',', e.state)
		}
		tot.states[e.state]++
		if e.state == 'B' {
			tot.NullCounters++
			return append(dst, ",,,,"...)
		}
	case VNet:
		dst = append(dst, e.state, ',')
		dst = append(dst, f.enc...)
		tot.states[e.state]++
		if e.state == 'B' || e.state == 'D' {
			return append(dst, ",0,0,0,0"...)
		}
	}
	c := b.counters(f)
	tot.PacketsOut += c[0]
	tot.BytesOut += c[1]
	tot.PacketsIn += c[2]
	tot.BytesIn += c[3]
	for _, v := range c {
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, v, 10)
	}
	return dst
}
