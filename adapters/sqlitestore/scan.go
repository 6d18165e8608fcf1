package sqlitestore

import (
	"context"
	"errors"
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
	for {
		page, err := s.scanActivePage(ctx, org, after, limit)
		if len(page) == 0 || err != nil {
			return nil, err
		}
		kept := page[:0:0]
		for i := range page {
			switch err := s.openMemory(ctx, s.r, &page[i]); {
			case errors.Is(err, ports.ErrKeyDestroyed):
				// Crypto-erased: its subject's erasure destroyed the key
				// and will delete the row (ports.MemoryScanner).
			case err != nil:
				return nil, fmt.Errorf("sqlitestore: scan org %s: %w", org, err)
			default:
				kept = append(kept, page[i])
			}
		}
		if len(kept) > 0 {
			return kept, nil
		}
		after = page[len(page)-1].ID // a page of erased rows only: read on
	}
}

// scanActivePage reads one page of ScanActive, still sealed.
func (s *Store) scanActivePage(ctx context.Context, org domain.OrgID, after domain.MemoryID, limit int) ([]domain.Memory, error) {
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
	return out, nil
}
