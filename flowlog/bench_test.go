package flowlog

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/flowlens/flowlens/columnar"
)

// Run with:
//
//	go test ./flowlog -run='^$' -bench=. -benchmem -count 6 | tee new.txt; benchstat new.txt

type countingEmitter struct{ rows, bad int }

func (e *countingEmitter) Row(*columnar.Flow) error        { e.rows++; return nil }
func (e *countingEmitter) BadTuple(int, *TupleError) error { e.bad++; return nil }

func BenchmarkTupleParse(b *testing.B) {
	cases := []struct {
		name  string
		tuple string
		f     Format
	}{
		{"v1", "1531917335,122.222.24.18,10.0.0.4,61691,3128,T,I,D", FormatNSGv1},
		{"v2", "1542110379,10.5.16.4,13.67.143.115,44931,443,T,O,A,C,30,16978,24,14008", FormatNSGv2},
		{"vnet", "1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580", FormatVNet},
		{"v2-ipv6", "1542110379,2001:db8::4,2603:1030:20e:3::23c,44931,443,T,O,A,C,30,16978,24,14008", FormatNSGv2},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var p TupleParser
			var row columnar.Flow
			t := []byte(c.tuple)
			b.SetBytes(int64(len(t)))
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Parse(t, c.f, &row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func readSample(b *testing.B, name string) []byte {
	data, err := os.ReadFile("../testdata/flowlogs/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkDecode measures the record decoder on the records of a real
// blob: bytes are record bytes, the scanner is not included.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"sumologic-nsg-v2-blob_fixtures.json", "sumologic-vnet-v4-target-vnet.json", "msft-nsgconnector-nsg-v1-sampleOfInputV1.json"} {
		b.Run(name, func(b *testing.B) {
			var recs [][]byte
			var size int64
			sc := NewScanner(bytes.NewReader(readSample(b, name)))
			for {
				rec, _, err := sc.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				recs = append(recs, append([]byte(nil), rec...))
				size += int64(len(rec))
			}
			var d Decoder
			e := &countingEmitter{}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, r := range recs {
					if _, err := d.Decode(r, Defaults{}, e); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(e.rows)/b.Elapsed().Seconds(), "tuples/s")
		})
	}
}

// BenchmarkScanner measures splitting a blob into records.
func BenchmarkScanner(b *testing.B) {
	data := readSample(b, "msft-nsgconnector-nsg-v1-sampleOfInputV1.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	r := bytes.NewReader(data)
	for b.Loop() {
		r.Reset(data)
		sc := NewScanner(r)
		for {
			if _, _, err := sc.Next(); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBatchAppend measures decoding plus appending rows to a columnar
// batch and building the Arrow record: everything but Parquet encoding.
func BenchmarkBatchAppend(b *testing.B) {
	data := readSample(b, "sumologic-nsg-v2-blob_fixtures.json")
	var recs [][]byte
	sc := NewScanner(bytes.NewReader(data))
	for {
		rec, _, err := sc.Next()
		if err != nil {
			break
		}
		recs = append(recs, append([]byte(nil), rec...))
	}
	batch := columnar.NewBatch()
	e := &batchEmitter{b: batch}
	var d Decoder
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			if _, err := d.Decode(r, Defaults{}, e); err != nil {
				b.Fatal(err)
			}
		}
		if batch.Len() > columnar.RowGroupRows {
			batch.Record().Release()
			batch.Reset()
		}
	}
}

type batchEmitter struct{ b *columnar.Batch }

func (e *batchEmitter) Row(f *columnar.Flow) error      { e.b.Append(f); return nil }
func (e *batchEmitter) BadTuple(int, *TupleError) error { return nil }
