package filter

import (
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/columnar"
)

// now is the Options.Now of the tests.
var now = time.Date(2024, 5, 2, 13, 0, 0, 0, time.UTC)

// TestParse parses each filter, checks its canonical form, parses it
// twice (Parse is pure) and parses the canonical form back to an equal
// tree (round trip).
func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// addresses
		{"src ip", "src ip 10.0.0.4", "src ip 10.0.0.4"},
		{"dst ip", "dst ip 10.0.0.4", "dst ip 10.0.0.4"},
		{"ip either side", "ip 10.1.2.3", "ip 10.1.2.3"},
		{"host is ip", "host 10.1.2.3", "ip 10.1.2.3"},
		{"src host", "src host 10.1.2.3", "src ip 10.1.2.3"},
		{"ip with a network", "ip 10.0.0.0/8", "net 10.0.0.0/8"},
		{"src net", "src net 10.0.0.0/8", "src net 10.0.0.0/8"},
		{"dst net", "dst net 172.16.0.0/12", "dst net 172.16.0.0/12"},
		{"net either side", "net 192.168.0.0/16", "net 192.168.0.0/16"},
		{"net ipv6", "net 2001:DB8::/32", "net 2001:db8::/32"},
		{"net one address", "net 10.0.0.4/32", "ip 10.0.0.4"},
		{"net bare address", "net 10.0.0.4", "ip 10.0.0.4"},
		{"net everything", "net 0.0.0.0/0", "net 0.0.0.0/0"},
		{"src address", "src 10.0.0.4", "src ip 10.0.0.4"},
		{"dst network", "dst 10.0.0.0/8", "dst net 10.0.0.0/8"},
		{"ipv6 address", "ip 2001:DB8:0::1", "ip 2001:db8::1"},
		{"ipv4-mapped", "ip ::ffff:10.0.0.1", "ip ::ffff:10.0.0.1"},
		// ports
		{"port", "port 443", "port 443"},
		{"src port", "src port 51435", "src port 51435"},
		{"dst port range", "dst port 1024-65535", "dst port 1024-65535"},
		{"port range of one", "port 80-80", "port 80"},
		{"port 0", "port 0", "port 0"},
		{"port max", "port 65535", "port 65535"},
		{"port range either", "port 0-1023", "port 0-1023"},
		// protocols
		{"proto tcp", "proto tcp", "proto tcp"},
		{"proto upper case", "PROTO UDP", "proto udp"},
		{"proto number named", "proto 6", "proto tcp"},
		{"proto gre", "proto 47", "proto gre"},
		{"proto unnamed", "proto 253", "proto 253"},
		{"proto 0", "proto 0", "proto 0"},
		{"proto icmp6", "proto icmp6", "proto icmpv6"},
		{"proto esp", "proto esp", "proto esp"},
		{"tcp", "tcp", "proto tcp"},
		{"udp", "udp", "proto udp"},
		{"icmp", "icmp", "proto icmp"},
		// enums
		{"in", "in", "in"},
		{"out", "OUT", "out"},
		{"direction", "direction in", "in"},
		{"allow", "allow", "allow"},
		{"deny", "Deny", "deny"},
		{"decision", "decision deny", "deny"},
		{"state", "state B", "state B"},
		{"state lower case", "state e", "state E"},
		{"state C", "state C", "state C"},
		{"state D", "state D", "state D"},
		{"source nsg-v1", "source nsg-v1", "source nsg-v1"},
		{"source nsg-v2", "source NSG-V2", "source nsg-v2"},
		{"source vnet", "source vnet", "source vnet"},
		{"source pcap", "source pcap", "source pcap"},
		// names
		{"rule", "rule UserRule_web", "rule UserRule_web"},
		{"rule default", "rule DefaultRule_DenyAllInBound", "rule DefaultRule_DenyAllInBound"},
		{"rule glob", "rule UserRule_*", "rule UserRule_*"},
		{"rule quoted", `rule "my rule"`, `rule "my rule"`},
		{"rule quoted plain", `rule "web"`, `rule web`},
		{"rule named and", `rule "and"`, `rule "and"`},
		{"rule named like a keyword", `rule port`, `rule port`},
		{"rule with escapes", `rule "a\"b\\c\td"`, `rule "a\"b\\c\td"`},
		{"rule non-ASCII", `rule règle`, `rule "règle"`},
		{"rule with parenthesis", `rule "a(b)"`, `rule "a(b)"`},
		{"nsg", "nsg WADVM-NSG", "nsg WADVM-NSG"},
		{"nsg glob", "nsg *-nsg", "nsg *-nsg"},
		{"resource is nsg", "resource labsvm1519", "nsg labsvm1519"},
		{"nsg resource id", "nsg /SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/APPNSG",
			"nsg /SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/APPNSG"},
		{"mac dashes", "mac 00-0D-3A-0A-F5-19", "mac 000D3A0AF519"},
		{"mac colons", "mac 00:0d:3a:0a:f5:19", "mac 000D3A0AF519"},
		{"mac dots", "mac 000d.3a0a.f519", "mac 000D3A0AF519"},
		{"mac bare", "mac 000D3A0AF519", "mac 000D3A0AF519"},
		// counters
		{"bytes", "bytes > 1M", "bytes > 1M"},
		{"packets", "packets >= 10", "packets >= 10"},
		{"bytes_out", "bytes_out < 1500", "bytes_out < 1500"},
		{"bytes_in binary", "bytes_in <= 2KiB", "bytes_in <= 2KiB"},
		{"packets_out", "packets_out = 0", "packets_out = 0"},
		{"packets_in", "packets_in != 3", "packets_in != 3"},
		{"double equals", "bytes == 5", "bytes = 5"},
		{"fraction", "bytes > 1.5M", "bytes > 1500K"},
		{"no suffix printed with one", "bytes > 1000000", "bytes > 1M"},
		{"suffix GB", "bytes > 1gb", "bytes > 1G"},
		{"suffix Mi", "bytes > 1mi", "bytes > 1MiB"},
		{"binary exact", "bytes > 1048576", "bytes > 1MiB"},
		{"tera", "bytes >= 2T", "bytes >= 2T"},
		{"no blanks", "bytes>1M", "bytes > 1M"},
		{"max count", "bytes < 9223372036854775807", "bytes < 9223372036854775807"},
		// times
		{"time minutes", "time >= 2024-05-01T13:00Z", "time >= 2024-05-01T13:00:00Z"},
		{"time date", "time < 2024-05-01", "time < 2024-05-01T00:00:00Z"},
		{"time offset", "time > 2024-05-01T13:00:05.25+02:00", "time > 2024-05-01T11:00:05.25Z"},
		{"time lower case", "time <= 2024-05-01t13:00z", "time <= 2024-05-01T13:00:00Z"},
		{"time no zone", "time = 2024-05-01T13:00", "time = 2024-05-01T13:00:00Z"},
		{"time micro", "time != 2024-05-01T13:00:00.000001Z", "time != 2024-05-01T13:00:00.000001Z"},
		{"time year 0", "time >= 0000-01-01", "time >= 0000-01-01T00:00:00Z"},
		{"since", "since 24h", "time >= 2024-05-01T13:00:00Z"},
		{"after duration", "after 1d12h", "time >= 2024-05-01T01:00:00Z"},
		{"before duration", "before 7d", "time < 2024-04-25T13:00:00Z"},
		{"since seconds", "since 90s", "time >= 2024-05-02T12:58:30Z"},
		{"since weeks", "since 2W", "time >= 2024-04-18T13:00:00Z"},
		{"before time", "before 2024-05-01", "time < 2024-05-01T00:00:00Z"},
		{"after time", "after 2024-05-01T13:00Z", "time >= 2024-05-01T13:00:00Z"},
		// combinations
		{"and", "src ip 10.0.0.4 and dst port 443", "src ip 10.0.0.4 and dst port 443"},
		{"&&", "src ip 10.0.0.4 && dst port 443", "src ip 10.0.0.4 and dst port 443"},
		{"or", "port 22 or port 3389", "port 22 or port 3389"},
		{"||", "port 22||port 3389", "port 22 or port 3389"},
		{"not", "not deny", "not deny"},
		{"!", "!deny", "not deny"},
		{"! with blank", "! deny", "not deny"},
		{"not not", "not not deny", "not not deny"},
		{"parens dropped", "(port 22)", "port 22"},
		{"double parens", "((port 22))", "port 22"},
		{"not of or", "not (port 22 or port 23)", "not (port 22 or port 23)"},
		{"not of and", "!(port 22 && deny)", "not (port 22 and deny)"},
		{"or in and", "(port 22 or port 23) and deny", "(port 22 or port 23) and deny"},
		{"and in or", "port 22 or (port 23 and deny)", "port 22 or port 23 and deny"},
		{"and flattened", "port 1 and (port 2 and port 3)", "port 1 and port 2 and port 3"},
		{"or flattened", "(port 1 or port 2) or port 3", "port 1 or port 2 or port 3"},
		{"keywords any case", "SRC IP 10.0.0.4 AND NOT DENY Or In", "src ip 10.0.0.4 and not deny or in"},
		{"blanks", "\tport 22\n\tor  port 23\r\n", "port 22 or port 23"},
		{"needle", "src ip 94.102.49.190 and dst port 3389 and deny and since 7d",
			"src ip 94.102.49.190 and dst port 3389 and deny and time >= 2024-04-25T13:00:00Z"},
		{"everything", "(src net 10.0.0.0/8 || dst net fd00::/8) && !(proto udp and dst port 53) and rule User* and nsg APPNSG and mac 00-22-48-03-05-1B and state E and source nsg-v2 and bytes_out >= 1K and time < 2024-06-01",
			"(src net 10.0.0.0/8 or dst net fd00::/8) and not (proto udp and dst port 53) and rule User* and nsg APPNSG and mac 00224803051B and state E and source nsg-v2 and bytes_out >= 1K and time < 2024-06-01T00:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustParse(t, tc.in)
			if got := e.String(); got != tc.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
			}
			if again := mustParse(t, tc.in); !reflect.DeepEqual(again, e) {
				t.Errorf("second Parse(%q) = %#v, first %#v", tc.in, again, e)
			}
			back := mustParse(t, e.String())
			if !reflect.DeepEqual(back, e) {
				t.Errorf("round trip of %q: Parse(%q) = %#v, want %#v", tc.in, e.String(), back, e)
			}
		})
	}
}

func mustParse(t *testing.T, s string) Expr {
	t.Helper()
	e, err := Parse(s, Options{Now: now})
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

// TestParseTree checks the trees of filters where the form alone would
// not show a mistake: precedence, flattening, leaf values.
func TestParseTree(t *testing.T) {
	p := func(n uint16) Expr { return &Port{Lo: n, Hi: n} }
	tests := []struct {
		name string
		in   string
		want Expr
	}{
		{"and binds tighter than or", "port 1 or port 2 and port 3", &Or{[]Expr{p(1), &And{[]Expr{p(2), p(3)}}}}},
		{"and before or", "port 1 and port 2 or port 3", &Or{[]Expr{&And{[]Expr{p(1), p(2)}}, p(3)}}},
		{"not binds tighter than and", "not port 1 and port 2", &And{[]Expr{&Not{p(1)}, p(2)}}},
		{"not binds tighter than or", "not port 1 or port 2", &Or{[]Expr{&Not{p(1)}, p(2)}}},
		{"not of a group", "!(port 1 or port 2) and port 3", &And{[]Expr{&Not{&Or{[]Expr{p(1), p(2)}}}, p(3)}}},
		{"mixed", "port 1 or not port 2 and port 3", &Or{[]Expr{p(1), &And{[]Expr{&Not{p(2)}, p(3)}}}}},
		{"not not", "not not port 1", &Not{&Not{p(1)}}},
		{"group first", "(port 1 or port 2) and port 3", &And{[]Expr{&Or{[]Expr{p(1), p(2)}}, p(3)}}},
		{"flat and", "port 1 and (port 2 and port 3) and port 4", &And{[]Expr{p(1), p(2), p(3), p(4)}}},
		{"or not flattened into and", "port 1 and (port 2 or port 3)", &And{[]Expr{p(1), &Or{[]Expr{p(2), p(3)}}}}},
		{"src ip", "src ip 10.0.0.4", &IP{Src, netip.MustParsePrefix("10.0.0.4/32")}},
		{"dst net v6", "dst net 2001:db8::/32", &IP{Dst, netip.MustParsePrefix("2001:db8::/32")}},
		{"ip either", "ip 2001:db8::1", &IP{Either, netip.MustParsePrefix("2001:db8::1/128")}},
		{"port range", "src port 1024-65535", &Port{Src, 1024, 65535}},
		{"proto", "proto gre", &Enum{FieldProtocol, 47}},
		{"in", "in", &Enum{FieldDirection, uint8(columnar.DirectionIn)}},
		{"deny", "deny", &Enum{FieldDecision, uint8(columnar.DecisionDeny)}},
		{"state", "state d", &Enum{FieldState, 'D'}},
		{"source", "source vnet", &Enum{FieldSource, uint8(columnar.SourceVNet)}},
		{"rule", "rule UserRule_*", &Text{FieldRule, "UserRule_*"}},
		{"nsg", "nsg appnsg", &Text{FieldResourceID, "appnsg"}},
		{"mac", "mac 00-0d-3a-0a-f5-19", &Text{FieldMAC, "000D3A0AF519"}},
		{"bytes", "bytes > 1.5M", &Counter{FieldBytes, Gt, 1500000}},
		{"packets_in", "packets_in <= 1KiB", &Counter{FieldPacketsIn, Le, 1024}},
		{"time", "time >= 2024-05-01T13:00Z", &Time{Ge, time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC).UnixMicro()}},
		{"since", "since 1h", &Time{Ge, now.Add(-time.Hour).UnixMicro()}},
		{"before", "before 1h", &Time{Lt, now.Add(-time.Hour).UnixMicro()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// TestParseErrors checks the column, the token found, what was expected
// and the reason of errors.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		col      int
		found    string
		expected string // a part of Expected
		reason   error
	}{
		{"empty", "", 1, "", "a filter", ErrEmpty},
		{"blanks only", "  ", 3, "", "a filter", ErrEmpty},
		{"port name", "src port https", 10, "https", `a port number or range after "port"`, ErrPort},
		{"port too big", "port 70000", 6, "70000", "from 0 to 65535", ErrPort},
		{"port range reversed", "port 2000-1000", 6, "2000-1000", "from low to high", ErrPort},
		{"port range open", "port 80-", 6, "80-", "a port number or range", ErrPort},
		{"port missing", "port", 5, "", `after "port"`, ErrPort},
		{"port negative", "port -1", 6, "-1", "a port number", ErrPort},
		{"implicit and", "port 22 deny", 9, "deny", `"and" or "or" between primitives`, ErrImplicitAnd},
		{"implicit and before paren", "port 22 (deny)", 9, "(", `"and" or "or" between primitives`, ErrImplicitAnd},
		{"implicit and before not", "port 22 not deny", 9, "not", `"and" or "or" between primitives`, ErrImplicitAnd},
		{"implicit and in parens", "(port 22 deny)", 10, "deny", `or ")"`, ErrImplicitAnd},
		{"unclosed", "(port 22", 9, "", `")" to close the "(" at column 1`, ErrParen},
		{"unclosed inner", "deny and ((port 22) or in", 26, "", `")" to close the "(" at column 10`, ErrParen},
		{"unopened", "port 22)", 8, ")", `closes no "("`, ErrParen},
		{"empty parens", "()", 2, ")", `or "(" after "("`, ErrParen},
		{"dangling and", "port 22 and", 12, "", `after "and"`, ErrSyntax},
		{"dangling ||", "port 22 ||", 11, "", `after "||"`, ErrSyntax},
		{"leading and", "and port 22", 1, "and", "a primitive", ErrSyntax},
		{"not alone", "not", 4, "", `after "not"`, ErrSyntax},
		{"unknown keyword", "foo 22", 1, "foo", "a primitive", ErrSyntax},
		{"quoted keyword", `"port" 22`, 1, `"port"`, "a primitive", ErrSyntax},
		{"comparison first", "!= 3", 1, "!=", "a primitive", ErrSyntax},
		{"comparison misplaced", "port 22 > 5", 9, ">", `"and", "or" or end of filter`, ErrSyntax},
		{"single &", "port 22 & deny", 9, "&", `"&&" or "and"`, ErrSyntax},
		{"single |", "port 22 | deny", 9, "|", `"||" or "or"`, ErrSyntax},
		{"unterminated string", `rule "web`, 6, `"web`, `a closing '"'`, ErrString},
		{"bad escape", `rule "a\qb"`, 6, `"a\qb"`, "Go escapes", ErrString},
		{"lexical error after syntax error", `port x "`, 6, "x", "a port number", ErrPort},
		{"bad ipv4", "ip 10.0.0.256", 4, "10.0.0.256", `an IP address or network`, ErrAddress},
		{"bad network", "net 10.0.0.0/33", 5, "10.0.0.0/33", `a network (such as`, ErrAddress},
		{"host bits", "net 10.0.0.1/8", 5, "10.0.0.1/8", `no host bits set after "net" (did you mean 10.0.0.0/8?)`, ErrAddress},
		{"host bits after src", "src 10.0.0.1/8", 5, "10.0.0.1/8", `did you mean 10.0.0.0/8?`, ErrAddress},
		{"zone", "ip fe80::1%eth0", 4, "fe80::1%eth0", "without a zone", ErrAddress},
		{"ip missing", "dst ip", 7, "", `after "ip"`, ErrAddress},
		{"src then keyword", "src proto tcp", 5, "proto", `"ip", "net", "port" or an address after "src"`, ErrSyntax},
		{"src alone", "src", 4, "", `after "src"`, ErrSyntax},
		{"proto unknown", "proto foo", 7, "foo", "a protocol name", ErrProto},
		{"proto too big", "proto 256", 7, "256", "from 0 to 255", ErrProto},
		{"direction bad", "direction up", 11, "up", `"in" or "out" after "direction"`, ErrValue},
		{"decision bad", "decision drop", 10, "drop", `"allow" or "deny"`, ErrValue},
		{"state bad", "state X", 7, "X", "B (begin)", ErrValue},
		{"state long", "state BB", 7, "BB", "a flow state", ErrValue},
		{"source bad", "source nsg", 8, "nsg", "nsg-v1, nsg-v2, vnet or pcap", ErrValue},
		{"mac short", "mac 00-0D-3A", 5, "00-0D-3A", "a MAC address", ErrValue},
		{"mac not hex", "mac 00-0D-3A-0A-F5-1G", 5, "00-0D-3A-0A-F5-1G", "a MAC address", ErrValue},
		{"mac long", "mac 00-0D-3A-0A-F5-19-00", 5, "00-0D-3A-0A-F5-19-00", "a MAC address", ErrValue},
		{"rule missing", "rule", 5, "", `a rule name`, ErrValue},
		{"rule and", "rule and deny", 6, "and", `a rule name`, ErrValue},
		{"rule empty", `rule ""`, 6, `""`, `a rule name`, ErrValue},
		{"nsg missing", "nsg", 4, "", `an NSG name`, ErrValue},
		{"counter without operator", "bytes 10", 7, "10", `a comparison (=, !=, <, <=, >, >=) after "bytes"`, ErrOperator},
		{"counter without value", "bytes >", 8, "", `a count (such as`, ErrNumber},
		{"counter bad suffix", "bytes > 10X", 9, "10X", `a count (such as 1500, 10K, 1.5M or 2GiB) after "bytes >"`, ErrNumber},
		{"counter fraction", "bytes > 1.0001K", 9, "1.0001K", "a whole number", ErrNumber},
		{"counter overflow", "bytes > 9223372036854775808", 9, "9223372036854775808", "below 2^63", ErrNumber},
		{"counter overflow suffix", "bytes > 10000000T", 9, "10000000T", "below 2^63", ErrNumber},
		{"counter negative", "bytes > -5", 9, "-5", "a count", ErrNumber},
		{"counter two dots", "bytes > 1.2.3", 9, "1.2.3", "a count", ErrNumber},
		{"counter dot only", "bytes > .", 9, ".", "a count", ErrNumber},
		{"time word", "time >= yesterday", 9, "yesterday", `a time (such as 2024-05-01T13:00Z`, ErrTime},
		{"time bad month", "time >= 2024-13-01", 9, "2024-13-01", "a time", ErrTime},
		{"time nanoseconds", "time >= 2024-05-01T13:00:00.1234567Z", 9, "2024-05-01T13:00:00.1234567Z", "microsecond precision", ErrTime},
		{"time before year 0", "time >= 0000-01-01T00:00+01:00", 9, "0000-01-01T00:00+01:00", "year 0000 to 9999", ErrTime},
		{"time without operator", "time 2024-05-01", 6, "2024-05-01", "a comparison", ErrOperator},
		{"since without now", "since 24h", 7, "24h", "relative times need Options.Now", ErrNoNow},
		{"since bad unit", "since 24x", 7, "24x", "a duration (such as 24h", ErrTime},
		{"since missing", "since", 6, "", "a duration", ErrTime},
		{"since too far", "since 500000w", 7, "500000w", "ends after year 0000", ErrTime},
		{"since way too far", "since 999999999w", 7, "999999999w", "a duration", ErrTime},
		{"too deep parens", strings.Repeat("(", MaxDepth+1) + "deny" + strings.Repeat(")", MaxDepth+1), MaxDepth + 1, "(", "nested", ErrTooDeep},
		{"too deep nots", strings.Repeat("!", MaxDepth+1) + "deny", MaxDepth + 1, "!", "nested", ErrTooDeep},
		{"non-ASCII column", "rule é and port x", 17, "x", "a port number", ErrPort},
		{"tab column", "deny\tand\tport x", 15, "x", "a port number", ErrPort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Now: now}
			if tc.reason == ErrNoNow {
				opts = Options{}
			}
			e, err := Parse(tc.in, opts)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tc.in, e)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *SyntaxError", tc.in, err, err)
			}
			if se.Col != tc.col || se.Found != tc.found || !strings.Contains(se.Expected, tc.expected) {
				t.Errorf("Parse(%q) = col %d found %q expected %q,\nwant col %d found %q expected to contain %q",
					tc.in, se.Col, se.Found, se.Expected, tc.col, tc.found, tc.expected)
			}
			if !errors.Is(err, tc.reason) {
				t.Errorf("Parse(%q) reason %v, want %v", tc.in, se.Err, tc.reason)
			}
			if se.Input != tc.in {
				t.Errorf("Input = %q, want %q", se.Input, tc.in)
			}
		})
	}
}

func TestParseTooLong(t *testing.T) {
	in := strings.Repeat("deny or ", MaxLen/8) + "deny"
	_, err := Parse(in, Options{})
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("Parse of %d bytes: %v, want ErrTooLong", len(in), err)
	}
	if _, err := Parse(in[:MaxLen-4], Options{}); err != nil {
		t.Fatalf("Parse of %d bytes: %v", MaxLen-4, err)
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	tests := []struct {
		name, in, msg, caret string
	}{
		{"port", "src port https", `filter:10: expected a port number or range after "port", found "https"`,
			"src port https\n         ^~~~~"},
		{"end", "port 22 and", `filter:12: expected a primitive (such as "ip 10.0.0.4", "port 443", "proto tcp", "deny") or "(" after "and", found end of filter`,
			"port 22 and\n           ^"},
		{"implicit and", "port 22 deny", `filter:9: expected "and" or "or" between primitives, or end of filter, found "deny"`,
			"port 22 deny\n        ^~~~"},
		{"quoted", `"port" 22`, `filter:1: expected a primitive (such as "ip 10.0.0.4", "port 443", "proto tcp", "deny") or "(", found "port"`,
			"\"port\" 22\n^~~~~~"},
		{"tab", "deny\tand\tport x", `filter:15: expected a port number or range after "port", found "x"`,
			"deny\tand\tport x\n    \t   \t     ^"},
		{"newline", "deny and\nport x", `filter:15: expected a port number or range after "port", found "x"`,
			"deny and port x\n              ^"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in, Options{})
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want *SyntaxError", tc.in, err)
			}
			if err.Error() != tc.msg {
				t.Errorf("Error() =\n%s\nwant\n%s", err, tc.msg)
			}
			if got := se.Caret(); got != tc.caret {
				t.Errorf("Caret() =\n%s\nwant\n%s", got, tc.caret)
			}
		})
	}
}

func TestMustParse(t *testing.T) {
	if got := MustParse("deny").String(); got != "deny" {
		t.Errorf("MustParse(deny) = %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse(port x) did not panic")
		}
	}()
	MustParse("port x")
}

func TestColumns(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		indexed bool
	}{
		{"src ip 10.0.0.4", []string{"src_ip"}, true},
		{"ip 10.0.0.4", []string{"src_ip", "dst_ip"}, true},
		{"dst port 22 or src port 22", []string{"src_port", "dst_port"}, true},
		{"port 22", []string{"src_port", "dst_port"}, true},
		{"tcp and in and deny", []string{"protocol", "direction", "decision"}, true},
		{"rule x and nsg y and mac 000D3A0AF519", []string{"resource_id", "mac", "rule"}, true},
		{"state B", []string{"state"}, false},
		{"source vnet", []string{"source"}, false},
		{"bytes > 1", []string{"bytes_out", "bytes_in"}, false},
		{"packets > 1 or packets_out > 1", []string{"packets_out", "packets_in"}, false},
		{"not (bytes_in > 1 and time >= 2024-05-01)", []string{"time", "bytes_in"}, false},
		{"deny and not since 1h", []string{"time", "decision"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e := mustParse(t, tc.in)
			if got := Columns(e); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Columns(%s) = %q, want %q", e, got, tc.want)
			}
			if got := IsIndexed(e); got != tc.indexed {
				t.Errorf("IsIndexed(%s) = %v, want %v", e, got, tc.indexed)
			}
		})
	}
	// Every field's name is a schema column, but the two sums.
	cols := map[string]bool{}
	for _, f := range columnar.Schema.Fields() {
		cols[f.Name] = true
	}
	for f := range numFields {
		if !cols[f.String()] && f != FieldBytes && f != FieldPackets {
			t.Errorf("field %d (%s) is not a column of columnar.Schema", f, f)
		}
	}
}

func TestTimeBounds(t *testing.T) {
	const at = 1000
	const lo, hi = -1 << 63, 1<<63 - 1
	tests := []struct {
		op       Op
		from, to int64
	}{
		{Eq, at, at + 1}, {Ne, lo, hi}, {Lt, lo, at}, {Le, lo, at + 1}, {Gt, at + 1, hi}, {Ge, at, hi},
	}
	for _, tc := range tests {
		t.Run(tc.op.String(), func(t *testing.T) {
			e := &Time{Op: tc.op, At: at}
			from, to := e.Bounds()
			if from != tc.from || to != tc.to {
				t.Errorf("Bounds of %s = [%d, %d), want [%d, %d)", e, from, to, tc.from, tc.to)
			}
			// Bounds agrees with Match.
			for _, ts := range []int64{at - 1, at, at + 1} {
				in := from <= ts && ts < to
				if m := e.Match(&columnar.Flow{Time: ts}); m != in && tc.op != Ne {
					t.Errorf("%s on %d: Match %v, Bounds %v", e, ts, m, in)
				}
			}
		})
	}
}

func TestEnumKey(t *testing.T) {
	tests := []struct{ in, key string }{
		{"proto tcp", "tcp"}, {"proto 200", "200"}, {"in", "in"}, {"out", "out"},
		{"allow", "allow"}, {"deny", "deny"}, {"state C", "C"}, {"source nsg-v2", "nsg-v2"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := mustParse(t, tc.in).(*Enum).Key(); got != tc.key {
				t.Errorf("Key() = %q, want %q", got, tc.key)
			}
		})
	}
}

// TestDocExamples parses the examples of filter.md, and checks the error
// it shows, so that the README cannot drift from the parser.
func TestDocExamples(t *testing.T) {
	md, err := os.ReadFile("filter.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(md), "```")
	if len(blocks) < 5 {
		t.Fatalf("filter.md has %d code blocks, want 2", len(blocks)/2)
	}
	examples := strings.Split(strings.TrimSpace(blocks[1]), "\n")
	if len(examples) != 10 {
		t.Errorf("filter.md has %d examples, want 10", len(examples))
	}
	for _, ex := range examples {
		t.Run(ex, func(t *testing.T) { mustParse(t, ex) })
	}
	lines := strings.Split(strings.Trim(blocks[3], "\n"), "\n")
	in := strings.TrimSuffix(strings.TrimPrefix(lines[0], "$ flowlens query out '"), "'")
	_, err = Parse(in, Options{})
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Parse(%q) = %v, want a *SyntaxError", in, err)
	}
	if got, want := se.Error()+"\n"+se.Caret(), strings.Join(lines[1:], "\n"); got != want {
		t.Errorf("filter.md shows\n%s\nParse says\n%s", want, got)
	}
}
