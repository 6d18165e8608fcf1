package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// fnError marks an error returned by the caller's update closure, which the
// contract says is returned as is, without our context.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// Update implements ports.MemoryStore. The write transaction is the row
// lock: SQLite has one writer, so concurrent updates serialise here.
func (s *Store) Update(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID, fn func(*domain.Memory) error) (domain.Memory, error) {
	if err := checkActor(t, actor); err != nil {
		return domain.Memory{}, fmt.Errorf("sqlitestore: update memory %s: %w", id, err)
	}
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return domain.Memory{}, fmt.Errorf("sqlitestore: update memory %s: %w", id, err)
	}
	var out domain.Memory
	err = s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.loadOne(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if old.State == domain.StateDeleted {
			return fmt.Errorf("%w: memory is deleted", domain.ErrConflict)
		}
		m, err := cloneMemory(old)
		if err != nil {
			return err
		}
		if err := fn(&m); err != nil {
			return fnError{err}
		}
		// Identity, ownership, state and times are not fn's to change.
		m.ID, m.OrgID, m.UserID, m.AppID, m.State = old.ID, old.OrgID, old.UserID, old.AppID, old.State
		m.AgentID, m.RunID = old.AgentID, old.RunID
		m.CreatedAt, m.UpdatedAt = old.CreatedAt, old.UpdatedAt
		if err := m.Normalize(); err != nil {
			return err
		}
		m.ContentHash = contentHash(dk, m.Text)
		if same, err := sameContent(old, m); err != nil || same {
			out = old
			return err
		}
		if m.ContentHash != old.ContentHash {
			if err := refuseDuplicate(ctx, tx, t, m); err != nil {
				return err
			}
		}
		m.UpdatedAt = now(old.UpdatedAt)
		sm, err := sealMemory(dk, m)
		if err != nil {
			return err
		}
		a, err := memoryArgs(sm)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memories SET text = ?, metadata = ?, categories = ?, content_hash = ?, updated_at = ?, expires_at = ?,
			observed_at = ?, valid_from = ?, valid_to = ? WHERE id = ?`, a[4], a[5], a[6], m.ContentHash, toNanos(m.UpdatedAt), expiryNanos(m.ExpiresAt),
			observedNanos(m), expiryNanos(m.ValidFrom), expiryNanos(m.ValidTo), string(m.ID)); err != nil {
			return mapErr(err)
		}
		ov, nv := old.Values(), m.Values()
		out = m
		return s.insertChange(ctx, tx, m, domain.ChangeUpdate, &ov, &nv, actor, m.UpdatedAt)
	})
	var fe fnError
	if errors.As(err, &fe) {
		return domain.Memory{}, fe.err
	}
	if err != nil {
		return domain.Memory{}, fmt.Errorf("sqlitestore: update memory %s: %w", id, err)
	}
	return out, nil
}

func checkActor(t domain.Tenant, actor domain.AppID) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return domain.ValidateAppID(actor)
}

// cloneMemory deep-copies m so that fn cannot reach the old values, which
// the history entry still needs.
func cloneMemory(m domain.Memory) (domain.Memory, error) {
	c := m
	c.Categories = slices.Clone(m.Categories)
	raw, err := json.Marshal(m.Metadata)
	if err != nil {
		return domain.Memory{}, fmt.Errorf("clone metadata: %w", err)
	}
	c.Metadata = nil
	if err := json.Unmarshal(raw, &c.Metadata); err != nil {
		return domain.Memory{}, fmt.Errorf("clone metadata: %w", err)
	}
	return c, nil
}

// sameContent compares normalised content; json.Marshal sorts map keys, so
// equal metadata encodes to equal bytes.
func sameContent(a, b domain.Memory) (bool, error) {
	if a.Text != b.Text || !slices.Equal(a.Categories, b.Categories) || !a.ExpiresAt.Equal(b.ExpiresAt) || !domain.SameTimes(a, b) {
		return false, nil
	}
	ja, err := json.Marshal(nonNilMD(a.Metadata))
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(nonNilMD(b.Metadata))
	return string(ja) == string(jb), err
}

// refuseDuplicate fails with ErrConflict when another active memory of t has
// hash. The unique index would catch an active row anyway; this also covers a
// paused or archived memory taking an active memory's text.
//
// An expired duplicate is no conflict: it no longer exists for any reader,
// so it is erased here, as the sweeper would have (its index entries are
// drift, which the repair loop removes).
func refuseDuplicate(ctx context.Context, tx *sql.Tx, t domain.Tenant, m domain.Memory) error {
	var other string
	var expires int64
	err := tx.QueryRowContext(ctx, `SELECT id, expires_at FROM memories
		WHERE org_id = ? AND user_id = ? AND agent_id = ? AND run_id = ? AND content_hash = ? AND state = 'active' AND id <> ?`,
		string(t.OrgID), string(t.UserID), m.AgentID, m.RunID, m.ContentHash, string(m.ID)).Scan(&other, &expires)
	switch {
	case err == nil && expires != 0 && expires <= nowNanos():
		return eraseRows(ctx, tx, domain.MemoryID(other))
	case err == nil:
		return fmt.Errorf("%w: active memory %s has the same text", domain.ErrConflict, other)
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return mapErr(err)
}

// loadOne reads a memory that is not erased inside a write transaction.
func (s *Store) loadOne(ctx context.Context, tx *sql.Tx, t domain.Tenant, id domain.MemoryID) (domain.Memory, error) {
	m, err := scanMemory(tx.StmtContext(ctx, s.ws.loadOne).QueryRowContext(ctx, string(id), string(t.OrgID), string(t.UserID), nowNanos()))
	if err != nil {
		return domain.Memory{}, mapErr(err)
	}
	return m, s.openMemory(ctx, tx, &m)
}

// loadMany reads the listed memories of t that are not erased, each id once,
// in the order given, and fails with ErrNotFound naming the first missing id.
// The ids travel as one JSON array, so no list is too long for SQLite's
// bound-variable limit.
func (s *Store) loadMany(ctx context.Context, tx *sql.Tx, t domain.Tenant, ids []domain.MemoryID) ([]domain.Memory, error) {
	uniq := make([]domain.MemoryID, 0, len(ids))
	seen := make(map[domain.MemoryID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	list, err := json.Marshal(uniq)
	if err != nil {
		return nil, fmt.Errorf("encode ids: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+memoryCols+` FROM memories
		WHERE org_id = ? AND user_id = ? AND erased = 0 AND id IN (SELECT value FROM json_each(?)) AND `+liveSQL,
		string(t.OrgID), string(t.UserID), string(list), nowNanos())
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	byID := make(map[domain.MemoryID]domain.Memory, len(uniq))
	for rows.Next() {
		m, err := scanMemory(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		byID[m.ID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	rows.Close()
	for id, m := range byID {
		if err := s.openMemory(ctx, tx, &m); err != nil {
			return nil, err
		}
		byID[id] = m
	}
	out := make([]domain.Memory, 0, len(uniq))
	for _, id := range uniq {
		m, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%w: memory %s", domain.ErrNotFound, id)
		}
		out = append(out, m)
	}
	return out, nil
}

// insertChange appends one history entry for m.
func (s *Store) insertChange(ctx context.Context, tx *sql.Tx, m domain.Memory, kind domain.ChangeKind, old, new *domain.MemoryValues, actor domain.AppID, at time.Time) error {
	var dk *ports.DataKey
	if s.keys.encrypt && (old != nil || new != nil) {
		// The memory's writes made the key already (or it is a row from
		// before encryption, which stays plaintext until rewritten).
		var err error
		if dk, err = s.findKey(ctx, tx, m.Tenant()); err != nil {
			return err
		}
	}
	for _, v := range []**domain.MemoryValues{&old, &new} {
		if *v == nil {
			continue
		}
		c := **v
		var err error
		if c.Text, err = sealText(dk, m.ID, c.Text); err != nil {
			return err
		}
		if c.Metadata, err = ports.SealMetadata(dk, string(m.ID), c.Metadata); err != nil {
			return err
		}
		*v = &c
	}
	ov, err := encodeValues(old)
	if err != nil {
		return err
	}
	nv, err := encodeValues(new)
	if err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, s.ws.insChange).ExecContext(ctx,
		string(m.ID), string(m.OrgID), string(m.UserID), string(kind), ov, nv, string(actor), toNanos(at))
	return mapErr(err)
}
