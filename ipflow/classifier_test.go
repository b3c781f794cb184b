package ipflow

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"

	"go4.org/netipx"
)

// mapResolver resolves tags and ASGs from maps of prefixes.
type mapResolver struct {
	tags map[string][]string
	asgs map[string][]string
}

func setOf(prefixes []string) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, p := range prefixes {
		b.AddPrefix(netip.MustParsePrefix(p))
	}
	s, _ := b.IPSet()
	return s
}

func (m mapResolver) Tag(name string) (*netipx.IPSet, error) {
	if p, ok := m.tags[name]; ok {
		return setOf(p), nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownTag, name)
}

func (m mapResolver) ASG(id string) (*netipx.IPSet, error) {
	if p, ok := m.asgs[id]; ok {
		return setOf(p), nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownASG, id)
}

var testResolver = mapResolver{
	tags: map[string][]string{
		"VirtualNetwork":    {"10.1.0.0/16", "10.2.0.0/16", "168.63.129.16/32", "fd00:1::/48"},
		"AzureLoadBalancer": {"168.63.129.16/32"},
		"Internet":          {"1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "2000::/3"},
	},
	asgs: map[string][]string{
		"asg-web": {"10.1.1.4/32", "10.1.1.5/32"},
		"asg-db":  {"10.1.2.4/32"},
	},
}

// ruleGen makes random but plausible rule sets: prefixes drawn from a
// few networks so that rules overlap, ports near the common ones.
type ruleGen struct{ r *rand.Rand }

var genBases = []string{"10.1.0.0", "10.1.1.0", "10.2.0.0", "172.16.0.0", "192.168.1.0", "52.0.0.0", "13.107.21.0", "0.0.0.0"}
var genBases6 = []string{"fd00:1::", "2001:db8::", "2603:1000::"}
var genTags = []string{"VirtualNetwork", "AzureLoadBalancer", "Internet"}
var genPorts = []int{0, 22, 53, 80, 443, 1024, 3389, 8080, 65535}

func (g ruleGen) addr() string {
	switch g.r.IntN(12) {
	case 0:
		return "*"
	case 1:
		return genTags[g.r.IntN(len(genTags))]
	case 2:
		base := netip.MustParseAddr(genBases6[g.r.IntN(len(genBases6))])
		return netip.PrefixFrom(base, 32+g.r.IntN(97)).Masked().String()
	}
	base := netip.MustParseAddr(genBases[g.r.IntN(len(genBases))])
	b := base.As4()
	b[2] += byte(g.r.IntN(4))
	b[3] += byte(g.r.IntN(8))
	bitsN := 8 + g.r.IntN(25)
	if g.r.IntN(3) == 0 {
		return netip.AddrFrom4(b).String() // a single address
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), bitsN).Masked().String()
}

func (g ruleGen) port() string {
	switch g.r.IntN(5) {
	case 0, 1:
		return "*"
	case 2:
		lo := genPorts[g.r.IntN(len(genPorts))]
		hi := min(65535, lo+g.r.IntN(2000))
		return strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
	}
	return strconv.Itoa((genPorts[g.r.IntN(len(genPorts))] + g.r.IntN(3) - 1 + 65536) % 65536)
}

func (g ruleGen) list(f func() string) []string {
	n := 1
	if g.r.IntN(4) == 0 {
		n = 1 + g.r.IntN(4)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = f()
	}
	return out
}

var genProtocols = []string{"*", "*", "Tcp", "Tcp", "Udp", "Icmp", "Esp", "Ah"}

func (g ruleGen) spec(i int) Spec {
	s := Spec{
		Name:      "r" + strconv.Itoa(i),
		Priority:  100 + i,
		Direction: Inbound,
		Access:    Access(1 + g.r.IntN(2)),
		Protocol:  genProtocols[g.r.IntN(len(genProtocols))],
		SrcAddrs:  g.list(g.addr),
		DstAddrs:  g.list(g.addr),
		SrcPorts:  g.list(g.port),
		DstPorts:  g.list(g.port),
	}
	if g.r.IntN(10) == 0 {
		s.SrcAddrs = nil
		s.SrcASGs = []string{"asg-web"}
	}
	if g.r.IntN(10) == 0 {
		s.DstASGs = []string{"asg-db"}
	}
	return s
}

func (g ruleGen) rules(t testing.TB, n int) []Rule {
	t.Helper()
	rules := make([]Rule, 0, n+3)
	for i := range n {
		s := g.spec(i)
		r, err := Compile(&s, testResolver)
		if err != nil {
			t.Fatalf("compile %+v: %v", s, err)
		}
		rules = append(rules, r)
	}
	SortRules(rules)
	return rules
}

// packet picks addresses and ports at and around the rules' edges, where
// an interval scheme goes wrong if it goes wrong at all.
func (g ruleGen) packet(rules []Rule) Packet {
	var p Packet
	pick := func(set *netipx.IPSet) netip.Addr {
		rs := set.Ranges()
		if len(rs) == 0 || g.r.IntN(8) == 0 {
			if g.r.IntN(2) == 0 {
				return netip.AddrFrom4([4]byte{byte(g.r.IntN(256)), byte(g.r.IntN(256)), byte(g.r.IntN(256)), byte(g.r.IntN(256))})
			}
			return netip.MustParseAddr(genBases6[g.r.IntN(len(genBases6))]).Next()
		}
		rg := rs[g.r.IntN(len(rs))]
		switch g.r.IntN(4) {
		case 0:
			return rg.From()
		case 1:
			return rg.To()
		case 2:
			if a := rg.From().Prev(); a.IsValid() {
				return a
			}
		}
		if a := rg.To().Next(); a.IsValid() {
			return a
		}
		return rg.From()
	}
	port := func(ps Ports) uint16 {
		r := ps[g.r.IntN(len(ps))]
		switch g.r.IntN(4) {
		case 0:
			return r.Lo
		case 1:
			return r.Hi
		case 2:
			return r.Lo - 1
		}
		return r.Hi + 1
	}
	a, b := &rules[g.r.IntN(len(rules))], &rules[g.r.IntN(len(rules))]
	p.Src, p.Dst = pick(a.Src), pick(b.Dst)
	if p.Src.Is4() != p.Dst.Is4() && g.r.IntN(4) != 0 {
		p.Dst = pick(a.Dst)
	}
	p.SrcPort, p.DstPort = port(a.SrcPorts), port(b.DstPorts)
	p.Protocol = []uint8{ProtoTCP, ProtoTCP, ProtoUDP, ProtoICMP, ProtoICMPv6, ProtoESP, 47}[g.r.IntN(7)]
	p.AnySrcPort = g.r.IntN(8) == 0
	return p
}

func TestClassifierAgreesWithLinear(t *testing.T) {
	for seed := range uint64(40) {
		g := ruleGen{rand.New(rand.NewPCG(seed, 7))}
		n := 1 + g.r.IntN(150)
		rules := g.rules(t, n)
		lin := &Linear{Rules: rules}
		cls := NewClassifier(rules)
		matched := 0
		for range 5000 {
			p := g.packet(rules)
			want, got := lin.Match(&p), cls.Match(&p)
			if want != got {
				t.Fatalf("seed %d, %d rules, packet %+v: linear %d, classifier %d", seed, n, p, want, got)
			}
			if want >= 0 {
				matched++
			}
		}
		if matched == 0 {
			t.Errorf("seed %d: no packet matched any rule; the generator tests nothing", seed)
		}
	}
}

func TestClassifierEmptyAndEdges(t *testing.T) {
	cls := NewClassifier(nil)
	p := Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Protocol: ProtoTCP}
	if got := cls.Match(&p); got != -1 {
		t.Fatalf("empty rule set matched %d", got)
	}
	spec := func(name string, prio int, proto, src, dst, sport, dport string) Spec {
		return Spec{Name: name, Priority: prio, Direction: Inbound, Access: Allow, Protocol: proto,
			SrcAddrs: []string{src}, DstAddrs: []string{dst}, SrcPorts: []string{sport}, DstPorts: []string{dport}}
	}
	specs := []Spec{
		spec("top-v4", 100, "Tcp", "255.255.255.255", "*", "*", "65535"),
		spec("zero-port", 110, "Udp", "*", "*", "0", "0"),
		spec("icmp-any-port", 120, "Icmp", "*", "*", "*", "*"),
		spec("all-port-80", 130, "*", "*", "*", "*", "80"),
		spec("top-v6", 140, "*", "ffff::/16", "*", "*", "*"),
		spec("rest", 65500, "*", "*", "*", "*", "*"),
	}
	var rules []Rule
	for i := range specs {
		r, err := Compile(&specs[i], testResolver)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	SortRules(rules)
	cls, lin := NewClassifier(rules), &Linear{Rules: rules}
	cases := []struct {
		name string
		p    Packet
		want string
	}{
		{"highest v4 address and port", Packet{Src: netip.MustParseAddr("255.255.255.255"), Dst: netip.MustParseAddr("10.0.0.1"), DstPort: 65535, Protocol: ProtoTCP}, "top-v4"},
		{"port zero", Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Protocol: ProtoUDP}, "zero-port"},
		{"icmp ignores port rules", Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Protocol: ProtoICMP, DstPort: 80}, "icmp-any-port"},
		{"port condition never matches gre", Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Protocol: 47, DstPort: 80}, "rest"},
		{"port condition matches udp", Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Protocol: ProtoUDP, SrcPort: 5, DstPort: 80}, "all-port-80"},
		{"highest v6 address", Packet{Src: netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Dst: netip.MustParseAddr("::1"), Protocol: ProtoTCP}, "top-v6"},
		{"any source port still needs tcp", Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Protocol: 47, AnySrcPort: true}, "rest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, got := lin.Match(&tc.p), cls.Match(&tc.p)
			if want != got {
				t.Fatalf("linear %d, classifier %d", want, got)
			}
			if got < 0 || rules[got].Name != tc.want {
				t.Fatalf("matched %d, want rule %s", got, tc.want)
			}
		})
	}
	mixed := Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("::1"), Protocol: ProtoTCP}
	if got := cls.Match(&mixed); got != -1 {
		t.Errorf("a packet with mixed address families matched %d", got)
	}
}

func TestClassifierNoAllocs(t *testing.T) {
	g := ruleGen{rand.New(rand.NewPCG(1, 2))}
	rules := g.rules(t, 200)
	cls := NewClassifier(rules)
	p := g.packet(rules)
	if n := testing.AllocsPerRun(1000, func() { cls.Match(&p) }); n != 0 {
		t.Fatalf("Match allocates %v times", n)
	}
}

// TestLocalClassifier checks that a stage specialised to one local
// address answers like the full rule set for packets to (inbound) or from
// (outbound) that address.
func TestLocalClassifier(t *testing.T) {
	for seed := range uint64(20) {
		g := ruleGen{rand.New(rand.NewPCG(seed, 3))}
		rules := g.rules(t, 1+g.r.IntN(120))
		for _, dir := range []Direction{Inbound, Outbound} {
			rs := &RuleSet{Direction: dir, Rules: rules, Classifier: NewClassifier(rules)}
			p0 := g.packet(rules)
			local := p0.Dst
			if dir == Outbound {
				local = p0.Src
			}
			full := Stage{Rules: rs}
			spec := Stage{Rules: rs, local: newLocalClassifier(rs, local)}
			for range 2000 {
				p := g.packet(rules)
				if dir == Inbound {
					p.Dst = local
				} else {
					p.Src = local
				}
				a, b := Judge([]Stage{full}, &p), Judge([]Stage{spec}, &p)
				if a.Access != b.Access || a.Rule != b.Rule {
					t.Fatalf("seed %d %v local %v packet %+v: full %v/%d, local %v/%d", seed, dir, local, p, a.Access, a.Rule, b.Access, b.Rule)
				}
			}
		}
	}
}
