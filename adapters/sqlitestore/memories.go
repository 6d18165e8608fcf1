package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/engram-memory/engram/domain"
)

// checkOwned validates t and m and that m belongs to t; it normalises m.
func checkOwned(t domain.Tenant, m *domain.Memory) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if m.OrgID != t.OrgID {
		return domain.Invalid("org_id", "memory belongs to another organisation")
	}
	if m.UserID != t.UserID {
		return domain.Invalid("user_id", "memory belongs to another user")
	}
	return m.Normalize()
}

// Create implements ports.MemoryStore.
func (s *Store) Create(ctx context.Context, t domain.Tenant, m domain.Memory) (domain.Memory, bool, error) {
	if err := checkOwned(t, &m); err != nil {
		return domain.Memory{}, false, fmt.Errorf("sqlitestore: create memory: %w", err)
	}
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return domain.Memory{}, false, fmt.Errorf("sqlitestore: create memory: %w", err)
	}
	r, err := encodeRow(dk, m, now(time.Time{}))
	if err != nil {
		return domain.Memory{}, false, fmt.Errorf("sqlitestore: create memory %s: %w", m.ID, err)
	}
	stored, created := r.m, false
	err = s.write(ctx, func(tx *sql.Tx) error {
		row := tx.StmtContext(ctx, s.ws.activeByHash).QueryRowContext(ctx, string(t.OrgID), string(t.UserID), m.AgentID, m.RunID, r.m.ContentHash)
		existing, err := scanMemory(row)
		switch {
		case err == nil && existing.Expired(time.Now()):
			// An expired duplicate no longer exists for any reader, so it
			// must not stand in for the new memory: it is erased here, as
			// the sweeper would have (its index entries are drift, which
			// the repair loop removes).
			if err := eraseRows(ctx, tx, existing.ID); err != nil {
				return err
			}
		case err == nil:
			stored = existing
			return s.openMemory(ctx, tx, &stored)
		case !errors.Is(err, sql.ErrNoRows):
			return mapErr(err)
		}
		created = true
		w := s.newBatchWriter(ctx, tx)
		defer w.close()
		_, err = w.insert([]memRow{r})
		return err
	})
	if err != nil {
		return domain.Memory{}, false, fmt.Errorf("sqlitestore: create memory %s: %w", m.ID, err)
	}
	return stored, created, nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// rowsOf returns "(?, ?), (?, ?)" for n rows of cols columns.
func rowsOf(n, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// Get implements ports.MemoryStore.
func (s *Store) Get(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.Memory, error) {
	if err := t.Validate(); err != nil {
		return domain.Memory{}, fmt.Errorf("sqlitestore: get memory %s: %w", id, err)
	}
	m, err := scanMemory(s.q.get.QueryRowContext(ctx, string(id), string(t.OrgID), string(t.UserID), nowNanos()))
	if err != nil {
		return domain.Memory{}, fmt.Errorf("sqlitestore: get memory %s: %w", id, mapErr(err))
	}
	if err := s.openMemory(ctx, s.r, &m); err != nil {
		return domain.Memory{}, fmt.Errorf("sqlitestore: get memory %s: %w", id, err)
	}
	return m, nil
}

// eraseRows hard-deletes one memory with its history and access-log rows.
func eraseRows(ctx context.Context, tx *sql.Tx, id domain.MemoryID) error {
	for _, q := range []string{
		`DELETE FROM memory_access WHERE memory_id = ?`,
		`DELETE FROM memory_changes WHERE memory_id = ?`,
		`DELETE FROM memories WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, string(id)); err != nil {
			return mapErr(err)
		}
	}
	return nil
}
