package ipflow

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestShadows checks Shadows against the linear reference: a rule said
// to be shadowed never decides a generated packet, and the witness of a
// rule said to fire is decided by that rule.
func TestShadows(t *testing.T) {
	shadowed, live := 0, 0
	for seed := range uint64(25) {
		g := ruleGen{rand.New(rand.NewPCG(seed, 11))}
		rules := g.rules(t, 2+g.r.IntN(60))
		lin, cls := &Linear{Rules: rules}, NewClassifier(rules)
		shadows := Shadows(rules, cls, Inbound, nil)
		decided := map[int]bool{}
		for range 20000 {
			p := g.packet(rules)
			decided[lin.Match(&p)] = true
		}
		for _, sh := range shadows {
			switch {
			case sh.Unknown:
			case sh.Shadowed:
				shadowed++
				if decided[sh.Rule] {
					t.Fatalf("seed %d: rule %d is said to be shadowed by %v but decides a packet", seed, sh.Rule, sh.By)
				}
			default:
				live++
				w := sh.Witness
				var proto uint8
				for p := range 256 {
					if w.Protocols.Has(uint8(p)) {
						proto = uint8(p)
						break
					}
				}
				p := Packet{Src: w.Src.To(), Dst: w.Dst.From(), SrcPort: w.SrcPorts.Hi, DstPort: w.DstPorts.Lo, Protocol: proto}
				if got := lin.Match(&p); got != sh.Rule {
					t.Fatalf("seed %d: witness %+v of rule %d is decided by %d", seed, w, sh.Rule, got)
				}
			}
		}
	}
	if shadowed == 0 || live == 0 {
		t.Fatalf("%d shadowed, %d live: the test checks one side only", shadowed, live)
	}
}

func TestShadowsSimple(t *testing.T) {
	specs := []Spec{
		{Name: "allow-web", Priority: 100, Direction: Inbound, Access: Allow, Protocol: "Tcp", DstPorts: []string{"80-443"}},
		{Name: "deny-http", Priority: 200, Direction: Inbound, Access: Deny, Protocol: "Tcp", DstPorts: []string{"80"}, SrcAddrs: []string{"10.0.0.0/8"}},
		{Name: "deny-ssh", Priority: 300, Direction: Inbound, Access: Deny, Protocol: "*", DstPorts: []string{"22"}},
		{Name: "mixed", Priority: 400, Direction: Inbound, Access: Deny, Protocol: "*", SrcAddrs: []string{"10.0.0.1"}, DstAddrs: []string{"fd00::/8"}},
	}
	var rules []Rule
	for i := range specs {
		r, err := Compile(&specs[i], testResolver)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	sh := Shadows(rules, NewClassifier(rules), Inbound, nil)
	want := []bool{false, true, false, true}
	for i, w := range want {
		if sh[i].Shadowed != w {
			t.Errorf("%s: shadowed %v, want %v (%+v)", rules[i].Name, sh[i].Shadowed, w, sh[i])
		}
	}
	if len(sh[1].By) != 1 || sh[1].By[0] != 0 {
		t.Errorf("deny-http shadowed by %v, want [0]", sh[1].By)
	}
	if w := sh[2].Witness; w == nil || !w.Dst.Contains(netip.MustParseAddr("1.2.3.4")) && !w.Dst.From().Is6() {
		t.Errorf("deny-ssh witness %+v", w)
	}
}

func TestShadowedRulesScenario(t *testing.T) {
	ev := loadScenario(t, "../testdata/verify/subnet-and-nic")
	got, err := ev.ShadowedRules()
	if err != nil {
		t.Fatal(err)
	}
	// nic-nsg: deny-rdp (120, * 3389) does not shadow anything; the default
	// AllowAzureLoadBalancerInBound (65001) is shadowed by AllowVnetInBound,
	// since VirtualNetwork holds 168.63.129.16 [X].
	names := map[string]bool{}
	for _, s := range got {
		names[s.NSG+" "+s.Rule] = true
		if s.Unknown {
			t.Errorf("unknown: %+v", s)
		}
	}
	for _, want := range []string{"nic-nsg defaultSecurityRules/AllowAzureLoadBalancerInBound", "subnet-nsg defaultSecurityRules/AllowAzureLoadBalancerInBound"} {
		if !names[want] {
			t.Errorf("missing %s in %+v", want, got)
		}
	}
	if len(got) != 2 {
		t.Errorf("%d shadowed rules: %+v", len(got), got)
	}
}

// TestShadowsScoped is TestShadows for an NSG that guards 10.1.0.0/16:
// a rule shadowed within that scope never decides an inbound packet to it.
func TestShadowsScoped(t *testing.T) {
	scope := setOf([]string{"10.1.0.0/16"})
	found := 0
	for seed := range uint64(25) {
		g := ruleGen{rand.New(rand.NewPCG(seed, 12))}
		rules := g.rules(t, 2+g.r.IntN(60))
		lin, cls := &Linear{Rules: rules}, NewClassifier(rules)
		for _, sh := range Shadows(rules, cls, Inbound, scope) {
			if !sh.Shadowed {
				continue
			}
			found++
			for range 3000 {
				p := g.packet(rules)
				if !scope.Contains(p.Dst) {
					p.Dst = netip.AddrFrom4([4]byte{10, 1, byte(g.r.IntN(256)), byte(g.r.IntN(256))})
				}
				if lin.Match(&p) == sh.Rule {
					t.Fatalf("seed %d: rule %d shadowed in scope but decides %+v", seed, sh.Rule, p)
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no rule shadowed in scope: the test checks nothing")
	}
}
