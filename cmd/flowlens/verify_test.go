package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const verifyNet = "../../testdata/verify/subnet-and-nic/network"

func TestVerifyCommand(t *testing.T) {
	req := filepath.Join(t.TempDir(), "req.json")
	body := `{"targetResourceId": "vm1", "direction": "Inbound", "protocol": "TCP",
		"localIPAddress": "10.0.1.4", "localPort": "80", "remoteIPAddress": "203.0.113.9", "remotePort": "50000"}`
	if err := os.WriteFile(req, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "verify", "--network", verifyNet, "--request", req)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if len(got) != 2 || got["access"] != "Deny" || got["ruleName"] != "securityRules/deny-http" {
		t.Fatalf("response %s is not Azure's shape with the subnet rule", stdout)
	}

	code, stdout, stderr = runCLI(t, "verify", "--network", verifyNet, "--target", "vm1", "--direction", "inbound",
		"--local", "10.0.1.4:443", "--remote", "203.0.113.9:50000", "-o", "text")
	if code != exitOK || strings.TrimSpace(stdout) != "Allowed by securityRules/allow-https on nic-nsg (NIC), priority 110" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// Ranges: every local port, one answer per part.
	code, stdout, stderr = runCLI(t, "verify", "--network", verifyNet, "--target", "vm1", "--direction", "inbound",
		"--local", "10.0.1.4:0-65535", "--remote", "203.0.113.9:*")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var parts []map[string]any
	if err := json.Unmarshal([]byte(stdout), &parts); err != nil || len(parts) != 5 {
		t.Fatalf("%v: %d parts: %s", err, len(parts), stdout)
	}

	for _, args := range [][]string{
		{"verify", "--network", verifyNet},
		{"verify", "--target", "vm1", "--direction", "in", "--local", "10.0.1.4:1", "--remote", "1.1.1.1:1"},
		{"verify", "--network", verifyNet, "--request", req, "-o", "xml"},
	} {
		if code, _, _ := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	code, _, stderr = runCLI(t, "verify", "--network", verifyNet, "--target", "nosuchvm", "--direction", "in",
		"--local", "10.0.1.4:1", "--remote", "1.1.1.1:1")
	if code != exitFailed || !strings.Contains(stderr, "nosuchvm") {
		t.Errorf("unknown target: exit %d, %s", code, stderr)
	}
}

func TestVerifyBatch(t *testing.T) {
	dir := t.TempDir()
	csvIn := filepath.Join(dir, "b.csv")
	csvBody := "target,direction,protocol,local_ip,local_port,remote_ip,remote_port\n" +
		"vm1,Inbound,TCP,10.0.1.4,80,203.0.113.9,50000\n" +
		"vm1,Inbound,TCP,10.0.1.4,443,203.0.113.9,50000\n" +
		"vm1,Inbound,TCP,10.9.9.9,443,203.0.113.9,50000\n"
	if err := os.WriteFile(csvIn, []byte(csvBody), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "verify", "--network", verifyNet, "--batch", csvIn)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %s", len(lines), stdout)
	}
	want := []string{`"access":"Deny","ruleName":"securityRules/deny-http"`, `"access":"Allow","ruleName":"securityRules/allow-https"`, `"error":`}
	for i, w := range want {
		if !strings.Contains(lines[i], w) || !strings.Contains(lines[i], `"line":`+string(rune('2'+i))) {
			t.Errorf("line %d: %s, want %s", i, lines[i], w)
		}
	}
	if code, _, _ := runCLI(t, "verify", "--network", verifyNet, "--batch", csvIn, "--strict"); code != exitFailed {
		t.Errorf("--strict with an unanswerable request: exit %d", code)
	}
	jsonIn := filepath.Join(dir, "b.jsonl")
	if err := os.WriteFile(jsonIn, []byte(`{"targetResourceId":"vm1","direction":"Outbound","protocol":"TCP","localIPAddress":"10.0.1.4","localPort":"*","remoteIPAddress":"198.51.100.1","remotePort":"25"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, "verify", "--network", verifyNet, "--batch", jsonIn)
	if code != exitOK || !strings.Contains(stdout, `"ruleName":"securityRules/deny-smtp-out"`) {
		t.Errorf("JSON lines: exit %d: %s", code, stdout)
	}
}

func TestSGViewCommand(t *testing.T) {
	code, stdout, stderr := runCLI(t, "sgview", "--network", verifyNet, "--target", "vm1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var view struct {
		NetworkInterfaces []struct {
			SecurityRuleAssociations struct {
				NetworkInterfaceAssociation *struct{ SecurityRules []any }
				SubnetAssociation           *struct{ SecurityRules []any }
				DefaultSecurityRules        []any
				EffectiveSecurityRules      []struct{ Name, Direction string }
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &view); err != nil || len(view.NetworkInterfaces) != 1 {
		t.Fatalf("%v: %s", err, stdout)
	}
	a := view.NetworkInterfaces[0].SecurityRuleAssociations
	if len(a.NetworkInterfaceAssociation.SecurityRules) != 4 || len(a.SubnetAssociation.SecurityRules) != 3 || len(a.DefaultSecurityRules) != 6 {
		t.Fatalf("associations: %s", stdout)
	}
	// Inbound: subnet (2 user + 3 default) then NIC (3 + 3); outbound: NIC (1 + 3) then subnet (1 + 3).
	if n := len(a.EffectiveSecurityRules); n != 19 || a.EffectiveSecurityRules[0].Name != "UserRule_deny-http" {
		t.Fatalf("%d effective rules: %+v", n, a.EffectiveSecurityRules)
	}
	code, stdout, _ = runCLI(t, "sgview", "--network", verifyNet, "--target", "vm1", "-o", "text")
	if code != exitOK || !strings.Contains(stdout, "DefaultInboundDenyAll") || !strings.Contains(stdout, "Outbound, in evaluation order") {
		t.Fatalf("text: exit %d: %s", code, stdout)
	}
}

const (
	tagsDir = "../../testdata/verify/service-tags"
	tagsNet = tagsDir + "/network"
)

// azureResponse reads stdout as Azure's IP flow verify response body: an
// object with exactly access and ruleName.
func azureResponse(t *testing.T, stdout string) map[string]string {
	t.Helper()
	var got map[string]string
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got) != 2 || got["access"] == "" {
		t.Fatalf("stdout is not Azure's {access, ruleName}: %v\n%s", err, stdout)
	}
	return got
}

func TestVerifyServiceTags(t *testing.T) {
	cases := []struct {
		name, local, remote, access, rule string
	}{
		{"regional tag", "10.10.1.4:50000", "20.60.26.10:443", "Allow", "securityRules/allow-storage-westeurope"},
		{"global tag, other region", "10.10.1.4:50000", "20.60.100.10:443", "Deny", "securityRules/deny-storage"},
		{"AzureCloud not Storage", "10.10.1.4:50000", "52.166.1.1:443", "Allow", "securityRules/allow-azurecloud-https"},
		{"regional tag, IPv6", "[fd00:db8:10:1::4]:50000", "[2603:1020:207::10]:443", "Allow", "securityRules/allow-storage-westeurope"},
		{"global tag, IPv6", "[fd00:db8:10:1::4]:50000", "[2603:1030:11::10]:443", "Deny", "securityRules/deny-storage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "verify", "--network", tagsNet, "--service-tags", tagsDir+"/servicetags.json",
				"--target", "app-vm", "--direction", "outbound", "--local", c.local, "--remote", c.remote)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := azureResponse(t, stdout); got["access"] != c.access || got["ruleName"] != c.rule {
				t.Errorf("got %v, want %s %s", got, c.access, c.rule)
			}
		})
	}

	t.Run("no file", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "verify", "--network", tagsNet, "--target", "app-vm", "--direction", "outbound",
			"--local", "10.10.1.4:50000", "--remote", "20.60.26.10:443")
		if code != exitFailed || stdout != "" {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		for _, w := range []string{`"Storage.WestEurope"`, `"allow-storage-westeurope"`, "app-nsg", "--service-tags"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr does not name %s: %s", w, stderr)
			}
		}
	})
	t.Run("missing file", func(t *testing.T) {
		code, _, stderr := runCLI(t, "verify", "--network", tagsNet, "--service-tags", tagsDir+"/nope.json", "--target", "app-vm",
			"--direction", "outbound", "--local", "10.10.1.4:50000", "--remote", "20.60.26.10:443")
		if code != exitFailed || !strings.Contains(stderr, "nope.json") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}

func TestSGViewServiceTags(t *testing.T) {
	code, stdout, stderr := runCLI(t, "sgview", "--network", tagsNet, "--service-tags", tagsDir+"/servicetags.json", "--target", "app-vm")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := effectiveRule(t, stdout, "UserRule_allow-storage-westeurope")
	want := []string{"13.69.40.16/28", "20.60.26.0/23", "52.239.140.0/22", "2603:1020:207::/48"}
	if r.DestinationAddressPrefix != "Storage.WestEurope" || strings.Join(r.ExpandedDestinationAddressPrefix, " ") != strings.Join(want, " ") {
		t.Errorf("%s expanded to %v, want %v", r.DestinationAddressPrefix, r.ExpandedDestinationAddressPrefix, want)
	}

	code, stdout, stderr = runCLI(t, "sgview", "--network", tagsNet, "--target", "app-vm")
	if code != exitFailed || stdout != "" || !strings.Contains(stderr, `"AzureCloud"`) || !strings.Contains(stderr, `"allow-azurecloud-https-in"`) {
		t.Errorf("without --service-tags: exit %d, %d bytes on stdout, stderr %s", code, len(stdout), stderr)
	}
}

const v6Net = "../../testdata/verify/ipv6/network"

// Notes the answers carry where they go beyond Azure's IP flow verify.
const (
	noteProtocol = "Azure's IP flow verify takes only TCP and UDP; this answer comes from the rules"
	noteIPv6     = "Azure's IP flow verify takes only IPv4; this answer comes from the rules"
	noteNoPorts  = "protocol Icmp has no ports: localPort and remotePort are ignored, and only rules whose ports are * apply"
)

// TestVerifyBeyondAzureNotes checks that requests Azure would refuse (ICMP,
// "*", IPv6) get Azure's response body on stdout and the note saying so on
// stderr, and nothing else there.
func TestVerifyBeyondAzureNotes(t *testing.T) {
	reqFile := filepath.Join(t.TempDir(), "icmp-ports.json")
	if err := os.WriteFile(reqFile, []byte(`{"targetResourceId": "vm1", "direction": "Outbound", "protocol": "Icmp",
		"localIPAddress": "10.0.1.4", "localPort": "8", "remoteIPAddress": "198.51.100.1", "remotePort": "0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := func(network, proto, dir, local, remote string) []string {
		target := "vm1"
		if network == v6Net {
			target = "web6"
		}
		return []string{"verify", "--network", network, "--target", target, "--protocol", proto, "--direction", dir, "--local", local, "--remote", remote}
	}
	cases := []struct {
		name         string
		args         []string
		access, rule string
		notes        []string
	}{
		{"Tcp, IPv4: Azure's own question", flags(verifyNet, "TCP", "inbound", "10.0.1.4:443", "203.0.113.9:50000"),
			"Allow", "securityRules/allow-https", nil},
		{"ICMP without ports", flags(verifyNet, "Icmp", "inbound", "10.0.1.4", "203.0.113.9"),
			"Deny", "defaultSecurityRules/DenyAllInBound", []string{noteProtocol}},
		{"ICMP with ports, --request", []string{"verify", "--network", verifyNet, "--request", reqFile},
			"Allow", "defaultSecurityRules/AllowInternetOutBound", []string{noteProtocol, noteNoPorts}},
		{"* decided by one rule", flags(verifyNet, "*", "outbound", "10.0.1.4:50000", "198.51.100.1:443"),
			"Allow", "defaultSecurityRules/AllowInternetOutBound", []string{noteProtocol}},
		{"IPv6", flags(v6Net, "TCP", "inbound", "[fd00:db8:deca:1::4]:443", "[2001:db8:a::5]:50000"),
			"Allow", "securityRules/allow-https-v6", []string{noteIPv6}},
		{"ICMP over IPv6", flags(v6Net, "Icmp", "inbound", "fd00:db8:deca:1::4", "2001:db8:c::5"),
			"Deny", "securityRules/deny-v6-doc", []string{noteProtocol, noteIPv6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := azureResponse(t, stdout); got["access"] != c.access || got["ruleName"] != c.rule {
				t.Errorf("got %v, want %s %s", got, c.access, c.rule)
			}
			var want []string
			for _, n := range c.notes {
				want = append(want, "note: "+n)
			}
			if got := strings.Split(strings.TrimSpace(stderr), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, strings.Join(want, "\n"))
			}
		})
	}
}

// TestVerifyBatchNotes checks the notes of --batch lines: each answer
// carries its own, and Azure's own questions carry none.
func TestVerifyBatchNotes(t *testing.T) {
	in := filepath.Join(t.TempDir(), "b.jsonl")
	lines := []string{
		`{"targetResourceId":"vm1","direction":"Inbound","protocol":"TCP","localIPAddress":"10.0.1.4","localPort":"443","remoteIPAddress":"203.0.113.9","remotePort":"50000"}`,
		`{"targetResourceId":"vm1","direction":"Inbound","protocol":"Icmp","localIPAddress":"10.0.1.4","localPort":"*","remoteIPAddress":"203.0.113.9","remotePort":"*"}`,
		`{"targetResourceId":"vm1","direction":"Outbound","protocol":"*","localIPAddress":"10.0.1.4","localPort":"50000","remoteIPAddress":"198.51.100.1","remotePort":"443"}`,
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "verify", "--network", verifyNet, "--batch", in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	v6In := filepath.Join(t.TempDir(), "v6.jsonl")
	if err := os.WriteFile(v6In, []byte(`{"targetResourceId":"web6","direction":"Inbound","protocol":"TCP","localIPAddress":"fd00:db8:deca:1::4","localPort":"443","remoteIPAddress":"2001:db8:a::5","remotePort":"50000"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, v6Out, stderr := runCLI(t, "verify", "--network", v6Net, "--batch", v6In)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := []struct {
		rule  string
		notes []string
	}{
		{"securityRules/allow-https", nil},
		{"defaultSecurityRules/DenyAllInBound", []string{noteProtocol}},
		{"defaultSecurityRules/AllowInternetOutBound", []string{noteProtocol}},
		{"securityRules/allow-https-v6", []string{noteIPv6}},
	}
	got := strings.Split(strings.TrimSpace(stdout)+"\n"+strings.TrimSpace(v6Out), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s\n%s", len(got), len(want), stdout, v6Out)
	}
	for i, w := range want {
		var a struct {
			RuleName string
			Notes    []string
		}
		if err := json.Unmarshal([]byte(got[i]), &a); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, got[i])
		}
		if a.RuleName != w.rule || strings.Join(a.Notes, "|") != strings.Join(w.notes, "|") {
			t.Errorf("line %d: %s %q, want %s %q", i, a.RuleName, a.Notes, w.rule, w.notes)
		}
	}
}

// The hub-and-spoke VPN network of the routes scenarios plus the NSG of
// testdata/verify/hub-spoke-vpn, given as two --network paths.
var hubSpokeVPN = []string{"--network", "../../testdata/routes/hub-spoke-vpn/network", "--network", "../../testdata/verify/hub-spoke-vpn/network"}

// TestVerifyGatewayTransit checks that on-premises prefixes (the local
// network gateway's, and routes learned over BGP) are VirtualNetwork for a
// spoke that uses the hub's gateway and not for one that does not.
func TestVerifyGatewayTransit(t *testing.T) {
	cases := []struct {
		vm, local, remote, access, rule string
	}{
		{"spoke1-vm", "10.1.1.4:22", "192.168.1.10:50000", "Allow", "securityRules/allow-ssh-from-vnet"},
		{"spoke2-vm", "10.2.1.4:22", "192.168.1.10:50000", "Deny", "securityRules/deny-ssh"},
		{"spoke1-vm", "10.1.1.4:22", "172.16.10.20:50000", "Allow", "securityRules/allow-ssh-from-vnet"},
		{"spoke2-vm", "10.2.1.4:22", "172.16.10.20:50000", "Deny", "securityRules/deny-ssh"},
		{"spoke1-vm", "10.1.1.4:8443", "10.200.5.5:50000", "Allow", "defaultSecurityRules/AllowVnetInBound"},
		{"spoke2-vm", "10.2.1.4:8443", "10.200.5.5:50000", "Deny", "defaultSecurityRules/DenyAllInBound"},
	}
	for _, c := range cases {
		t.Run(c.vm+" from "+c.remote, func(t *testing.T) {
			args := append([]string{"verify"}, hubSpokeVPN...)
			args = append(args, "--target", c.vm, "--direction", "inbound", "--local", c.local, "--remote", c.remote)
			code, stdout, stderr := runCLI(t, args...)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := azureResponse(t, stdout); got["access"] != c.access || got["ruleName"] != c.rule {
				t.Errorf("got %v, want %s %s", got, c.access, c.rule)
			}
		})
	}
}

func TestSGViewGatewayTransit(t *testing.T) {
	for _, c := range []struct {
		vm     string
		onPrem bool
	}{{"spoke1-vm", true}, {"spoke2-vm", false}} {
		t.Run(c.vm, func(t *testing.T) {
			args := append([]string{"sgview"}, hubSpokeVPN...)
			code, stdout, stderr := runCLI(t, append(args, "--target", c.vm)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			r := effectiveRule(t, stdout, "UserRule_allow-ssh-from-vnet")
			for _, p := range []string{"192.168.0.0/16", "10.200.0.0/16", "172.16.10.0/24"} {
				if slices.Contains(r.ExpandedSourceAddressPrefix, p) != c.onPrem {
					t.Errorf("VirtualNetwork %v: has %s is %v, want %v", r.ExpandedSourceAddressPrefix, p, !c.onPrem, c.onPrem)
				}
			}
			if !slices.Contains(r.ExpandedSourceAddressPrefix, "10.100.0.0/16") {
				t.Errorf("VirtualNetwork %v lacks the peered hub", r.ExpandedSourceAddressPrefix)
			}
		})
	}
}

// sgviewRule is an effective rule in flowlens sgview's JSON.
type sgviewRule struct {
	Name                             string
	DestinationAddressPrefix         string
	ExpandedSourceAddressPrefix      []string
	ExpandedDestinationAddressPrefix []string
}

// effectiveRule returns the effective rule named name of the one NIC in
// sgview's output, failing the test when there is none.
func effectiveRule(t *testing.T, stdout, name string) sgviewRule {
	t.Helper()
	var view struct {
		NetworkInterfaces []struct {
			SecurityRuleAssociations struct {
				EffectiveSecurityRules []sgviewRule
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &view); err != nil || len(view.NetworkInterfaces) != 1 {
		t.Fatalf("%v: %s", err, stdout)
	}
	for _, r := range view.NetworkInterfaces[0].SecurityRuleAssociations.EffectiveSecurityRules {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s: %s", name, stdout)
	return sgviewRule{}
}
