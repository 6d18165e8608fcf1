package sqlitestore

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.MemoryScanner = (*Store)(nil)

// Orgs lists every org with a memory row.
func (s *Store) Orgs(ctx context.Context) ([]domain.OrgID, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT org_id FROM memories ORDER BY org_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list orgs: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.OrgID
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("sqlitestore: list orgs: %w", mapErr(err))
		}
		out = append(out, domain.OrgID(o))
	}
	return out, mapErr(rows.Err())
}

// scanActiveSQL is one page of ScanActive. Its WHERE matches the partial
// index memories_org_active_id (migration 0321) term for term, so each page
// is a range read in id order rather than a sort of the org's whole active
// set (TestScanActiveReadsARangeNotTheOrg).
const scanActiveSQL = `SELECT ` + memoryCols + ` FROM memories
		WHERE org_id = ? AND state = 'active' AND erased = 0 AND id > ? AND ` + liveSQL + ` ORDER BY id LIMIT ?`

// ScanActive pages through an org's active memories by id.
func (s *Store) ScanActive(ctx context.Context, org domain.OrgID, after domain.MemoryID, limit int) ([]domain.Memory, error) {
	rows, err := s.r.QueryContext(ctx, scanActiveSQL, org, after, nowNanos(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: scan org %s: %w", org, mapErr(err))
	}
	defer rows.Close()
	var out []domain.Memory
	for rows.Next() {
		m, err := scanMemory(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: scan org %s: %w", org, mapErr(err))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: scan org %s: %w", org, mapErr(err))
	}
	rows.Close()
	for i := range out {
		if err := s.openMemory(ctx, s.r, &out[i]); err != nil {
			return nil, fmt.Errorf("sqlitestore: scan org %s: %w", org, err)
		}
	}
	return out, nil
}
