package query

import "strconv"

// Enum values of parquet.thrift the reader meets. They are declared here
// rather than taken from arrow-go's parquet package, whose import would
// link Thrift, HTTP and every codec into each flowlens process and cost
// milliseconds of start-up on every query.

// physicalType is a Parquet Type.
type physicalType int32

const (
	typeInt32     physicalType = 1
	typeInt64     physicalType = 2
	typeByteArray physicalType = 6
)

var typeNames = [...]string{"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"}

func (t physicalType) String() string { return enumName(typeNames[:], int32(t)) }

// encoding is a Parquet Encoding.
type encoding int32

const (
	encPlain             encoding = 0
	encPlainDict         encoding = 2
	encRLE               encoding = 3
	encDeltaBinaryPacked encoding = 5
	encRLEDict           encoding = 8
)

var encodingNames = [...]string{"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"}

func (e encoding) String() string { return enumName(encodingNames[:], int32(e)) }

// codec is a Parquet CompressionCodec.
type codec int32

const (
	codecUncompressed codec = 0
	codecSnappy       codec = 1
	codecGzip         codec = 2
	codecZstd         codec = 6
)

var codecNames = [...]string{"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"}

func (c codec) String() string { return enumName(codecNames[:], int32(c)) }

// enumName is names[v], or v in digits when names has no such entry.
func enumName(names []string, v int32) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return strconv.Itoa(int(v))
}
