package packet_test

import (
	"context"
	"fmt"
	"os"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/packet"
)

func ExampleReadFlows() {
	f, err := os.Open("../testdata/pcap/tcpdump-tcp-handshake-nano.pcap")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	st, err := packet.ReadFlows(context.Background(), f, "handshake.pcap", packet.DefaultConfig(), func(r *columnar.Flow) error {
		fmt.Printf("%s:%d -> %s:%d %s state %c out %d/%d in %d/%d flags %#02x\n", r.SrcIP, r.SrcPort, r.DstIP, r.DstPort,
			columnar.ProtocolName(r.Proto), r.State, r.PacketsOut, r.BytesOut, r.PacketsIn, r.BytesIn, r.TCPFlags)
		return nil
	})
	fmt.Println(st.Packets, "packets,", st.Flows, "flow, error:", err)
	// Output:
	// 131.155.215.69:46656 -> 137.116.81.94:80 tcp state B out 2/144 in 1/76 flags 0x12
	// 3 packets, 1 flow, error: <nil>
}
