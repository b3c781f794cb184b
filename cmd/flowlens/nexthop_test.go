package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	tunnelNet = "../../testdata/routes/spec7-forced-tunnel/network"
	seDir     = "../../testdata/routes/service-endpoints"
)

// runRouteCLI runs flowlens with nexthop and routes registered (whether
// or not main already registers them) and returns the exit code as run
// does.
func runRouteCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRootCmd()
	if c, _, _ := root.Find(args[:1]); c == root {
		root.AddCommand(newNextHopCmd(), newRoutesCmd())
	}
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(&errb, "flowlens:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return exitUsage, out.String(), errb.String()
		}
		return exitFailed, out.String(), errb.String()
	}
	return exitOK, out.String(), errb.String()
}

func TestNextHopCommand(t *testing.T) {
	req := filepath.Join(t.TempDir(), "req.json")
	body := `{"targetResourceId": "app", "sourceIpAddress": "10.0.1.4", "destinationIpAddress": "8.8.8.8"}`
	if err := os.WriteFile(req, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runRouteCLI(t, "nexthop", "--network", tunnelNet, "--request", req)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if len(got) != 3 || got["nextHopType"] != "VirtualAppliance" || got["nextHopIpAddress"] != "10.1.0.4" ||
		!strings.HasSuffix(got["routeTableId"].(string), "/routeTables/to-nva") {
		t.Fatalf("response %s is not Azure's shape with the user route", stdout)
	}

	code, stdout, stderr = runRouteCLI(t, "nexthop", "--network", tunnelNet, "--target", "app", "--source", "10.0.1.4", "--destination", "10.1.0.9")
	if code != exitOK || !strings.Contains(stdout, `"nextHopIpAddress": null`) || !strings.Contains(stdout, `"routeTableId": "System Route"`) ||
		!strings.Contains(stdout, `"nextHopType": "VnetPeering"`) {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}

	code, stdout, stderr = runRouteCLI(t, "nexthop", "--network", tunnelNet, "--target", "app", "--source", "10.0.1.4", "--destination", "8.8.8.8", "-o", "text")
	if want := "10.0.1.4 to 8.8.8.8: next hop VirtualAppliance 10.1.0.4, by user route default-to-nva (0.0.0.0/0) of route table to-nva"; code != exitOK || strings.TrimSpace(stdout) != want {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// The reserved-prefix profile.
	defaults := "../../testdata/routes/spec7-default-routes/network"
	for profile, want := range map[string]string{"documented": "None", "2021-observed": "Internet"} {
		code, stdout, stderr = runRouteCLI(t, "nexthop", "--network", defaults, "--target", "vm1", "--source", "10.0.0.4", "--destination", "172.31.0.100", "--reserved", profile)
		if code != exitOK || !strings.Contains(stdout, `"nextHopType": "`+want+`"`) {
			t.Errorf("--reserved %s: exit %d, %s %s", profile, code, stdout, stderr)
		}
	}

	for _, args := range [][]string{
		{"nexthop", "--network", tunnelNet},
		{"nexthop", "--network", tunnelNet, "--target", "app", "--source", "10.0.1.4"},
		{"nexthop", "--network", tunnelNet, "--request", req, "--target", "app"},
		{"nexthop", "--target", "app", "--source", "10.0.1.4", "--destination", "8.8.8.8"},
		{"nexthop", "--network", tunnelNet, "--request", req, "-o", "xml"},
		{"nexthop", "--network", tunnelNet, "--request", req, "--reserved", "1999"},
	} {
		if code, _, stderr := runRouteCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
	code, _, stderr = runRouteCLI(t, "nexthop", "--network", tunnelNet, "--target", "nosuchvm", "--source", "10.0.1.4", "--destination", "8.8.8.8")
	if code != exitFailed || !strings.Contains(stderr, "nosuchvm") {
		t.Errorf("unknown target: exit %d, %s", code, stderr)
	}
}

// TestNextHopCommandExample answers Azure's example envelope as the
// request file.
func TestNextHopCommandExample(t *testing.T) {
	code, stdout, stderr := runRouteCLI(t, "nexthop", "--network", "../../testdata/routes/azure-example-networks/NetworkWatcherNextHopGet.network.json",
		"--request", "../../testdata/topology/azure-examples/NetworkWatcherNextHopGet.json")
	if code != exitOK || !strings.Contains(stdout, `"nextHopType": "VnetLocal"`) || !strings.Contains(stdout, `routeTables/rt1"`) {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}

func TestRoutesCommand(t *testing.T) {
	code, stdout, stderr := runRouteCLI(t, "routes", "--network", tunnelNet, "--nic", "app-nic")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Value []struct {
			Name             *string  `json:"name"`
			Source           string   `json:"source"`
			State            string   `json:"state"`
			AddressPrefix    []string `json:"addressPrefix"`
			NextHopIPAddress []string `json:"nextHopIpAddress"`
			NextHopType      string   `json:"nextHopType"`
		} `json:"value"`
		NextLink *string `json:"nextLink"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if len(got.Value) != 4 || !strings.Contains(stdout, `"nextLink": null`) {
		t.Fatalf("%d rows: %s", len(got.Value), stdout)
	}
	last := got.Value[3]
	if last.Source != "User" || last.State != "Active" || last.NextHopType != "VirtualAppliance" || last.Name == nil || *last.Name != "default-to-nva" ||
		len(last.NextHopIPAddress) != 1 || last.NextHopIPAddress[0] != "10.1.0.4" {
		t.Fatalf("user route row: %+v", last)
	}

	code, stdout, stderr = runRouteCLI(t, "routes", "--network", tunnelNet, "--subnet", "vnet1/app", "-o", "table")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 7 || lines[0] != "Effective routes of subnet vnet1/app, route table to-nva" ||
		!strings.HasPrefix(lines[2], "SOURCE") || !strings.Contains(lines[5], "Invalid") ||
		strings.Join(strings.Fields(lines[6]), " ") != "User Active 0.0.0.0/0 VirtualAppliance 10.1.0.4 default-to-nva" {
		t.Fatalf("table:\n%s", stdout)
	}

	// Service endpoints need the service tags; without them a note says so.
	code, stdout, stderr = runRouteCLI(t, "routes", "--network", seDir+"/network", "--nic", "data-vm-nic", "-o", "table")
	if code != exitOK || !strings.Contains(stderr, "--service-tags") || strings.Contains(stdout, "VirtualNetworkServiceEndpoint") {
		t.Fatalf("without tags: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runRouteCLI(t, "routes", "--network", seDir+"/network", "--service-tags", seDir+"/servicetags.json", "--nic", "data-vm-nic", "-o", "table")
	if code != exitOK || !strings.Contains(stdout, "VirtualNetworkServiceEndpoint") || stderr != "" {
		t.Fatalf("with tags: exit %d\n%s\n%s", code, stdout, stderr)
	}

	for _, args := range [][]string{
		{"routes", "--network", tunnelNet},
		{"routes", "--network", tunnelNet, "--nic", "app-nic", "--subnet", "app"},
		{"routes", "--network", tunnelNet, "--nic", "app-nic", "-o", "text"},
	} {
		if code, _, stderr := runRouteCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
	if code, _, stderr := runRouteCLI(t, "routes", "--network", tunnelNet, "--nic", "nosuchnic"); code != exitFailed || !strings.Contains(stderr, "nosuchnic") {
		t.Errorf("unknown NIC: exit %d, %s", code, stderr)
	}
}
