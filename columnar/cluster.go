package columnar

// Rows of a dataset's row group are clustered by source address: the rows
// of one address are adjacent, addresses in the order they first appear,
// and each address's rows in the order they came. A source address then
// covers one run of rows per row group, so that its index posting is a
// few runs (cheap enough to keep near exact) and a needle on a source
// reads a page or two of each column it needs instead of pages all over
// the row group. The Parquet of the src_ip column shrinks to runs, too.

// clusterScratch is the memory clustering reuses from batch to batch.
type clusterScratch struct {
	perm  []int32 // perm[i] is the old row of new row i
	start []int32 // by dictionary index: first new row of the address
	i32   []int32
	i64   []int64
	bits  []byte
}

// ClusterBySource reorders the batch's rows by source address (see
// above). Call it after the last Append, right before Record: the batch
// only takes Record and Reset after it.
func (b *Batch) ClusterBySource() {
	s := &b.cluster
	n := b.Len()
	keys := b.srcIP.idx
	if n < 2 || len(keys) != n {
		return
	}
	ndict := len(b.srcIP.offsets) - 1
	start := growInt32(&s.start, ndict+1)
	clear(start)
	sorted := true
	for i, k := range keys {
		start[k+1]++
		if i > 0 && k < keys[i-1] {
			sorted = false
		}
	}
	if sorted {
		return
	}
	for k := 1; k <= ndict; k++ {
		start[k] += start[k-1]
	}
	perm := growInt32(&s.perm, n)
	for i, k := range keys {
		perm[start[k]] = int32(i)
		start[k]++
	}
	for _, c := range []*dictColumn{b.resourceID, b.mac, b.rule, b.srcIP, b.dstIP, b.aclID, b.flowLogID, b.encryption} {
		if c.lead == 0 {
			permute(&c.idx, &s.i32, perm)
			c.valid.permute(&s.bits, perm)
		}
	}
	for _, c := range []*enumColumn{&b.source, &b.protocol, &b.direction, &b.decision, &b.state} {
		permute(&c.idx, &s.i32, perm)
		c.valid.permute(&s.bits, perm)
	}
	for _, c := range []*int64Column{&b.time, &b.endTime, &b.packetsOut, &b.bytesOut, &b.packetsIn, &b.bytesIn} {
		if c.lead == 0 {
			permute(&c.v, &s.i64, perm)
			c.valid.permute(&s.bits, perm)
		}
	}
	for _, c := range []*int32Column{&b.srcPort, &b.dstPort, &b.proto, &b.tcpFlags, &b.vlan, &b.capturedLen} {
		if c.lead == 0 {
			permute(&c.v, &s.i32, perm)
			c.valid.permute(&s.bits, perm)
		}
	}
}

func growInt32(p *[]int32, n int) []int32 {
	if cap(*p) < n {
		*p = make([]int32, n)
	}
	*p = (*p)[:n]
	return *p
}

// permute reorders *v by perm, using *spare as the new backing array and
// leaving the old one in *spare for the next column.
func permute[T int32 | int64](v, spare *[]T, perm []int32) {
	old := *v
	if len(old) != len(perm) {
		panic("BUG: permuting a column of another length")
	}
	dst := *spare
	if cap(dst) < len(old) {
		dst = make([]T, len(old), cap(old))
	}
	dst = dst[:len(old)]
	for i, p := range perm {
		dst[i] = old[p]
	}
	*v, *spare = dst, old[:0]
}

// permute reorders the validity bits by perm; bits with no nulls are all
// set and stay as they are.
func (v *validity) permute(spare *[]byte, perm []int32) {
	if v.nulls == 0 {
		return
	}
	old := v.bits
	dst := append((*spare)[:0], make([]byte, len(old))...)
	for i, p := range perm {
		if old[p>>3]&(1<<(p&7)) != 0 {
			dst[i>>3] |= 1 << (i & 7)
		}
	}
	v.bits, *spare = dst, old[:0]
}
