package flowlog_test

import (
	"fmt"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/flowlog"
)

func ExampleTupleParser_Parse() {
	var p flowlog.TupleParser
	var row columnar.Flow
	err := p.Parse([]byte("1542110379,10.5.16.4,13.67.143.117,59932,443,T,O,A,E,1,66,1,66"), flowlog.FormatNSGv2, &row)
	fmt.Println(err, string(row.SrcIP), row.DstPort, columnar.ProtocolName(row.Proto), row.Decision, string(row.State), row.BytesOut, row.BytesIn)
	// Output: <nil> 10.5.16.4 443 tcp allow E 66 66
}

func ExampleParseBlobPath() {
	info, ok, err := flowlog.ParseBlobPath("/mnt/logs/insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WEB-NSG/y=2024/m=05/d=01/h=13/m=00/macAddress=000D3AF87856/PT1H.json")
	fmt.Println(ok, err)
	fmt.Println(info.ResourceID)
	fmt.Println(info.Hour, info.MAC)
	// Output:
	// true <nil>
	// /SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WEB-NSG
	// 2024-05-01 13:00:00 +0000 UTC 000D3AF87856
}
