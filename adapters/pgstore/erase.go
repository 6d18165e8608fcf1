package pgstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
)

// eraseSQL blanks the row, strips content from every history entry, forgets
// who read it, and appends the erase entry, in one statement. The data
// modifying CTEs all see the same snapshot, so h does not touch e's row
// (whose values are NULL anyway).
const eraseSQL = `
WITH m AS (
	UPDATE memories
	SET text = '', metadata = '{}', categories = '{}', content_hash = '', state = 'deleted',
		updated_at = $4, erased_at = $4, archive_extra = NULL
	WHERE org_id = $1 AND user_id = $2 AND id = $3 AND erased_at IS NULL
	RETURNING id
), h AS (
	UPDATE memory_changes SET old_values = NULL, new_values = NULL, archive_extra = NULL
	WHERE org_id = $1 AND user_id = $2 AND memory_id IN (SELECT id FROM m)
), a AS (
	DELETE FROM memory_access WHERE org_id = $1 AND user_id = $2 AND memory_id IN (SELECT id FROM m)
), e AS (
	INSERT INTO memory_changes (org_id, user_id, memory_id, kind, actor_app, changed_at)
	SELECT $1, $2, id, 'erase', $5, $4 FROM m
)
SELECT count(*) FROM m`

// Erase removes a memory's content from its row and history for good.
func (s *Store) Erase(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("pgstore: erase memory %s: %w", id, err)
	}
	if !domain.ValidID(string(id)) {
		return fmt.Errorf("pgstore: erase memory %s: %w", id, domain.ErrNotFound)
	}
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, eraseSQL, t.OrgID, t.UserID, id, s.now(), actor); err != nil {
			return err
		}
		if n == 0 {
			return domain.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: erase memory %s: %w", id, mapErr(err))
	}
	return nil
}
