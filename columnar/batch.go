package columnar

import (
	"bytes"
	"fmt"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// dictType is the Arrow type of low-cardinality string columns.
var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

var tsType = arrow.FixedWidthTypes.Timestamp_us

// Schema is the Arrow schema of the flow table. Column names and order are
// stable; new columns are only ever appended.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "time", Type: tsType},
	{Name: "end_time", Type: tsType, Nullable: true},
	{Name: "source", Type: dictType},
	{Name: "resource_id", Type: dictType, Nullable: true},
	{Name: "mac", Type: dictType, Nullable: true},
	{Name: "rule", Type: dictType, Nullable: true},
	{Name: "src_ip", Type: dictType},
	{Name: "dst_ip", Type: dictType},
	{Name: "src_port", Type: arrow.PrimitiveTypes.Int32},
	{Name: "dst_port", Type: arrow.PrimitiveTypes.Int32},
	{Name: "protocol", Type: dictType},
	{Name: "proto", Type: arrow.PrimitiveTypes.Int32},
	{Name: "direction", Type: dictType, Nullable: true},
	{Name: "decision", Type: dictType, Nullable: true},
	{Name: "state", Type: dictType, Nullable: true},
	{Name: "packets_out", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "bytes_out", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "packets_in", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "bytes_in", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "acl_id", Type: dictType, Nullable: true},
	{Name: "flow_log_id", Type: dictType, Nullable: true},
	{Name: "encryption", Type: dictType, Nullable: true},
	{Name: "tcp_flags", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "vlan", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "captured_len", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
}, nil)

// validity is a growable validity bitmap; it is written out only when a
// value is null.
type validity struct {
	bits  []byte
	nulls int
}

func (v *validity) set(i int, ok bool) {
	if i>>3 >= len(v.bits) {
		v.bits = append(v.bits, 0)
	}
	if ok {
		v.bits[i>>3] |= 1 << (i & 7)
	} else {
		v.nulls++
	}
}

func (v *validity) reset() { v.bits = v.bits[:0]; v.nulls = 0 }

func (v *validity) buffer() *memory.Buffer {
	if v.nulls == 0 {
		return nil
	}
	return memory.NewBufferBytes(v.bits)
}

// dictColumn builds a dictionary-encoded string column. Repeated values cost
// one comparison with the previous value, or one map look-up.
type dictColumn struct {
	lead      int // nulls before the first value, not yet stored
	idx       []int32
	valid     validity
	memo      map[string]int32
	offsets   []int32
	data      []byte
	last      int32
	lastValid bool
}

func newDictColumn() *dictColumn {
	return &dictColumn{memo: make(map[string]int32), offsets: []int32{0}, last: -1}
}

func (c *dictColumn) value(i int32) []byte { return c.data[c.offsets[i]:c.offsets[i+1]] }

// repeat appends the value of the previous row again.
func (c *dictColumn) repeat() {
	if len(c.idx) == 0 {
		c.lead++
		return
	}
	n := len(c.idx)
	c.valid.set(n, c.lastValid)
	c.idx = append(c.idx, c.idx[n-1])
}

func (c *dictColumn) append(b []byte, ok bool) {
	c.lastValid = ok
	if !ok && len(c.idx) == 0 {
		c.lead++
		return
	}
	if c.lead > 0 {
		for ; c.lead > 0; c.lead-- {
			c.valid.set(len(c.idx), false)
			c.idx = append(c.idx, 0)
		}
	}
	c.valid.set(len(c.idx), ok)
	if !ok {
		c.idx = append(c.idx, 0)
		return
	}
	if c.last >= 0 && bytes.Equal(c.value(c.last), b) {
		c.idx = append(c.idx, c.last)
		return
	}
	i, found := c.memo[string(b)]
	if !found {
		i = int32(len(c.offsets) - 1)
		c.data = append(c.data, b...)
		c.offsets = append(c.offsets, int32(len(c.data)))
		c.memo[string(b)] = i
	}
	c.last = i
	c.idx = append(c.idx, i)
}

func (c *dictColumn) array() arrow.Array {
	dict := array.NewData(arrow.BinaryTypes.String, len(c.offsets)-1,
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offsets)), memory.NewBufferBytes(c.data)}, nil, 0, 0)
	defer dict.Release()
	valid, idx, nulls := c.valid.buffer(), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.idx)), c.valid.nulls
	n := len(c.idx)
	if c.lead > 0 { // all null
		n, nulls = c.lead, c.lead
		valid, idx = memory.NewBufferBytes(zeroBytes((n+7)/8)), memory.NewBufferBytes(zeroBytes(4*n))
	}
	data := array.NewData(dictType, n, []*memory.Buffer{valid, idx}, nil, nulls, 0)
	data.SetDictionary(dict)
	defer data.Release()
	return array.MakeFromData(data)
}

// reset empties the column. The dictionary is dropped too, so that every
// batch carries only the values it uses.
func (c *dictColumn) reset() {
	c.lead = 0
	c.idx = c.idx[:0]
	c.valid.reset()
	clear(c.memo)
	c.offsets = c.offsets[:1]
	c.data = c.data[:0]
	c.last = -1
}

// enumColumn builds a dictionary-encoded string column whose values come
// from a fixed table indexed by a small code; code 0 is null when the
// column is nullable. Appending is an array look-up.
type enumColumn struct {
	idx      []int32
	valid    validity
	table    *[256][]byte
	slot     [256]int32 // code → dictionary index + 1 in this batch
	used     []uint8
	nullable bool
}

func (c *enumColumn) append(code uint8) {
	if c.nullable {
		c.valid.set(len(c.idx), code != 0)
		if code == 0 {
			c.idx = append(c.idx, 0)
			return
		}
	}
	i := c.slot[code]
	if i == 0 {
		c.used = append(c.used, code)
		i = int32(len(c.used))
		c.slot[code] = i
	}
	c.idx = append(c.idx, i-1)
}

func (c *enumColumn) array() arrow.Array {
	offsets := make([]int32, 1, len(c.used)+1)
	var data []byte
	for _, code := range c.used {
		data = append(data, c.table[code]...)
		offsets = append(offsets, int32(len(data)))
	}
	dict := array.NewData(arrow.BinaryTypes.String, len(c.used),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), memory.NewBufferBytes(data)}, nil, 0, 0)
	defer dict.Release()
	d := array.NewData(dictType, len(c.idx),
		[]*memory.Buffer{c.valid.buffer(), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.idx))}, nil, c.valid.nulls, 0)
	d.SetDictionary(dict)
	defer d.Release()
	return array.MakeFromData(d)
}

func (c *enumColumn) reset() {
	c.idx = c.idx[:0]
	c.valid.reset()
	for _, code := range c.used {
		c.slot[code] = 0
	}
	c.used = c.used[:0]
}

// zeros backs the buffers of all-null columns; nothing writes to it. It
// is made on first use: commands that write no Parquet never pay for it.
var zeros = sync.OnceValue(func() []byte { return make([]byte, 8*RowGroupRows) })

func zeroBytes(n int) []byte {
	if z := zeros(); n <= len(z) {
		return z[:n:n]
	}
	return make([]byte, n)
}

// allNull returns the data of n nulls of a fixed-width type.
func allNull(typ arrow.DataType, n, width int) *array.Data {
	return array.NewData(typ, n, []*memory.Buffer{memory.NewBufferBytes(zeroBytes((n + 7) / 8)),
		memory.NewBufferBytes(zeroBytes(width * n))}, nil, n, 0)
}

// fixedColumn builds a column of 32- or 64-bit integers (or timestamps).
// A nullable column stores nothing while it holds only nulls.
type fixedColumn[T int32 | int64] struct {
	lead     int // nulls before the first value, not yet stored
	v        []T
	valid    validity
	typ      arrow.DataType
	nullable bool
}

type (
	int32Column = fixedColumn[int32]
	int64Column = fixedColumn[int64]
)

func (c *fixedColumn[T]) append(x T, ok bool) {
	if c.nullable {
		if !ok && len(c.v) == 0 {
			c.lead++
			return
		}
		for ; c.lead > 0; c.lead-- {
			c.valid.set(len(c.v), false)
			c.v = append(c.v, 0)
		}
		c.valid.set(len(c.v), ok)
	}
	c.v = append(c.v, x)
}

func (c *fixedColumn[T]) array() arrow.Array {
	var data *array.Data
	if c.lead > 0 {
		data = allNull(c.typ, c.lead, int(unsafe.Sizeof(T(0))))
	} else {
		data = array.NewData(c.typ, len(c.v),
			[]*memory.Buffer{c.valid.buffer(), memory.NewBufferBytes(arrow.GetBytes(c.v))}, nil, c.valid.nulls, 0)
	}
	defer data.Release()
	return array.MakeFromData(data)
}

func (c *fixedColumn[T]) reset() { c.lead = 0; c.v = c.v[:0]; c.valid.reset() }

// Batch accumulates flows column by column and turns them into Arrow record
// batches without copying. The zero value is not usable: call NewBatch. A
// Batch is not safe for concurrent use.
//
// The record returned by Record shares the Batch's memory: write or copy it
// before the next Append or Reset.
type Batch struct {
	time, endTime                int64Column
	resourceID, mac, rule        *dictColumn
	source, protocol, direction  enumColumn
	decision, state              enumColumn
	srcIP, dstIP                 *dictColumn
	srcPort, dstPort, proto      int32Column
	packetsOut, bytesOut         int64Column
	packetsIn, bytesIn           int64Column
	aclID, flowLogID, encryption *dictColumn
	tcpFlags, vlan               int32Column
	capturedLen                  int32Column
	context                      uint64 // Context of the last row
	cluster                      clusterScratch
}

// NewBatch returns an empty batch.
func NewBatch() *Batch {
	b := &Batch{}
	for _, c := range []**dictColumn{&b.resourceID, &b.mac, &b.rule, &b.aclID, &b.flowLogID, &b.encryption, &b.srcIP, &b.dstIP} {
		*c = newDictColumn()
	}
	b.source.table = &sourceBytes
	b.protocol.table = &protoBytes
	b.direction.table, b.direction.nullable = &directionBytes, true
	b.decision.table, b.decision.nullable = &decisionBytes, true
	b.state.table, b.state.nullable = &stateBytes, true
	b.time.typ = tsType
	b.endTime.typ, b.endTime.nullable = tsType, true
	for _, c := range []*int64Column{&b.packetsOut, &b.bytesOut, &b.packetsIn, &b.bytesIn} {
		c.typ, c.nullable = arrow.PrimitiveTypes.Int64, true
	}
	for _, c := range []*int32Column{&b.srcPort, &b.dstPort, &b.proto, &b.tcpFlags, &b.vlan, &b.capturedLen} {
		c.typ = arrow.PrimitiveTypes.Int32
	}
	b.tcpFlags.nullable, b.vlan.nullable, b.capturedLen.nullable = true, true, true
	b.grow(RowGroupRows)
	return b
}

// grow reserves room for n rows in the fixed-width columns, so that a
// batch filling up does not copy them again and again.
func (b *Batch) grow(n int) {
	// Columns most sources fill; the others (end_time, tcp_flags, vlan,
	// acl_id, flow_log_id, encryption) cost nothing while they are null.
	for _, c := range []*int64Column{&b.time, &b.packetsOut, &b.bytesOut, &b.packetsIn, &b.bytesIn} {
		c.v = make([]int64, 0, n)
	}
	for _, c := range []*int32Column{&b.srcPort, &b.dstPort, &b.proto} {
		c.v = make([]int32, 0, n)
	}
	for _, c := range []*dictColumn{b.resourceID, b.mac, b.rule, b.srcIP, b.dstIP} {
		c.idx = make([]int32, 0, n)
	}
	for _, c := range []*enumColumn{&b.source, &b.protocol, &b.direction, &b.decision, &b.state} {
		c.idx = make([]int32, 0, n)
	}
}

// Len returns the number of rows appended since the last Reset.
func (b *Batch) Len() int { return len(b.time.v) }

// Append copies one flow into the batch.
func (b *Batch) Append(f *Flow) {
	b.time.append(f.Time, true)
	b.endTime.append(f.EndTime, f.HasEndTime)
	b.source.append(uint8(f.Source))
	if f.Context != 0 && f.Context == b.context {
		b.resourceID.repeat()
		b.mac.repeat()
		b.rule.repeat()
		b.aclID.repeat()
		b.flowLogID.repeat()
	} else {
		b.resourceID.append(f.ResourceID, len(f.ResourceID) > 0)
		b.mac.append(f.MAC, len(f.MAC) > 0)
		b.rule.append(f.Rule, len(f.Rule) > 0)
		b.aclID.append(f.ACLID, len(f.ACLID) > 0)
		b.flowLogID.append(f.FlowLogID, len(f.FlowLogID) > 0)
		b.context = f.Context
	}
	b.srcIP.append(f.SrcIP, true)
	b.dstIP.append(f.DstIP, true)
	b.srcPort.append(f.SrcPort, true)
	b.dstPort.append(f.DstPort, true)
	b.protocol.append(uint8(f.Proto))
	b.proto.append(f.Proto, true)
	b.direction.append(uint8(f.Direction))
	b.decision.append(uint8(f.Decision))
	b.state.append(f.State)
	b.packetsOut.append(f.PacketsOut, f.HasCounters)
	b.bytesOut.append(f.BytesOut, f.HasCounters)
	b.packetsIn.append(f.PacketsIn, f.HasCounters)
	b.bytesIn.append(f.BytesIn, f.HasCounters)
	b.encryption.append(f.Encryption, len(f.Encryption) > 0)
	b.tcpFlags.append(f.TCPFlags, f.HasTCPFlags)
	b.vlan.append(f.VLAN, f.HasVLAN)
	b.capturedLen.append(f.CapturedLen, f.HasCapturedLen)
}

// Record returns the rows as an Arrow record batch of Schema. The caller
// releases it, and must be done with it before the next Append or Reset.
func (b *Batch) Record() arrow.RecordBatch {
	cols := []arrow.Array{
		b.time.array(), b.endTime.array(),
		b.source.array(), b.resourceID.array(), b.mac.array(), b.rule.array(),
		b.srcIP.array(), b.dstIP.array(),
		b.srcPort.array(), b.dstPort.array(),
		b.protocol.array(), b.proto.array(),
		b.direction.array(), b.decision.array(), b.state.array(),
		b.packetsOut.array(), b.bytesOut.array(), b.packetsIn.array(), b.bytesIn.array(),
		b.aclID.array(), b.flowLogID.array(), b.encryption.array(),
		b.tcpFlags.array(), b.vlan.array(), b.capturedLen.array(),
	}
	if len(cols) != len(Schema.Fields()) {
		panic(fmt.Sprintf("BUG: batch has %d columns, schema %d", len(cols), len(Schema.Fields())))
	}
	rec := array.NewRecordBatch(Schema, cols, int64(b.Len()))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// Reset empties the batch, keeping its memory for reuse.
func (b *Batch) Reset() {
	b.context = 0
	b.time.reset()
	b.endTime.reset()
	for _, c := range []*dictColumn{b.resourceID, b.mac, b.rule, b.aclID, b.flowLogID, b.encryption} {
		c.reset()
	}
	for _, c := range []*enumColumn{&b.source, &b.protocol, &b.direction, &b.decision, &b.state} {
		c.reset()
	}
	b.srcIP.reset()
	b.dstIP.reset()
	for _, c := range []*int32Column{&b.srcPort, &b.dstPort, &b.proto, &b.tcpFlags, &b.vlan, &b.capturedLen} {
		c.reset()
	}
	for _, c := range []*int64Column{&b.packetsOut, &b.bytesOut, &b.packetsIn, &b.bytesIn} {
		c.reset()
	}
}

// Dictionary values of the enum columns, by code.
var sourceBytes, protoBytes, directionBytes, decisionBytes, stateBytes [256][]byte

func init() {
	for i := range sourceBytes {
		sourceBytes[i] = []byte(Source(i).String())
		protoBytes[i] = []byte(ProtocolName(int32(i)))
		stateBytes[i] = []byte{byte(i)}
	}
	directionBytes[DirectionIn] = []byte("in")
	directionBytes[DirectionOut] = []byte("out")
	decisionBytes[DecisionAllow] = []byte("allow")
	decisionBytes[DecisionDeny] = []byte("deny")
}
