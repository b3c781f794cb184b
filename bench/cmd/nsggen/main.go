// Command nsggen writes the verify benchmark scenario: the network export
// (-o network.json) and, with -tuples N, a CSV of N requests for
// `flowlens verify --batch`.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/flowlens/flowlens/bench/nsggen"
)

func main() {
	out := flag.String("o", "network.json", "write the network export here")
	rules := flag.Int("rules", 1000, "rules per NSG")
	tuples := flag.Int("tuples", 0, "also write this many requests as CSV to -csv")
	csvOut := flag.String("csv", "requests.csv", "where -tuples go")
	seed := flag.Uint64("seed", 1, "seed")
	flag.Parse()
	data, err := nsggen.Network(*rules, *seed)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		log.Fatal(err)
	}
	if *tuples == 0 {
		return
	}
	f, err := os.Create(*csvOut)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "target,direction,protocol,local_ip,local_port,remote_ip,remote_port")
	names := map[uint8]string{6: "TCP", 17: "UDP", 1: "ICMP"}
	for _, t := range nsggen.Tuples(*tuples, *seed) {
		dir := "Outbound"
		if t.Inbound {
			dir = "Inbound"
		}
		fmt.Fprintf(w, "bench-vm,%s,%s,%s,%d,%s,%d\n", dir, names[t.Protocol], nsggen.NICAddr, t.LocalPort, t.Remote, t.RemotePort)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
