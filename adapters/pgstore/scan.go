package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.MemoryScanner = (*Store)(nil)

// Orgs reads memory_orgs (migration 0002), which a trigger on memories keeps
// current: the runtime role cannot list orgs from memories itself.
func (s *Store) Orgs(ctx context.Context) ([]domain.OrgID, error) {
	var out []domain.OrgID
	err := s.inTx(ctx, "", true, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT org_id FROM memory_orgs ORDER BY org_id`)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: list orgs: %w", mapErr(err))
	}
	return out, nil
}

// ScanActive pages through one org's active memories by id, inside that
// org's row-level security scope.
func (s *Store) ScanActive(ctx context.Context, org domain.OrgID, after domain.MemoryID, limit int) ([]domain.Memory, error) {
	if after == "" {
		after = "00000000-0000-0000-0000-000000000000"
	}
	var out []domain.Memory
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		for {
			var rows []memoryRow
			if err := tx.SelectContext(ctx, &rows, `SELECT `+memoryCols+` FROM memories
			WHERE org_id = $1 AND state = 'active' AND erased_at IS NULL AND id > $2::uuid AND `+liveSQL+`
			ORDER BY id LIMIT $3`, org, string(after), limit); err != nil {
				return err
			}
			page, err := memories(rows)
			if len(page) == 0 || err != nil {
				return err
			}
			for i := range page {
				switch err := s.openMemory(ctx, tx, &page[i]); {
				case errors.Is(err, ports.ErrKeyDestroyed):
					// Crypto-erased: its subject's erasure destroyed the
					// key and will delete the row (ports.MemoryScanner).
				case err != nil:
					return err
				default:
					out = append(out, page[i])
				}
			}
			if len(out) > 0 {
				return nil
			}
			after = page[len(page)-1].ID // a page of erased rows only: read on
		}
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: scan org %s: %w", org, mapErr(err))
	}
	return out, nil
}
