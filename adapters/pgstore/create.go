package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
)

// insertMemorySQL inserts one memory and its add entry in one statement. The
// partial unique index on active content hashes turns an exact duplicate
// into DO NOTHING, and then nothing comes back; a repeated id still fails
// on the primary key (domain.ErrAlreadyExists).
const insertMemorySQL = `
WITH ins AS (
	INSERT INTO memories (id, org_id, user_id, app_id, text, metadata, categories, state, content_hash, created_at, updated_at, agent_id, run_id, expires_at, observed_at, valid_from, valid_to)
	VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::text[], $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
	ON CONFLICT (org_id, user_id, agent_id, run_id, content_hash) WHERE state = 'active' DO NOTHING
	RETURNING *
), hist AS (
	INSERT INTO memory_changes (org_id, user_id, memory_id, kind, new_values, actor_app, changed_at)
	SELECT org_id, user_id, id, 'add', ` + valuesJSON + `, app_id, created_at FROM ins
)
SELECT ` + memoryCols + ` FROM ins`

const activeByHashSQL = `SELECT ` + memoryCols + ` FROM memories
	WHERE org_id = $1 AND user_id = $2 AND agent_id = $3 AND run_id = $4 AND content_hash = $5 AND state = 'active' AND erased_at IS NULL`

// Create stores m with its add entry, or returns the active duplicate.
func (s *Store) Create(ctx context.Context, t domain.Tenant, m domain.Memory) (domain.Memory, bool, error) {
	if err := s.prepare(t, &m); err != nil {
		return domain.Memory{}, false, fmt.Errorf("pgstore: create memory: %w", err)
	}
	if _, _, err := encodeContent(m); err != nil {
		return domain.Memory{}, false, fmt.Errorf("pgstore: create memory: %w", err)
	}
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return domain.Memory{}, false, fmt.Errorf("pgstore: create memory: %w", mapErr(err))
	}
	text, md, cats, err := sealContent(dk, m)
	if err != nil {
		return domain.Memory{}, false, fmt.Errorf("pgstore: create memory: %w", err)
	}
	m.ContentHash = contentHash(dk, m.Text)
	var stored domain.Memory
	created := false
	err = s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		// A duplicate that is paused between our conflict and our read is
		// gone by the time we look; the next attempt then inserts.
		for attempt := 0; attempt < 3; attempt++ {
			var row memoryRow
			err := tx.GetContext(ctx, &row, insertMemorySQL, m.ID, m.OrgID, m.UserID, m.AppID, text,
				md, cats, m.State, m.ContentHash, m.CreatedAt, m.UpdatedAt, m.AgentID, m.RunID, expiryArg(m.ExpiresAt),
				observedArg(m), expiryArg(m.ValidFrom), expiryArg(m.ValidTo))
			if err == nil {
				created = true
				if stored, err = row.memory(); err != nil {
					return err
				}
				return s.openMemory(ctx, tx, &stored)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			err = tx.GetContext(ctx, &row, activeByHashSQL, m.OrgID, m.UserID, m.AgentID, m.RunID, m.ContentHash)
			if err == nil {
				if stored, err = row.memory(); err != nil {
					return err
				}
				if !stored.Expired(s.now()) {
					return s.openMemory(ctx, tx, &stored)
				}
				// An expired duplicate no longer exists for any reader, so
				// it must not stand in for the new memory: it is erased
				// here, as the sweeper would have (its index entries are
				// drift, which the repair loop removes), and the insert
				// tried again.
				if err := eraseRows(ctx, tx, t, stored.ID); err != nil {
					return err
				}
				stored = domain.Memory{}
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return fmt.Errorf("duplicate kept changing state: %w", domain.ErrConflict)
	})
	if err != nil {
		return domain.Memory{}, false, fmt.Errorf("pgstore: create memory %s: %w", m.ID, mapErr(err))
	}
	return stored, created, nil
}

// prepare checks that m belongs to t, normalises it and fills missing times.
func (s *Store) prepare(t domain.Tenant, m *domain.Memory) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if m.OrgID != t.OrgID || m.UserID != t.UserID {
		return domain.Invalid("org_id", "memory belongs to another tenant than the caller")
	}
	if err := m.Normalize(); err != nil {
		return err
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	return nil
}

// encodeContent renders metadata as JSON text and categories as a text[]
// literal, the forms the SQL casts expect.
func encodeContent(m domain.Memory) (md string, cats string, err error) {
	b, err := jsonText(m.Metadata)
	if err != nil {
		return "", "", domain.Invalid("metadata", "%v", err)
	}
	v, err := textArray(m.Categories)
	if err != nil {
		return "", "", err
	}
	return b, v, nil
}

// eraseRows hard-deletes one memory of t with its history and access-log
// rows.
func eraseRows(ctx context.Context, tx *sqlx.Tx, t domain.Tenant, id domain.MemoryID) error {
	for _, q := range []string{
		`DELETE FROM memory_access WHERE org_id = $1 AND user_id = $2 AND memory_id = $3`,
		`DELETE FROM memory_changes WHERE org_id = $1 AND user_id = $2 AND memory_id = $3`,
		`DELETE FROM memories WHERE org_id = $1 AND user_id = $2 AND id = $3`,
	} {
		if _, err := tx.ExecContext(ctx, q, t.OrgID, t.UserID, id); err != nil {
			return err
		}
	}
	return nil
}

// eraseExpired erases t's expired active memories, as the sweeper would
// have: they no longer exist for any reader, so a batch holding one's text
// creates it anew, and an update or reactivation may take it, instead of
// colliding with the unique index until the sweep. The expiry index makes
// this a short range scan; their index entries are drift, which the
// repair loop removes.
func eraseExpired(ctx context.Context, tx *sqlx.Tx, t domain.Tenant) error {
	var ids []domain.MemoryID
	if err := tx.SelectContext(ctx, &ids, `SELECT id FROM memories
		WHERE org_id = $1 AND expires_at IS NOT NULL AND expires_at <= statement_timestamp() AND user_id = $2 AND state = 'active'`,
		t.OrgID, t.UserID); err != nil {
		return err
	}
	for _, id := range ids {
		if err := eraseRows(ctx, tx, t, id); err != nil {
			return err
		}
	}
	return nil
}
