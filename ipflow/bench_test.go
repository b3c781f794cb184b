package ipflow

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// benchmarkSet is an NSG direction of n generated rules and a pool of
// packets at and around their edges.
func benchmarkSet(b *testing.B, n int) ([]Rule, []Packet) {
	g := ruleGen{rand.New(rand.NewPCG(42, uint64(n)))}
	rules := g.rules(b, n)
	packets := make([]Packet, 1<<16)
	for i := range packets {
		packets[i] = g.packet(rules)
	}
	return rules, packets
}

// go test ./ipflow -run '^$' -bench 'Match' -count 6
func BenchmarkClassifierMatch(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(strconv.Itoa(n)+"rules", func(b *testing.B) {
			rules, packets := benchmarkSet(b, n)
			cls := NewClassifier(rules)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				cls.Match(&packets[i&(len(packets)-1)])
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
		})
	}
}

func BenchmarkLinearMatch(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(strconv.Itoa(n)+"rules", func(b *testing.B) {
			rules, packets := benchmarkSet(b, n)
			lin := &Linear{Rules: rules}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				lin.Match(&packets[i&(len(packets)-1)])
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
		})
	}
}

func BenchmarkNewClassifier(b *testing.B) {
	rules, _ := benchmarkSet(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		NewClassifier(rules)
	}
}
