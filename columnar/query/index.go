package query

import (
	"path/filepath"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// IndexSelector returns a RowSelector that narrows each file to the rows
// its index sidecar says may match expr: indexed leaves (addresses,
// ports, protocol, direction, decision, rule, NSG, MAC) become bitmap
// look-ups combined with AND and OR; anything else (counters, times,
// "not", state, source) leaves its part of the filter unrestricted. The
// result is a superset (coarse postings too), and the scan still applies
// the filter to every selected row, less the leaves the index answered
// exactly (see exactLeaves). A file without a usable index (none, stale,
// corrupt) is scanned whole: a query never fails for want of an index.
func IndexSelector(root string, expr filter.Expr) RowSelector {
	return func(file string) (Selection, bool, error) {
		// The scan checks the Parquet file against the index as it reads
		// the file's footer (Selection.Check), not reading it twice.
		ix, err := columnar.OpenIndexUnchecked(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return Selection{}, false, nil
		}
		check := ix.ParquetCheck()
		defer ix.Close()
		var skipped []filter.Expr
		rows, ok := plan(ix, expr, nil, &skipped)
		if !ok {
			return Selection{}, false, nil
		}
		exact := slices.DeleteFunc(exactLeaves(ix, expr, nil), func(e filter.Expr) bool { return slices.Contains(skipped, e) })
		return Selection{Rows: rows, Exact: exact, Check: &check}, true, nil
	}
}

// exactLeaves appends to dst the leaves of e, reached through "and" nodes
// from its root, whose look-ups plan intersected into the selection and
// that the index answers exactly: every selected row satisfies them.
// Direction and decision, text leaves (rule, NSG, MAC), and ports and
// addresses in an exact column qualify; protocol does not (the filter
// compares the protocol number, the index holds its name). Addresses
// qualify because the filter and the index read an address text alike:
// as netip.ParseAddr does, zones refused (FuzzParseAddr holds the
// filter to that), and a prefix of one family matches no address of the
// other in either.
func exactLeaves(ix *columnar.Index, e filter.Expr, dst []filter.Expr) []filter.Expr {
	switch x := e.(type) {
	case *filter.And:
		for _, t := range x.Terms {
			dst = exactLeaves(ix, t, dst)
		}
	case *filter.Enum:
		if (x.Field == filter.FieldDirection || x.Field == filter.FieldDecision) && ix.Exact(x.Field.String()) {
			dst = append(dst, e)
		}
	case *filter.Text:
		if x.Field.Indexed() && ix.Exact(x.Field.String()) {
			dst = append(dst, e)
		}
	case *filter.IP:
		src, dstCol := ix.ExactPrefix("src_ip", x.Prefix), ix.ExactPrefix("dst_ip", x.Prefix)
		if x.Side == filter.Src && src || x.Side == filter.Dst && dstCol || x.Side == filter.Either && src && dstCol {
			dst = append(dst, e)
		}
	case *filter.Port:
		src, dstCol := ix.Exact("src_port"), ix.Exact("dst_port")
		if x.Side == filter.Src && src || x.Side == filter.Dst && dstCol || x.Side == filter.Either && src && dstCol {
			dst = append(dst, e)
		}
	}
	return dst
}

// plan returns the rows of the index's file that may match e; ok is false
// when the index cannot narrow e (every row may match). The terms of an
// and are looked up most selective kind first (addresses, ports, texts,
// then protocol, direction and decision). Once fewer than 1 row in 64 is
// left, the enum terms are not looked up (their postings are large, and
// the few rows left are cheaper to check) but added to skipped, and
// address and port look-ups are restricted to the rows left. within,
// when not nil, holds the rows the caller keeps of the result: the
// result may lack any other.
func plan(ix *columnar.Index, e filter.Expr, within *roaring.Bitmap, skipped *[]filter.Expr) (*roaring.Bitmap, bool) {
	switch x := e.(type) {
	case *filter.And:
		var acc *roaring.Bitmap
		terms := slices.Clone(x.Terms)
		slices.SortStableFunc(terms, func(a, b filter.Expr) int { return lookupOrder(a) - lookupOrder(b) })
		for _, t := range terms {
			keep := within
			if acc != nil && acc.GetCardinality()*64 < uint64(ix.Rows()) {
				if _, enum := t.(*filter.Enum); enum {
					*skipped = append(*skipped, t)
					continue
				}
				keep = acc
			}
			b, ok := plan(ix, t, keep, skipped)
			if !ok {
				continue
			}
			if acc == nil {
				acc = b
			} else {
				acc.And(b)
			}
		}
		return acc, acc != nil
	case *filter.Or:
		acc := roaring.New()
		for _, t := range x.Terms {
			b, ok := plan(ix, t, within, skipped)
			if !ok {
				return nil, false
			}
			acc.Or(b)
		}
		return acc, true
	case *filter.IP:
		return union(x.Side, "src_ip", "dst_ip", func(col string) (*roaring.Bitmap, error) {
			return ix.LookupPrefixWithin(col, x.Prefix, within)
		})
	case *filter.Port:
		return union(x.Side, "src_port", "dst_port", func(col string) (*roaring.Bitmap, error) {
			return ix.LookupPortsWithin(col, x.Lo, x.Hi, within)
		})
	case *filter.Enum:
		switch x.Field {
		case filter.FieldProtocol, filter.FieldDirection, filter.FieldDecision:
			b, err := ix.Lookup(x.Field.String(), x.Key())
			return b, err == nil
		}
	case *filter.Text:
		if !x.Field.Indexed() {
			return nil, false
		}
		b, err := ix.LookupStrings(x.Field.String(), x.MatchString)
		return b, err == nil
	}
	return nil, false
}

// lookupOrder ranks the terms of an and for plan: the more selective
// kinds of leaf first, anything else (groups, unindexed leaves) last.
func lookupOrder(e filter.Expr) int {
	switch e.(type) {
	case *filter.IP:
		return 0
	case *filter.Port:
		return 1
	case *filter.Text:
		return 2
	case *filter.Enum:
		return 3
	}
	return 4
}

// union looks a leaf up in the column of its side, or both.
func union(side filter.Side, src, dst string, lookup func(string) (*roaring.Bitmap, error)) (*roaring.Bitmap, bool) {
	var cols []string
	switch side {
	case filter.Src:
		cols = []string{src}
	case filter.Dst:
		cols = []string{dst}
	default:
		cols = []string{src, dst}
	}
	acc := roaring.New()
	for _, c := range cols {
		b, err := lookup(c)
		if err != nil {
			return nil, false
		}
		acc.Or(b)
	}
	return acc, true
}
