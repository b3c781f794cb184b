package flowlog

import (
	"strings"
	"testing"
	"time"
)

const (
	nsgID   = "/SUBSCRIPTIONS/743F6ED6-83A8-46F0-822D-EA93B953952D/RESOURCEGROUPS/WADRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WADVM-NSG"
	vnetFL  = "/SUBSCRIPTIONS/C088DC46-D692-42AD-A4B6-9A542D28AD2A/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_WESTUS/FLOWLOGS/LABSVM1519-AZURE-LABS-001-FLOWLOG"
	nsgBlob = "insights-logs-networksecuritygroupflowevent/resourceId=" + nsgID + "/y=2018/m=07/d=18/h=12/m=00/macAddress=000D3A0AF519/PT1H.json"
	vnetKey = "insights-logs-flowlogflowevent/flowLogResourceID=" + vnetFL + "/y=2024/m=12/d=31/h=09/m=00/macAddress=000d3a359573/PT1H.json"
)

func TestParseBlobPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		want PathInfo
	}{
		{"nsg absolute", "/data/azure/" + nsgBlob, PathInfo{
			Key: nsgBlob, ResourceID: nsgID, Hour: time.Date(2018, 7, 18, 12, 0, 0, 0, time.UTC), MAC: "000D3A0AF519"}},
		{"nsg relative", nsgBlob, PathInfo{
			Key: nsgBlob, ResourceID: nsgID, Hour: time.Date(2018, 7, 18, 12, 0, 0, 0, time.UTC), MAC: "000D3A0AF519"}},
		{"nsg gzipped copy", "/mnt/logs/" + nsgBlob + ".gz", PathInfo{
			Key: nsgBlob + ".gz", ResourceID: nsgID, Hour: time.Date(2018, 7, 18, 12, 0, 0, 0, time.UTC), MAC: "000D3A0AF519"}},
		{"vnet, mac upper-cased", "/home/u/dl/" + vnetKey, PathInfo{
			Key: vnetKey, ResourceID: vnetFL, VNet: true, Hour: time.Date(2024, 12, 31, 9, 0, 0, 0, time.UTC), MAC: "000D3A359573"}},
		// Without the insights-logs-* container, the key starts at the
		// resource id segment.
		{"no container", "/srv/resourceId=" + nsgID + "/y=2018/m=07/d=18/h=00/m=00/macAddress=000D3A0AF519/PT1H.json", PathInfo{
			Key:        "resourceId=" + nsgID + "/y=2018/m=07/d=18/h=00/m=00/macAddress=000D3A0AF519/PT1H.json",
			ResourceID: nsgID, Hour: time.Date(2018, 7, 18, 0, 0, 0, 0, time.UTC), MAC: "000D3A0AF519"}},
		{"other container", "/srv/copies/resourceId=/S/y=2018/m=07/d=18/h=23/PT1H.json", PathInfo{
			Key: "resourceId=/S/y=2018/m=07/d=18/h=23/PT1H.json", ResourceID: "/S", Hour: time.Date(2018, 7, 18, 23, 0, 0, 0, time.UTC)}},
		{"segment case", "/x/INSIGHTS-LOGS-NETWORKSECURITYGROUPFLOWEVENT/RESOURCEID=/S/RG/y=2020/m=1/d=2/h=3/MACADDRESS=aa/PT1H.json", PathInfo{
			Key:        "INSIGHTS-LOGS-NETWORKSECURITYGROUPFLOWEVENT/RESOURCEID=/S/RG/y=2020/m=1/d=2/h=3/MACADDRESS=aa/PT1H.json",
			ResourceID: "/S/RG", Hour: time.Date(2020, 1, 2, 3, 0, 0, 0, time.UTC), MAC: "AA"}},
		{"empty segments in the id", "insights-logs-x/resourceId=//S//RG/y=2020/m=01/d=02/h=03/PT1H.json", PathInfo{
			Key: "insights-logs-x/resourceId=//S//RG/y=2020/m=01/d=02/h=03/PT1H.json", ResourceID: "/S/RG", Hour: time.Date(2020, 1, 2, 3, 0, 0, 0, time.UTC)}},
		{"no mac", "/d/" + strings.Replace(nsgBlob, "/macAddress=000D3A0AF519", "", 1), PathInfo{
			Key: strings.Replace(nsgBlob, "/macAddress=000D3A0AF519", "", 1), ResourceID: nsgID, Hour: time.Date(2018, 7, 18, 12, 0, 0, 0, time.UTC)}},
		{"empty mac", "/d/" + strings.Replace(nsgBlob, "=000D3A0AF519", "=", 1), PathInfo{
			Key: strings.Replace(nsgBlob, "=000D3A0AF519", "=", 1), ResourceID: nsgID, Hour: time.Date(2018, 7, 18, 12, 0, 0, 0, time.UTC)}},
		{"date only, no file", "/d/resourceId=/S/y=2021/m=12/d=31/h=23", PathInfo{
			Key: "resourceId=/S/y=2021/m=12/d=31/h=23", ResourceID: "/S", Hour: time.Date(2021, 12, 31, 23, 0, 0, 0, time.UTC)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 {
				got, ok, err := ParseBlobPath(tc.path)
				if !ok || err != nil {
					t.Fatalf("ok=%v err=%v", ok, err)
				}
				if got != tc.want {
					t.Errorf("\n got %+v\nwant %+v", got, tc.want)
				}
				if !strings.HasSuffix(tc.path, got.Key) {
					t.Errorf("key %q is not a suffix of the path", got.Key)
				}
			}
		})
	}
}

func TestParseBlobPathNotBlob(t *testing.T) {
	for _, p := range []string{
		"",
		"/",
		"PT1H.json",
		"/tmp/flows/PT1H.json",
		"/data/insights-logs-networksecuritygroupflowevent/PT1H.json",
		"/data/xresourceId=/S/y=2020/PT1H.json",
		"/data/resourceId=x/S/PT1H.json",
		"/data/resourceId/S/PT1H.json",
	} {
		t.Run(p, func(t *testing.T) {
			got, ok, err := ParseBlobPath(p)
			if ok || err != nil || got != (PathInfo{}) {
				t.Errorf("got %+v, ok=%v, err=%v; want a zero PathInfo, false, nil", got, ok, err)
			}
		})
	}
}

func TestParseBlobPathErrors(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"empty id", "/d/insights-logs-x/resourceId=/y=2020/m=01/d=02/h=03/PT1H.json"},
		{"empty id at the end", "/d/resourceId="},
		{"empty id, only slashes", "/d/resourceId=///"},
		{"vnet empty id", "/d/flowLogResourceID=/y=2020/m=01/d=02/h=03/PT1H.json"},
		{"bad year", "/d/resourceId=/S/y=20x0/m=01/d=02/h=03/PT1H.json"},
		{"empty year", "/d/resourceId=/S/y=/m=01/d=02/h=03/PT1H.json"},
		{"bad month", "/d/resourceId=/S/y=2020/m=jan/d=02/h=03/PT1H.json"},
		{"bad hour", "/d/resourceId=/S/y=2020/m=01/d=02/h=3pm/PT1H.json"},
		{"missing month", "/d/resourceId=/S/y=2020/d=02/h=03/PT1H.json"},
		{"missing hour", "/d/resourceId=/S/y=2020/m=01/d=02/macAddress=AA/PT1H.json"},
		{"year only", "/d/resourceId=/S/y=2020"},
		{"stops after day", "/d/resourceId=/S/y=2020/m=01/d=02"},
		{"month 13", "/d/resourceId=/S/y=2020/m=13/d=02/h=03/PT1H.json"},
		{"month 0", "/d/resourceId=/S/y=2020/m=0/d=02/h=03/PT1H.json"},
		{"day 32", "/d/resourceId=/S/y=2020/m=01/d=32/h=03/PT1H.json"},
		{"hour 24", "/d/resourceId=/S/y=2020/m=01/d=02/h=24/PT1H.json"},
		{"negative hour", "/d/resourceId=/S/y=2020/m=01/d=02/h=-1/PT1H.json"},
		{"year 1969", "/d/resourceId=/S/y=1969/m=01/d=02/h=03/PT1H.json"},
		{"year 10000", "/d/resourceId=/S/y=10000/m=01/d=02/h=03/PT1H.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ok, err := ParseBlobPath(tc.path)
			if !ok || err == nil {
				t.Errorf("ok=%v err=%v, want true and an error", ok, err)
			} else if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

// TestParseBlobPathEdges: paths without a date, and impossible dates.
func TestParseBlobPathEdges(t *testing.T) {
	t.Run("no date segments", func(t *testing.T) {
		// Hour is zero for a path without y=/m=/d=/h=; the resource id
		// ends at the first key=value segment.
		got, ok, err := ParseBlobPath("/d/resourceId=/S/RG/NSG/macAddress=AA/PT1H.json")
		if !ok || err != nil {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
		if got.ResourceID != "/S/RG/NSG" || got.MAC != "AA" || !got.Hour.IsZero() {
			t.Errorf("without date segments, ResourceID=%q MAC=%q (want /S/RG/NSG, AA)", got.ResourceID, got.MAC)
		}
	})
	t.Run("day 31 in February", func(t *testing.T) {
		got, ok, err := ParseBlobPath("/d/resourceId=/S/y=2024/m=02/d=31/h=00/PT1H.json")
		if ok && err == nil {
			t.Errorf("d=31 in February is accepted and normalised to %v", got.Hour)
		}
	})
}
