// Command abrun compares two or more commands, whole process against whole
// process, by running them in turn -n times (after -warm runs each that
// are not counted) and printing the median wall and CPU time of each and,
// against the first, the median of the paired differences. Pairing the
// runs made one after the other cancels most of what a shared machine's
// load does to both, which on this VM moves a 45 ms query by ±10 ms from
// one minute to the next. Standard output goes to /dev/null.
//
//	abrun [-n 60] [-warm 3] -- CMD_A ARGS... -- CMD_B ARGS... [-- CMD_C ...]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 60, "counted runs of each command")
	warm := flag.Int("warm", 3, "runs of each command before those counted")
	flag.Parse()
	cmds := [][]string{nil} // flag.Parse took the first "--"
	for _, a := range flag.Args() {
		if a == "--" {
			cmds = append(cmds, nil)
			continue
		}
		cmds[len(cmds)-1] = append(cmds[len(cmds)-1], a)
	}
	if len(cmds) < 2 || slices.ContainsFunc(cmds, func(c []string) bool { return len(c) == 0 }) || *n < 1 {
		fail("usage: abrun [-n N] -- CMD_A ARGS... -- CMD_B ARGS...")
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fail(err.Error())
	}
	wall := make([][]float64, len(cmds))
	cpu := make([][]float64, len(cmds))
	for i := range *warm + *n {
		for k, c := range cmds {
			w, u := run(c, devnull)
			if i >= *warm {
				wall[k] = append(wall[k], w)
				cpu[k] = append(cpu[k], u)
			}
		}
	}
	for k, c := range cmds {
		fmt.Printf("%c: wall median %7.1f ms, CPU median %7.1f ms: %s\n", 'A'+k, median(wall[k]), median(cpu[k]), c[0])
	}
	for k := 1; k < len(cmds); k++ {
		dw, dc := make([]float64, *n), make([]float64, *n)
		for i := range *n {
			dw[i], dc[i] = wall[k][i]-wall[0][i], cpu[k][i]-cpu[0][i]
		}
		fmt.Printf("%c-A: median of %d paired differences: wall %+.1f ms, CPU %+.1f ms\n", 'A'+k, *n, median(dw), median(dc))
	}
}

// run runs c and returns its wall and CPU (user + system) time in ms.
func run(c []string, stdout *os.File) (wall, cpu float64) {
	cmd := exec.Command(c[0], c[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fail(fmt.Sprintf("%q: %v", c, err))
	}
	wall = float64(time.Since(start).Microseconds()) / 1000
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu = float64(syscall.TimevalToNsec(ru.Utime)+syscall.TimevalToNsec(ru.Stime)) / 1e6
	return wall, cpu
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "abrun:", msg)
	os.Exit(2)
}
