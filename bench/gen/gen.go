package gen

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// Mix weighs the flow log formats of a tree's resources. Zero weights
// leave a format out; the weights need not add up to one.
type Mix struct {
	V1, V2, VNet float64
}

// Config describes a tree. The zero value is not usable; start from
// DefaultConfig.
type Config struct {
	Seed      uint64
	Resources int       // NSGs and VNet flow logs; each has 1–3 NICs, one blob per NIC and hour
	Hours     int       // consecutive hours of logs
	Start     time.Time // first hour, UTC
	Mix       Mix
	// DenyRate is the share of new flows that are denied. Denied flows
	// log one tuple, allowed ones several, so the share of deny tuples is
	// lower (about half).
	DenyRate float64
	// FlowsPerMinute is the mean number of new flows per NIC and minute
	// (scaled by a daily cycle). When TargetSize is set and this is zero,
	// Plan computes it.
	FlowsPerMinute float64
	// TargetSize is the approximate total size of the tree in bytes.
	TargetSize int64
	// Workers is how many blobs are written in parallel; 0 means all cores.
	// It does not change the output.
	Workers int
}

// DefaultConfig returns a small mixed tree: 12 resources, 2 hours from
// 2024-05-01T00:00Z, 20% v1, 55% v2, 25% VNet resources, 25% of flows
// denied, 20 new flows per NIC and minute.
func DefaultConfig() Config {
	return Config{
		Seed:           1,
		Resources:      12,
		Hours:          2,
		Start:          time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		Mix:            Mix{V1: 0.20, V2: 0.55, VNet: 0.25},
		DenyRate:       0.25,
		FlowsPerMinute: 20,
	}
}

func (c *Config) validate() error {
	switch {
	case c.Resources < 1 || c.Resources > 4096:
		return fmt.Errorf("resources %d: want 1 to 4096", c.Resources)
	case c.Hours < 1 || c.Hours > 24*366:
		return fmt.Errorf("hours %d: want 1 to %d", c.Hours, 24*366)
	case c.Mix.V1 < 0 || c.Mix.V2 < 0 || c.Mix.VNet < 0 || c.Mix.V1+c.Mix.V2+c.Mix.VNet <= 0:
		return fmt.Errorf("mix %+v: want non-negative weights, not all zero", c.Mix)
	case c.DenyRate < 0 || c.DenyRate > 1:
		return fmt.Errorf("deny rate %g: want 0 to 1", c.DenyRate)
	case c.FlowsPerMinute < 0:
		return fmt.Errorf("flows per minute %g: want ≥ 0", c.FlowsPerMinute)
	case c.TargetSize < 0:
		return fmt.Errorf("target size %d: want ≥ 0", c.TargetSize)
	case c.Start.Year() < 2000 || c.Start.Year() > 2200:
		return fmt.Errorf("start %s: want a year between 2000 and 2200", c.Start)
	}
	return nil
}

// blobRef names one blob of a tree: a NIC of a resource during an hour.
type blobRef struct {
	res, nic, hour int
}

// Plan returns cfg with FlowsPerMinute set so that the tree comes close to
// cfg.TargetSize (when TargetSize is set and FlowsPerMinute is not). It
// measures the tree by generating it, without writing, at two rates: the
// size grows about linearly with the rate.
func Plan(ctx context.Context, cfg Config) (Config, error) {
	cfg.Start = cfg.Start.UTC().Truncate(time.Hour)
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	if cfg.TargetSize == 0 || cfg.FlowsPerMinute > 0 {
		return cfg, nil
	}
	// The size grows about linearly with the rate, but not quite (records
	// with no tuples are not written; the rule groups of a record fill up):
	// find the rate by the secant method, measuring without writing.
	measure := func(rate float64) (float64, error) {
		c := cfg
		c.FlowsPerMinute = rate
		t, err := run(ctx, "", c)
		if err != nil {
			return 0, err
		}
		return float64(t.Bytes), nil
	}
	target := float64(cfg.TargetSize)
	r0, r1 := 4.0, 16.0
	s0, err := measure(r0)
	if err != nil {
		return cfg, err
	}
	s1, err := measure(r1)
	if err != nil {
		return cfg, err
	}
	rate := r1
	for range 6 {
		rate = r1 + (target-s1)*(r1-r0)/(s1-s0)
		if rate < 0.5 || s1 <= s0 {
			return cfg, fmt.Errorf("target size %d is too small for %d resources over %d hours (%.0f bytes at %g new flows per NIC and minute)", cfg.TargetSize, cfg.Resources, cfg.Hours, s0, r0)
		}
		s, err := measure(rate)
		if err != nil {
			return cfg, err
		}
		if math.Abs(s-target) < 0.01*target {
			break
		}
		r0, s0, r1, s1 = r1, s1, rate, s
	}
	cfg.FlowsPerMinute = rate
	return cfg, nil
}

// Generate writes the tree described by cfg under root and returns the
// totals of what it wrote. With an empty root it writes nothing and
// returns the totals the tree would have.
func Generate(ctx context.Context, root string, cfg Config) (*Totals, error) {
	cfg, err := Plan(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return run(ctx, root, cfg)
}

func run(ctx context.Context, root string, cfg Config) (*Totals, error) {
	topo := newTopology(&cfg)
	var refs []blobRef
	for h := range cfg.Hours {
		for ri, res := range topo.resources {
			for ni := range res.nics {
				refs = append(refs, blobRef{ri, ni, h})
			}
		}
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, len(refs))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan blobRef)
	parts := make([]*Totals, workers)
	var wg sync.WaitGroup
	for w := range workers {
		bw := newBlobWriter(&cfg, topo)
		parts[w] = bw.tot
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range work {
				if err := writeBlob(root, bw, ref); err != nil {
					cancel(err)
					for range work {
					}
					return
				}
			}
		}()
	}
feed:
	for _, ref := range refs {
		select {
		case work <- ref:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	tot := newTotals(&cfg, topo)
	for _, p := range parts {
		tot.merge(p)
	}
	tot.finish(topo)
	return tot, nil
}

// BlobPath returns the path of a blob, relative to the root of a tree.
func (t *topology) blobPath(ref blobRef, start time.Time) string {
	res := &t.resources[ref.res]
	h := start.Add(time.Duration(ref.hour) * time.Hour)
	return fmt.Sprintf("%s/y=%04d/m=%02d/d=%02d/h=%02d/m=00/macAddress=%s/PT1H.json",
		res.path, h.Year(), int(h.Month()), h.Day(), h.Hour(), res.nics[ref.nic].mac)
}

// writeBlob writes one blob under root, or only counts it when root is "".
func writeBlob(root string, bw *blobWriter, ref blobRef) error {
	if root == "" {
		return bw.write(io.Discard, ref)
	}
	name := filepath.Join(root, filepath.FromSlash(bw.topo.blobPath(ref, bw.cfg.Start)))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("create blob directory: %w", err)
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create blob: %w", err)
	}
	if err := bw.write(f, ref); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}
