package filter

import "testing"

// BenchmarkMatch evaluates filters on the rows of the real flow log
// samples (testdata/golden), one row per iteration.
//
//	go test ./columnar/filter -run '^$' -bench Match -benchmem -count 6 | tee new.txt; benchstat old.txt new.txt
func BenchmarkMatch(b *testing.B) {
	flows, _ := loadGolden(b)
	for _, bc := range []struct{ name, filter string }{
		{"needle", "src ip 94.102.49.190 and dst port 3389 and deny"},
		{"cidr", "src net 10.0.0.0/8 or dst net 2001:db8::/32"},
		{"either", "ip 10.1.0.4"},
		{"names", "rule DefaultRule_* and nsg *-nsg"},
		{"counters", "bytes > 1K and time >= 2024-01-01"},
		{"wide", "(src net 10.0.0.0/8 or dst net 2001:db8::/32) and not port 22 and (rule Default* or mac 00-22-48-03-05-1B) " +
			"and (tcp or udp) and (state E or deny) and not bytes > 1G"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := MustParse(bc.filter)
			b.ReportAllocs()
			i, n := 0, 0
			for b.Loop() {
				if e.Match(&flows[i]) {
					n++
				}
				if i++; i == len(flows) {
					i = 0
				}
			}
			_ = n
		})
	}
}

// BenchmarkParse measures Parse on a typical filter.
//
//	go test ./columnar/filter -run '^$' -bench Parse -benchmem -count 6
func BenchmarkParse(b *testing.B) {
	const s = "src net 10.0.0.0/8 and not (dst port 22 or dst port 3389) and deny and rule UserRule_* and bytes > 1M"
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(s, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
