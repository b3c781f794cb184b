package ipflow

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/topology"
)

// verifyCase is one entry of testdata/verify/*/cases.json: a request,
// Azure's response to expect, and why.
type verifyCase struct {
	Reason   string        `json:"reason"`
	Request  VerifyRequest `json:"request"`
	Response VerifyResult  `json:"response"`
	NSG      string        `json:"nsg"`
	Level    string        `json:"level"`
}

// loadScenario loads dir/network, after the directories named in
// dir/base-network (one a line, relative to dir) when it exists, with the
// service tags of dir/servicetags.json (ServiceTags_Public format) when it
// exists.
func loadScenario(t *testing.T, dir string) *Evaluator {
	t.Helper()
	n, probs, err := topology.Load(scenarioPaths(t, dir)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("problem loading %s: %v", dir, p)
	}
	var cfg Config
	if tags := filepath.Join(dir, "servicetags.json"); routeFileExists(tags) {
		if cfg.ServiceTags, err = LoadServiceTags(tags); err != nil {
			t.Fatal(err)
		}
	}
	return NewEvaluator(n, cfg)
}

// scenarioPaths returns what a scenario's network is loaded from:
// dir/network, after the directories dir/base-network names.
func scenarioPaths(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	data, err := os.ReadFile(filepath.Join(dir, "base-network"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" {
			paths = append(paths, filepath.Join(dir, line))
		}
	}
	return append(paths, filepath.Join(dir, "network"))
}

// TestVerifyScenarios answers every request of the scenario suite in
// testdata/verify and compares with the expected Azure response.
func TestVerifyScenarios(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/verify/*")
	if len(dirs) < 7 {
		t.Fatalf("found %d scenarios", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ev := loadScenario(t, dir)
			data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
			if err != nil {
				t.Fatal(err)
			}
			var cases []verifyCase
			if err := json.Unmarshal(data, &cases); err != nil || len(cases) == 0 {
				t.Fatalf("%d cases: %v", len(cases), err)
			}
			for i, c := range cases {
				got, err := ev.Verify(c.Request, 0)
				if err != nil {
					t.Errorf("case %d (%s): %v", i, c.Reason, err)
					continue
				}
				if len(got) != 1 {
					t.Errorf("case %d (%s): %d answers, want 1", i, c.Reason, len(got))
					continue
				}
				a := got[0]
				if a.VerifyResult != c.Response || a.NSG != c.NSG || a.Level != c.Level {
					t.Errorf("case %d (%s):\n got %+v on %q (%s)\nwant %+v on %q (%s)", i, c.Reason, a.VerifyResult, a.NSG, a.Level, c.Response, c.NSG, c.Level)
				}
			}
		})
	}
}

// TestVerifyRanges asks a request with every protocol and every local
// port and checks each answer against single-packet requests at the ends
// of its part.
func TestVerifyRanges(t *testing.T) {
	ev := loadScenario(t, "../testdata/verify/subnet-and-nic")
	req := VerifyRequest{TargetResourceID: "vm1", Direction: "Inbound", Protocol: "*",
		LocalIPAddress: "10.0.1.4", LocalPort: "0-65535", RemoteIPAddress: "203.0.113.0/24", RemotePort: "*"}
	answers, err := ev.Verify(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Tcp 80 deny-http, Tcp 443 allow-https, Tcp 3389 deny (subnet default), the rest DenyAllInBound.
	if len(answers) < 5 || len(answers) > 8 {
		t.Fatalf("%d answers: %+v", len(answers), answers)
	}
	allowed := 0
	for _, a := range answers {
		if a.Access == "Allow" {
			allowed++
			if a.RuleName != "securityRules/allow-https" || a.LocalPort != "443" || a.Protocol != "Tcp" {
				t.Errorf("unexpected allow: %+v", a)
			}
		}
		lo, hi, _ := strings.Cut(a.LocalPort, "-")
		if hi == "" {
			hi = lo
		}
		proto := a.Protocol
		if strings.Contains(proto, "except") {
			proto = "Icmp"
		}
		for _, port := range []string{lo, hi} {
			one := req
			one.Protocol, one.LocalPort, one.RemoteIPAddress = proto, port, "203.0.113.77"
			got, err := ev.Verify(one, 0)
			if err != nil || len(got) != 1 {
				t.Fatalf("%+v: %v %v", one, got, err)
			}
			if got[0].VerifyResult != a.VerifyResult {
				t.Errorf("part %+v says %+v, the single request %s/%s says %+v", a, a.VerifyResult, proto, port, got[0].VerifyResult)
			}
		}
	}
	if allowed != 1 {
		t.Errorf("%d allowed parts, want exactly port 443/Tcp", allowed)
	}
}

// TestVerifyIPv6Ranges asks about a whole IPv6 /32 at once: the parts are
// the /48 the allow names and the rest of the /32 the deny names.
func TestVerifyIPv6Ranges(t *testing.T) {
	ev := loadScenario(t, "../testdata/verify/ipv6")
	req := VerifyRequest{TargetResourceID: "web6", Direction: "Inbound", Protocol: "TCP",
		LocalIPAddress: "fd00:db8:deca:1::4", LocalPort: "443", RemoteIPAddress: "2001:db8::/32", RemotePort: "50000"}
	answers, err := ev.Verify(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ remote, rule string }{
		{"2001:db8::-2001:db8:9:ffff:ffff:ffff:ffff:ffff", "securityRules/deny-v6-doc"},
		{"2001:db8:a::/48", "securityRules/allow-https-v6"},
		{"2001:db8:b::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "securityRules/deny-v6-doc"},
	}
	if len(answers) != len(want) {
		t.Fatalf("%d answers, want %d: %+v", len(answers), len(want), answers)
	}
	for i, w := range want {
		if a := answers[i]; a.RemoteIPAddress != w.remote || a.RuleName != w.rule {
			t.Errorf("part %d: %s %s, want %s %s", i, a.RemoteIPAddress, a.RuleName, w.remote, w.rule)
		}
	}
	for _, a := range answers {
		if !slices.Contains(a.Notes, "Azure's IP flow verify takes only IPv4; this answer comes from the rules") {
			t.Errorf("no IPv6 note in %+v", a)
		}
	}

	// The two addresses of a request are of one family.
	req.RemoteIPAddress = "203.0.113.5"
	if _, err := ev.Verify(req, 0); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "different families") {
		t.Errorf("mixed families: %v", err)
	}
}

// TestVerifyBeyondAzure checks the answers and notes of requests Azure
// refuses: "*" decided by one rule is one answer, and ICMP, which has no
// ports, gets no note about "*" ports.
func TestVerifyBeyondAzure(t *testing.T) {
	ev := loadScenario(t, "../testdata/verify/subnet-and-nic")
	const (
		protoNote = "Azure's IP flow verify takes only TCP and UDP; this answer comes from the rules"
		portsNote = "protocol Icmp has no ports: localPort and remotePort are ignored, and only rules whose ports are * apply"
	)
	tests := []struct {
		name                      string
		proto, dir, lport, rport  string
		remote, rule, answerProto string
		notes                     []string
	}{
		{"* to the Internet, one rule for every protocol", "*", "Outbound", "50000", "443", "198.51.100.1",
			"defaultSecurityRules/AllowInternetOutBound", "*", []string{protoNote}},
		{"Icmp without ports", "Icmp", "Inbound", "*", "*", "203.0.113.9",
			"defaultSecurityRules/DenyAllInBound", "Icmp", []string{protoNote}},
		{"Icmp with ports", "Icmp", "Inbound", "80", "1", "203.0.113.9",
			"defaultSecurityRules/DenyAllInBound", "Icmp", []string{protoNote, portsNote}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := VerifyRequest{TargetResourceID: "vm1", Direction: tc.dir, Protocol: tc.proto,
				LocalIPAddress: "10.0.1.4", LocalPort: tc.lport, RemoteIPAddress: tc.remote, RemotePort: tc.rport}
			got, err := ev.Verify(req, 0)
			if err != nil || len(got) != 1 {
				t.Fatalf("%d answers, %v: %+v", len(got), err, got)
			}
			if a := got[0]; a.RuleName != tc.rule || a.Protocol != tc.answerProto || !slices.Equal(a.Notes, tc.notes) {
				t.Errorf("got %s for %s, notes %q; want %s for %s, notes %q", a.RuleName, a.Protocol, a.Notes, tc.rule, tc.answerProto, tc.notes)
			}
		})
	}
}
