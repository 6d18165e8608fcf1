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

// readStmts are the hot read queries, prepared once on the read pool.
type readStmts struct {
	get *sql.Stmt
}

func (q *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	var err error
	q.get, err = db.PrepareContext(ctx, `SELECT `+memoryCols+` FROM memories WHERE id = ? AND org_id = ? AND user_id = ? AND erased = 0`)
	return err
}

func (q *readStmts) close() {
	if q.get != nil {
		_ = q.get.Close()
	}
}

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
	r, err := encodeRow(m, now(time.Time{}))
	if err != nil {
		return domain.Memory{}, false, fmt.Errorf("sqlitestore: create memory %s: %w", m.ID, err)
	}
	stored, created := m, false
	err = s.write(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `SELECT `+memoryCols+` FROM memories
			WHERE org_id = ? AND user_id = ? AND content_hash = ? AND state = 'active'`,
			string(t.OrgID), string(t.UserID), m.ContentHash)
		existing, err := scanMemory(row)
		switch {
		case err == nil:
			stored = existing
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return mapErr(err)
		}
		created = true
		w := newBatchWriter(ctx, tx)
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
	m, err := scanMemory(s.q.get.QueryRowContext(ctx, string(id), string(t.OrgID), string(t.UserID)))
	if err != nil {
		return domain.Memory{}, fmt.Errorf("sqlitestore: get memory %s: %w", id, mapErr(err))
	}
	return m, nil
}
