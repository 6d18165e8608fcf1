package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

const (
	// copyThreshold is where BatchAuto switches from multi-row INSERT to
	// COPY: below it the temp table's catalog work costs more than COPY saves.
	copyThreshold = 500
	// insertChunk bounds the rows of one multi-row INSERT, so a huge batch
	// does not become one enormous bind message.
	insertChunk = 2000
)

// insertSelectSQL moves staged rows (a FROM clause aliased "src" with the
// columns below) into memories, skipping active duplicates (earlier rows of
// the same batch included: DO NOTHING sees rows inserted by this very
// statement), and writes an add entry per inserted row. $1, $2 are the tenant.
const insertSelectSQL = `
WITH ins AS (
	INSERT INTO memories (id, org_id, user_id, app_id, text, metadata, categories, state, content_hash, created_at, updated_at, agent_id, run_id, expires_at, observed_at, valid_from, valid_to)
	SELECT id, $1, $2, app_id, text, metadata, categories, state, content_hash, created_at, updated_at, agent_id, run_id, expires_at, observed_at, valid_from, valid_to
	FROM %s ORDER BY ord
	ON CONFLICT (org_id, user_id, agent_id, run_id, content_hash) WHERE state = 'active' DO NOTHING
	RETURNING *
)
INSERT INTO memory_changes (org_id, user_id, memory_id, kind, new_values, actor_app, changed_at)
SELECT org_id, user_id, id, 'add', ` + valuesJSON + `, app_id, created_at FROM ins ORDER BY id`

// unnestSrc turns parallel arrays into rows. Categories travel as one JSON
// array per row because SQL arrays of arrays must be rectangular.
const unnestSrc = `(SELECT u.id, u.app_id, u.text, u.metadata,
		ARRAY(SELECT jsonb_array_elements_text(u.categories)) AS categories,
		u.state, u.content_hash, u.created_at, u.updated_at, u.agent_id, u.run_id, NULLIF(u.expires_at, '')::timestamptz AS expires_at,
		u.observed_at, NULLIF(u.valid_from, '')::timestamptz AS valid_from, NULLIF(u.valid_to, '')::timestamptz AS valid_to, u.ord
	FROM unnest($3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[], $14::text[],
			$15::timestamptz[], $16::text[], $17::text[])
		WITH ORDINALITY AS u(id, app_id, text, metadata, categories, state, content_hash, created_at, updated_at, agent_id, run_id, expires_at,
			observed_at, valid_from, valid_to, ord)) src`

// CreateBatch stores ms in one transaction and returns how many were new.
func (s *Store) CreateBatch(ctx context.Context, t domain.Tenant, ms []domain.Memory) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	ms = append([]domain.Memory(nil), ms...) // Normalize writes; the caller's slice stays as given
	for i := range ms {
		if err := s.prepare(t, &ms[i]); err != nil {
			return 0, fmt.Errorf("pgstore: create batch: memory %d: %w", i, err)
		}
	}
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("pgstore: create batch: %w", mapErr(err))
	}
	for i := range ms {
		ms[i].ContentHash = contentHash(dk, ms[i].Text)
		if ms[i].Text, err = sealText(dk, ms[i].ID, ms[i].Text); err != nil {
			return 0, fmt.Errorf("pgstore: create batch: memory %d: %w", i, err)
		}
		if ms[i].Metadata, err = ports.SealMetadata(dk, string(ms[i].ID), ms[i].Metadata); err != nil {
			return 0, fmt.Errorf("pgstore: create batch: memory %d: %w", i, err)
		}
	}
	useCopy := s.opts.Batch == BatchCopy || (s.opts.Batch == BatchAuto && len(ms) >= copyThreshold)
	created := 0
	txCtx := ctx
	if useCopy {
		// lib/pq reads a COPY's responses on a goroutine of its own, and
		// database/sql rolls a transaction back on context cancellation
		// from another goroutine, reading the same connection: a data race
		// (caught by -race). So the COPY's transaction is not cancellable;
		// the statement timeout bounds it, and the caller's deadline is
		// checked before commit: a batch cut off is rolled back whole.
		txCtx = context.WithoutCancel(ctx)
	}
	err = s.inTx(txCtx, t.OrgID, false, func(tx *sqlx.Tx) error {
		if err := eraseExpired(txCtx, tx, t); err != nil {
			return err
		}
		var err error
		if useCopy {
			created, err = copyBatch(txCtx, tx, t, ms)
		} else {
			created, err = insertBatch(ctx, tx, t, ms)
		}
		if err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: create batch of %d: %w", len(ms), mapErr(err))
	}
	return created, nil
}

func insertBatch(ctx context.Context, tx *sqlx.Tx, t domain.Tenant, ms []domain.Memory) (int, error) {
	q := fmt.Sprintf(insertSelectSQL, unnestSrc)
	created := 0
	for start := 0; start < len(ms); start += insertChunk {
		chunk := ms[start:min(start+insertChunk, len(ms))]
		n := len(chunk)
		ids, apps, texts := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
		mds, cats, states := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
		hashes, createdAt, updatedAt := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
		agents, runs := make(pq.StringArray, n), make(pq.StringArray, n)
		expiresAt := make(pq.StringArray, n)                                                                        // "" for never
		observedAt, validFrom, validTo := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n) // "" for unbounded
		for i, m := range chunk {
			md, err := jsonText(m.Metadata)
			if err != nil {
				return 0, domain.Invalid("metadata", "%v", err)
			}
			c, err := jsonText(m.Categories)
			if err != nil {
				return 0, domain.Invalid("categories", "%v", err)
			}
			ids[i], apps[i], texts[i] = string(m.ID), string(m.AppID), m.Text
			mds[i], cats[i], states[i] = md, c, string(m.State)
			hashes[i], agents[i], runs[i] = m.ContentHash, m.AgentID, m.RunID
			createdAt[i], updatedAt[i] = m.CreatedAt.Format(time.RFC3339Nano), m.UpdatedAt.Format(time.RFC3339Nano)
			if !m.ExpiresAt.IsZero() {
				expiresAt[i] = m.ExpiresAt.UTC().Format(time.RFC3339Nano)
			}
			observedAt[i] = observedArg(m).Format(time.RFC3339Nano)
			if !m.ValidFrom.IsZero() {
				validFrom[i] = m.ValidFrom.UTC().Format(time.RFC3339Nano)
			}
			if !m.ValidTo.IsZero() {
				validTo[i] = m.ValidTo.UTC().Format(time.RFC3339Nano)
			}
		}
		res, err := tx.ExecContext(ctx, q, t.OrgID, t.UserID, ids, apps, texts, mds, cats, states, hashes, createdAt, updatedAt, agents, runs, expiresAt,
			observedAt, validFrom, validTo)
		if err != nil {
			return 0, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		created += int(k)
	}
	return created, nil
}

func copyBatch(ctx context.Context, tx *sqlx.Tx, t domain.Tenant, ms []domain.Memory) (int, error) {
	// ON COMMIT DROP: the staging table dies with the transaction, so pooled
	// connections never see a leftover.
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE engram_batch (
		id uuid, app_id text, text text, metadata jsonb, categories text[], state text,
		content_hash text, created_at timestamptz, updated_at timestamptz, agent_id text, run_id text, expires_at timestamptz,
		observed_at timestamptz, valid_from timestamptz, valid_to timestamptz, ord int) ON COMMIT DROP`); err != nil {
		return 0, err
	}
	stmt, err := tx.PrepareContext(ctx, `COPY engram_batch (id, app_id, text, metadata, categories, state, content_hash, created_at, updated_at, agent_id, run_id, expires_at, observed_at, valid_from, valid_to, ord) FROM STDIN`)
	if err != nil {
		return 0, err
	}
	for i, m := range ms {
		md, cats, err := encodeContent(m)
		if err != nil {
			_ = stmt.Close()
			return 0, err
		}
		if _, err := stmt.ExecContext(ctx, string(m.ID), string(m.AppID), m.Text, md, cats, string(m.State),
			m.ContentHash, m.CreatedAt, m.UpdatedAt, m.AgentID, m.RunID, expiryArg(m.ExpiresAt),
			observedArg(m), expiryArg(m.ValidFrom), expiryArg(m.ValidTo), i); err != nil {
			_ = stmt.Close()
			return 0, err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // flushes the COPY
		_ = stmt.Close()
		return 0, err
	}
	if err := stmt.Close(); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, fmt.Sprintf(insertSelectSQL, "engram_batch"), t.OrgID, t.UserID)
	if err != nil {
		return 0, err
	}
	k, err := res.RowsAffected()
	return int(k), err
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// textArray renders a text[] literal through lib/pq's array encoder.
func textArray(v []string) (string, error) {
	val, err := pq.StringArray(v).Value()
	if err != nil {
		return "", domain.Invalid("categories", "%v", err)
	}
	if val == nil {
		return "{}", nil
	}
	return val.(string), nil
}
