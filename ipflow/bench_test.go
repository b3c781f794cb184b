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

// judgeStages is a NIC whose subnet NSG and NIC NSG each hold n generated
// rules, and a pool of packets around their edges.
func judgeStages(b *testing.B, n int) ([]Stage, []Packet) {
	var stages []Stage
	var packets []Packet
	for k, level := range []Level{LevelSubnet, LevelNIC} {
		g := ruleGen{rand.New(rand.NewPCG(uint64(k), uint64(n)))}
		rules := g.rules(b, n)
		stages = append(stages, Stage{Level: level, Rules: &RuleSet{Rules: rules, Classifier: NewClassifier(rules)}})
		for range 1 << 15 {
			packets = append(packets, g.packet(rules))
		}
	}
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(packets), func(i, j int) { packets[i], packets[j] = packets[j], packets[i] })
	return stages, packets
}

// judgeLinear is Judge with the linear reference instead of the classifier.
func judgeLinear(stages []Stage, p *Packet) Verdict {
	v := Verdict{Access: Allow, Rule: -1}
	for i := range stages {
		st := &stages[i]
		lin := Linear{Rules: st.Rules.Rules}
		k := lin.Match(p)
		v.Stage, v.Rule = st, k
		if k < 0 || st.Rules.Rules[k].Access == Deny {
			v.Access = Deny
			return v
		}
	}
	return v
}

// BenchmarkJudge is a full verdict at a NIC whose subnet and NIC NSGs hold
// 1,000 rules each.
//
//	go test ./ipflow -run '^$' -bench 'Judge' -count 6
func BenchmarkJudge(b *testing.B) {
	stages, packets := judgeStages(b, 1000)
	for _, impl := range []struct {
		name  string
		judge func([]Stage, *Packet) Verdict
	}{{"classifier", Judge}, {"linear", judgeLinear}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				impl.judge(stages, &packets[i&(len(packets)-1)])
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
		})
	}
}
