// Package measure runs the commands a side-by-side compares and measures
// each from its own rusage: wall time, CPU time, peak resident set size,
// and how busy the rest of the machine was meanwhile.
package measure

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Measurement is one timed run of a command.
type Measurement struct {
	Name     string
	Wall     time.Duration
	CPU      time.Duration // user + system
	PeakRSS  int64         // bytes
	Stdout   []byte
	OutBytes int64 // size of what it wrote, when the caller sets it
	// Others is the CPU time the rest of the machine used meanwhile (from
	// /proc/stat): a busy machine makes the figures worthless. -1 when
	// unknown.
	Others time.Duration
}

// BusyCPU returns the CPU time the whole machine has spent busy since
// boot, from the first line of /proc/stat, or -1 where there is none.
func BusyCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var ticks int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return -1
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

// Run runs a command and measures it.
func Run(ctx context.Context, name string, argv ...string) (*Measurement, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	busy0 := BusyCPU()
	began := time.Now()
	err := cmd.Run()
	wall := time.Since(began)
	busy1 := BusyCPU()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", name, err, stderr.Bytes())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return nil, fmt.Errorf("%s: no rusage on this platform", name)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// Linux reports ru_maxrss in KiB.
	m := &Measurement{Name: name, Wall: wall, CPU: cpu, PeakRSS: ru.Maxrss << 10, Stdout: stdout.Bytes(), Others: -1}
	if busy0 >= 0 && busy1 >= 0 {
		m.Others = max(busy1-busy0-cpu, 0)
	}
	return m, nil
}

// DirSize returns the bytes of the regular files under root.
func DirSize(root string) (int64, error) {
	var n int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

// Warm reads every file under root once, so that the commands compared
// find it in the page cache.
func Warm(root string) error {
	buf := make([]byte, 1<<20)
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.CopyBuffer(io.Discard, f, buf)
		return err
	})
}
