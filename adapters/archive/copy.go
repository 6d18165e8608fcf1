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
}

// Copy streams every table of src into dst without an intermediate file:
// one snapshot of src, batches of BatchSize rows, each one transaction of
// dst.Load in skip mode. A re-run after an interruption skips what landed
// (Load is idempotent) and copies the rest. It counts each table first so
// that Progress can give a total.
func Copy(ctx context.Context, src ports.ArchiveSource, dst ports.ArchiveSink, o CopyOptions) ([]TableReport, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	var out []TableReport
	defer settle(ctx, dst)
	err := src.ArchiveSnapshot(ctx, func(sn ports.ArchiveSnapshot) error {
		for _, t := range ports.ArchiveTables {
			var total int64
			if err := sn.Scan(ctx, t, ports.ArchiveScope{}, func(ports.ArchiveRow) error { total++; return nil }); err != nil {
				return err
			}
			tr := TableReport{Table: t.Name}
			batch := make([]ports.ArchiveRow, 0, o.BatchSize)
			flush := func() error {
				if len(batch) == 0 {
					return nil
				}
				res, err := dst.Load(ctx, t, batch, ports.LoadOptions{})
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
			err := sn.Scan(ctx, t, ports.ArchiveScope{}, func(r ports.ArchiveRow) error {
				tr.Rows++
				batch = append(batch, r)
				if len(batch) >= o.BatchSize {
					return flush()
				}
				return nil
			})
			if err == nil {
				err = flush()
			}
			if err != nil {
				return err
			}
			out = append(out, tr)
		}
		return nil
	})
	return out, err
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
