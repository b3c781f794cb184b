package filter

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"unicode/utf8"
)

// maxFuzzLen caps fuzz inputs: longer filters only repeat what shorter
// ones exercise, and slow the fuzzer down.
const maxFuzzLen = 4096

// FuzzParse checks that Parse never panics, that its errors are
// positioned *SyntaxErrors, and that every filter that parses prints a
// canonical form that parses back to an equal tree printing the same.
//
//	go test ./columnar/filter -run '^$' -fuzz FuzzParse -fuzztime 1m
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"src ip 10.0.0.4 and dst port 443",
		"dst net 10.0.0.0/8 && !(port 22 || port 3389) and deny",
		"net 2001:db8::/32 or ip ::ffff:10.0.0.1", // IPv6, IPv4-mapped
		"src 10.0.0.1/8", // host bits set
		"port 1024-65535 or port 0-0 or port 70000",
		"proto 255 or proto icmp6 or tcp or udp or icmp",
		"in or out or allow or deny or direction in or decision deny",
		`rule "a\"b" or rule UserRule_* or nsg "" or nsg /A/B/C`,
		`rule "\xff\x00"`, // bytes that are not UTF-8, escaped
		"rule \xff\xfe",   // raw bytes that are not UTF-8
		"mac 00-0D-3A-0A-F5-19 or mac 000d.3a0a.f519",
		"state b or source nsg-v2",
		"bytes > 1.5M or packets <= 10KiB or bytes_out != 9223372036854775807",
		"bytes > 9223372036854775808", // overflow
		"time >= 2024-05-01T13:00Z or time < 2024-05-01 or time = 9999-12-31T23:59:59.999999Z",
		"time >= 0000-01-01T00:00+01:00", // before year 0 in UTC
		"since 24h or before 7d or after 1d12h or since 999999999w",
		"((((not not !(deny)))))",
		"(((", ")))", "!", "&", "|", "&&", "||", `"`, `"\`, "= == != < <= > >=",
		"port 22 deny", "a b c", "\t\n\r\v\f", "rule é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxFuzzLen {
			t.Skip()
		}
		e, err := Parse(s, Options{Now: now})
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", s, err)
			}
			if se.Col < 1 || se.Col > utf8.RuneCountInString(s)+1 || se.Err == nil || se.Expected == "" || se.Input != s {
				t.Fatalf("Parse(%q) = %#v: bad position or fields", s, se)
			}
			if errors.Is(err, errBug) {
				t.Fatalf("Parse(%q) panicked: %v", s, err)
			}
			_ = se.Caret()
			return
		}
		canon := e.String()
		back, err := Parse(canon, Options{})
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, canon, err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("Parse(%q) = %#v, reparsed from %q as %#v", s, e, canon, back)
		}
		if again := back.String(); again != canon {
			t.Fatalf("Parse(%q) prints %q, reparsed prints %q", s, canon, again)
		}
		for i := range rows {
			e.Match(&rows[i])
		}
		Columns(e)
	})
}

// FuzzParseAddr checks the allocation-free address parser of Match
// against netip.ParseAddr.
//
//	go test ./columnar/filter -run '^$' -fuzz FuzzParseAddr -fuzztime 1m
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{
		"10.0.0.4", "01.0.0.4", "255.255.255.256", "::", "::1", "2001:db8::1", "fe80::1%eth0",
		"::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:8", "1::2::3", "12345::",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			t.Skip()
		}
		checkParseAddr(t, s)
		if a, ok := parseAddr([]byte(s)); ok && a != netip.MustParseAddr(s) {
			t.Fatalf("parseAddr(%q) = %v", s, a)
		}
	})
}
