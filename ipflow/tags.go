package ipflow

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"go4.org/netipx"
)

// ServiceTags maps service tag names to their address prefixes, read from
// Microsoft's published ServiceTags_Public JSON. Names compare without
// regard to case. The zero value knows no tags. A ServiceTags is
// read-only after loading and safe for concurrent use.
type ServiceTags struct {
	sets map[string]*netipx.IPSet
}

// serviceTagsFile is the shape of ServiceTags_Public_YYYYMMDD.json.
type serviceTagsFile struct {
	Values []struct {
		Name       string `json:"name"`
		ID         string `json:"id"`
		Properties struct {
			AddressPrefixes []string `json:"addressPrefixes"`
		} `json:"properties"`
	} `json:"values"`
}

// LoadServiceTags reads a ServiceTags_Public JSON file.
func LoadServiceTags(path string) (*ServiceTags, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadServiceTags(f, path)
}

// ReadServiceTags reads ServiceTags_Public JSON from r; name is used in
// errors.
func ReadServiceTags(r io.Reader, name string) (*ServiceTags, error) {
	var file serviceTagsFile
	dec := json.NewDecoder(r)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("%s: not a service tags file (offset %d): %w", name, dec.InputOffset(), err)
	}
	if len(file.Values) == 0 {
		return nil, fmt.Errorf("%s: not a service tags file: no \"values\"", name)
	}
	t := &ServiceTags{sets: make(map[string]*netipx.IPSet, len(file.Values))}
	for i, v := range file.Values {
		var b netipx.IPSetBuilder
		for _, s := range v.Properties.AddressPrefixes {
			p, ok := ParseAddressPrefix(s)
			if !ok {
				return nil, fmt.Errorf("%s: values[%d] (%s): %w %q", name, i, v.Name, ErrBadAddress, s)
			}
			b.AddPrefix(p)
		}
		set, err := b.IPSet()
		if err != nil {
			return nil, fmt.Errorf("%s: values[%d] (%s): %w", name, i, v.Name, err)
		}
		for _, key := range []string{v.Name, v.ID} {
			if key != "" {
				t.sets[strings.ToLower(key)] = set
			}
		}
	}
	return t, nil
}

// Lookup returns the prefixes of a tag such as "Storage" or
// "Storage.WestUS".
func (t *ServiceTags) Lookup(name string) (*netipx.IPSet, bool) {
	if t == nil {
		return nil, false
	}
	s, ok := t.sets[strings.ToLower(name)]
	return s, ok
}

// Len returns the number of tags known.
func (t *ServiceTags) Len() int {
	if t == nil {
		return 0
	}
	return len(t.sets)
}

// Platform addresses.
var (
	// HostIP is the Azure host's virtual IP: DHCP, DNS, health probes. It
	// is the AzureLoadBalancer tag and part of VirtualNetwork.
	HostIP = netip.MustParseAddr("168.63.129.16")
)

// DefaultInternet is what the Internet tag stands for unless exported
// data says otherwise [X]: IPv4 without RFC 1918, 100.64/10, 127/8,
// 169.254/16, 0/8, 224/4 and 240/4; IPv6 global unicast 2000::/3.
var DefaultInternet = func() *netipx.IPSet {
	var b netipx.IPSetBuilder
	b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
	for _, p := range []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"} {
		b.RemovePrefix(netip.MustParsePrefix(p))
	}
	b.AddPrefix(netip.MustParsePrefix("2000::/3"))
	s, _ := b.IPSet()
	return s
}()

// CanonicalTag returns the ARM spelling of a built-in tag, mapping the
// classic spellings (VIRTUAL_NETWORK, AZURE_LOADBALANCER, INTERNET) and
// any case; other names come back unchanged.
func CanonicalTag(name string) string {
	switch strings.ToLower(name) {
	case "virtualnetwork", "virtual_network":
		return "VirtualNetwork"
	case "azureloadbalancer", "azure_loadbalancer":
		return "AzureLoadBalancer"
	case "internet":
		return "Internet"
	}
	return name
}
