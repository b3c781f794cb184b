package flowlog

import (
	"bytes"
	"errors"
	"hash/crc32"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/flowlens/flowlens/columnar"
)

// maxFuzzInput bounds fuzz inputs: larger ones test nothing new and slow
// the fuzzer down.
const maxFuzzInput = 64 << 10

// Run one target at a time, e.g.
//
//	go test ./flowlog -run='^$' -fuzz='^FuzzTupleParse$' -fuzztime=20s

func FuzzTupleParse(f *testing.F) {
	seeds := []struct {
		tuple  string
		format Format
	}{
		// Real tuples, one per format (testdata/flowlogs).
		{"1534164982,185.92.73.26,172.17.0.4,65533,3389,T,I,D", FormatNSGv1},
		{"1578673943,10.244.1.69,10.244.0.4,49663,53,U,O,A,B,,,,", FormatNSGv2},
		{"1578673977,10.201.4.6,10.244.2.21,53763,80,T,O,A,E,4,246,2,126", FormatNSGv2},
		{"1735636357995,10.1.0.4,20.10.127.193,56354,443,6,O,E,NX,8,5183,9,6707", FormatVNet},
		{"1735636357306,35.203.210.97,10.1.0.4,53909,9974,6,I,D,NX,0,0,0,0", FormatVNet},
		// The same, inferred from the field count.
		{"1534164982,185.92.73.26,172.17.0.4,65533,3389,T,I,D", FormatAuto},
		{"1578673977,10.201.4.6,10.244.2.21,53763,80,T,O,A,E,4,246,2,126", FormatAuto},
		// A VNet tuple read as auto: 13 fields, so v2, and field 7 is bad.
		{"1735636357995,10.1.0.4,20.10.127.193,56354,443,6,O,E,NX,8,5183,9,6707", FormatAuto},
		// Addresses that need netip: IPv6, mapped, zoned, leading zeros.
		{"1735636364466,2001:DB8::0001,::ffff:10.1.0.4,1,2,1,O,E,X,3,252,3,252", FormatVNet},
		{"1578673943,fe80::1%eth0,::ffff:1.2.3.4%x,1,2,U,O,A,B,,,,", FormatNSGv2},
		{"1534164982,010.001.000.004,172.17.0.4,65533,3389,T,I,D", FormatNSGv1},
		// Limits: ports, protocol, counters at 2^62, ms timestamps in NSG.
		{"0,0.0.0.0,255.255.255.255,0,65535,255,O,A", FormatNSGv1},
		{"1,1.1.1.1,2.2.2.2,1,65536,T,O,A", FormatNSGv1},
		{"99999999999999,1.1.1.1,2.2.2.2,1,2,T,O,A,E,4611686018427387904,0,0,4611686018427387905", FormatNSGv2},
		{"1000000000000000000,1.1.1.1,2.2.2.2,1,2,6,O,E,NX,,,,", FormatVNet},
		// Partial counters, too many fields, empty.
		{"1578673943,10.244.1.69,10.244.0.4,49663,53,U,O,A,E,1,,,", FormatNSGv2},
		{strings.Repeat(",", 20), FormatAuto},
		{"", FormatAuto},
	}
	for _, s := range seeds {
		f.Add(s.tuple, uint8(s.format))
	}
	f.Fuzz(func(t *testing.T, tuple string, format uint8) {
		if len(tuple) > maxFuzzInput {
			t.Skip()
		}
		fm := Format(format % 4)
		var p TupleParser
		var row columnar.Flow
		err := p.Parse([]byte(tuple), fm, &row)
		want, wantField, wantOK := oracleTuple(tuple, fm)
		if err != nil {
			var te *TupleError
			if !errors.As(err, &te) || !errors.Is(err, ErrBadTuple) {
				t.Fatalf("error %v (%T) is not a *TupleError wrapping ErrBadTuple", err, err)
			}
			if te.Field < -1 || te.Field > 12 {
				t.Fatalf("field %d out of range", te.Field)
			}
			if wantOK || te.Field != wantField {
				t.Fatalf("Parse: %v; oracle: ok=%v field %d", err, wantOK, wantField)
			}
			return
		}
		got := tupleRowOf(&row)
		if !wantOK {
			t.Fatalf("Parse accepted %q; oracle rejects field %d", tuple, wantField)
		}
		if got != want {
			t.Fatalf("Parse and oracle differ:\n got %+v\nwant %+v", got, want)
		}
		for _, ip := range []string{got.Src, got.Dst} {
			a, err := netip.ParseAddr(ip)
			if err != nil || a.String() != ip || a.Is4In6() || a.Zone() != "" {
				t.Fatalf("address %q is not canonical (%v)", ip, err)
			}
		}
		if got.SrcPort < 0 || got.SrcPort > 65535 || got.DstPort < 0 || got.DstPort > 65535 || got.Proto < 0 || got.Proto > 255 {
			t.Fatalf("port or protocol out of range: %+v", got)
		}
		if got.Source != fm.source() && fm != FormatAuto {
			t.Fatalf("source %v for format %v", got.Source, fm)
		}
		// Again, with the same parser and row.
		if err := p.Parse([]byte(tuple), fm, &row); err != nil || tupleRowOf(&row) != got {
			t.Fatalf("second parse: %v, %+v", err, tupleRowOf(&row))
		}
	})
}

func FuzzDecode(f *testing.F) {
	// Whole records from the real samples: v1 (pretty), v2, VNet, and the
	// AKS record with trailing commas.
	for _, name := range []string{
		"msft-nsgconnector-nsg-v1-sampleJsonInput.json",
		"msft-nsgconnector-nsg-v2-aks-trailing-comma.json",
		"sumologic-nsg-v1v2-mixed-blob_fixtures-2019.json",
		"sumologic-vnet-v4-target-subnet.json",
	} {
		b := sampleBlobs(f)[name]
		if b == nil {
			f.Fatalf("missing sample %s", name)
		}
		for _, rec := range sampleRecords(f, b)[:1] {
			f.Add(rec)
		}
	}
	for _, s := range []string{
		// v2 record without a Version: the field count decides per tuple.
		`{"resourceId":"/NSG","properties":{"flows":[{"rule":"r","flows":[{"mac":"aabbccddeeff","flowTuples":["1534164982,185.92.73.26,172.17.0.4,65533,3389,T,I,D","1578673943,10.244.1.69,10.244.0.4,49663,53,U,O,A,B,,,,"]}]}]}}`,
		// A bad tuple between good ones, and one that is not a string.
		`{"properties":{"Version":2,"flows":[{"flows":[{"flowTuples":["1578673977,10.201.4.6,10.244.2.21,53763,80,T,O,A,E,4,246,2,126","1578673977,10.201.4.6,10.244.2.21,65536,80,T,O,A,E,4,246,2,126",42,null]}]}]}}`,
		// VNet with null and missing pieces.
		`{"flowLogVersion":4,"macAddress":"00-0d-3a-35-95-73","flowRecords":{"flows":[{"aclID":null,"flowGroups":[{"rule":null,"flowTuples":["1735636357306,35.203.210.97,10.1.0.4,53909,9974,6,I,D,NX,0,0,0,0"]},{}]},null]}}`,
		// Keys in other cases, trailing commas inside strings and out.
		`{"RESOURCEID":"/R","Properties":{"version":1,"FLOWS":[{"Rule":"a,]","Flows":[{"Mac":"x","FlowTuples":["1,1.1.1.1,2.2.2.2,1,2,T,O,A",],},],},],},}`,
		// Not records.
		`{"properties":{"Version":3}}`, `{"flowLogVersion":4}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		if len(rec) > maxFuzzInput {
			t.Skip()
		}
		var d Decoder
		check := func() (counter, RecordInfo, error) {
			var c counter
			info, err := d.Decode(rec, Defaults{ResourceID: []byte("/D"), MAC: []byte("aa")}, &c)
			if err != nil && !errors.Is(err, ErrBadJSON) && !errors.Is(err, ErrBadRecord) {
				t.Fatalf("error %v wraps neither ErrBadJSON nor ErrBadRecord", err)
			}
			if c.rows+c.bad != info.Tuples || c.rows != info.Rows {
				t.Fatalf("emitted %d rows and %d bad tuples; info %+v", c.rows, c.bad, info)
			}
			for i, tu := range c.tuples {
				if tu != i {
					t.Fatalf("tuple indexes %v are not 0, 1, 2, ...", c.tuples)
				}
			}
			return c, info, err
		}
		c1, info1, err1 := check()
		c2, info2, err2 := check() // the decoder is reused
		if info1 != info2 || (err1 == nil) != (err2 == nil) || !slices.Equal(c1.got, c2.got) {
			t.Fatalf("second decode differs: %+v %v / %+v %v", info1, err1, info2, err2)
		}
	})
}

// counter is an Emitter that checks rows and counts them.
type counter struct {
	rows, bad int
	tuples    []int // the index of every row and bad tuple, in order
	got       []tupleRow
}

func (c *counter) Row(f *columnar.Flow) error {
	c.rows++
	c.tuples = append(c.tuples, len(c.tuples))
	c.got = append(c.got, tupleRowOf(f))
	for _, ip := range [][]byte{f.SrcIP, f.DstIP} {
		if a, err := netip.ParseAddr(string(ip)); err != nil || a.String() != string(ip) {
			return errors.New("non-canonical address " + string(ip))
		}
	}
	if len(f.ResourceID) == 0 || len(f.MAC) == 0 {
		return errors.New("row without resource id or MAC despite defaults")
	}
	return nil
}

func (c *counter) BadTuple(i int, err *TupleError) error {
	c.bad++
	c.tuples = append(c.tuples, i)
	if err == nil {
		return errors.New("nil *TupleError")
	}
	return nil
}

func FuzzScanner(f *testing.F) {
	// Every shape the scanner takes, small.
	for _, s := range []string{
		`{"records":[{"a":1},{"b":[2,{"c":"}"}]}]}`,
		"{\n  \"records\": [\n    {\"a\":1},\n    {\"b\":2}\n  ]\n}\n",
		bom + `{"Records":[{"a":1}],"x":{"y":[1,"]}"]},"z":"s"}`,
		bom + ",{\"a\":1},\r\n{\"b\":2}",  // block fragment
		"{\"a\":1}\n{\"b\":2}\n{\"c\":3}", // NDJSON
		`{"a":1}{"b":2},{"c":3}`,          // concatenated
		`[{"a":1},{"b":2},]`,              // bare array, trailing comma
		`{"a":[1,2,],"s":"\\\"}{","t":{"u":1,}}`,
		`{"records":[{"a":1},{"b":`,            // truncated
		`{"records":[{"a":1}] x}`,              // garbage after the array
		`{"records":[{"a":1}],"x" 1}`,          // key without colon
		"{\"records\":[{\"a\":\"\xEF\xBB\"}]}", // half a BOM in a string
		"\xEF\xBB",                             // half a BOM
		`{"records":5}`, `[[]]`, `}`, `"x"`, ``,
		// Damage: an unclosed string swallows the records after it (the
		// scanner resumes at the next record key), and a missing brace.
		`{"records":[{"time":"t1","s":"oops},{"time":"t2"},{"time":"t3"}]}`,
		`{"records":[{"time":"t1","p":{"a":1},{"time":"t2"}]}`,
	} {
		f.Add([]byte(s))
	}
	// Heads of the real samples, cut mid-record (a blob being appended to).
	blobs := sampleBlobs(f)
	for _, name := range []string{
		"msft-nsgconnector-nsg-v1-block-fragment.txt",
		"msft-nsgconnector-nsg-v2-aks-trailing-comma.json",
		"sumologic-vnet-v4-target-nic.json",
	} {
		b := blobs[name]
		f.Add(b[:min(len(b), 3000)])
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > maxFuzzInput {
			t.Skip()
		}
		type result struct {
			recs    []scanned
			reasons []string
			offs    []int64
			end     int64
			crc     uint32
		}
		run := func(s *Scanner) result {
			recs, errs := scanAllErrs(t, s)
			r := result{recs: recs}
			for _, err := range errs {
				reason, off := Reason(err), errOffset(err)
				if reason == "other" || off < 0 || off > int64(len(in)) {
					t.Fatalf("error %v: reason %s, offset %d", err, reason, off)
				}
				r.reasons, r.offs = append(r.reasons, reason), append(r.offs, off)
			}
			r.end, r.crc = s.End()
			return r
		}
		got := run(NewScanner(bytes.NewReader(in)))
		prev := int64(0)
		for i, r := range got.recs {
			if r.Off < prev || r.Off+int64(len(r.Rec)) > int64(len(in)) || string(in[r.Off:r.Off+int64(len(r.Rec))]) != r.Rec {
				t.Fatalf("record %d at %d (len %d) is not the input there", i, r.Off, len(r.Rec))
			}
			if r.Rec[0] != '{' {
				t.Fatalf("record %d does not start with '{': %q", i, r.Rec)
			}
			prev = r.Off + int64(len(r.Rec))
		}
		// End is after the last record: just after it, unless an error
		// skipped input beyond it.
		if got.end < prev || got.end > int64(len(in)) || (len(got.offs) == 0 && got.end != prev) {
			t.Fatalf("End() = %d, last record ends at %d, %d errors", got.end, prev, len(got.offs))
		}
		if want := crc32.Checksum(in[:got.end], castagnoli); got.crc != want {
			t.Fatalf("End() crc %08x, want %08x", got.crc, want)
		}
		// Resuming after the middle record at End() with Mode() and the
		// CRC gives the records after it.
		if k := len(got.recs) / 2; len(got.offs) == 0 && k < len(got.recs) {
			s := NewScanner(bytes.NewReader(in))
			for range k + 1 {
				if _, _, err := s.Next(); err != nil {
					t.Fatalf("rescan: %v", err)
				}
			}
			off, crc := s.End()
			rest, errs := scanAllErrs(t, ResumeScanner(bytes.NewReader(in[off:]), off, s.Mode(), crc))
			if len(errs) != 0 || !slices.Equal(rest, got.recs[k+1:]) {
				t.Fatalf("resumed after record %d (offset %d, mode %s): %v %v, want %v", k, off, s.Mode(), rest, errs, got.recs[k+1:])
			}
		}
		one := run(NewScanner(iotest.OneByteReader(bytes.NewReader(in))))
		if !slices.Equal(one.recs, got.recs) || !slices.Equal(one.reasons, got.reasons) || !slices.Equal(one.offs, got.offs) || one.end != got.end || one.crc != got.crc {
			t.Fatalf("one byte at a time differs:\n got %v %v@%v end %d\nwant %v %v@%v end %d", one.recs, one.reasons, one.offs, one.end, got.recs, got.reasons, got.offs, got.end)
		}
	})
}

func FuzzBlobPath(f *testing.F) {
	for _, s := range []string{
		"/data/azure/" + nsgBlob,
		"/home/u/dl/" + vnetKey,
		"/srv/resourceId=/S/y=2018/m=07/d=18/h=23/PT1H.json",
		"insights-logs-x/resourceId=//S//RG/y=2020/m=01/d=02/h=03/PT1H.json",
		"/d/resourceId=/S/RG/NSG/macAddress=AA/PT1H.json",  // no date
		"/d/resourceId=/S/y=2024/m=02/d=31/h=00/PT1H.json", // no such day
		"/d/resourceId=/y=2020/m=01/d=02/h=03/PT1H.json",   // empty id
		"/d/resourceId=/S/y=2020/m=13/d=02/h=03",
		"/d/resourceId=/S/y=2020/m=01/d=02",
		"/d/FLOWLOGRESOURCEID=/S/y=9999/m=12/d=31/h=23/MACADDRESS=ab:cd",
		"/d/resourceId=", "resourceId=/", "/tmp/PT1H.json", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if len(p) > maxFuzzInput {
			t.Skip()
		}
		info, ok, err := ParseBlobPath(p)
		if !ok {
			if err != nil || info != (PathInfo{}) {
				t.Fatalf("ok=false with %+v, %v", info, err)
			}
			return
		}
		if err != nil {
			return
		}
		if !strings.HasPrefix(info.ResourceID, "/") || strings.Contains(info.ResourceID, "//") {
			t.Fatalf("resource id %q", info.ResourceID)
		}
		if !strings.HasSuffix(p, info.Key) || info.Key == "" {
			t.Fatalf("key %q is not a suffix of %q", info.Key, p)
		}
		if info.MAC != strings.ToUpper(info.MAC) {
			t.Fatalf("MAC %q is not upper case", info.MAC)
		}
		if !info.Hour.IsZero() && (info.Hour.Minute() != 0 || info.Hour.Location().String() != "UTC") {
			t.Fatalf("hour %v", info.Hour)
		}
		again, ok2, err2 := ParseBlobPath(p)
		if again != info || !ok2 || err2 != nil {
			t.Fatalf("second parse differs")
		}
	})
}
