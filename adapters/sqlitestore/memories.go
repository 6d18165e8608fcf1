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

// insertChunk is how many memories one multi-row INSERT carries: 200 rows of
// 11 columns stay far below SQLite's 32766 bound variables, and are large
// enough that per-statement overhead vanishes in batch ingest.
const insertChunk = 200

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
	stored, created := m, false
	err := s.write(ctx, func(tx *sql.Tx) error {
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
		return insertMemories(ctx, tx, []domain.Memory{m})
	})
	if err != nil {
		return domain.Memory{}, false, fmt.Errorf("sqlitestore: create memory %s: %w", m.ID, err)
	}
	return stored, created, nil
}

// CreateBatch implements ports.MemoryStore.
func (s *Store) CreateBatch(ctx context.Context, t domain.Tenant, ms []domain.Memory) (int, error) {
	fresh := make([]domain.Memory, 0, len(ms))
	seen := make(map[string]bool, len(ms))
	for i := range ms {
		m := ms[i]
		if err := checkOwned(t, &m); err != nil {
			return 0, fmt.Errorf("sqlitestore: create batch: memory %d: %w", i, err)
		}
		if !seen[m.ContentHash] {
			seen[m.ContentHash] = true
			fresh = append(fresh, m)
		}
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	created := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		created = 0
		for start := 0; start < len(fresh); start += insertChunk {
			chunk := fresh[start:min(start+insertChunk, len(fresh))]
			dups, err := activeHashes(ctx, tx, t, chunk)
			if err != nil {
				return err
			}
			keep := chunk
			if len(dups) > 0 {
				keep = make([]domain.Memory, 0, len(chunk))
				for _, m := range chunk {
					if !dups[m.ContentHash] {
						keep = append(keep, m)
					}
				}
			}
			if err := insertMemories(ctx, tx, keep); err != nil {
				return err
			}
			created += len(keep)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: create batch of %d: %w", len(ms), err)
	}
	return created, nil
}

// activeHashes returns which of ms's content hashes an active memory of t
// already has.
func activeHashes(ctx context.Context, tx *sql.Tx, t domain.Tenant, ms []domain.Memory) (map[string]bool, error) {
	args := make([]any, 0, len(ms)+2)
	args = append(args, string(t.OrgID), string(t.UserID))
	for _, m := range ms {
		args = append(args, m.ContentHash)
	}
	rows, err := tx.QueryContext(ctx, `SELECT content_hash FROM memories
		WHERE org_id = ? AND user_id = ? AND state = 'active' AND content_hash IN (`+placeholders(len(ms))+`)`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, mapErr(err)
		}
		out[h] = true
	}
	return out, mapErr(rows.Err())
}

// insertMemories writes ms and one add history entry each, in multi-row
// statements. The caller has validated and deduplicated them.
func insertMemories(ctx context.Context, tx *sql.Tx, ms []domain.Memory) error {
	if len(ms) == 0 {
		return nil
	}
	const memCols, histCols = 11, 8
	margs := make([]any, 0, len(ms)*memCols)
	hargs := make([]any, 0, len(ms)*histCols)
	at := toNanos(now(time.Time{}))
	for _, m := range ms {
		a, err := memoryArgs(m)
		if err != nil {
			return err
		}
		margs = append(margs, a...)
		v := m.Values()
		nv, err := encodeValues(&v)
		if err != nil {
			return err
		}
		hargs = append(hargs, string(m.ID), string(m.OrgID), string(m.UserID), string(domain.ChangeAdd), nil, nv, string(m.AppID), at)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO memories (`+memoryCols+`) VALUES `+rowsOf(len(ms), memCols), margs...); err != nil {
		return mapErr(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO memory_changes
		(memory_id, org_id, user_id, kind, old_values, new_values, actor_app, changed_at) VALUES `+rowsOf(len(ms), histCols), hargs...); err != nil {
		return mapErr(err)
	}
	return nil
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
