package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/internal/decompress"
	"github.com/flowlens/flowlens/packet"
)

type flowsOptions struct {
	format       string
	idle, active time.Duration
	packets      bool
}

func newFlowsCmd() *cobra.Command {
	o := flowsOptions{}
	def := packet.DefaultConfig()
	c := &cobra.Command{
		Use:   "flows CAPTURE",
		Short: "Print the flows of a packet capture (.pcap, .pcapng, .cap; plain, gzip or zstd)",
		Long: `Print the bidirectional flows of a capture: a table on a terminal, else
CSV; or --format csv|json|arrow (json: one object per line; arrow: an Arrow
IPC stream of the flow schema). A summary goes to stderr.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFlows(cmd.Context(), args[0], o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&o.format, "format", "", "table, csv, json or arrow (default: table on a terminal, else csv)")
	f.DurationVar(&o.idle, "idle-timeout", def.IdleTimeout, "end a flow after this long without packets")
	f.DurationVar(&o.active, "active-timeout", def.ActiveTimeout, "cut a flow into rows of at most this long")
	f.BoolVar(&o.packets, "packets", false, "one row per packet instead of per flow")
	return c
}

// flowWriter prints flow rows in one format.
type flowWriter interface {
	write(f *columnar.Flow) error
	close() error
}

func runFlows(ctx context.Context, path string, o flowsOptions, stdout, stderr io.Writer) error {
	if o.format == "" {
		o.format = "csv"
		if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			o.format = "table"
		}
	}
	var w flowWriter
	switch o.format {
	case "table":
		w = newTableWriter(stdout)
	case "csv":
		w = newCSVWriter(stdout)
	case "json":
		w = &jsonWriter{enc: json.NewEncoder(stdout)}
	case "arrow":
		w = &arrowWriter{b: columnar.NewBatch(), w: columnar.NewArrowWriter(stdout)}
	default:
		return usagef("--format %q: want table, csv, json or arrow", o.format)
	}
	if o.idle <= 0 || o.active <= 0 {
		return usagef("timeouts must be positive")
	}
	in, err := decompress.Open(path, nil)
	if err != nil {
		return err
	}
	defer in.Close()
	var st packet.Stats
	var rerr error
	if o.packets {
		st, rerr = packet.ReadPackets(ctx, in, path, w.write)
	} else {
		st, rerr = packet.ReadFlows(ctx, in, path, packet.Config{IdleTimeout: o.idle, ActiveTimeout: o.active}, w.write)
	}
	if err := w.close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %s, %s%s\n", path, plural(st.Packets, "packet"), plural(st.Flows, "flow"), reasons(", malformed packets", st.Malformed))
	return rerr
}

func tcpFlagsText(f *columnar.Flow) string {
	if !f.HasTCPFlags {
		return ""
	}
	const names = "FSRPAUEC"
	var b []byte
	for i := 0; i < 8; i++ {
		if f.TCPFlags&(1<<i) != 0 {
			b = append(b, names[i])
		}
	}
	return string(b)
}

func stateText(f *columnar.Flow) string {
	if f.State == 0 {
		return ""
	}
	return string(f.State)
}

func timeText(us int64) string { return string(appendTimeText(nil, us)) }

// appendTimeText appends a time in Unix microseconds as
// 2006-01-02T15:04:05.000000Z (UTC), as time.Format would, without its
// cost: the flows of a large capture each print two.
func appendTimeText(b []byte, us int64) []byte {
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	days, s := sec/86400, sec%86400
	if s < 0 {
		days, s = days-1, s+86400
	}
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		return time.UnixMicro(us).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	}
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, m, 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, s/3600, 2)
	b = append(b, ':')
	b = appendDigits(b, s/60%60, 2)
	b = append(b, ':')
	b = appendDigits(b, s%60, 2)
	b = append(b, '.')
	b = appendDigits(b, frac, 6)
	return append(b, 'Z')
}

// civil returns the proleptic Gregorian date of a day counted from
// 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// appendDigits appends v (0 ≤ v < 10^n) in n digits.
func appendDigits(b []byte, v int64, n int) []byte {
	b = append(b, "0000000000"[:n]...)
	for i := len(b) - 1; n > 0; i, n = i-1, n-1 {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

type tableWriter struct{ tw *tabwriter.Writer }

func newTableWriter(w io.Writer) *tableWriter {
	t := &tableWriter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)}
	fmt.Fprintln(t.tw, "start\tseconds\tproto\tsource\tdestination\tpackets →\tbytes →\tpackets ←\tbytes ←\tstate\tflags\t")
	return t
}

func (t *tableWriter) write(f *columnar.Flow) error {
	_, err := fmt.Fprintf(t.tw, "%s\t%.3f\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t\n",
		timeText(f.Time), seconds(f), columnar.ProtocolName(f.Proto),
		endpoint(f.SrcIP, f.SrcPort, f.Proto), endpoint(f.DstIP, f.DstPort, f.Proto),
		f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn, stateText(f), tcpFlagsText(f))
	return err
}

func (t *tableWriter) close() error { return t.tw.Flush() }

// endpoint writes an address with its port for TCP and UDP, IPv6 in brackets.
func endpoint(ip []byte, port int32, proto int32) string {
	if proto != 6 && proto != 17 {
		return string(ip)
	}
	for _, c := range ip {
		if c == ':' {
			return "[" + string(ip) + "]:" + strconv.Itoa(int(port))
		}
	}
	return string(ip) + ":" + strconv.Itoa(int(port))
}

var flowFields = []string{"time", "end_time", "protocol", "proto", "src_ip", "src_port", "dst_ip", "dst_port",
	"packets_out", "bytes_out", "packets_in", "bytes_in", "state", "tcp_flags", "vlan", "captured_len"}

// csvWriter writes flows as CSV a line at a time into a reused buffer:
// the flows of a large capture print at a few hundred nanoseconds each
// (encoding/csv with a string per field cost three times that).
type csvWriter struct {
	w    *bufio.Writer
	line []byte
}

func newCSVWriter(w io.Writer) *csvWriter {
	c := &csvWriter{w: bufio.NewWriterSize(w, 64<<10)}
	c.w.WriteString(strings.Join(flowFields, ",") + "\n")
	return c
}

func (c *csvWriter) write(f *columnar.Flow) error {
	b := appendTimeText(c.line[:0], f.Time)
	b = append(b, ',')
	if f.HasEndTime {
		b = appendTimeText(b, f.EndTime)
	}
	b = append(b, ',')
	b = appendCSVField(b, columnar.ProtocolName(f.Proto))
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(f.Proto), 10)
	b = append(b, ',')
	b = appendCSVField(b, f.SrcIP)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(f.SrcPort), 10)
	b = append(b, ',')
	b = appendCSVField(b, f.DstIP)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(f.DstPort), 10)
	for _, n := range [...]int64{f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn} {
		b = append(b, ',')
		b = strconv.AppendInt(b, n, 10)
	}
	b = append(b, ',')
	if f.State != 0 {
		b = appendCSVField(b, []byte{f.State})
	}
	b = append(b, ',')
	if f.HasTCPFlags {
		b = strconv.AppendInt(b, int64(f.TCPFlags), 10)
	}
	b = append(b, ',')
	if f.HasVLAN {
		b = strconv.AppendInt(b, int64(f.VLAN), 10)
	}
	b = append(b, ',')
	if f.HasCapturedLen {
		b = strconv.AppendInt(b, int64(f.CapturedLen), 10)
	}
	b = append(b, '\n')
	c.line = b
	_, err := c.w.Write(b)
	return err
}

// appendCSVField appends a text field, quoted as encoding/csv would quote
// it when it holds a separator, a quote, a line break or a leading space.
func appendCSVField[T string | []byte](b []byte, s T) []byte {
	quote := len(s) > 0 && (s[0] == ' ' || s[0] == '\t')
	for i := 0; i < len(s) && !quote; i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			quote = true
		}
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func (c *csvWriter) close() error { return c.w.Flush() }

type jsonFlow struct {
	Time        string `json:"time"`
	EndTime     string `json:"end_time,omitempty"`
	Protocol    string `json:"protocol"`
	Proto       int32  `json:"proto"`
	SrcIP       string `json:"src_ip"`
	SrcPort     int32  `json:"src_port"`
	DstIP       string `json:"dst_ip"`
	DstPort     int32  `json:"dst_port"`
	PacketsOut  int64  `json:"packets_out"`
	BytesOut    int64  `json:"bytes_out"`
	PacketsIn   int64  `json:"packets_in"`
	BytesIn     int64  `json:"bytes_in"`
	State       string `json:"state,omitempty"`
	TCPFlags    *int32 `json:"tcp_flags,omitempty"`
	VLAN        *int32 `json:"vlan,omitempty"`
	CapturedLen *int32 `json:"captured_len,omitempty"`
}

type jsonWriter struct{ enc *json.Encoder }

func (j *jsonWriter) write(f *columnar.Flow) error {
	r := jsonFlow{Time: timeText(f.Time), Protocol: columnar.ProtocolName(f.Proto), Proto: f.Proto,
		SrcIP: string(f.SrcIP), SrcPort: f.SrcPort, DstIP: string(f.DstIP), DstPort: f.DstPort,
		PacketsOut: f.PacketsOut, BytesOut: f.BytesOut, PacketsIn: f.PacketsIn, BytesIn: f.BytesIn, State: stateText(f)}
	if f.HasTCPFlags {
		v := f.TCPFlags
		r.TCPFlags = &v
	}
	if f.HasVLAN {
		v := f.VLAN
		r.VLAN = &v
	}
	if f.HasEndTime {
		r.EndTime = timeText(f.EndTime)
	}
	if f.HasCapturedLen {
		v := f.CapturedLen
		r.CapturedLen = &v
	}
	return j.enc.Encode(r)
}

func (j *jsonWriter) close() error { return nil }

type arrowWriter struct {
	b *columnar.Batch
	w columnar.RecordWriter
}

func (a *arrowWriter) write(f *columnar.Flow) error {
	a.b.Append(f)
	if a.b.Len() >= columnar.RowGroupRows {
		return a.flush()
	}
	return nil
}

func (a *arrowWriter) flush() error {
	if a.b.Len() == 0 {
		return nil
	}
	rec := a.b.Record()
	err := a.w.Write(rec)
	rec.Release()
	a.b.Reset()
	return err
}

func (a *arrowWriter) close() error {
	if err := a.flush(); err != nil {
		return err
	}
	return a.w.Close()
}

func seconds(f *columnar.Flow) float64 {
	if !f.HasEndTime {
		return 0
	}
	return float64(f.EndTime-f.Time) / 1e6
}
