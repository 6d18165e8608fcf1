package ports

import (
	"context"
	"slices"
	"strings"
)

// ArchiveSeeker is an ArchiveSnapshot that can start a table's scan after
// a CopyPosition, as a resumed `engram migrate-data` does: ScanAfter calls
// fn for the rows Scan (whole instance, no Since) would call it for after
// the position, and only those, in the same order. The store reads from
// the position by its index (keyset pagination), not from the first row.
type ArchiveSeeker interface {
	ScanAfter(ctx context.Context, table ArchiveTable, after CopyPosition, fn func(ArchiveRow) error) error
}

// RowKey returns r's org and the values of t's Key columns.
func RowKey(t ArchiveTable, r ArchiveRow) (org string, key []string) {
	org, _ = r.Values[t.Col("org_id")].(string)
	key = make([]string, len(t.Key))
	for i, c := range t.Key {
		key[i], _ = r.Values[t.Col(c)].(string)
	}
	return org, key
}

// ComparePosition orders an org and key against pos's, in byte order as
// Scan reads rows: negative before, zero equal, positive after.
func ComparePosition(org string, key []string, pos CopyPosition) int {
	if c := strings.Compare(org, pos.Org); c != 0 {
		return c
	}
	return slices.Compare(key, pos.Key)
}

// SkipThrough wraps fn for a scan that starts at or before pos: rows up to
// and including pos (the first Dup rows of its key) are dropped, the rest
// passed on. Stores that seek with "key >= pos.Key" use it to drop the
// rows of pos's own key already copied.
func SkipThrough(t ArchiveTable, pos CopyPosition, fn func(ArchiveRow) error) func(ArchiveRow) error {
	var same int64
	past := false
	return func(r ArchiveRow) error {
		if past {
			return fn(r)
		}
		org, key := RowKey(t, r)
		switch c := ComparePosition(org, key, pos); {
		case c < 0:
			return nil
		case c == 0 && same < pos.Dup:
			same++
			return nil
		}
		past = true
		return fn(r)
	}
}
