package flowlog

import (
	"bytes"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/flowlens/flowlens/columnar"
)

// Defaults fills what a record leaves out, typically from the blob path.
type Defaults struct {
	ResourceID []byte
	MAC        []byte
}

// Emitter receives the rows and the bad tuples of a record. The row is
// valid only during the call.
type Emitter interface {
	Row(f *columnar.Flow) error
	BadTuple(tuple int, err *TupleError) error
}

// Decoder decodes NSG (v1, v2) and VNet (v4) flow log records into rows.
// The zero value is ready to use. A Decoder is not safe for concurrent
// use; it reuses its memory from record to record.
type Decoder struct {
	p       fastjson.Parser
	tp      TupleParser
	fix     []byte
	recMAC  []byte // the record's (or default) MAC, normalised
	flowMAC []byte // an inner flow's MAC, normalised
	row     columnar.Flow
	tuple   int
	context uint64 // numbers the tuple groups, for columnar.Flow.Context
}

// RecordInfo describes a decoded record.
type RecordInfo struct {
	Format Format
	Tuples int // tuples seen, good and bad
	Rows   int // rows emitted
}

// Decode decodes one record (a JSON object) and emits one row per flow
// tuple. A bad tuple is reported to the emitter and decoding goes on; an
// error from the emitter stops it. A record that is not a flow log record
// returns an error wrapping ErrBadJSON or ErrBadRecord.
func (d *Decoder) Decode(rec []byte, def Defaults, e Emitter) (RecordInfo, error) {
	var info RecordInfo
	v, err := d.p.ParseBytes(rec)
	if err != nil {
		// Some tools write trailing commas; read the record without them.
		if d.fix = stripTrailingCommas(d.fix[:0], rec); len(d.fix) != len(rec) {
			v, err = d.p.ParseBytes(d.fix)
		}
		if err != nil {
			return info, &Error{Offset: -1, Record: -1, Tuple: -1, Field: -1, Msg: err.Error(), Err: ErrBadJSON}
		}
	}
	o, err := v.Object()
	if err != nil {
		return info, badRecord("record is not an object")
	}
	d.row = columnar.Flow{}
	d.tuple = 0
	row := &d.row
	row.ResourceID = def.ResourceID
	mac := def.MAC
	if m := stringField(o, "macAddress"); len(m) > 0 {
		mac = m
	}
	d.recMAC = normMAC(d.recMAC[:0], mac)
	row.MAC = d.recMAC

	if fr := objField(o, "flowRecords"); fr != nil || objField(o, "flowLogVersion") != nil {
		info.Format = FormatVNet
		if ver := objField(o, "flowLogVersion"); ver != nil {
			if n, err := ver.Int(); err != nil || n < 4 {
				return info, badRecord("unsupported flowLogVersion " + ver.String())
			}
		}
		if id := stringField(o, "targetResourceID"); len(id) > 0 {
			row.ResourceID = id
		}
		row.FlowLogID = stringField(o, "flowLogResourceID")
		if fr == nil {
			return info, badRecord("VNet record without flowRecords")
		}
		flows, err := arrayField(fr, "flows")
		if err != nil {
			return info, err
		}
		for _, fl := range flows {
			row.ACLID = stringField(fl, "aclID")
			groups, err := arrayField(fl, "flowGroups")
			if err != nil {
				return info, err
			}
			for _, g := range groups {
				row.Rule = stringField(g, "rule")
				if err := d.tuples(g, FormatVNet, e, &info); err != nil {
					return info, err
				}
			}
		}
		return info, nil
	}

	props := objField(o, "properties")
	if props == nil {
		return info, badRecord("neither properties (NSG) nor flowRecords (VNet)")
	}
	if id := stringField(o, "resourceId"); len(id) > 0 {
		row.ResourceID = id
	}
	info.Format = FormatAuto
	if ver := field(props, "Version"); ver != nil {
		n, err := ver.Int()
		switch {
		case err != nil:
			return info, badRecord("bad properties.Version " + ver.String())
		case n == 1:
			info.Format = FormatNSGv1
		case n == 2:
			info.Format = FormatNSGv2
		default:
			return info, badRecord("unsupported properties.Version " + strconv.Itoa(n))
		}
	}
	flows, err := arrayField(props, "flows")
	if err != nil {
		return info, err
	}
	recMAC := row.MAC
	for _, rf := range flows {
		row.Rule = stringField(rf, "rule")
		inner, err := arrayField(rf, "flows")
		if err != nil {
			return info, err
		}
		for _, in := range inner {
			row.MAC = recMAC
			if mac := stringField(in, "mac"); len(mac) > 0 {
				d.flowMAC = normMAC(d.flowMAC[:0], mac)
				row.MAC = d.flowMAC
			}
			if err := d.tuples(in, info.Format, e, &info); err != nil {
				return info, err
			}
		}
	}
	return info, nil
}

func (d *Decoder) tuples(v *fastjson.Value, f Format, e Emitter, info *RecordInfo) error {
	ts, err := arrayField(v, "flowTuples")
	if err != nil {
		return err
	}
	d.context++
	d.row.Context = d.context
	for _, t := range ts {
		i := d.tuple
		d.tuple++
		info.Tuples++
		b, err := t.StringBytes()
		if err != nil {
			if err := e.BadTuple(i, &TupleError{Field: -1, Msg: "tuple is not a string: " + t.String()}); err != nil {
				return err
			}
			continue
		}
		if err := d.tp.Parse(b, f, &d.row); err != nil {
			var te *TupleError
			if x, ok := err.(*TupleError); ok {
				te = x
			} else {
				te = &TupleError{Field: -1, Msg: err.Error()}
			}
			if err := e.BadTuple(i, te); err != nil {
				return err
			}
			continue
		}
		info.Rows++
		if err := e.Row(&d.row); err != nil {
			return err
		}
	}
	return nil
}

// normMAC appends a MAC address in Azure's form to dst: 12 upper-case hex
// digits, separators dropped. Other forms are kept, upper-cased.
func normMAC(dst, mac []byte) []byte {
	for _, c := range mac {
		if c == ':' || c == '-' {
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	if len(dst) != 12 {
		return append(dst[:0], bytes.ToUpper(mac)...)
	}
	return dst
}

func badRecord(msg string) error {
	return &Error{Offset: -1, Record: -1, Tuple: -1, Field: -1, Msg: msg, Err: ErrBadRecord}
}

// field returns the value of key in an object, matching the key exactly
// first and then case-insensitively. It returns nil for a missing key and
// for JSON null.
func field(v *fastjson.Value, key string) *fastjson.Value {
	if v == nil {
		return nil
	}
	o, err := v.Object()
	if err != nil {
		return nil
	}
	return objField(o, key)
}

func objField(o *fastjson.Object, key string) *fastjson.Value {
	x := o.Get(key)
	if x == nil {
		o.Visit(func(k []byte, val *fastjson.Value) {
			if x == nil && len(k) == len(key) && bytes.EqualFold(k, []byte(key)) {
				x = val
			}
		})
	}
	if x != nil && x.Type() == fastjson.TypeNull {
		return nil
	}
	return x
}

func stringField(v any, key string) []byte {
	var x *fastjson.Value
	switch t := v.(type) {
	case *fastjson.Object:
		x = objField(t, key)
	case *fastjson.Value:
		x = field(t, key)
	}
	if x == nil {
		return nil
	}
	b, err := x.StringBytes()
	if err != nil {
		return nil
	}
	return b
}

// arrayField returns the array at key; missing or null is an empty array.
func arrayField(v *fastjson.Value, key string) ([]*fastjson.Value, error) {
	x := field(v, key)
	if x == nil {
		return nil, nil
	}
	a, err := x.Array()
	if err != nil {
		return nil, badRecord(key + " is not an array")
	}
	return a, nil
}

// stripTrailingCommas appends b to dst without commas that directly
// precede (after whitespace) a closing bracket or brace, outside strings.
func stripTrailingCommas(dst, b []byte) []byte {
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			if c == '\\' && i+1 < len(b) {
				dst = append(dst, c, b[i+1])
				i++
				continue
			}
			if c == '"' {
				inStr = false
			}
			dst = append(dst, c)
			continue
		}
		switch c {
		case '"':
			inStr = true
		case ',':
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
				j++
			}
			if j < len(b) && (b[j] == ']' || b[j] == '}') {
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}
