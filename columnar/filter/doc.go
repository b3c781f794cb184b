// Package filter is the one filter language of flowlens, used by
// "flowlens query OUT 'FILTER'" and "flowlens report --where FILTER". It
// reads like tcpdump and nfdump filters:
//
//	src net 10.0.0.0/8 and dst port 3389 and deny
//	ip 94.102.49.190 and since 7d
//	rule UserRule_* and not (port 80 or port 443)
//	bytes > 1M and proto tcp and time >= 2024-05-01T13:00Z
//
// Parse turns a filter into an Expr, a tree of And, Or and Not over typed
// leaves that a bitmap index planner walks: IP and Port (with a Side),
// Enum (protocol, direction, decision, state, source), Text (rule,
// resource id, MAC), Counter and Time. Every leaf but Counter and Time,
// and Enum on state and source, maps to an index column (Field.Indexed);
// Columns lists the columns an expression reads. Expr.Match evaluates a
// filter on one columnar.Flow without allocating: it is the reference the
// index and the SQL tests are checked against. Expr.String prints a
// canonical form that Parse reads back into an equal tree.
//
// Parse does not read the clock: relative times ("since 24h") count back
// from Options.Now. It does not plan or run queries: the query engine
// does that with the tree. This package imports columnar (for Flow and
// Schema), so that engine lives in a package of its own, not in columnar.
//
// # Grammar
//
//	filter     = or
//	or         = and { ("or" | "||") and }
//	and        = unary { ("and" | "&&") unary }
//	unary      = ("not" | "!") unary | "(" or ")" | primitive
//	primitive  = [side] ("ip" | "host") ADDR-OR-NET
//	           | [side] "net" NET
//	           | side ADDR-OR-NET
//	           | [side] "port" (PORT | PORT"-"PORT)
//	           | "proto" PROTO | "tcp" | "udp" | "icmp"
//	           | "in" | "out" | "direction" ("in" | "out")
//	           | "allow" | "deny" | "decision" ("allow" | "deny")
//	           | "rule" NAME | ("nsg" | "resource") NAME | "mac" MAC
//	           | "state" ("B" | "C" | "E" | "D")
//	           | "source" ("nsg-v1" | "nsg-v2" | "vnet" | "pcap")
//	           | COUNTER CMP COUNT
//	           | "time" CMP TIME
//	           | ("since" | "after" | "before") (DURATION | TIME)
//	side       = "src" | "dst"
//	COUNTER    = "bytes" | "packets" | "bytes_out" | "bytes_in" | "packets_out" | "packets_in"
//	CMP        = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
//
// Precedence, from tightest: not, and, or; "a or b and not c" is
// "a or (b and (not c))". Primitives must be joined by an operator:
// "port 22 deny" is an error (ErrImplicitAnd), not an implicit and.
// Keywords and the values of enums and protocols are case-insensitive.
// Blanks separate words; "(", ")", "!", "&&", "||" and comparisons need
// none ("bytes>1M", "!(port 22)").
//
// # Values
//
//   - ADDR-OR-NET is an IPv4 or IPv6 address (10.0.0.4, 2001:db8::1) or a
//     network in CIDR form; NET is a network (10.0.0.0/8, 2001:db8::/32)
//     or an address. A network's host bits must be zero. An address is a
//     one-address network: "net 10.0.0.4/32" is "ip 10.0.0.4". Without a
//     side, "ip" and "net" match either address of a flow. Families do not
//     mix: 10.0.0.0/8 does not match ::ffff:10.0.0.1.
//   - PORT is 0 to 65535; "port 1024-65535" is a range, both ends
//     included. Without a side, "port" matches either port.
//   - PROTO is a name as the protocol column writes it (tcp, udp, icmp,
//     icmpv6 or icmp6, igmp, gre, esp, ah, sctp, ipv6, ipip) or a number
//     0 to 255.
//   - NAME is a word or a "double-quoted" string with Go escapes; quote
//     names with blanks or delimiters, and the names "and", "or", "not".
//     Rule and NSG names ignore ASCII case, and * matches any run of
//     characters ("rule UserRule_*", "nsg *-prod"). "nsg NAME" matches the
//     last segment of resource_id (the NSG for NSG flow logs, the NIC,
//     subnet or VNet for VNet flow logs); a NAME containing "/" matches the
//     whole resource id.
//   - MAC is 12 hex digits, with or without "-", ":" or "." separators; it
//     matches whatever the separators and case, as flowlog stores MACs as
//     12 upper-case hex digits.
//   - COUNT is a whole number with an optional suffix: K, M, G, T (or KB,
//     MB, GB, TB) are decimal, powers of 1000; Ki, Mi, Gi, Ti (or KiB, MiB,
//     GiB, TiB) are binary, powers of 1024. A fraction is allowed if the
//     result is whole: 1.5M is 1500000. Suffixes ignore case. "bytes" and
//     "packets" are the sums of both directions; rows without counters
//     (NSG v1 flow logs) match no counter comparison.
//   - TIME is RFC 3339 with optional seconds and fraction (at most
//     microseconds), or a date: 2024-05-01T13:00Z,
//     2024-05-01T13:00:05.5+02:00, 2024-05-01 (midnight). Without a zone a
//     time is UTC. It is compared with the flow's start (time column).
//   - DURATION is whole numbers with units s, m, h, d, w: 90s, 15m, 24h,
//     7d, 1d12h. "since D" and "after D" are "time >= Now-D", "before D"
//     is "time < Now-D"; with a TIME instead of a duration they compare
//     with it, so "after T" and "before T" split the flows in two.
//
// A leaf on a null column is false, and "not" is its complement: "not
// state B" matches rows without a state, and "not bytes > 1M" rows without
// counters. (This is two-valued logic; SQL's NULL comparisons differ.)
//
// # Errors
//
// A filter that does not parse gives a *SyntaxError with the column, the
// token found and what was expected there, wrapping one of the Err*
// reasons:
//
//	filter:10: expected a port number or range after "port", found "https"
//
// Parse never panics, whatever its input; FuzzParse checks that, and that
// every filter that parses prints a canonical form that parses back to
// the same tree.
package filter
