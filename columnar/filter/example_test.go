package filter_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

func Example() {
	e, err := filter.Parse("src net 10.0.0.0/8 && !(dst port 22 || dst port 3389) and DENY", filter.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e)
	fmt.Println(filter.Columns(e), filter.IsIndexed(e))

	row := &columnar.Flow{
		SrcIP: []byte("10.1.0.4"), DstIP: []byte("20.98.192.237"), SrcPort: 35620, DstPort: 443,
		Proto: 6, Direction: columnar.DirectionOut, Decision: columnar.DecisionDeny,
	}
	fmt.Println(e.Match(row))
	// Output:
	// src net 10.0.0.0/8 and not (dst port 22 or dst port 3389) and deny
	// [src_ip dst_port decision] true
	// true
}

func ExampleParse_relative() {
	now := time.Date(2024, 5, 2, 13, 0, 0, 0, time.UTC)
	e, err := filter.Parse("ip 94.102.49.190 and dst port 3389 and deny and since 7d", filter.Options{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e)
	// Output:
	// ip 94.102.49.190 and dst port 3389 and deny and time >= 2024-04-25T13:00:00Z
}

func ExampleSyntaxError() {
	_, err := filter.Parse("deny and src port https", filter.Options{})
	fmt.Println(err)
	var se *filter.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Caret())
	}
	fmt.Println(errors.Is(err, filter.ErrPort))
	// Output:
	// filter:19: expected a port number or range after "port", found "https"
	// deny and src port https
	//                   ^~~~~
	// true
}

// A planner walks the tree: leaves on indexed fields become bitmap
// look-ups, the others are evaluated on the rows the index leaves.
func ExampleExpr_walk() {
	e := filter.MustParse("(rule UserRule_* or nsg appnsg) and tcp and bytes > 1M")
	var walk func(filter.Expr, string)
	walk = func(e filter.Expr, indent string) {
		switch e := e.(type) {
		case *filter.And:
			fmt.Println(indent + "and")
			for _, t := range e.Terms {
				walk(t, indent+"  ")
			}
		case *filter.Or:
			fmt.Println(indent + "or")
			for _, t := range e.Terms {
				walk(t, indent+"  ")
			}
		case *filter.Not:
			fmt.Println(indent + "not")
			walk(e.X, indent+"  ")
		case *filter.Enum:
			fmt.Printf("%sindex %s key %q\n", indent, e.Field, e.Key())
		case *filter.Text:
			fmt.Printf("%sindex %s keys matching %q\n", indent, e.Field, e.Pattern)
		case *filter.Counter:
			fmt.Printf("%sscan %s %s %d\n", indent, e.Field, e.Op, e.Value)
		default:
			fmt.Printf("%s%s\n", indent, e)
		}
	}
	walk(e, "")
	// Output:
	// and
	//   or
	//     index rule keys matching "UserRule_*"
	//     index resource_id keys matching "appnsg"
	//   index protocol key "tcp"
	//   scan bytes > 1000000
}
