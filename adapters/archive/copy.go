package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sort"

	"github.com/engram-memory/engram/ports"
)

// CopyOptions tune Copy.
type CopyOptions struct {
	BatchSize int // default 1000
	// Progress, if set, is called after each batch with the table, the rows
	// copied of it so far and its total.
	Progress func(table string, done, total int64)
	// Checkpoint, if set, is the target's record of how far the copy got:
	// every batch is loaded through its LoadAt, which records the batch's
	// last row in the batch's own transaction, and a copy that finds
	// positions recorded (an interrupted one) reads each table from after
	// its position instead of from its first row.
	Checkpoint ports.MigrationCheckpoint
}

// Copy streams every table of src into dst without an intermediate file:
// one snapshot of src, batches of BatchSize rows, each one transaction of
// dst.Load in skip mode (or o.Checkpoint.LoadAt). It counts each table
// first so that Progress can give a total.
//
// With o.Checkpoint, a re-run after an interruption starts each table
// after its recorded position, through the source's ArchiveSeeker (keyset
// pagination: the rows before it are not read), or, from a source that
// cannot seek, by reading from the first row and dropping the rows up to
// the position. Without it, a re-run reads everything again and Load's
// skip mode leaves what landed: nothing twice, but no time saved.
func Copy(ctx context.Context, src ports.ArchiveSource, dst ports.ArchiveSink, o CopyOptions) ([]TableReport, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	var positions map[string]ports.CopyPosition
	if o.Checkpoint != nil {
		var err error
		if positions, err = o.Checkpoint.CopyPositions(ctx); err != nil {
			return nil, err
		}
	}
	var out []TableReport
	defer settle(ctx, dst)
	err := src.ArchiveSnapshot(ctx, func(sn ports.ArchiveSnapshot) error {
		for _, t := range ports.ArchiveTables {
			tr, err := copyTable(ctx, sn, dst, t, positions[t.Name], o)
			if err != nil {
				return err
			}
			out = append(out, tr)
		}
		return nil
	})
	return out, err
}

// scanFrom scans t whole, or after pos when it names a row (Dup > 0).
func scanFrom(ctx context.Context, sn ports.ArchiveSnapshot, t ports.ArchiveTable, pos ports.CopyPosition, fn func(ports.ArchiveRow) error) error {
	if pos.Dup == 0 {
		return sn.Scan(ctx, t, ports.ArchiveScope{}, fn)
	}
	if sk, ok := sn.(ports.ArchiveSeeker); ok {
		return sk.ScanAfter(ctx, t, pos, fn)
	}
	return sn.Scan(ctx, t, ports.ArchiveScope{}, ports.SkipThrough(t, pos, fn))
}

// copyTable copies t from after pos (none: from its first row).
func copyTable(ctx context.Context, sn ports.ArchiveSnapshot, dst ports.ArchiveSink, t ports.ArchiveTable, pos ports.CopyPosition, o CopyOptions) (TableReport, error) {
	pos.Table = t.Name
	total := pos.Copied
	if err := scanFrom(ctx, sn, t, pos, func(ports.ArchiveRow) error { total++; return nil }); err != nil {
		return TableReport{}, err
	}
	tr := TableReport{Table: t.Name, Rows: pos.Copied, Checkpointed: pos.Copied}
	batch := make([]ports.ArchiveRow, 0, o.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var res ports.LoadResult
		var err error
		if o.Checkpoint != nil {
			pos.Copied = tr.Rows
			res, err = o.Checkpoint.LoadAt(ctx, t, batch, ports.LoadOptions{}, pos)
		} else {
			res, err = dst.Load(ctx, t, batch, ports.LoadOptions{})
		}
		if err != nil {
			return &Error{Member: MemberName(t.Name), Line: tr.Rows - int64(len(batch)) + 1, Err: err}
		}
		tr.Inserted += res.Inserted
		tr.Skipped += res.Skipped
		batch = batch[:0]
		if o.Progress != nil {
			o.Progress(t.Name, tr.Rows, total)
		}
		return nil
	}
	err := scanFrom(ctx, sn, t, pos, func(r ports.ArchiveRow) error {
		tr.Rows++
		// The position after this row: a key repeated (history) counts
		// its rows, so that a resume skips exactly those copied.
		org, key := ports.RowKey(t, r)
		if ports.ComparePosition(org, key, pos) == 0 {
			pos.Dup++
		} else {
			pos.Org, pos.Key, pos.Dup = org, key, 1
		}
		batch = append(batch, r)
		if len(batch) >= o.BatchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return tr, err
}

// Digest is one table's rows of one org: how many, and the SHA-256 of
// their archive lines in archive order.
type Digest struct {
	Rows   int64
	SHA256 string
}

// Digests reads every table of src from one snapshot and digests it per
// org, as MigrationVerifier compares a copy with its source.
func Digests(ctx context.Context, src ports.ArchiveSource) (map[string]map[string]Digest, error) {
	out := map[string]map[string]Digest{}
	enc := newEncoder()
	err := src.ArchiveSnapshot(ctx, func(sn ports.ArchiveSnapshot) error {
		for _, t := range ports.ArchiveTables {
			orgCol := t.Col("org_id")
			hashes := map[string]hash.Hash{}
			counts := map[string]int64{}
			err := sn.Scan(ctx, t, ports.ArchiveScope{}, func(r ports.ArchiveRow) error {
				org, _ := r.Values[orgCol].(string)
				h, ok := hashes[org]
				if !ok {
					h = sha256.New()
					hashes[org] = h
				}
				line, err := enc.encode(t, r)
				if err != nil {
					return err
				}
				h.Write(line)
				h.Write([]byte{'\n'})
				counts[org]++
				return nil
			})
			if err != nil {
				return err
			}
			byOrg := map[string]Digest{}
			for org, h := range hashes {
				byOrg[org] = Digest{Rows: counts[org], SHA256: hex.EncodeToString(h.Sum(nil))}
			}
			out[t.Name] = byOrg
		}
		return nil
	})
	return out, err
}

// Mismatch is one table and org whose digests differ.
type Mismatch struct {
	Table, Org string
	Want, Got  Digest
}

// Compare lists every table and org where got differs from want, sorted.
func Compare(want, got map[string]map[string]Digest) []Mismatch {
	var out []Mismatch
	for _, t := range ports.ArchiveTables {
		orgs := map[string]bool{}
		for o := range want[t.Name] {
			orgs[o] = true
		}
		for o := range got[t.Name] {
			orgs[o] = true
		}
		for o := range orgs {
			if w, g := want[t.Name][o], got[t.Name][o]; w != g {
				out = append(out, Mismatch{Table: t.Name, Org: o, Want: w, Got: g})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Org < out[j].Org
	})
	return out
}
