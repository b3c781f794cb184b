package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	topoHubSpoke = "../../testdata/topology/view/hub-spoke"
	topoExample  = "../../testdata/topology/azure-examples/NetworkWatcherTopologyGet.json"
)

// runTopologyCLI runs flowlens with the topology command registered (it
// may not be in main yet), mapping errors to exit codes as run does.
func runTopologyCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runTopologyStdin(t, "", args...)
}

// runTopologyStdin is runTopologyCLI with stdin.
func runTopologyStdin(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd()
	if c, _, err := root.Find([]string{"topology"}); err != nil || c.Name() != "topology" {
		root.AddCommand(newTopologyCmd())
	}
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	code = exitOK
	if err != nil {
		fmt.Fprintln(&errb, "flowlens:", err)
		code = exitFailed
		var ue usageError
		if errors.As(err, &ue) {
			code = exitUsage
		}
	}
	return code, out.String(), errb.String()
}

type topologyAnswer struct {
	ID              string `json:"id"`
	CreatedDateTime string `json:"createdDateTime"`
	LastModified    string `json:"lastModified"`
	Resources       []struct {
		Name         string `json:"name"`
		ID           string `json:"id"`
		Location     string `json:"location"`
		Associations []struct {
			Name            string `json:"name"`
			ResourceID      string `json:"resourceId"`
			AssociationType string `json:"associationType"`
		} `json:"associations"`
	} `json:"resources"`
}

func TestTopologyCommand(t *testing.T) {
	// Azure's example request (an ARM envelope) against the network
	// holding its VM: Azure's resources back.
	code, stdout, stderr := runTopologyCLI(t, "topology", "--network", "../../testdata/topology/view/azure-example",
		"--request", topoExample, "--time", "2017-08-02T19:31:55.9461781Z")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var ans topologyAnswer
	if err := json.Unmarshal([]byte(stdout), &ans); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if ans.CreatedDateTime != "2017-08-02T19:31:55.9461781Z" || ans.LastModified != ans.CreatedDateTime || len(ans.Resources) != 1 ||
		ans.Resources[0].Name != "MultiTierApp0" || len(ans.Resources[0].Associations) != 2 ||
		ans.Resources[0].Associations[1].AssociationType != "Contains" {
		t.Errorf("answer %s", stdout)
	}
	if !strings.Contains(stderr, "appNic0") {
		t.Errorf("the export's problems (NICs not exported) are not reported: %q", stderr)
	}
	// The same answer twice, id included.
	_, again, _ := runTopologyCLI(t, "topology", "--network", "../../testdata/topology/view/azure-example",
		"--request", topoExample, "--time", "2017-08-02T19:31:55.9461781Z")
	if again != stdout {
		t.Errorf("not reproducible:\n%s\n%s", stdout, again)
	}

	// The request on stdin, and the flags.
	for _, args := range [][]string{
		{"--request", "-"},
		{"--resource-group", "rg-data"},
		{"--resource-group", "RG-DATA", "--subscription", "bbbbbbbb-0000-4000-8000-00000000000b"},
	} {
		full := append([]string{"topology", "--network", topoHubSpoke}, args...)
		var code int
		var stdout, stderr string
		if args[1] == "-" {
			code, stdout, stderr = runTopologyStdin(t, `{"targetResourceGroupName": "rg-data"}`, full...)
		} else {
			code, stdout, stderr = runTopologyCLI(t, full...)
		}
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var ans topologyAnswer
		if err := json.Unmarshal([]byte(stdout), &ans); err != nil || len(ans.Resources) != 11 || ans.Resources[0].Name != "spoke2-vnet" {
			t.Errorf("%v: %v, %s", args, err, stdout)
		}
	}

	counts := map[string]int{}
	for _, args := range [][]string{
		{"--vnet", "hub-vnet"},
		{"--subnet", "spoke1-vnet/web"},
		{"--all"},
	} {
		code, stdout, stderr := runTopologyCLI(t, append([]string{"topology", "--network", topoHubSpoke}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var ans topologyAnswer
		if err := json.Unmarshal([]byte(stdout), &ans); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		counts[args[0]] = len(ans.Resources)
	}
	if counts["--vnet"] != 11 || counts["--subnet"] != 14 || counts["--all"] != 43 {
		t.Errorf("resources per target: %v", counts)
	}
}

func TestTopologyPictures(t *testing.T) {
	code, stdout, stderr := runTopologyCLI(t, "topology", "--network", topoHubSpoke, "--all", "-o", "dot")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden, err := os.ReadFile("../../testdata/topology/golden/hub-spoke-all.dot")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(golden) {
		t.Errorf("-o dot differs from the golden file")
	}

	code, stdout, stderr = runTopologyCLI(t, "topology", "--network", topoHubSpoke, "--resource-group", "rg-app", "-o", "svg")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	dec := xml.NewDecoder(strings.NewReader(stdout))
	var root string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("-o svg is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("root element %q", root)
	}
	for _, name := range []string{"spoke1-vnet", "nic-app1-mgmt", "nsg-web", "rt-spoke1", "pip-spare"} {
		if !strings.Contains(stdout, name) {
			t.Errorf("%s is not in the picture", name)
		}
	}
}

func TestTopologyErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"targetSomething": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"topology", "--network", topoHubSpoke},                                              // no target
		{"topology", "--network", topoHubSpoke, "--all", "--vnet", "hub-vnet"},               // two targets
		{"topology", "--network", topoHubSpoke, "--all", "-o", "png"},                        // unknown output
		{"topology", "--network", topoHubSpoke, "--vnet", "hub-vnet", "--subscription", "s"}, // subscription without RG
		{"topology", "--network", topoHubSpoke, "--all", "--time", "yesterday"},
		{"topology", "--all"}, // no network
		{"topology", "--network", topoHubSpoke, "--all", "extra"},
	} {
		if code, _, _ := runTopologyCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--vnet", "nosuch-vnet"}, "nosuch-vnet"},
		{[]string{"--resource-group", "rg-nope"}, "rg-nope"},
		{[]string{"--request", bad}, "bad topology request"},
		{[]string{"--request", filepath.Join(t.TempDir(), "missing.json")}, "missing.json"},
	} {
		code, _, stderr := runTopologyCLI(t, append([]string{"topology", "--network", topoHubSpoke}, tc.args...)...)
		if code != exitFailed || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q", tc.args, code, stderr)
		}
	}
}
