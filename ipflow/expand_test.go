package ipflow

import (
	"math/big"
	"math/rand/v2"
	"net/netip"
	"testing"

	"go4.org/netipx"
)

func rangeSize(r netipx.IPRange) *big.Int {
	a, b := new(big.Int).SetBytes(r.From().AsSlice()), new(big.Int).SetBytes(r.To().AsSlice())
	return b.Sub(b, a).Add(b, big.NewInt(1))
}

func protoCount(s ProtoSet) int64 {
	n := int64(0)
	for p := range 256 {
		if s.Has(uint8(p)) {
			n++
		}
	}
	return n
}

func querySize(q Query) *big.Int {
	n := new(big.Int).Mul(rangeSize(q.Src), rangeSize(q.Dst))
	n.Mul(n, big.NewInt(int64(q.SrcPorts.Hi)-int64(q.SrcPorts.Lo)+1))
	n.Mul(n, big.NewInt(int64(q.DstPorts.Hi)-int64(q.DstPorts.Lo)+1))
	return n.Mul(n, big.NewInt(protoCount(q.Protocols)))
}

func randomIn(r *rand.Rand, rg netipx.IPRange) netip.Addr {
	switch r.IntN(3) {
	case 0:
		return rg.From()
	case 1:
		return rg.To()
	}
	a := rg.From()
	for range r.IntN(40) {
		if n := a.Next(); n.IsValid() && rg.Contains(n) {
			a = n
		}
	}
	return a
}

// TestExpand checks that the parts of a query cover it exactly and that
// the linear reference gives each packet inside a part that part's rule.
func TestExpand(t *testing.T) {
	for seed := range uint64(30) {
		g := ruleGen{rand.New(rand.NewPCG(seed, 99))}
		rules := g.rules(t, 1+g.r.IntN(60))
		cls, lin := NewClassifier(rules), &Linear{Rules: rules}
		for range 20 {
			a, b := g.packet(rules), g.packet(rules)
			if !a.Src.Is4() || !a.Dst.Is4() || !b.Src.Is4() || !b.Dst.Is4() {
				continue
			}
			q := Query{
				Src:      netipx.IPRangeFrom(min4(a.Src, b.Src), max4(a.Src, b.Src)),
				Dst:      netipx.IPRangeFrom(a.Dst, a.Dst),
				SrcPorts: PortRange{min(a.SrcPort, b.SrcPort), max(a.SrcPort, b.SrcPort)},
				DstPorts: PortRange{0, 65535},
			}
			switch g.r.IntN(3) {
			case 0:
				q.Protocols = AllProtocols
			case 1:
				q.Protocols.Add(ProtoTCP)
			default:
				q.Protocols.Add(ProtoUDP)
				q.Protocols.Add(ProtoICMP)
			}
			q.AnySrcPort = g.r.IntN(4) == 0
			total := new(big.Int)
			done := cls.Expand(q, 0, func(p Part) bool {
				total.Add(total, querySize(p.Query))
				for range 3 {
					var protos []uint8
					for pr := range 256 {
						if p.Protocols.Has(uint8(pr)) {
							protos = append(protos, uint8(pr))
						}
					}
					pk := Packet{
						Src: randomIn(g.r, p.Src), Dst: randomIn(g.r, p.Dst),
						SrcPort:    p.SrcPorts.Lo + uint16(g.r.IntN(int(p.SrcPorts.Hi-p.SrcPorts.Lo)+1)),
						DstPort:    p.DstPorts.Lo + uint16(g.r.IntN(int(p.DstPorts.Hi-p.DstPorts.Lo)+1)),
						Protocol:   protos[g.r.IntN(len(protos))],
						AnySrcPort: q.AnySrcPort,
					}
					if got := lin.Match(&pk); got != p.Rule {
						t.Fatalf("seed %d: part %+v says rule %d, linear gives %d for %+v", seed, p, p.Rule, got, pk)
					}
				}
				return true
			})
			if !done {
				t.Fatal("Expand stopped without a limit")
			}
			if want := querySize(q); total.Cmp(want) != 0 {
				t.Fatalf("seed %d: parts cover %v packets, the query %v", seed, total, want)
			}
		}
	}
}

func min4(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return a
	}
	return b
}

func max4(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return b
	}
	return a
}

func TestExpandLimit(t *testing.T) {
	g := ruleGen{rand.New(rand.NewPCG(5, 5))}
	rules := g.rules(t, 50)
	cls := NewClassifier(rules)
	q := Query{Protocols: AllProtocols, Src: netipx.IPRangeFrom(netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255")),
		Dst: netipx.IPRangeFrom(netip.MustParseAddr("10.1.0.0"), netip.MustParseAddr("10.1.255.255")), SrcPorts: AnyPort, DstPorts: AnyPort}
	n := 0
	if cls.Expand(q, 10, func(Part) bool { n++; return true }) {
		t.Fatal("Expand finished a large query within 10 parts")
	}
	if n != 10 {
		t.Fatalf("got %d parts, want the limit 10", n)
	}
}
