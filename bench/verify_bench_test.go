package bench_test

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/flowlens/flowlens/bench/nsggen"
	"github.com/flowlens/flowlens/ipflow"
	"github.com/flowlens/flowlens/topology"
)

// verifyScenario loads the generated network and returns the NIC's
// stages per direction and the tuples as packets.
func verifyScenario(tb testing.TB, rules, tuples int) (map[ipflow.Direction][]ipflow.Stage, []ipflow.Packet, []ipflow.Direction) {
	tb.Helper()
	data, err := nsggen.Network(rules, 1)
	if err != nil {
		tb.Fatal(err)
	}
	n := topology.New()
	if probs, err := n.Add("network.json", data); err != nil || len(probs) > 0 {
		tb.Fatal(err, probs)
	}
	if probs := n.Resolve(); len(probs) > 0 {
		tb.Fatal(probs)
	}
	ev := ipflow.NewEvaluator(n, ipflow.Config{})
	nic, err := n.NIC(nsggen.NICID)
	if err != nil {
		tb.Fatal(err)
	}
	local := netip.MustParseAddr(nsggen.NICAddr)
	target, err := ev.TargetFor(nic, local)
	if err != nil {
		tb.Fatal(err)
	}
	stages := map[ipflow.Direction][]ipflow.Stage{}
	for _, d := range []ipflow.Direction{ipflow.Inbound, ipflow.Outbound} {
		if stages[d], err = ev.Stages(target, d); err != nil {
			tb.Fatal(err)
		}
		if len(stages[d]) != 2 {
			tb.Fatalf("%v: %d NSGs", d, len(stages[d]))
		}
	}
	ts := nsggen.Tuples(tuples, 1)
	packets := make([]ipflow.Packet, len(ts))
	dirs := make([]ipflow.Direction, len(ts))
	for i, t := range ts {
		p := &packets[i]
		p.Protocol = t.Protocol
		if t.Inbound {
			p.Src, p.Dst, p.SrcPort, p.DstPort, dirs[i] = t.Remote, local, t.RemotePort, t.LocalPort, ipflow.Inbound
		} else {
			p.Src, p.Dst, p.SrcPort, p.DstPort, dirs[i] = local, t.Remote, t.LocalPort, t.RemotePort, ipflow.Outbound
		}
	}
	return stages, packets, dirs
}

// judgeLinear is ipflow.Judge over the linear reference.
func judgeLinear(stages []ipflow.Stage, p *ipflow.Packet) (ipflow.Access, int) {
	for i := range stages {
		lin := ipflow.Linear{Rules: stages[i].Rules.Rules}
		k := lin.Match(p)
		if k < 0 || stages[i].Rules.Rules[k].Access == ipflow.Deny {
			return ipflow.Deny, k
		}
		if i == len(stages)-1 {
			return ipflow.Allow, k
		}
	}
	return ipflow.Allow, -1
}

// TestVerifyScenarioAgrees judges 200,000 generated tuples with both
// evaluators at a NIC with two 1,000-rule NSGs.
func TestVerifyScenarioAgrees(t *testing.T) {
	stages, packets, dirs := verifyScenario(t, 1000, 200000)
	allowed := 0
	for i := range packets {
		v := ipflow.Judge(stages[dirs[i]], &packets[i])
		access, rule := judgeLinear(stages[dirs[i]], &packets[i])
		if v.Access != access || v.Rule != rule {
			t.Fatalf("packet %+v: classifier %v rule %d, linear %v rule %d", packets[i], v.Access, v.Rule, access, rule)
		}
		if access == ipflow.Allow {
			allowed++
		}
	}
	if allowed == 0 || allowed == len(packets) {
		t.Fatalf("%d of %d allowed: the scenario tests one side only", allowed, len(packets))
	}
	t.Logf("%d of %d tuples allowed", allowed, len(packets))
}

// BenchmarkVerifyScenario judges 10 million generated 5-tuples (as many as
// b.N asks, cycling through them) at a NIC whose subnet and NIC NSGs hold
// 1,000 rules each.
//
//	go test -run '^$' -bench VerifyScenario -benchtime 10000000x -count 3
func BenchmarkVerifyScenario(b *testing.B) {
	stages, packets, dirs := verifyScenario(b, 1000, 10_000_000)
	runtime.GC() // finish collecting the setup's garbage before timing
	b.Run("classifier", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := i % len(packets)
			ipflow.Judge(stages[dirs[k]], &packets[k])
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
	})
	b.Run("linear", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := i % len(packets)
			judgeLinear(stages[dirs[k]], &packets[k])
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
	})
}
