package query

import (
	"math"
	"strconv"
	"time"

	"github.com/flowlens/flowlens/columnar/filter"
)

// interval is the closed range [lo, hi] of the values a column may hold
// in a file or row group, when known.
type interval struct {
	lo, hi int64
	known  bool
}

// narrow intersects r with another known range.
func (r *interval) narrow(o interval) {
	if !o.known {
		return
	}
	if !r.known {
		*r = o
		return
	}
	r.lo, r.hi = max(r.lo, o.lo), min(r.hi, o.hi)
}

// overlaps reports whether r may hold a value in [lo, hi].
func (r interval) overlaps(lo, hi int64) bool { return !r.known || r.lo <= hi && lo <= r.hi }

// bounds are what is known of a file or row group before reading it.
type bounds struct {
	time, srcPort, dstPort interval
}

// mayMatch reports whether a row within b could match e; false means
// that none can, and the file or row group is skipped. It looks at time
// and port leaves under and and or; anything else may match.
func mayMatch(e filter.Expr, b *bounds) bool {
	switch e := e.(type) {
	case *filter.And:
		for _, t := range e.Terms {
			if !mayMatch(t, b) {
				return false
			}
		}
		return true
	case *filter.Or:
		for _, t := range e.Terms {
			if mayMatch(t, b) {
				return true
			}
		}
		return false
	case *filter.Time:
		from, to := e.Bounds() // [from, to), where MaxInt64 stands for no bound
		if to == math.MinInt64 {
			return false
		}
		hi := to - 1
		if to == math.MaxInt64 {
			hi = to
		}
		return from <= hi && b.time.overlaps(from, hi)
	case *filter.Port:
		lo, hi := int64(e.Lo), int64(e.Hi)
		switch e.Side {
		case filter.Src:
			return b.srcPort.overlaps(lo, hi)
		case filter.Dst:
			return b.dstPort.overlaps(lo, hi)
		}
		return b.srcPort.overlaps(lo, hi) || b.dstPort.overlaps(lo, hi)
	}
	return true
}

// allMatch reports whether every row within b matches e: e is time
// leaves under and and or, and b's time range is known and within what
// they admit. Anything else may not match.
func allMatch(e filter.Expr, b *bounds) bool {
	switch e := e.(type) {
	case *filter.And:
		for _, t := range e.Terms {
			if !allMatch(t, b) {
				return false
			}
		}
		return len(e.Terms) > 0
	case *filter.Or:
		for _, t := range e.Terms {
			if allMatch(t, b) {
				return true
			}
		}
		return false
	case *filter.Time:
		r := b.time
		if !r.known {
			return false
		}
		if e.Op == filter.Ne {
			return e.At < r.lo || e.At > r.hi
		}
		from, to := e.Bounds() // [from, to), where MaxInt64 stands for no bound
		return from <= r.lo && (r.hi < to || to == math.MaxInt64)
	}
	return false
}

// timeOnly reports whether e is time leaves under and and or: whether
// allMatch may hold for it.
func timeOnly(e filter.Expr) bool {
	switch e := e.(type) {
	case *filter.And:
		for _, t := range e.Terms {
			if !timeOnly(t) {
				return false
			}
		}
		return true
	case *filter.Or:
		for _, t := range e.Terms {
			if !timeOnly(t) {
				return false
			}
		}
		return true
	case *filter.Time:
		return true
	}
	return false
}

// hourStart parses a partition's date and hour into Unix microseconds.
func hourStart(date, hour string) (int64, bool) {
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		return 0, false
	}
	h, err := strconv.Atoi(hour)
	if err != nil || h < 0 || h > 23 {
		return 0, false
	}
	return d.Add(time.Duration(h) * time.Hour).UnixMicro(), true
}

// chunkStats returns the min/max statistics of an INT64 (or timestamp)
// or INT32 column chunk, when the writer stored them.
func chunkStats(rg *rowGroup, leaf int) interval {
	if leaf < 0 {
		return interval{}
	}
	c := &rg.chunks[leaf]
	if !c.hasStats {
		return interval{}
	}
	return interval{lo: c.min, hi: c.max, known: true}
}
