package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
)

const historySQL = `SELECT seq, memory_id::text AS memory_id, kind, old_values, new_values, actor_app, changed_at
	FROM memory_changes WHERE org_id = $1 AND user_id = $2 AND memory_id = $3
		AND NOT EXISTS (SELECT 1 FROM memories m WHERE m.org_id = $1 AND m.id = $3 AND m.expires_at <= statement_timestamp())
	ORDER BY seq`

type changeRow struct {
	Seq       int64     `db:"seq"`
	MemoryID  string    `db:"memory_id"`
	Kind      string    `db:"kind"`
	Old       []byte    `db:"old_values"`
	New       []byte    `db:"new_values"`
	ActorApp  string    `db:"actor_app"`
	ChangedAt time.Time `db:"changed_at"`
}

// History returns a memory's changes oldest first. Every memory has its add
// entry, so no rows means no such memory for this tenant.
func (s *Store) History(ctx context.Context, t domain.Tenant, id domain.MemoryID) ([]domain.MemoryChange, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("pgstore: history of %s: %w", id, err)
	}
	if !domain.ValidID(string(id)) {
		return nil, fmt.Errorf("pgstore: history of %s: %w", id, domain.ErrNotFound)
	}
	var out []domain.MemoryChange
	err := s.routedTx(ctx, t.OrgID, func(tx *sqlx.Tx) error {
		var rows []changeRow
		if err := tx.SelectContext(ctx, &rows, historySQL, t.OrgID, t.UserID, id); err != nil {
			return err
		}
		if len(rows) == 0 {
			return domain.ErrNotFound
		}
		out = make([]domain.MemoryChange, 0, len(rows))
		for _, r := range rows {
			old, err := decodeValues(r.Old)
			if err != nil {
				return err
			}
			cur, err := decodeValues(r.New)
			if err != nil {
				return err
			}
			for _, v := range []*domain.MemoryValues{old, cur} {
				if v == nil {
					continue
				}
				if v.Text, err = s.openText(ctx, tx, t, id, v.Text); err != nil {
					return err
				}
				if err = s.openMetadata(ctx, tx, t, id, &v.Metadata); err != nil {
					return err
				}
			}
			out = append(out, domain.MemoryChange{
				Seq: r.Seq, MemoryID: domain.MemoryID(r.MemoryID), Kind: domain.ChangeKind(r.Kind),
				Old: old, New: cur, ActorApp: domain.AppID(r.ActorApp), ChangedAt: r.ChangedAt.UTC(),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: history of %s: %w", id, mapErr(err))
	}
	return out, nil
}

func decodeValues(raw []byte) (*domain.MemoryValues, error) {
	if raw == nil {
		return nil, nil
	}
	var h *historyValues
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("decode history values: %w", err)
	}
	return h.domain(), nil
}

// Stats implements ports.MemoryStore from memory_tallies (migration
// 0301), which triggers keep exact: a page view reads a few counts, not
// the tenant's memories. Memories that expired and await the sweeper are
// still counted there; they are few (memories_expiry_idx finds them) and
// subtracted here.
func (s *Store) Stats(ctx context.Context, t domain.Tenant) (domain.Stats, error) {
	if err := t.Validate(); err != nil {
		return domain.Stats{}, fmt.Errorf("pgstore: stats: %w", err)
	}
	var st domain.Stats
	err := s.routedTx(ctx, t.OrgID, func(tx *sqlx.Tx) error {
		st = domain.NewStats()
		var tallies []struct {
			Dim   string `db:"dim"`
			Label string `db:"label"`
			State string `db:"state"`
			N     int    `db:"n"`
		}
		if err := tx.SelectContext(ctx, &tallies, `SELECT dim, label, state, n FROM memory_tallies
			WHERE org_id = $1 AND user_id = $2`, t.OrgID, t.UserID); err != nil {
			return err
		}
		for _, r := range tallies {
			st.Tally(r.Dim, r.Label, domain.State(r.State), r.N)
		}
		var expired []struct {
			App        string         `db:"app_id"`
			State      string         `db:"state"`
			Categories pq.StringArray `db:"categories"`
			CreatedAt  time.Time      `db:"created_at"`
		}
		if err := tx.SelectContext(ctx, &expired, `SELECT app_id, state, categories, created_at FROM memories
			WHERE org_id = $1 AND expires_at IS NOT NULL AND expires_at <= statement_timestamp()
				AND user_id = $2 AND erased_at IS NULL`, t.OrgID, t.UserID); err != nil {
			return err
		}
		for _, r := range expired {
			st.Untally(domain.AppID(r.App), domain.State(r.State), r.Categories, r.CreatedAt)
		}
		st.Prune()
		return tx.GetContext(ctx, &st.Apps, `SELECT count(*) FROM apps WHERE org_id = $1 AND user_id = $2`, t.OrgID, t.UserID)
	})
	if err != nil {
		return domain.Stats{}, fmt.Errorf("pgstore: stats: %w", mapErr(err))
	}
	return st, nil
}
