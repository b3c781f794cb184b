package flowlog

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PathInfo is what an Azure blob path says about the flow log inside it.
//
// NSG flow logs are written to
//
//	insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/<sub>/RESOURCEGROUPS/<rg>/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/<nsg>/y=2024/m=05/d=01/h=13/m=00/macAddress=<mac>/PT1H.json
//
// and VNet flow logs to
//
//	insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/<sub>/RESOURCEGROUPS/<rg>/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/<nw>/FLOWLOGS/<name>/y=2024/m=05/d=01/h=13/m=00/macAddress=<mac>/PT1H.json
type PathInfo struct {
	// Key identifies the blob independently of where the tree is mounted:
	// the blob name from the container (or the resource id segment) on.
	Key        string
	ResourceID string    // NSG id, or the flow log id for VNet logs
	VNet       bool      // the path is a VNet flow log path
	Hour       time.Time // zero when the path has no y=/m=/d=/h= segments
	MAC        string
}

// ParseBlobPath parses an Azure flow log blob path. It reports ok=false
// for a path without a resourceId= or flowLogResourceID= segment, and an
// error for one that has it but is malformed.
func ParseBlobPath(p string) (info PathInfo, ok bool, err error) {
	segs := strings.Split(filepath.ToSlash(p), "/")
	at := -1
	for i, s := range segs {
		ls := strings.ToLower(s)
		if ls == "resourceid=" || ls == "flowlogresourceid=" {
			at = i
			info.VNet = ls == "flowlogresourceid="
			break
		}
	}
	if at < 0 {
		return PathInfo{}, false, nil
	}
	keyFrom := at
	if at > 0 && strings.HasPrefix(strings.ToLower(segs[at-1]), "insights-logs-") {
		keyFrom = at - 1
	}
	info.Key = strings.Join(segs[keyFrom:], "/")

	// The resource id runs up to the first key=value segment (y=, or
	// macAddress= in paths without a date) or the file name.
	i := at + 1
	var id []string
	for ; i < len(segs)-1 && !strings.Contains(segs[i], "="); i++ {
		if segs[i] != "" {
			id = append(id, segs[i])
		}
	}
	if len(id) == 0 {
		return info, true, fmt.Errorf("blob path %q: empty resource id after %s", p, segs[at])
	}
	info.ResourceID = "/" + strings.Join(id, "/")

	var ymdh [4]int
	seen := 0
	names := [4]string{"y=", "m=", "d=", "h="}
	for ; i < len(segs) && seen < 4; i++ {
		if seen == 0 && !strings.HasPrefix(segs[i], "y=") {
			break // no date in this path
		}
		if !strings.HasPrefix(segs[i], names[seen]) {
			return info, true, fmt.Errorf("blob path %q: expected %s…, found %q", p, names[seen], segs[i])
		}
		n, err := strconv.Atoi(segs[i][2:])
		if err != nil {
			return info, true, fmt.Errorf("blob path %q: bad %q", p, segs[i])
		}
		ymdh[seen] = n
		seen++
	}
	if seen == 4 {
		y, m, d, h := ymdh[0], ymdh[1], ymdh[2], ymdh[3]
		if y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 || h < 0 || h > 23 {
			return info, true, fmt.Errorf("blob path %q: date y=%d/m=%d/d=%d/h=%d out of range", p, y, m, d, h)
		}
		info.Hour = time.Date(y, time.Month(m), d, h, 0, 0, 0, time.UTC)
		if info.Hour.Day() != d {
			return info, true, fmt.Errorf("blob path %q: no day %d in %d-%02d", p, d, y, m)
		}
	} else if seen > 0 {
		return info, true, fmt.Errorf("blob path %q: incomplete y=/m=/d=/h= segments", p)
	}
	for ; i < len(segs); i++ {
		if len(segs[i]) > len("macAddress=") && strings.EqualFold(segs[i][:len("macAddress=")], "macAddress=") {
			info.MAC = strings.ToUpper(segs[i][len("macAddress="):])
		}
	}
	return info, true, nil
}
